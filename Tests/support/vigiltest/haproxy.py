"""HAProxy from Debian in front of test instances, driven through its runtime API.

Set so that it never hides a failure: `retries 0`, no `option redispatch`, no `retry-on`, no
`on-marked-down shutdown-sessions`."""
import csv
import io
import os
import shutil
import socket
import subprocess
import tempfile
import time

from .paths import tool
from .ports import free_port, receive_all
from .waiting import wait_until


class HAProxy:
    """HAProxy with one frontend and a backend of pre-declared, disabled server slots.

    Instances are put into slots at run time: `set server … addr/check-port`, `set server … health
    down` while still in maintenance, then `enable server`, so a new server must pass `rise`
    checks before it gets any request (enabling first would put it UP before any check)."""

    def __init__(self, workdir, check_path="/readyz", slots=8, inter="200ms", fall=2, rise=2, log=True, mode="http",
                 server=None, nbthread=None, server_options=""):
        """MODE "http" re-routes every request; "tcp" balances connections, as kube-proxy does: a
        client's keep-alive connection stays on its server until one side closes it.

        SERVER ("127.0.0.1:8081") makes it a plain sidecar instead: that one server, enabled and
        unchecked, in place of the slots. NBTHREAD sets `nbthread` (default: one per CPU).
        SERVER_OPTIONS: more `default-server` keywords for the slots (`pool-purge-delay 60s`)."""
        self.workdir = workdir
        self.sockdir = tempfile.mkdtemp(prefix="vigil-hx-")  # unix socket paths must stay short
        self.socket_path = os.path.join(self.sockdir, "admin.sock")
        self.port = free_port()
        self.slots = [] if server else [f"s{i}" for i in range(1, slots + 1)]
        self.used = set()
        self.config_path = os.path.join(workdir, "haproxy.cfg")
        self.log_path = os.path.join(workdir, "haproxy.log")
        servers = "\n".join(f"    server {s} 127.0.0.1:1 check port 1 disabled" for s in self.slots)
        if server:
            servers, check_path = f"    server app {server}", None
        logging = "    log stdout format raw local0 info\n" if log else ""
        self.mode = mode
        log_option = "option httplog" if mode == "http" else "option tcplog"
        threads = f"    nbthread {nbthread}\n" if nbthread else ""
        checks = f"""    option httpchk GET {check_path}
    http-check expect status 200
    default-server inter {inter} fastinter {inter} downinter {inter} fall {fall} rise {rise} {server_options}
""" if check_path else ""
        config = f"""global
    stats socket {self.socket_path} level admin
{logging}{threads}    maxconn 4096

defaults
    mode {mode}
    log global
    {log_option}
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    # Never hide a failure from the client: no retry, no redispatch, no retry-on, and in-flight
    # requests of a server marked down are left alone (no on-marked-down shutdown-sessions).
    retries 0

frontend fe
    bind 127.0.0.1:{self.port}
    default_backend be

backend be
    balance roundrobin
{checks}{servers}
"""
        with open(self.config_path, "w") as f:
            f.write(config)
        haproxy = tool("haproxy") or "haproxy"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([haproxy, "-db", "-f", self.config_path],
                                     stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_until(self._answers, 10, what="haproxy to listen")
        except AssertionError:
            self.stop()
            raise RuntimeError("haproxy did not start: " + self.log()) from None

    def _answers(self):
        if self.proc.poll() is not None:
            raise RuntimeError("haproxy exited: " + self.log())
        try:
            return "Name: HAProxy" in self.cmd("show info")
        except OSError:
            return False

    def cmd(self, line):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(self.socket_path)
            s.sendall((line + "\n").encode())
            return receive_all(s).decode(errors="replace").strip()

    def stats(self):
        """{svname: row} for the backend's servers, plus FRONTEND and BACKEND."""
        text = self.cmd("show stat")
        if text.startswith("# "):
            text = text[2:]
        rows = {}
        for row in csv.DictReader(io.StringIO(text)):
            if row.get("pxname") in ("fe", "be"):
                rows[row["svname"]] = row
        return rows

    def status(self, slot):
        return self.stats()[slot]["status"]

    def add(self, app_port, check_port):
        """Puts a server into a free slot; returns the slot. It gets no request before `activate`.

        `enable server` alone would put it UP at once, before any check, and `set server … health
        down` sent while it is still in maintenance is forgotten on enabling. So: weight 0 first,
        then `enable server; set server … health down` (the server must now pass `rise` checks),
        and `activate` restores the weight once HAProxy marks it UP."""
        slot = next(s for s in self.slots if s not in self.used)
        self.used.add(slot)
        for line in (f"set server be/{slot} addr 127.0.0.1 port {app_port}",
                     f"set server be/{slot} check-port {check_port}",
                     f"set server be/{slot} weight 0",
                     f"enable server be/{slot}; set server be/{slot} health down"):
            out = self.cmd(line)
            if out and not out.startswith("no need to change") and "changed from" not in out:
                raise RuntimeError(f"haproxy: {line}: {out}")
        return slot

    def activate(self, slot):
        self.cmd(f"set server be/{slot} weight 1")

    def remove(self, slot):
        """Maintenance: no new request goes to it; requests in flight are left to finish."""
        self.cmd(f"disable server be/{slot}")

    def wait_status(self, slot, wanted, timeout=15):
        last = [None]

        def check():
            last[0] = self.status(slot)
            return last[0] == wanted
        try:
            wait_until(check, timeout, interval=0.02, what=f"{slot} {wanted}")
        except AssertionError:
            raise AssertionError(f"haproxy server {slot}: wanted {wanted}, still {last[0]} after {timeout}s") from None
        return time.monotonic()

    def log(self):
        try:
            self._log.flush()
            with open(self.log_path, "rb") as f:
                return f.read()[-4000:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if not self._log.closed:
            self._log.close()
        shutil.rmtree(self.sockdir, ignore_errors=True)

