#!/usr/bin/env bash
# Regenerates scripts/hot-code.txt, the order in which the static build lays out the functions
# vigil runs in its common life (see scripts/profile_hot_code.py for why). Run it after large
# changes and commit the result; names that no longer exist are ignored by the linker, and new
# functions missing from the list only cost a little more resident memory. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "profile-hot-code: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
./scripts/build-static.sh >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# callgrind reads the symbol table; the DWARF of a static Swift binary is more than it can parse.
cp .build-static/release/vigil "$work/vigil"
strip --strip-debug "$work/vigil"
PYTHONPATH=Tests/support python3 scripts/profile_hot_code.py "$work/vigil" scripts/hot-code.txt
