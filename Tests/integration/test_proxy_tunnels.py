"""The front door's tunnels and its limits, black-box (issue 13): a WebSocket through the door
survives a drain until its client closes it; tcp mode forwards bytes untouched, holds a connection
while the app restarts and drains like a WebSocket; 10,000 idle connections do not slow probes."""
import base64
import json
import os
import resource
import signal
import socket
import sys
import time

import pytest

from vigiltest.http import curl, raw_exchange, statuses
from vigiltest.paths import ROOT
from vigiltest.ports import free_port, wait_port
from vigiltest.timing import Baseline, assert_within
from vigiltest.vigil import Vigil
from vigiltest.waiting import wait_until

DOOR_APP = os.path.join(ROOT, "Tests", "support", "apps", "door_app.py")


def start(tmp_path, **env):
    port, app_port = free_port(), free_port()
    settings = {"VIGIL_PROXY_LISTEN": f"127.0.0.1:{port}", "VIGIL_PROXY_UPSTREAM": f"127.0.0.1:{app_port}",
                "REQUEST_LOG": str(tmp_path / "requests.jsonl")}
    settings.update(env)
    vigil = Vigil([sys.executable, DOOR_APP, str(app_port)], env=settings, tmp_path=tmp_path)
    wait_port(app_port, vigil.proc, what="the door app", log=vigil.stderr)
    return vigil, port, app_port


def metric_pid(vigil):
    body = curl(vigil.url("/status?format=json"))[1]
    return json.loads(body)["app"]["pid"]


def metric(vigil, name):
    body = curl(vigil.url("/metrics"))[1]
    return next(float(line.split()[-1]) for line in body.splitlines() if line.startswith(name + " "))


class WebSocket:
    """A minimal RFC 6455 client: the handshake, masked frames out, one frame in."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        self.head = head.decode()

    def echo(self, text, opcode=1):
        payload = text.encode()
        mask = os.urandom(4)
        self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask +
                          bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        header = self.sock.recv(2)
        return self.sock.recv(header[1] & 0x7F).decode() if header else None

    def close(self):
        self.echo("", opcode=8)
        self.sock.close()


def test_a_websocket_through_the_door_survives_the_drain_until_its_client_closes(tmp_path):
    vigil, port, _ = start(tmp_path, VIGIL_DRAIN_DELAY="300ms", VIGIL_DRAIN_TIMEOUT="20s")
    try:
        ws = WebSocket(port)
        assert ws.head.startswith("HTTP/1.1 101 ")
        assert ws.echo("before") == "before"
        assert metric(vigil, "vigil_proxy_tunnels") == 1
        vigil.signal(signal.SIGTERM)
        time.sleep(1.5)  # well past the drain delay: the listener is closed, the tunnel is not
        assert vigil.proc.poll() is None
        assert ws.echo("during the drain") == "during the drain"
        closed = time.monotonic()
        ws.close()
        code = vigil.wait(timeout=10)
        assert time.monotonic() - closed < 3, "vigil kept waiting after the last tunnel closed"
        assert code == 143
        assert "no request is in flight through the front door" in vigil.stderr()
    finally:
        vigil.stop()


def test_tcp_mode_forwards_bytes_untouched(tmp_path):
    vigil, port, _ = start(tmp_path, VIGIL_PROXY_MODE="tcp")
    try:
        raw = raw_exchange(port, b"GET /headers HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert statuses(raw) == [200]
        assert b"X-Forwarded-For" not in raw  # bytes, not requests: nothing is added
    finally:
        vigil.stop()


def test_tcp_mode_holds_a_connection_while_the_app_restarts(tmp_path):
    vigil, port, app_port = start(tmp_path, VIGIL_PROXY_MODE="tcp", VIGIL_RESTART="always")
    try:
        pid = int(metric_pid(vigil))
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: metric(vigil, "vigil_app_up") == 0, 5, what="the app down")
        started = time.monotonic()
        raw = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", timeout=10)
        assert statuses(raw) == [200]
        assert time.monotonic() - started >= 0.5  # it waited for the restart (1 s backoff)
    finally:
        vigil.stop()


def response(sock, ending=b"hello"):
    data = b""
    while not data.endswith(ending):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_tcp_mode_drain_waits_for_open_tunnels(tmp_path):
    vigil, port, _ = start(tmp_path, VIGIL_PROXY_MODE="tcp", VIGIL_DRAIN_DELAY="300ms", VIGIL_DRAIN_TIMEOUT="20s")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            assert statuses(response(s)) == [200]
            vigil.signal(signal.SIGTERM)
            time.sleep(1.5)
            s.sendall(b"GET /again HTTP/1.1\r\nHost: a\r\n\r\n")
            assert statuses(response(s)) == [200]
        assert vigil.wait(timeout=10) == 143
    finally:
        vigil.stop()


def test_10000_idle_connections_do_not_slow_probes_and_never_reach_the_app(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 30_000), hard))
    vigil, port, _ = start(tmp_path)
    sockets = []
    try:
        vigil.wait_listening()
        baseline = Baseline.measure("/readyz with no client on the door", lambda: curl(vigil.url("/readyz")), runs=10)
        for _ in range(10_000):
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        wait_until(lambda: metric(vigil, "vigil_proxy_connections") == 10_000, 20, what="10,000 connections")
        loaded = Baseline.measure("/readyz with 10,000 idle clients", lambda: curl(vigil.url("/readyz")), runs=10)
        assert_within(loaded.typical, baseline.limit(3, floor=0.05), baseline, "/readyz with 10,000 idle clients")
        assert statuses(raw_exchange(port, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")) == [200]
        # The app saw one request: the one above, none of the idle connections.
        assert (tmp_path / "requests.jsonl").read_text().count("\n") == 1
    finally:
        for s in sockets:
            s.close()
        vigil.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
