"""What every benchmark row shares: the table row, the contenders, the process registry, the
helper servers for vigil's checks, and readings from /proc."""
import os
import subprocess
import sys
import tempfile

from vigiltest.env import base_env, vigil_env
from vigiltest.paths import PYTHON, VIGIL, tool
from vigiltest.ports import free_port, wait_port
from vigiltest.processes import Processes, descendants, stat_fields, status_field

MIB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")
PEERS = ["tini", "tini-static", "dumb-init", "catatonit"]

# Everything started here goes through PROCS, so that __main__ stops it all on exit and signals.
PROCS = Processes(env=base_env())
TMP = tempfile.mkdtemp(prefix="vigil-bench-")
# name -> argv prefix before the app command, filled by discover().
INITS = {}


class Broken(AssertionError):
    """vigil (not a number) is broken: the run fails, also in --smoke. An AssertionError, like the
    failures of the support package's waits (vigil does not listen, does not answer)."""


class Row:
    def __init__(self, metric, cells, target, met, note=""):
        self.metric, self.cells, self.target, self.met, self.note = metric, cells, target, met, note


def log(*parts):
    print("bench:", *parts, file=sys.stderr, flush=True)


def find_peer(name):
    path = tool(name)
    if path is None and name == "catatonit":  # Debian puts it in /usr/libexec/podman
        try:
            listing = subprocess.run(["dpkg", "-L", "catatonit"], capture_output=True, text=True).stdout
            path = next((p for p in listing.split() if p.endswith("/catatonit") and os.access(p, os.X_OK)), None)
        except OSError:
            path = None
    return path


def discover():
    """Fills INITS. tini gets -s (child subreaper), as vigil and catatonit register themselves when
    they are not PID 1; dumb-init has no such option."""
    if not os.access(VIGIL, os.X_OK):
        raise Broken(f"vigil binary {VIGIL} is missing or not executable (set VIGIL_BIN)")
    INITS["vigil"] = [VIGIL, "--"]
    for name, extra in (("tini", ["-s"]), ("tini-static", ["-s"]), ("dumb-init", []), ("catatonit", [])):
        path = find_peer(name)
        if path:
            INITS[name] = [path] + extra + ["--"]
        else:
            log(f"{name} not found; its column reads n/a (apt-get install {name.split('-static')[0]})")


def spawn_vigil(port=None, checks=None, app=("sleep", "3600")):
    """vigil supervising APP with CHECKS, its probe server on PORT (None: off)."""
    return PROCS.spawn(INITS["vigil"] + list(app), env=vigil_env(port, **(checks or {})))


# helper servers for the tcp:// and http:// checks (a separate process, so this one stays quiet)
HELPER = r"""
import http.server, socket, sys, threading
tcp = socket.socket(); tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("127.0.0.1", int(sys.argv[1]))); tcp.listen(64)
def accept():
    while True:
        conn, _ = tcp.accept(); conn.close()
threading.Thread(target=accept, daemon=True).start()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), H).serve_forever()
"""


class Helpers:
    def __init__(self):
        self.tcp_port, self.http_port = free_port(), free_port()
        self.proc = PROCS.spawn([PYTHON, "-c", HELPER, str(self.tcp_port), str(self.http_port)])
        wait_port(self.tcp_port, self.proc, what="tcp helper")
        wait_port(self.http_port, self.proc, what="http helper")

    def three_checks(self, interval="1s"):
        return {
            "VIGIL_CHECK_EXEC": "exec:true", "VIGIL_CHECK_EXEC_INTERVAL": interval,
            "VIGIL_CHECK_TCP": f"tcp://127.0.0.1:{self.tcp_port}", "VIGIL_CHECK_TCP_INTERVAL": interval,
            "VIGIL_CHECK_WEB": f"http://127.0.0.1:{self.http_port}/", "VIGIL_CHECK_WEB_INTERVAL": interval,
        }


# readings from /proc

def kib(pid, field):
    """A memory field of /proc/PID/status (VmHWM, RssAnon, RssFile) in KiB."""
    value = status_field(pid, field)
    if value is None:
        raise Broken(f"no {field} for {pid}")
    return int(value.split()[0])


def cpu_ticks(pid):
    """(utime+stime, cutime+cstime) of PID: fields 14..17 of stat, i.e. 11..14 after the name."""
    fields = stat_fields(pid)
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def tree_ticks(pid):
    """utime+stime of PID and its descendants (threads included), in clock ticks."""
    total = 0
    for p in [pid] + descendants(pid):
        try:
            total += cpu_ticks(p)[0]
        except (IndexError, ValueError):
            pass
    return total
