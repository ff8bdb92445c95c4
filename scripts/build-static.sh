#!/usr/bin/env bash
# Builds the static, stripped release binary into out/vigil (what goes into images).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib -Xswiftc -static-executable \
    -Xswiftc -Osize -Xlinker --gc-sections --scratch-path .build-static "$@"
mkdir -p out
cp .build-static/release/vigil out/vigil
strip out/vigil
ls -l out/vigil | awk '{print "out/vigil: " $5 " bytes"}'
