#!/usr/bin/env bash
# Runs the demo app under vigil: probes on http://127.0.0.1:7979 (try /readyz?verbose, /status,
# /metrics), the app on :8080. Ctrl-C or SIGTERM shows the drain. Builds out/vigil when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x out/vigil ] || ./scripts/build-static.sh
export VIGIL_CHECK_APP="${VIGIL_CHECK_APP:-http://127.0.0.1:8080/health}"
export VIGIL_CHECK_APP_INTERVAL="${VIGIL_CHECK_APP_INTERVAL:-1s}"
export VIGIL_DRAIN_DELAY="${VIGIL_DRAIN_DELAY:-3s}"
echo "vigil: probes on http://127.0.0.1:7979 (curl 127.0.0.1:7979/readyz?verbose), app on :8080" >&2
exec out/vigil -- python3 examples/demo-app/app.py
