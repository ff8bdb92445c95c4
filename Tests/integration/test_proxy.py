"""The front door in http mode, black-box (issue 13): vigil forwards to a real Python app and
every test asserts what a client and the app see. Framing is vigil's: smuggling attempts get 400
and never reach the app; bodies stream both ways in bounded memory."""
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from vigiltest.http import curl, raw_exchange, statuses
from vigiltest.paths import ROOT
from vigiltest.ports import free_port, wait_port
from vigiltest.vigil import Vigil, run_vigil
from vigiltest.waiting import wait_until

DOOR_APP = os.path.join(ROOT, "Tests", "support", "apps", "door_app.py")


class Door:
    """vigil with its front door on `port`, the door app behind it on `app_port`."""

    def __init__(self, tmp_path, **env):
        self.port, self.app_port = free_port(), free_port()
        self.requests = tmp_path / "requests.jsonl"
        settings = {"VIGIL_PROXY_LISTEN": f"127.0.0.1:{self.port}", "VIGIL_PROXY_UPSTREAM": f"127.0.0.1:{self.app_port}",
                    "REQUEST_LOG": str(self.requests)}
        settings.update(env)
        self.vigil = Vigil([sys.executable, DOOR_APP, str(self.app_port)], env=settings, tmp_path=tmp_path)
        wait_port(self.app_port, self.vigil.proc, what="the door app", log=self.vigil.stderr)
        wait_port(self.port, self.vigil.proc, what="the front door", log=self.vigil.stderr)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def seen(self):
        """The request heads the app received, in order."""
        if not self.requests.exists():
            return []
        return [json.loads(line) for line in self.requests.read_text().splitlines()]

    def metrics(self):
        return curl(self.vigil.url("/metrics"))[1]


@pytest.fixture
def door(tmp_path):
    made = []

    def make(**env):
        made.append(Door(tmp_path, **env))
        return made[-1]

    yield make
    for d in made:
        d.vigil.stop()


