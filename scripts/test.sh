#!/usr/bin/env bash
# Runs every suite: Swift unit tests, black-box integration tests (the static binary as PID 1 and
# not), the container suite (podman + runc) and the load-balancer end-to-end tests (HAProxy), and
# the benchmarks' smoke mode. Installs what it needs with apt-get/pip when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for tool in curl:curl podman:podman runc:runc haproxy:haproxy wrk:wrk hey:hey nginx:nginx-light \
            tini:tini dumb-init:dumb-init catatonit:catatonit busybox:busybox-static hyperfine:hyperfine \
            debootstrap:debootstrap file:file ip:iproute2 ps:procps strip:binutils unshare:util-linux \
            prometheus:prometheus promtool:prometheus setpriv:util-linux; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
python3 -c 'import pytest, pytest_timeout, prometheus_client, yaml' 2>/dev/null ||
    python3 -m pip install -q pytest pytest-timeout prometheus_client pyyaml
python3 -c 'import grpc, grpc_health.v1.health' 2>/dev/null ||
    python3 -m pip install -q grpcio grpcio-health-checking   # Tests/integration/test_grpc.py: a real health server
python3 -c 'import junitparser, kubernetes_validate' 2>/dev/null ||
    python3 -m pip install -q junitparser kubernetes-validate   # Tests/lint: JUnit and the Kubernetes schema

echo "== swift format lint --strict (.swift-format), lines of at most 120 columns"
swift format lint --strict --recursive --parallel Package.swift Sources Tests
long=$(find Sources Tests -name '*.swift' -print0 | xargs -0 awk 'length > 120 {print FILENAME ":" FNR}')
[ -z "$long" ] || { echo "lines over 120 columns:" >&2; echo "$long" >&2; exit 1; }

echo "== swift test (unit and in-process)"
swift test 2>&1 | tail -n 30

echo "== static release build"
./scripts/build-static.sh

echo "== vigil-lint (release)"
swift build -c release --product vigil-lint 2>&1 | tail -n 3

export VIGIL_BIN="$PWD/out/vigil"
echo "== black-box, container and load-balancer tests"
# One pytest per suite, so that each reports on its own and one failing does not hide the others.
# pytest.ini puts the shared helpers (Tests/support) on the path and sets the timeouts.
status=0
for suite in Tests/integration Tests/e2e Tests/container Tests/lint; do
    echo "== pytest $suite"
    python3 -m pytest -q "$suite" "$@" || status=1
done
[ $status -eq 0 ] || { echo "== some black-box suites failed" >&2; exit 1; }

echo "== benchmarks (smoke)"
./scripts/bench.sh --smoke
