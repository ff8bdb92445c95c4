"""Writes the linker's section ordering for vigil (scripts/hot-code.txt) from a real run.

vigil is a 14 MB static binary, and the kernel maps code in 64 KiB windows around each page it
faults in ("fault-around"): functions that run scattered across the binary make most of it
resident. The functions vigil actually runs in its common life are well under 1 MB. Listed here,
gold lays them out together (`--section-ordering-file`, with every function in a section of its
own), so the pages vigil touches, its resident set and its start time stay small.

The functions are those callgrind sees in: a start with three checks (exec, tcp, http) and the
probe server answering every kind of request, a drain and a stop; and a start with the probe
server off. Usage (scripts/profile-hot-code.sh does it): python3 profile_hot_code.py BINARY OUT
where BINARY keeps its symbol table.
"""
import http.server
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

from vigiltest.env import vigil_env
from vigiltest.http import curl
from vigiltest.ports import free_port, wait_port

REQUESTS = ["/readyz", "/livez", "/startupz", "/readyz?verbose", "/livez/tcp", "/readyz?format=json",
            "/status", "/status?format=json", "/metrics", "/", "/nope"]


def callgrind(binary, out, argv, env):
    return subprocess.Popen(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}",
                             binary, "--", *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def with_checks(binary, out):
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    port = free_port()
    env = vigil_env(port, VIGIL_DRAIN_DELAY="1s",
                    VIGIL_CHECK_EXEC="exec:true", VIGIL_CHECK_EXEC_INTERVAL="1s",
                    VIGIL_CHECK_TCP=f"tcp://127.0.0.1:{web.server_port}", VIGIL_CHECK_TCP_INTERVAL="1s",
                    VIGIL_CHECK_WEB=f"http://127.0.0.1:{web.server_port}/", VIGIL_CHECK_WEB_INTERVAL="1s")
    proc = callgrind(binary, out, ["sleep", "3600"], env)
    try:
        wait_port(port, proc, timeout=60, what="vigil under callgrind")
        time.sleep(4)  # a few rounds of every check
        for path in REQUESTS:
            curl(f"http://127.0.0.1:{port}{path}", timeout=10)
            curl(f"http://127.0.0.1:{port}{path}", "-I", timeout=10)
        curl(f"http://127.0.0.1:{port}/readyz", "-H", "Accept: application/json", timeout=10)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        web.shutdown()


def without_server(binary, out):
    callgrind(binary, out, ["true"], vigil_env(None)).wait(timeout=60)


def functions(path):
    names = set()
    with open(path) as f:
        for line in f:
            match = re.match(r"^c?fn=\(\d+\) (.+)$", line.strip())
            if match:
                names.add(re.sub(r"'\d+$", "", match.group(1)))  # callgrind's recursion marker
    return names


def main():
    binary, target = sys.argv[1], sys.argv[2]
    defined = {line.split()[-1] for line in subprocess.run(["nm", "--defined-only", binary], capture_output=True,
                                                            text=True, check=True).stdout.splitlines()
               if len(line.split()) == 3}
    with tempfile.TemporaryDirectory() as work:
        runs = [os.path.join(work, "checks.out"), os.path.join(work, "off.out")]
        with_checks(binary, runs[0])
        without_server(binary, runs[1])
        hot = set().union(*(functions(run) for run in runs)) & defined
    with open(target, "w") as f:
        f.write("".join(f".text.{name}\n" for name in sorted(hot)))
    print(f"{target}: {len(hot)} functions", file=sys.stderr)


if __name__ == "__main__":
    main()
