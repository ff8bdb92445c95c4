"""Row: signal forwarding latency, SIGTERM to the init → the child's handler runs."""
import os
import random
import signal
import statistics
import subprocess
import time

from vigiltest.env import base_env, vigil_env
from vigiltest.paths import PYTHON
from vigiltest.ports import free_port

from .common import INITS, PEERS, PROCS, TMP, Broken, Row, log

CHILD = r"""
import os, signal, sys, time
out = sys.argv[1]
def handler(signum, frame):
    t = time.monotonic_ns()
    with open(out + ".tmp", "w") as f:
        f.write(str(t))
    os.rename(out + ".tmp", out)
    os._exit(0)
signal.signal(signal.SIGTERM, handler)
open(out + ".ready", "w").close()
while True:
    signal.pause()
"""


def run(runs):
    names = ["vigil"] + [n for n in PEERS if n in INITS]
    samples = {n: [] for n in names}
    log(f"signal forwarding: {len(names)} inits x {runs} interleaved runs")
    counter = 0
    for _ in range(runs):
        random.shuffle(names)
        for name in names:
            counter += 1
            out = os.path.join(TMP, f"sig-{counter}")
            env = vigil_env(free_port()) if name == "vigil" else base_env()
            proc = PROCS.spawn(INITS[name] + [PYTHON, "-S", "-c", CHILD, out], env=env)
            deadline = time.monotonic() + 10
            while not os.path.exists(out + ".ready"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    PROCS.stop(proc)
                    raise Broken(f"{name}: the child did not start (exit {proc.returncode})")
                time.sleep(0.002)
            time.sleep(0.02)  # let the init settle back into its wait
            t0 = time.monotonic_ns()
            os.kill(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while not os.path.exists(out):
                if time.monotonic() > deadline:
                    PROCS.stop(proc)
                    raise Broken(f"{name}: SIGTERM was not forwarded to the child within 5s")
                time.sleep(0.0005)
            with open(out) as f:
                samples[name].append((int(f.read()) - t0) / 1000.0)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                raise Broken(f"{name}: did not exit 10s after its child did")
            finally:
                PROCS.stop(proc)
    med = {n: statistics.median(v) for n, v in samples.items()}

    def cell(n):
        return f"{med[n]:.0f} µs (p90 {sorted(samples[n])[int(0.9 * (len(samples[n]) - 1))]:.0f})"

    return [Row("signal forwarding: SIGTERM to the init → child's handler runs (median)",
                {n: cell(n) for n in med}, target="", met=None,
                note=f"{runs} runs each; vigil with VIGIL_DRAIN_DELAY=0, probe server on; "
                     f"vigil/tini = {med['vigil'] / med['tini']:.2f}x" if "tini" in med else f"{runs} runs")]
