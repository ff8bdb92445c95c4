"""Health checks against real servers started here: every target type passing and failing,
timeouts, thresholds, DELAY, MIN_READY, probes, exec hygiene (issue 3).

State is read the way an operator reads it: /status?format=json (parsed with json) and the probe
endpoints, through curl. Checks run every 100–300ms so the whole file stays quick.
"""
import http.server
import os
import random
import re
import signal
import socket
import ssl
import threading
import time

import pytest

from vigiltest.checks import SilentServer, check, fast, status, wait_check
from vigiltest.http import curl
from vigiltest.ports import free_port
from vigiltest.processes import with_marker, zombies_of
from vigiltest.vigil import Vigil
from vigiltest.waiting import wait_until

APP = ["sleep", "600"]


# --- reading vigil's state ------------------------------------------------------------------------

def epoch(stamp):
    """RFC 3339 `2026-01-02T03:04:05.678Z` → seconds since the epoch."""
    import calendar
    return calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + int(stamp[20:23]) / 1000


def start(env, tmp_path, command=APP):
    v = Vigil(command, env=env, tmp_path=tmp_path)
    v.wait_listening()
    return v


# --- servers --------------------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    """Routes: /status/<code>[/<body>] answers CODE with BODY; /redirect answers 302 to a dead port."""
    protocol_version = "HTTP/1.1"
    requests = None  # set per server

    def do_GET(self):
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        parts = self.path.split("?")[0].strip("/").split("/")
        code, body, extra = 200, "ok\n", {}
        if parts[0] == "status":
            code = int(parts[1])
            body = parts[2] if len(parts) > 2 else f"answer {code}\n"
        elif parts[0] == "redirect":
            code, extra = 302, {"Location": "http://127.0.0.1:1/elsewhere"}
        elif parts[0] == "big":
            body = "x" * 100_000 + "NEEDLE"
        elif parts[0] == "near":  # the needle ends 36 bytes short of 64 KiB: inside what is read
            body = "x" * (64 * 1024 - 42) + "NEEDLE"
        data = body.encode()
        self.send_response(code)
        for k, val in extra.items():
            self.send_header(k, val)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class BackloggedHTTPServer(http.server.ThreadingHTTPServer):
    # The default listen backlog of 5 overflows when a dozen checks connect in the same
    # millisecond; dropped SYNs then read as "connect timed out" (a test-server artefact).
    request_queue_size = 128


class Server:
    def __init__(self, tls_context=None):
        self.httpd = BackloggedHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.requests = []
        self.httpd.daemon_threads = True
        if tls_context:
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def requests(self):
        return self.httpd.requests

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def http_server():
    server = Server()
    yield server
    server.close()


