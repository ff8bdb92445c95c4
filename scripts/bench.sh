#!/usr/bin/env bash
# vigil's benchmarks next to tini, tini-static, dumb-init, catatonit, nginx and HAProxy, measured
# in the same run; prints one table (markdown). `--smoke` (CI) runs every row with tiny sizes in
# < 60 s and fails only on breakage, never on a number. Full mode takes about 5-6 minutes. See
# docs/benchmarks.md; `./scripts/bench.sh --help` for the knobs.
#
#   VIGIL_BIN=path/to/vigil ./scripts/bench.sh [--smoke] [--runs N] [--idle-seconds S] ...
#
# Needs (Debian): tini dumb-init catatonit wrk nginx-light haproxy python3. Listens on 127.0.0.1
# only. Every process it starts is stopped on exit, Ctrl-C or SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

export VIGIL_BIN="${VIGIL_BIN:-$PWD/out/vigil}"
if [ ! -x "$VIGIL_BIN" ]; then
    echo "bench: $VIGIL_BIN is missing; build it with ./scripts/build-static.sh" >&2
    exit 1
fi

missing=()
for tool in tini:tini tini-static:tini dumb-init:dumb-init catatonit:catatonit wrk:wrk \
            haproxy:haproxy python3:python3; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${tool%%:*}" ] || missing+=("${tool#*:}")
done
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bench: installing ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "bench: missing ${missing[*]}: those columns read n/a" >&2
    fi
fi

# The benchmarks (scripts/bench/, one module a row) run on the tests' support package
# (Tests/support/vigiltest). They own every process they start and stop them on exit and on
# signals; this trap forwards ours to them and makes sure nothing outlives the script.
export PYTHONPATH="$PWD/Tests/support:$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}"
python3 -m bench "$@" &
helper=$!
trap 'kill -TERM "$helper" 2>/dev/null || true; wait "$helper" 2>/dev/null || true; exit 130' INT TERM HUP
wait "$helper"
