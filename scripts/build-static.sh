#!/usr/bin/env bash
# Builds the static, stripped release binary into out/vigil (what goes into images).
# -Osize and --gc-sections keep it under 14 MB with https support; dynamic exclusivity checks
# are off in this build (they cost about a tenth of the probe server's CPU per request); the
# debug build that `swift test` uses keeps them. Reflection metadata is left out too (about
# 230 KB): vigil prints only strings and types that describe themselves, never a Mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib -Xswiftc -static-executable \
    -Xswiftc -Osize -Xswiftc -enforce-exclusivity=unchecked \
    -Xswiftc -Xfrontend -Xswiftc -disable-reflection-metadata -Xlinker --gc-sections \
    --scratch-path .build-static --product vigil "$@"
mkdir -p out
# Replace by rename: a running copy (a test, a benchmark) keeps its old inode.
cp .build-static/release/vigil out/vigil.tmp
strip out/vigil.tmp
mv -f out/vigil.tmp out/vigil
ls -l out/vigil | awk '{print "out/vigil: " $5 " bytes"}'