@pytest.fixture(scope="module")
def https_server(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = Server(context)
    yield server
    server.close()


# --- http and https -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def http_agent(http_server, https_server, tmp_path_factory):
    h, s = http_server.port, https_server.port
    silent = SilentServer()
    env = {
        "VIGIL_CHECK_OK": f"http://127.0.0.1:{h}/status/200?probe=1",
        "VIGIL_CHECK_ERROR": f"http://127.0.0.1:{h}/status/500",
        "VIGIL_CHECK_MISSING": f"http://127.0.0.1:{h}/status/404",
        "VIGIL_CHECK_REDIRECT": f"http://127.0.0.1:{h}/redirect",
        "VIGIL_CHECK_STRICT": f"http://127.0.0.1:{h}/redirect",
        "VIGIL_CHECK_MAINT": f"http://127.0.0.1:{h}/status/503",
        "VIGIL_CHECK_LIST": f"http://127.0.0.1:{h}/status/302",
        "VIGIL_CHECK_BODY": f"http://127.0.0.1:{h}/status/200/state=UP",
        "VIGIL_CHECK_NOBODY": f"http://127.0.0.1:{h}/status/200/state=DOWN",
        "VIGIL_CHECK_BIGBODY": f"http://127.0.0.1:{h}/big",
        "VIGIL_CHECK_NEARBODY": f"http://127.0.0.1:{h}/near",
        "VIGIL_CHECK_LOCALHOST": f"http://localhost:{h}/status/204",
        "VIGIL_CHECK_REFUSED": f"http://127.0.0.1:{free_port()}/",
        "VIGIL_CHECK_SILENT": f"http://127.0.0.1:{silent.port}/",
        "VIGIL_CHECK_TLS": f"https://127.0.0.1:{s}/status/200",
        "VIGIL_CHECK_TLSNAME": f"https://localhost:{s}/status/200/UP",
        "VIGIL_CHECK_TLSFAIL": f"https://127.0.0.1:{s}/status/500",
    }
    for name in ["OK", "ERROR", "MISSING", "REDIRECT", "STRICT", "MAINT", "LIST", "BODY", "NOBODY", "BIGBODY",
                 "NEARBODY", "LOCALHOST", "REFUSED", "TLS", "TLSNAME", "TLSFAIL"]:
        env.update(fast(name, interval="300ms", timeout="300ms"))
    env.update(fast("SILENT", interval="300ms", timeout="300ms"))
    env["VIGIL_CHECK_STRICT_EXPECT_STATUS"] = "200-299"
    env["VIGIL_CHECK_MAINT_EXPECT_STATUS"] = "503"
    env["VIGIL_CHECK_LIST_EXPECT_STATUS"] = "200-299,302"
    env["VIGIL_CHECK_BODY_EXPECT_BODY"] = "state=UP"
    env["VIGIL_CHECK_NOBODY_EXPECT_BODY"] = "state=UP"
    env["VIGIL_CHECK_BIGBODY_EXPECT_BODY"] = "NEEDLE"
    env["VIGIL_CHECK_NEARBODY_EXPECT_BODY"] = "NEEDLE"
    env["VIGIL_CHECK_TLSNAME_EXPECT_BODY"] = "UP"
    v = Vigil(APP, env=env, tmp_path=tmp_path_factory.mktemp("http"))
    v.wait_listening()
    v.silent = silent
    wait_until(lambda: all(c["runs"] >= 2 for c in status(v)["checks"]), what="two runs of every check")
    yield v
    v.stop()
    silent.close()


HTTP_EXPECTATIONS = [
    ("ok", "passing", "HTTP 200"),
    ("error", "failing", "HTTP 500, expected 200-399"),
    ("missing", "failing", "HTTP 404, expected 200-399"),
    ("redirect", "passing", "HTTP 302"),  # a 3xx passes and is not followed (as kubelet)
    ("strict", "failing", "HTTP 302, expected 200-299"),
    ("maint", "passing", "HTTP 503"),
    ("list", "passing", "HTTP 302"),
    ("body", "passing", "HTTP 200"),
    ("nobody", "failing", 'HTTP 200, body does not contain "state=UP"'),
    ("localhost", "passing", "HTTP 204"),
    ("refused", "failing", "connection refused"),
    ("silent", "failing", "timed out after 300ms"),
    ("tls", "passing", "HTTP 200"),
    ("tlsname", "passing", "HTTP 200"),
    ("tlsfail", "failing", "HTTP 500, expected 200-399"),
]


@pytest.mark.parametrize("name,state,reason", HTTP_EXPECTATIONS, ids=[e[0] for e in HTTP_EXPECTATIONS])
def test_http_and_https_checks(http_agent, name, state, reason):
    c = check(http_agent, name)
    assert (c["status"], c["last_reason"]) == (state, reason), c
    assert c["kind"] == ("https" if name.startswith("tls") else "http")


def test_expect_body_searches_the_first_64k_only(http_agent):
    """EXPECT_BODY reads the first 64 KiB of the body (docs/configuration.md): a needle ending just
    inside them is found, one after 100 KB is not."""
    c = check(http_agent, "nearbody")
    assert (c["status"], c["last_reason"]) == ("passing", "HTTP 200"), c
    c = check(http_agent, "bigbody")
    assert (c["status"], c["last_reason"]) == ("failing", 'HTTP 200, body does not contain "NEEDLE"'), c


def test_http_check_sends_a_plain_get(http_agent, http_server):
    ours = [r for r in http_server.requests if r[1] == "/status/200?probe=1"]
    assert ours, http_server.requests
    method, path, headers = ours[-1]
    assert method == "GET"
    assert headers["Host"] == f"127.0.0.1:{http_server.port}"
    assert headers["User-Agent"] == "vigil-check"
    # the redirect was never followed: nothing asked for /elsewhere
    assert not any(r[1].startswith("/elsewhere") for r in http_server.requests)


def test_http_timeout_closes_the_connection(http_agent):
    """A server that accepts and never answers: each run fails at the timeout and its connection is
    closed, so runs do not pile up open sockets."""
    silent = http_agent.silent
    assert len(silent.accepted) >= 2
    time.sleep(0.1)
    assert silent.open_connections() <= 1, "vigil left timed-out connections open"


def test_failing_http_reasons_feed_readiness(http_agent):
    code, body, _ = curl(http_agent.url("/readyz/error"))
    assert (code, body) == (503, "[-]error failed: HTTP 500, expected 200-399\n")
    assert curl(http_agent.url("/readyz/ok"))[:2] == (200, "ok")


def test_tls_errors_read_like_sentences(http_server, https_server, tmp_path):
    """https:// against a plain HTTP port and http:// against a TLS port fail, with a reason meant
    for people: no Swift type names, no source paths of the build."""
    env = {"VIGIL_CHECK_A": f"https://127.0.0.1:{http_server.port}/", "VIGIL_CHECK_B": f"http://127.0.0.1:{https_server.port}/"}
    env.update(fast("A", interval="300ms", timeout="300ms"))
    env.update(fast("B", interval="300ms", timeout="300ms"))
    v = start(env, tmp_path)
    try:
        reasons = {name: wait_check(v, name, "failing")["last_reason"] for name in ("a", "b")}
        for name, reason in reasons.items():
            for leak in ("NIOSSL", "BoringSSL", ".build/", "descriptor:", "errno:", "Error(", "error:1"):
                assert leak not in reason, reasons
            assert len(reason) < 120, reasons
    finally:
        v.stop()


# --- tcp ------------------------------------------------------------------------------------------

def test_tcp_check_passes_when_a_connection_opens_and_fails_when_refused(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    env = {"VIGIL_CHECK_DB": f"tcp://127.0.0.1:{port}", "VIGIL_CHECK_GONE": f"tcp://127.0.0.1:{free_port()}"}
    env.update(fast("DB"))
    env.update(fast("GONE"))
    v = start(env, tmp_path)
    try:
        c = wait_check(v, "db", "passing")
        assert (c["kind"], c["last_reason"]) == ("tcp", "connected")
        c = wait_check(v, "gone", "failing")
        assert c["last_reason"] == "connection refused"
        listener.close()
        c = wait_check(v, "db", "failing")
        assert c["last_reason"] == "connection refused"
    finally:
        v.stop()
        listener.close()


def test_tcp_connect_that_hangs_times_out(tmp_path):
    """A listener whose accept queue is full drops SYNs: the connect hangs until the timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(s)
    env = {"VIGIL_CHECK_FULL": f"tcp://127.0.0.1:{port}"}
    env.update(fast("FULL", interval="400ms", timeout="300ms"))
    v = start(env, tmp_path)
    try:
        c = wait_check(v, "full", "failing")
        assert c["last_reason"] in ("timed out after 300ms", "connect timed out"), c
        assert 250 <= c["last_duration_ms"] < 1000, c
    finally:
        v.stop()
        for s in fillers:
            s.close()
        listener.close()


# --- unix -----------------------------------------------------------------------------------------

def test_unix_socket_check(tmp_path):
    path = str(tmp_path / "app.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(16)
    stale = str(tmp_path / "stale.sock")
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(stale)  # a socket file nobody listens on
    dead.close()
    env = {"VIGIL_CHECK_SOCK": f"unix://{path}", "VIGIL_CHECK_NOSOCK": f"unix://{tmp_path}/none.sock",
           "VIGIL_CHECK_STALE": f"unix://{stale}"}
    for name in ("SOCK", "NOSOCK", "STALE"):
        env.update(fast(name))
    v = start(env, tmp_path)
    try:
        c = wait_check(v, "sock", "passing")
        assert (c["kind"], c["last_reason"]) == ("unix", "connected")
        assert wait_check(v, "nosock", "failing")["last_reason"] == "no such socket"
        assert wait_check(v, "stale", "failing")["last_reason"] == "connection refused"
        server.close()
        os.unlink(path)
        assert wait_check(v, "sock", "failing")["last_reason"] == "no such socket"
    finally:
        v.stop()
        server.close()


# --- file -----------------------------------------------------------------------------------------

def test_file_check_exists_and_max_age(tmp_path):
    beat = tmp_path / "heartbeat"
    beat.write_text("")
    old = time.time() - 120
    os.utime(beat, (old, old))
    present = tmp_path / "present"
    present.write_text("")
    env = {"VIGIL_CHECK_BEAT": f"file://{beat}", "VIGIL_CHECK_BEAT_MAX_AGE": "30s",
           "VIGIL_CHECK_PRESENT": f"file://{present}", "VIGIL_CHECK_ABSENT": f"file://{tmp_path}/absent"}
    for name in ("BEAT", "PRESENT", "ABSENT"):
        env.update(fast(name))
    v = start(env, tmp_path)
    try:
        c = wait_check(v, "present", "passing")
        assert (c["kind"], c["last_reason"]) == ("file", f"{present} exists")
        assert wait_check(v, "absent", "failing")["last_reason"] == f"{tmp_path}/absent does not exist"
        assert wait_check(v, "beat", "failing")["last_reason"] == f"{beat} last modified 2m ago, more than 30s"
        os.utime(beat)  # the worker writes its heartbeat
        assert wait_check(v, "beat", "passing")["last_reason"] == f"{beat} modified 0s ago"
        old = time.time() - 45
        os.utime(beat, (old, old))  # and then stops
        assert wait_check(v, "beat", "failing")["last_reason"] == f"{beat} last modified 45s ago, more than 30s"
        present.unlink()
        assert wait_check(v, "present", "failing")["last_reason"] == f"{present} does not exist"
    finally:
        v.stop()


# --- exec -----------------------------------------------------------------------------------------

def test_exec_checks_pass_on_exit_0_and_keep_their_output_as_the_reason(tmp_path):
    script = tmp_path / "db-check"
    script.write_text("#!/bin/sh\necho \"db is down ($1)\" >&2\nexit 3\n")
    script.chmod(0o755)
    env = {
        "VIGIL_CHECK_TRUE": "exec:true",
        "VIGIL_CHECK_SCRIPT": f"exec:{script} primary",
        "VIGIL_CHECK_WORDS": "exec:printf '%s|' \"one two\" three 'it''s' a\\ b",
        "VIGIL_CHECK_SHELL": "exec:sh -c 'echo $((6 * 7)); exit 1'",
        "VIGIL_CHECK_NOSHELL": "exec:echo $HOME ~ *",
        "VIGIL_CHECK_STDIN": "exec:sh -c 'read line; echo \"[$line]\"; exit 1'",
        "VIGIL_CHECK_NOTFOUND": f"exec:{tmp_path}/no-such-command",
        "VIGIL_CHECK_NOTEXEC": f"exec:{tmp_path}",
        "VIGIL_CHECK_SIGNAL": "exec:sh -c 'kill -9 $$'",
        "VIGIL_CHECK_BIG": "exec:sh -c 'yes x | head -c 20000; exit 1'",
    }
    for name in ("TRUE", "SCRIPT", "WORDS", "SHELL", "NOSHELL", "STDIN", "NOTFOUND", "NOTEXEC", "SIGNAL", "BIG"):
        env.update(fast(name, interval="300ms", timeout="300ms"))
    v = start(env, tmp_path)
    try:
        wait_until(lambda: all(c["runs"] >= 1 for c in status(v)["checks"]), what="every check ran")
        expected = {
            "true": ("passing", "exit code 0"),
            "script": ("failing", "exited with code 3: db is down (primary)"),
            "words": ("passing", "one two|three|its|a b|"),
            "shell": ("failing", "exited with code 1: 42"),
            "noshell": ("passing", "$HOME ~ *"),
            "stdin": ("failing", "exited with code 1: []"),
            "notfound": ("failing", f"{tmp_path}/no-such-command: not found"),
            "notexec": ("failing", f"{tmp_path}: not executable"),
            "signal": ("failing", "killed by SIGKILL"),
            "big": ("failing", "exited with code 1: " + "; ".join(["x"] * 5120)),  # output kept on one line
        }
        checks = {c["name"]: c for c in status(v)["checks"]}
        for name, (state, reason) in expected.items():
            assert (checks[name]["kind"], checks[name]["status"], checks[name]["last_reason"]) == ("exec", state, reason), name
        code, body, _ = curl(v.url("/readyz/script"))
        assert (code, body) == (503, "[-]script failed: exited with code 3: db is down (primary)\n")
    finally:
        v.stop()


def check_processes(marker):
    """The processes of an exec check's command: those with MARKER in an argument, but for vigil's
    runner (`vigil __vigil-exec-check -- COMMAND`, the check's subreaper), which has it too."""
    return {pid: p for pid, p in with_marker(marker).items() if "__vigil-exec-check" not in p[3]}


def test_exec_timeout_kills_the_whole_group_and_leaves_no_zombie(tmp_path):
    marker = f"1000.{random.randrange(10**6):06d}"
    env = {"VIGIL_CHECK_HANG": f"exec:sh -c 'sleep {marker} & sleep {marker}; echo never'",
           "VIGIL_CHECK_HANG_INTERVAL": "60s", "VIGIL_CHECK_HANG_TIMEOUT": "1s"}
    v = start(env, tmp_path)
    try:
        running = wait_until(lambda: len(check_processes(marker)) >= 2 and check_processes(marker), timeout=5,
                             what="the check's processes")
        groups = {p[2] for p in running.values()}
        assert len(groups) == 1, running
        group = groups.pop()
        assert group != v.pid and group != os.getpgrp(), "the check must run in a process group of its own"
        c = wait_check(v, "hang", "pending", runs=1, timeout=5)
        assert c["last_reason"] == "timed out after 1s"
        assert 1000 <= c["last_duration_ms"] < 1500
        wait_until(lambda: not with_marker(marker), timeout=2, what="the group to be gone")
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)
        wait_until(lambda: not zombies_of(v.pid), timeout=2, what="no zombies")
    finally:
        v.stop()
        for pid in with_marker(marker):
            os.kill(pid, signal.SIGKILL)


def test_exec_leftovers_of_a_passing_check_are_killed(tmp_path):
    """A check that exits 0 but leaves a background process in its group: the group goes with it."""
    marker = f"1000.{random.randrange(10**6):06d}"
    env = {"VIGIL_CHECK_BG": f"exec:sh -c 'sleep {marker} >/dev/null 2>&1 & exit 0'"}
    env.update(fast("BG", interval="5s", timeout="1s"))
    v = start(env, tmp_path)
    try:
        wait_check(v, "bg", "passing")
        wait_until(lambda: not with_marker(marker), timeout=2, what="the background sleep to be killed")
    finally:
        v.stop()
        for pid in with_marker(marker):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.timeout(180)  # its own deadline for the thousand runs is 120s
def test_a_thousand_hanging_exec_runs_leave_no_process_and_no_zombie(tmp_path):
    marker = f"1000.{random.randrange(10**6):06d}"
    env = {"VIGIL_CHECK_HANG": f"exec:sleep {marker}", "VIGIL_CHECK_HANG_INTERVAL": "20ms", "VIGIL_CHECK_HANG_TIMEOUT": "10ms"}
    v = start(env, tmp_path)
    try:
        peak_processes = peak_zombies = 0
        deadline = time.monotonic() + 120
        while True:
            runs = check(v, "hang")["runs"]
            peak_processes = max(peak_processes, len(with_marker(marker)))
            peak_zombies = max(peak_zombies, len(zombies_of(v.pid)))
            if runs >= 1000:
                break
            assert time.monotonic() < deadline, f"only {runs} runs in 120s"
            time.sleep(0.25)
        c = check(v, "hang")
        assert c["failed_runs"] == c["runs"] and c["last_reason"] == "timed out after 10ms"
        # Never more than the run in flight at any sample, and nothing left behind once vigil stops.
        assert peak_processes <= 2, peak_processes
        leftover = with_marker(marker)
        # a run may be in flight right now: it must be gone within its timeout
        wait_until(lambda: not (set(with_marker(marker)) & set(leftover)), timeout=1, what="in-flight run reaped")
        stale_zombies = zombies_of(v.pid)
        wait_until(lambda: not (set(zombies_of(v.pid)) & set(stale_zombies)), timeout=1, what="zombies reaped")
        assert peak_zombies <= 2, peak_zombies
        v.signal(signal.SIGTERM)
        assert v.wait(timeout=10) == 143
        time.sleep(0.1)
        assert with_marker(marker) == {}
    finally:
        v.stop()
        for pid in with_marker(marker):
            os.kill(pid, signal.SIGKILL)


# --- thresholds -----------------------------------------------------------------------------------

def flag_check(name, flag, **options):
    env = {f"VIGIL_CHECK_{name}": f"exec:test -e {flag}"}
    env.update(fast(name, **options))
    return env


def sample_until(v, name, predicate, timeout=10):
    """Samples check NAME every 20ms until PREDICATE(sample); returns every sample."""
    samples = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c = check(v, name)
        samples.append(c)
        if predicate(c):
            return samples
        time.sleep(0.02)
    raise AssertionError(f"{name}: condition never held; last {samples[-1]}")


def test_failures_and_successes_thresholds(tmp_path):
    flag = tmp_path / "up"
    flag.write_text("")
    env = flag_check("FLAP", flag, interval="250ms", timeout="250ms", failures=3, successes=2)
    v = start(env, tmp_path)
    try:
        c = wait_check(v, "flap", "passing")
        assert c["consecutive_successes"] >= 1
        flag.unlink()
        samples = sample_until(v, "flap", lambda c: c["status"] == "failing")
        # one or two failures in a row do not turn it failing
        seen = {c["consecutive_failures"] for c in samples if c["status"] == "passing"}
        assert seen & {1, 2}, seen
        assert all(c["consecutive_failures"] >= 3 for c in samples if c["status"] == "failing")
        assert samples[-1]["consecutive_failures"] == 3
        assert all(c["status"] == "passing" for c in samples if c["consecutive_failures"] < 3)
        # while it was passing, readiness held
        flag.write_text("")
        samples = sample_until(v, "flap", lambda c: c["status"] == "passing")
        assert any(c["consecutive_successes"] == 1 and c["status"] == "failing" for c in samples), \
            "one success must not be enough with SUCCESSES=2"
        assert samples[-1]["consecutive_successes"] == 2
    finally:
        v.stop()


def test_readiness_holds_through_failures_below_the_threshold(tmp_path):
    """FAILURES=3: after one or two failed runs the check still counts as passing and /readyz
    answers 200 "ok". Each sample is a plain /readyz between two reads of the check that show the
    same run, so it is known which state it answered for, however slow the machine."""
    flag = tmp_path / "up"
    flag.write_text("")
    env = flag_check("DB", flag, interval="200ms", timeout="200ms", failures=3)
    v = start(env, tmp_path)
    try:
        v.wait_for("/readyz", 200)
        flag.unlink()
        below = []

        def third_failure():
            before = check(v, "db")
            answer = curl(v.url("/readyz"))[:2]
            after = check(v, "db")
            if before["runs"] == after["runs"] and 1 <= after["consecutive_failures"] < 3:
                below.append((after["consecutive_failures"], answer))
            return after["consecutive_failures"] >= 3
        wait_until(third_failure, interval=0.01, what="the third failure in a row")
        assert below, "no /readyz was answered between the first and the third failure"
        assert {answer for _, answer in below} == {(200, "ok")}, below
        v.wait_for("/readyz", 503)
        assert curl(v.url("/readyz/db"))[:2] == (503, "[-]db failed: exited with code 1\n")
    finally:
        v.stop()


def test_starting_states_follow_kubelet(tmp_path):
    """Until a check has decided, it fails readiness and startup and passes liveness."""
    env = {"VIGIL_CHECK_DB": "exec:false", "VIGIL_CHECK_DB_PROBES": "ready,live,startup",
           "VIGIL_CHECK_DB_INTERVAL": "2s", "VIGIL_CHECK_DB_TIMEOUT": "1s", "VIGIL_CHECK_DB_FAILURES": "3"}
    v = start(env, tmp_path)
    try:
        c = wait_check(v, "db", "pending", runs=1)
        assert (c["consecutive_failures"], c["last_reason"]) == (1, "exited with code 1")
        assert curl(v.url("/livez"))[:2] == (200, "ok")
        assert curl(v.url("/readyz/db"))[:2] == (503, "[-]db failed: not passed yet: exited with code 1\n")
        assert curl(v.url("/startupz/db"))[:2] == (503, "[-]db failed: not passed yet: exited with code 1\n")
        assert curl(v.url("/livez/db"))[:2] == (200, "ok")
    finally:
        v.stop()


# --- DELAY ----------------------------------------------------------------------------------------

def test_delay_holds_the_first_run(tmp_path):
    """DELAY=2s holds LATE's first run, and only LATE's: asked as soon as vigil listens (far less
    than 2 s after it started), LATE has not run; NOW runs at once. By vigil's own clock, LATE's
    first run came no earlier than DELAY after vigil was started."""
    env = {"VIGIL_CHECK_LATE": "exec:true", "VIGIL_CHECK_NOW": "exec:true"}
    env.update(fast("LATE", delay="2s"))
    env.update(fast("NOW"))
    spawned_at, started = time.time(), time.monotonic()
    v = start(env, tmp_path)
    try:
        late = check(v, "late")
        assert (late["status"], late["runs"]) == ("pending", 0), late
        assert curl(v.url("/readyz/late"))[:2] == (503, "[-]late failed: not run yet\n")
        now = wait_check(v, "now", "passing")
        late = wait_check(v, "late", "passing")
        assert time.monotonic() - started >= 2.0
        assert epoch(late["last_transition"]) >= spawned_at + 2.0 - 0.01, late  # stamps are in ms
        assert epoch(late["last_transition"]) > epoch(now["last_transition"]), (late, now)
    finally:
        v.stop()


# --- MIN_READY ------------------------------------------------------------------------------------

def test_min_ready_delays_readiness_and_restarts_after_a_failure(tmp_path):
    """MIN_READY=2s: asked as soon as the check passes (far less than 2 s later, whatever the
    machine), readiness fails with how long it has held; it passes 2 s after, and a failure starts
    the count again."""
    flag = tmp_path / "up"
    flag.write_text("")
    started = time.monotonic()
    env = {"VIGIL_MIN_READY": "2s"}
    env.update(flag_check("DB", flag, interval="100ms", timeout="100ms"))
    v = start(env, tmp_path)
    try:
        wait_check(v, "db", "passing")
        code, body, _ = curl(v.url("/readyz"))
        assert code == 503, body
        held = re.fullmatch(r"\[\+\]process ok\n\[\+\]startup ok\n\[\+\]draining ok\n"
                            r"\[-\]min-ready failed: ready for (\d+ms|\d+(?:\.\d+)?s) of 2s\n\[\+\]db ok\n"
                            r"readyz check failed\n", body)
        assert held, body
        v.wait_for("/readyz", 200)
        assert time.monotonic() - started >= 2.0
        assert curl(v.url("/readyz?verbose"))[1] == ("[+]process ok\n[+]startup ok\n[+]draining ok\n[+]min-ready ok\n"
                                                     "[+]db ok\nreadyz check passed\n")
        # liveness and startup never wait for MIN_READY
        assert curl(v.url("/livez"))[:2] == (200, "ok")
        assert curl(v.url("/startupz"))[:2] == (200, "ok")
        # a failure restarts the clock
        flag.unlink()
        v.wait_for("/readyz", 503)
        flag.write_text("")
        c = wait_check(v, "db", "passing")
        passed_at = epoch(c["last_transition"])  # when vigil saw the check pass again
        v.wait_for("/readyz", 200)
        assert time.time() - passed_at >= 1.95, "MIN_READY must count again from the recovery"
    finally:
        v.stop()


def test_min_ready_without_checks(tmp_path):
    started = time.monotonic()
    v = start({"VIGIL_MIN_READY": "800ms"}, tmp_path)
    try:
        v.wait_for("/readyz", 200)
        assert time.monotonic() - started >= 0.8
    finally:
        v.stop()


def test_no_checks_ready_as_soon_as_the_app_runs(tmp_path):
    started = time.monotonic()
    v = start({}, tmp_path)
    try:
        assert v.wait_for("/readyz", 200, timeout=3) == "ok"
        assert time.monotonic() - started < 3
        assert curl(v.url("/readyz?verbose"))[1] == "[+]process ok\n[+]startup ok\n[+]draining ok\nreadyz check passed\n"
        assert status(v)["checks"] == []
    finally:
        v.stop()


# --- which probes a check feeds -------------------------------------------------------------------

def test_probes_route_checks(tmp_path):
    ready_flag, live_flag, startup_flag = tmp_path / "ready", tmp_path / "live", tmp_path / "startup"
    for f in (ready_flag, live_flag, startup_flag):
        f.write_text("")
    env = {}
    env.update(flag_check("DB", ready_flag))  # default PROBES=ready
    env.update(flag_check("HEART", live_flag, probes="live"))
    env.update(flag_check("WARM", startup_flag, probes="startup"))
    v = start(env, tmp_path)
    try:
        v.wait_for("/readyz", 200)
        assert curl(v.url("/startupz"))[:2] == (200, "ok")
        assert curl(v.url("/livez?verbose"))[1] == "[+]process ok\n[+]heart ok\nlivez check passed\n"
        assert curl(v.url("/readyz?verbose"))[1] == "[+]process ok\n[+]startup ok\n[+]draining ok\n[+]db ok\nreadyz check passed\n"
        assert curl(v.url("/startupz?verbose"))[1] == "[+]process ok\n[+]db ok\n[+]warm ok\nstartupz check passed\n"
        # a readiness-only check never fails liveness
        ready_flag.unlink()
        wait_check(v, "db", "failing")
        assert curl(v.url("/readyz"))[0] == 503
        assert curl(v.url("/livez"))[:2] == (200, "ok")
        ready_flag.write_text("")
        v.wait_for("/readyz", 200)
        # a liveness check fails liveness, not readiness
        live_flag.unlink()
        wait_check(v, "heart", "failing")
        assert curl(v.url("/livez")) [:2] == (503, "[+]process ok\n[-]heart failed: exited with code 1\nlivez check failed\n")
        assert curl(v.url("/readyz"))[:2] == (200, "ok")
        live_flag.write_text("")
        v.wait_for("/livez", 200)
        # startup is latched once complete: a startup check failing later changes nothing
        startup_flag.unlink()
        wait_check(v, "warm", "failing")
        assert curl(v.url("/startupz"))[:2] == (200, "ok")
        assert curl(v.url("/readyz"))[:2] == (200, "ok")
        assert curl(v.url("/livez"))[:2] == (200, "ok")
    finally:
        v.stop()


def test_startup_waits_for_startup_and_readiness_checks(tmp_path):
    warm = tmp_path / "warm"
    env = {}
    env.update(flag_check("WARM", warm, probes="startup"))
    v = start(env, tmp_path)
    try:
        wait_check(v, "warm", "failing")
        assert curl(v.url("/startupz"))[:2] == (503, "[+]process ok\n[-]warm failed: exited with code 1\nstartupz check failed\n")
        assert curl(v.url("/readyz"))[:2] == (503, "[+]process ok\n[-]startup failed: startup not complete\n[+]draining ok\nreadyz check failed\n")
        warm.write_text("")
        v.wait_for("/startupz", 200)
        v.wait_for("/readyz", 200)
    finally:
        v.stop()


# --- concurrency and logging ----------------------------------------------------------------------

def test_a_hanging_check_does_not_delay_another(tmp_path):
    env = {"VIGIL_CHECK_HANG": "exec:sleep 100", "VIGIL_CHECK_HANG_INTERVAL": "3s", "VIGIL_CHECK_HANG_TIMEOUT": "3s",
           "VIGIL_CHECK_QUICK": "exec:true"}
    env.update(fast("QUICK", interval="100ms", timeout="100ms"))
    v = start(env, tmp_path)
    try:
        time.sleep(1.2)
        checks = {c["name"]: c for c in status(v)["checks"]}
        assert checks["hang"]["runs"] == 0
        assert checks["quick"]["runs"] >= 6, checks["quick"]
    finally:
        v.stop()


def test_transitions_are_logged_once(tmp_path):
    port = free_port()
    env = {"VIGIL_CHECK_DB": f"tcp://127.0.0.1:{port}"}
    env.update(fast("DB", interval="100ms", timeout="100ms"))
    v = start(env, tmp_path)
    listener = socket.socket()
    try:
        wait_check(v, "db", "failing", runs=8)
        listener.bind(("127.0.0.1", port))
        listener.listen(16)
        wait_check(v, "db", "passing", runs=16)
        wait_until(lambda: check(v, "db")["consecutive_successes"] >= 5, what="five successes in a row")
        log = v.stderr().splitlines()
        failing = [l for l in log if "check db is failing" in l]
        passing = [l for l in log if "check db is passing" in l]
        assert failing == ["vigil: warn: check db is failing check=db from=pending reason=connection refused"], log
        assert passing == ["vigil: info: check db is passing check=db from=failing reason=connected"], log
        assert len([l for l in log if l == "vigil: info: ready passes"]) == 1, log
    finally:
        v.stop()
        listener.close()