def test_forwards_with_forwarded_headers_and_without_hop_by_hop_ones(door):
    d = door()
    status, body, _ = curl(d.url("/headers"), "-H", "Connection: keep-alive, X-Secret", "-H", "X-Secret: 1",
                           "-H", "Keep-Alive: timeout=5", "-H", "X-Forwarded-For: 203.0.113.7")
    assert status == 200
    headers = {k.lower(): v for k, v in json.loads(body).items()}
    assert headers["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert "x-secret" not in headers and "keep-alive" not in headers
    assert "connection" not in headers


def test_forwarded_headers_can_be_switched_off(door):
    d = door(VIGIL_PROXY_FORWARDED="false")
    headers = {k.lower() for k in json.loads(curl(d.url("/headers"))[1])}
    assert "x-forwarded-for" not in headers and "x-forwarded-proto" not in headers


def test_keep_alive_and_pipelining_answer_in_order(door):
    d = door()
    raw = raw_exchange(d.port, b"GET /slow?ms=300 HTTP/1.1\r\nHost: a\r\n\r\n"
                               b"GET /headers HTTP/1.1\r\nHost: a\r\n\r\n"
                               b"GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert statuses(raw) == [200, 200, 200]
    assert raw.index(b"slow done") < raw.index(b"hello")
    assert [r["path"] for r in d.seen()] == ["/slow?ms=300", "/headers", "/last"]


@pytest.mark.parametrize("name,request_bytes", [
    ("content-length and chunked", b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                                   b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("two content-lengths", b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"),
    ("obsolete line folding", b"GET /fold HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"),
    ("bare LF", b"GET /lf HTTP/1.1\nHost: a\n\n"),
    ("chunked not last", b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
    ("unknown coding", b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nxx"),
])
def test_request_smuggling_attempts_get_400_and_never_reach_the_app(door, name, request_bytes):
    d = door()
    raw = raw_exchange(d.port, request_bytes + b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
    assert statuses(raw) == [400], raw
    assert d.seen() == []


def test_oversized_headers_get_431_and_never_reach_the_app(door):
    d = door()
    raw = raw_exchange(d.port, b"GET /big HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    assert statuses(raw) == [431]
    assert d.seen() == []


def test_chunked_both_ways(door):
    d = door()
    payload = os.urandom(300_000)
    result = subprocess.run(["curl", "-sS", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
                             d.url("/upload")], input=payload, capture_output=True, timeout=20)
    assert result.stdout.decode() == f"{len(payload)} {hashlib.sha256(payload).hexdigest()}"
    assert d.seen()[-1]["headers"].get("Transfer-Encoding") == "chunked"
    raw = raw_exchange(d.port, b"GET /download?mb=2&chunked=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                       timeout=10)
    head, _, _ = raw.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert b"0\r\n\r\n" == raw[-5:]


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


def test_100_mib_up_and_down_stream_in_bounded_memory(door, tmp_path):
    d = door()
    before = vm_hwm_kib(d.vigil.pid)
    upload = tmp_path / "upload.bin"
    with open(upload, "wb") as f:
        for _ in range(100):
            f.write(os.urandom(1024 * 1024))
    digest = hashlib.sha256(upload.read_bytes()).hexdigest()
    result = subprocess.run(["curl", "-sS", "--data-binary", f"@{upload}", "-H", "Content-Type: application/octet-stream",
                             d.url("/upload")], capture_output=True, text=True, timeout=120)
    assert result.stdout == f"{100 * 1024 * 1024} {digest}", result.stderr
    result = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                             d.url("/download?mb=100")], capture_output=True, text=True, timeout=120)
    assert result.stdout == f"200 {100 * 1024 * 1024}"
    grown = vm_hwm_kib(d.vigil.pid) - before
    assert grown < 16 * 1024, f"vigil's peak RSS grew by {grown} KiB while streaming 2 x 100 MiB"


def test_an_app_that_closes_without_answering_gives_502(door):
    d = door()
    status, body, _ = curl(d.url("/close"))
    assert status == 502
    assert body == "bad gateway: the app closed the connection without answering\n"


def test_an_app_that_does_not_answer_gives_504_after_the_proxy_timeout(door):
    d = door(VIGIL_PROXY_TIMEOUT="1s")
    started = time.monotonic()
    status, body, _ = curl(d.url("/hang"))
    assert status == 504
    assert body == "gateway timeout: the app did not answer within 1s\n"
    assert 0.9 <= time.monotonic() - started < 3


def test_a_slow_client_is_closed_at_the_header_timeout_and_the_app_sees_nothing(door):
    d = door(VIGIL_PROXY_HEADER_TIMEOUT="500ms")
    with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
        s.sendall(b"GET /slowloris HTTP/1.1\r\nHost: a\r\n")
        started = time.monotonic()
        assert s.recv(100) == b""
        assert time.monotonic() - started < 2
    assert d.seen() == []


def test_traffic_shows_in_metrics(door):
    d = door()
    for _ in range(3):
        curl(d.url("/"))
    curl(d.url("/close"))
    metrics = d.metrics()
    assert 'vigil_proxy_responses_total{code="2xx"} 3' in metrics
    assert 'vigil_proxy_responses_total{code="5xx"} 1' in metrics
    assert 'vigil_proxy_drain_phase{phase="serving"} 1' in metrics
    assert "vigil_proxy_request_duration_seconds_count 4" in metrics
    assert "vigil_proxy_requests_in_flight 0" in metrics


@pytest.mark.parametrize("env,variable,message", [
    ({"VIGIL_PROXY_LISTEN": ":8080"}, "VIGIL_PROXY_UPSTREAM",
     "must be set with VIGIL_PROXY_LISTEN: where the app listens"),
    ({"VIGIL_PROXY_UPSTREAM": "127.0.0.1:8081"}, "VIGIL_PROXY_LISTEN",
     "must be set with VIGIL_PROXY_UPSTREAM: the port clients connect to"),
    ({"VIGIL_PROXY_LISTEN": ":7979", "VIGIL_PROXY_UPSTREAM": "127.0.0.1:8081"}, "VIGIL_PROXY_LISTEN",
     "uses the probe server's port (VIGIL_LISTEN)"),
    ({"VIGIL_PROXY_LISTEN": ":8080", "VIGIL_PROXY_UPSTREAM": "127.0.0.1:8080"}, "VIGIL_PROXY_UPSTREAM",
     "is the front door itself: the app must listen on another port"),
    ({"VIGIL_PROXY_LISTEN": ":8080", "VIGIL_PROXY_UPSTREAM": "app:8081", "VIGIL_PROXY_MODE": "udp"},
     "VIGIL_PROXY_MODE", "not one of http, tcp"),
])
def test_bad_front_door_settings_stop_vigil_before_the_app_starts(env, variable, message):
    code, _, err = run_vigil("--", "true", env=env)
    assert code == 2
    assert f"vigil: error: {variable}" in err and message in err, err


def test_expect_100_continue_is_answered_by_the_app_before_the_body_is_sent(door):
    d = door()
    with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 100 Continue\r\n")
        s.sendall(b"hello")
        answer = b""
        while not answer.endswith(hashlib.sha256(b"hello").hexdigest().encode()):
            chunk = s.recv(4096)
            assert chunk, answer
            answer += chunk
    assert statuses(answer) == [200]
    assert d.seen()[0]["headers"]["Expect"] == "100-continue"
