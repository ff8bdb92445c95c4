#!/usr/bin/env bash
# Builds the static, stripped release binary into out/vigil (what goes into images).
# -Osize and --gc-sections keep it small; every function (Swift and C) gets a section of its own,
# so gc-sections drops what is never called (BoringSSL's unused parts among it) and the linker
# lays out the functions vigil runs together, in the order of scripts/hot-code.txt
# (scripts/profile-hot-code.sh makes it): the kernel maps code in 64 KiB windows around each
# page it faults in, so clustered hot code keeps the resident set and the start time small.
# Dynamic exclusivity checks are off in this build (they cost about a tenth of the probe
# server's CPU per request); the debug build that `swift test` uses keeps them. Reflection
# metadata is left out too (about 230 KB): vigil prints only strings and types that describe
# themselves, never a Mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib -Xswiftc -static-executable \
    -Xswiftc -Osize -Xswiftc -enforce-exclusivity=unchecked \
    -Xswiftc -Xfrontend -Xswiftc -disable-reflection-metadata \
    -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections -Xcc -fdata-sections \
    -Xlinker --gc-sections -Xlinker "--section-ordering-file=$PWD/scripts/hot-code.txt" \
    --scratch-path .build-static --product vigil "$@"
mkdir -p out
# Replace by rename: a running copy (a test, a benchmark) keeps its old inode.
cp .build-static/release/vigil out/vigil.tmp
strip out/vigil.tmp
mv -f out/vigil.tmp out/vigil
ls -l out/vigil | awk '{print "out/vigil: " $5 " bytes"}'
