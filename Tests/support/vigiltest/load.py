"""wrk: paced load until stopped (the zero-downtime scenarios), and reading its summary."""
import os
import re
import signal
import subprocess
import time

from .paths import tool

WRK_SCRIPT = """-- paced load: each connection pauses between its requests
local pause = tonumber(os.getenv("WRK_PAUSE_MS") or "20")
function delay()
  return pause
end
"""


class Load:
    """wrk through HAProxy until stop(); keep-alive client connections, paced per connection.

    Rate is roughly connections * 1000 / (pause_ms + latency)."""

    def __init__(self, url, workdir, connections=8, threads=2, pause_ms=20):
        wrk = tool("wrk")
        if not wrk:
            raise RuntimeError("wrk is not installed (apt-get install wrk)")
        script = os.path.join(workdir, "paced.lua")
        with open(script, "w") as f:
            f.write(WRK_SCRIPT)
        self.out_path = os.path.join(workdir, "wrk.out")
        self._out = open(self.out_path, "wb")
        env = dict(os.environ, WRK_PAUSE_MS=str(pause_ms))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [wrk, f"-t{threads}", f"-c{connections}", "-d3600s", "--timeout", "10s", "-s", script, url],
            stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)

    def stop(self):
        """SIGINT makes wrk stop and print its summary; returns the parsed counts."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        with open(self.out_path) as f:
            text = f.read()
        return parse_wrk(text)


UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(text):
    """Counts from wrk's summary, and the p50/p99 latencies in ms when it ran with --latency
    (None otherwise). RuntimeError when there is no summary: wrk itself failed."""
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", text)
    if not total:
        raise RuntimeError("no summary in wrk output:\n" + text)
    seconds = float(total.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}.get(total.group(3), 1)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()))) if sockets else \
        {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    non2xx = int(non2xx.group(1)) if non2xx else 0
    requests = int(total.group(1))
    socket_errors = sum(errors.values())
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    latency = {}
    for percent, key in (("50", "p50_ms"), ("99", "p99_ms")):
        match = re.search(rf"^\s+{percent}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
        latency[key] = float(match.group(1)) * UNITS_MS[match.group(2)] if match else None
    return {
        "requests": requests,
        "failed": non2xx + socket_errors,
        "non_2xx": non2xx,
        "socket_errors": socket_errors,
        "socket_error_kinds": errors,
        "load_seconds": round(seconds, 2),
        "requests_per_second": float(rate.group(1)) if rate else (round(requests / seconds, 1) if seconds else 0.0),
        **latency,
    }
