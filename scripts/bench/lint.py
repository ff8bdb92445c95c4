"""Row: vigil-lint on a `helm template`-like stream of 10 MB and 5,000 objects (Deployments under
vigil, their Services, PodDisruptionBudgets and ConfigMaps; Tests/support/vigiltest/lint.py makes
it), --format json, the median wall time of a few runs. A pipeline tool: no peer column."""
import os
import statistics
import subprocess
import time

from vigiltest.lint import LINT, stream

from .common import TMP, Broken, Row, log

METRIC = "vigil-lint: 10 MB stream, 5,000 objects"
TARGET = "< 1 s"


def run(smoke):
    if not os.access(LINT, os.X_OK):
        log(f"vigil-lint: no binary at {LINT}; build it with swift build -c release --product vigil-lint")
        return Row(METRIC, {"vigil": "n/a (not built)"}, TARGET, None, "swift build -c release --product vigil-lint")
    path = os.path.join(TMP, "lint-stream.yaml")
    with open(path, "w") as f:
        f.write(stream(objects=5000, size=10 * 1024 * 1024))
    size = os.path.getsize(path)
    runs = 1 if smoke else 5
    log(f"vigil-lint: {size / 1e6:.1f} MB stream x {runs} runs")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run([LINT, "--format", "json", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                timeout=120)
        times.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise Broken(f"vigil-lint exited {result.returncode} on the stream: {result.stderr.decode()[:300]}")
    median = statistics.median(times)
    note = f"{size / 1e6:.1f} MB, {runs} run{'s' if runs > 1 else ''}, median; {os.cpu_count()} CPUs"
    return Row(METRIC, {"vigil": f"{median:.2f} s"}, TARGET, median < 1.0, note)
