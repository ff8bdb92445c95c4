"""gRPC health checks (issue 14) against a real grpcio health server (grpcio-health-checking's
HealthServicer, in a process of its own: vigiltest.grpc_health) switched between SERVING and
NOT_SERVING: what /readyz answers, the reason in ?verbose and /status, and every way a call fails
(an unknown service, a stopped server, an HTTP/1 server, TLS, a server that never answers).
"""
import http.server
import threading

import pytest

from vigiltest.checks import SilentServer, check, fast, wait_check
from vigiltest.grpc_health import GRPCHealthServer
from vigiltest.http import curl
from vigiltest.ports import free_port
from vigiltest.vigil import Vigil, run_vigil

APP = ["sleep", "600"]


def start(env, tmp_path):
    v = Vigil(APP, env=env, tmp_path=tmp_path)
    v.wait_listening()
    return v


def grpc_checks(**targets):
    """VIGIL_CHECK_<NAME>=TARGET for each NAME=TARGET, each with a quick schedule."""
    env = {}
    for name, target in targets.items():
        env[f"VIGIL_CHECK_{name}"] = target
        env.update(fast(name, interval="200ms", timeout="500ms"))
    return env


@pytest.fixture
def server():
    server = GRPCHealthServer()
    yield server
    server.stop()


def test_serving_passes_and_not_serving_fails_with_the_reason(server, tmp_path):
    v = start(grpc_checks(API=f"grpc://127.0.0.1:{server.port}"), tmp_path)
    try:
        assert v.wait_for("/readyz", 200) == "ok"
        c = wait_check(v, "api", "passing")
        assert (c["kind"], c["last_reason"]) == ("grpc", "SERVING")
        server.set("", "NOT_SERVING")
        v.wait_for("/readyz", 503)
        assert curl(v.url("/readyz?verbose"))[:2] == (
            503, "[+]process ok\n[+]startup ok\n[+]draining ok\n[-]api failed: NOT_SERVING\nreadyz check failed\n")
        assert check(v, "api")["last_reason"] == "NOT_SERVING"
        assert curl(v.url("/livez"))[:2] == (200, "ok"), "a readiness check never fails liveness"
        server.set("", "SERVING")
        assert v.wait_for("/readyz", 200) == "ok"
        log = v.stderr()
        assert "vigil: warn: check api is failing check=api from=passing reason=NOT_SERVING" in log, log
        assert "vigil: info: check api is passing check=api from=failing reason=SERVING" in log, log
    finally:
        v.stop()


def test_a_service_name_known_and_unknown(server, tmp_path):
    """The service asked about is the URL's path: its own status, not the server's; a service the
    server does not know is grpcio's NOT_FOUND until the server learns it."""
    server.set("my.Service", "SERVING")
    env = grpc_checks(WHOLE=f"grpc://127.0.0.1:{server.port}", SVC=f"grpc://127.0.0.1:{server.port}/my.Service",
                      NONE=f"grpc://127.0.0.1:{server.port}/no.Such")
    v = start(env, tmp_path)
    try:
        assert wait_check(v, "svc", "passing")["last_reason"] == "SERVING"
        assert wait_check(v, "none", "failing")["last_reason"] == "gRPC status 5 (NOT_FOUND)"
        server.set("my.Service", "NOT_SERVING")
        assert wait_check(v, "svc", "failing")["last_reason"] == "NOT_SERVING"
        assert check(v, "whole")["status"] == "passing"
        assert curl(v.url("/readyz/svc"))[:2] == (503, "[-]svc failed: NOT_SERVING\n")
        server.set("no.Such", "SERVING")
        assert wait_check(v, "none", "passing")["last_reason"] == "SERVING"
        server.set("no.Such", "SERVICE_UNKNOWN")
        assert wait_check(v, "none", "failing")["last_reason"] == "SERVICE_UNKNOWN"
    finally:
        v.stop()


def test_a_stopped_server_fails_with_connection_refused(server, tmp_path):
    v = start(grpc_checks(API=f"grpc://127.0.0.1:{server.port}", GONE=f"grpc://127.0.0.1:{free_port()}"), tmp_path)
    try:
        wait_check(v, "api", "passing")
        assert wait_check(v, "gone", "failing")["last_reason"] == "connection refused"
        server.stop()
        assert wait_check(v, "api", "failing")["last_reason"] == "connection refused"
        assert v.wait_for("/readyz", 503).startswith("[+]process ok")
    finally:
        v.stop()


class QuietHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_a_plain_http1_server_fails_with_a_reason(tmp_path):
    """An HTTP/1 server on the port answers vigil's HTTP/2 preface with what it has (Python's
    http.server with an error page): the reason says what it answered; vigil carries on."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    v = start(grpc_checks(WEB=f"grpc://127.0.0.1:{httpd.server_address[1]}"), tmp_path)
    try:
        c = wait_check(v, "web", "failing", runs=3)
        assert c["last_reason"] == 'not an HTTP/2 server: it answered "<!DOCTYPE HTML>"', c
        assert v.proc.poll() is None
        assert curl(v.url("/livez"))[:2] == (200, "ok")
    finally:
        v.stop()
        httpd.shutdown()
        httpd.server_close()


def test_grpcs_with_a_self_signed_certificate(server, certificate, tmp_path):
    """grpcs:// does TLS without verifying the certificate, as kubelet's grpc probe; the wrong
    scheme either way fails with a sentence."""
    tls = GRPCHealthServer(tls=certificate)
    env = grpc_checks(TLS=f"grpcs://127.0.0.1:{tls.port}", TLSNAME=f"grpcs://localhost:{tls.port}/",
                      PLAINTOTLS=f"grpc://127.0.0.1:{tls.port}", TLSTOPLAIN=f"grpcs://127.0.0.1:{server.port}")
    v = start(env, tmp_path)
    try:
        for name in ("tls", "tlsname"):
            c = wait_check(v, name, "passing")
            assert (c["kind"], c["last_reason"]) == ("grpcs", "SERVING")
        assert wait_check(v, "tlstoplain", "failing")["last_reason"] == "TLS handshake failed"
        # grpcio closes a connection whose first bytes are not TLS without a word.
        assert wait_check(v, "plaintotls", "failing")["last_reason"] == "connection closed before a complete answer"
        tls.set("", "NOT_SERVING")
        assert wait_check(v, "tls", "failing")["last_reason"] == "NOT_SERVING"
    finally:
        v.stop()
        tls.stop()


def test_a_server_that_never_answers_times_out_and_is_closed(tmp_path):
    """A server that accepts and never answers (no SETTINGS, no response): each run fails at its
    timeout and its connection is closed, so runs do not pile up open sockets."""
    silent = SilentServer()
    env = {"VIGIL_CHECK_HUNG": f"grpc://127.0.0.1:{silent.port}"}
    env.update(fast("HUNG", interval="1200ms", timeout="1s"))
    v = start(env, tmp_path)
    try:
        c = wait_check(v, "hung", "failing", runs=2)
        assert c["last_reason"] == "timed out after 1s"
        assert 1000 <= c["last_duration_ms"] < 1500, c
        assert len(silent.accepted) >= 2
        assert silent.open_connections() <= 1, "vigil left timed-out connections open"
    finally:
        v.stop()
        silent.close()


def test_config_lists_a_grpc_check_and_refuses_http_options():
    env = {"VIGIL_CHECK_API": "grpcs://[::1]:50051/my.Service"}
    code, out, err = run_vigil("config", env=env)
    assert code == 0, err
    assert "VIGIL_CHECK_API=grpcs://[::1]:50051/my.Service" in out
    assert "VIGIL_CHECK_API_EXPECT_STATUS" not in out
    code, _, err = run_vigil("config", "--check", env={**env, "VIGIL_CHECK_API_EXPECT_STATUS": "200"})
    assert code == 2
    assert ('vigil: error: VIGIL_CHECK_API_EXPECT_STATUS="200": EXPECT_STATUS applies to http:// and https:// '
            "checks only; example: VIGIL_CHECK_API_EXPECT_STATUS=200-299,302") in err
    code, _, err = run_vigil("config", "--check", env={"VIGIL_CHECK_API": "grpc://127.0.0.1"})
    assert code == 2
    assert 'vigil: error: VIGIL_CHECK_API="grpc://127.0.0.1": missing port' in err
