"""The probe server and the operator's commands, black-box (issue 4): exact bodies through curl,
HEAD, HTTP/1.0 without Host, HAProxy's own health check, JSON and Prometheus parsed by real
parsers, reasons withheld from non-loopback callers, admin refusals, abuse (1000 idle
connections, slowloris, header overflow) and a hanging check while /readyz answers fast.
"""
import http.client
import json
import os
import random
import re
import resource
import socket
import subprocess
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from vigiltest.haproxy import HAProxy
from vigiltest.http import curl
from vigiltest.ports import free_port
from vigiltest.processes import descriptors, with_marker
from vigiltest.timing import Baseline, assert_within, timed
from vigiltest.vigil import ADMIN_HEADERS, Vigil, run_vigil
from vigiltest.waiting import wait_until

APP = ["sleep", "600"]
TEXT = "text/plain; charset=utf-8"
ADMIN = [arg for name, value in ADMIN_HEADERS.items() for arg in ("-H", f"{name}: {value}")]  # curl's options
CHECK_TIMEOUT = 0.1  # seconds, of the Agent's three checks


CHECK_SCRIPT = """#!/bin/sh
# usage: check NAME — passes while $DIR/NAME.up exists
if [ -e "{dir}/$1.up" ]; then echo "$1 is up"; exit 0; fi
echo "$1 is down"
exit 1
"""


def headers_of(raw):
    """curl -D output → {lower-case name: value} of the last response."""
    blocks = [b for b in raw.replace("\r\n", "\n").split("\n\n") if b.strip().startswith("HTTP/")]
    lines = blocks[-1].strip().split("\n") if blocks else []
    result = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        result[name.strip().lower()] = value.strip()
    return result


def get(url, *args):
    code, body, raw = curl(url, *args)
    return code, body, headers_of(raw)


def raw_request(port, data, host="127.0.0.1", timeout=3, family=socket.AF_INET):
    """Sends DATA on a fresh connection and reads until the server closes it (or TIMEOUT)."""
    with socket.socket(family) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        s.sendall(data)
        received = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return received, True
                received += chunk
        except socket.timeout:
            return received, False


class Agent:
    """vigil on 0.0.0.0 with three script checks whose state the test controls:
    db and cache feed readiness, heart feeds liveness."""

    def __init__(self, directory, extra=None):
        self.dir = directory
        script = directory / "check"
        script.write_text(CHECK_SCRIPT.format(dir=directory))
        script.chmod(0o755)
        for name in ("db", "cache", "heart"):
            self.set(name, True)
        self.port = free_port()
        env = {"VIGIL_LISTEN": f"0.0.0.0:{self.port}"}
        for name, probes in (("DB", "ready"), ("CACHE", "ready"), ("HEART", "live")):
            env.update({f"VIGIL_CHECK_{name}": f"exec:{script} {name.lower()}", f"VIGIL_CHECK_{name}_PROBES": probes,
                        f"VIGIL_CHECK_{name}_INTERVAL": "100ms", f"VIGIL_CHECK_{name}_TIMEOUT": f"{CHECK_TIMEOUT}s",
                        f"VIGIL_CHECK_{name}_FAILURES": "1"})
        env.update(extra or {})
        self.vigil = Vigil(APP, env=env, port=self.port, tmp_path=directory)
        self.vigil.wait_listening()
        self.vigil.wait_for("/readyz", 200)

    def url(self, path, host="127.0.0.1"):
        return f"http://{host}:{self.port}{path}"

    def set(self, name, up):
        flag = self.dir / f"{name}.up"
        if up:
            flag.write_text("")
        elif flag.exists():
            flag.unlink()

    def check(self, name):
        body = curl(self.url("/status?format=json"))[1]
        return next(c for c in json.loads(body)["checks"] if c["name"] == name)

    def settle(self, name, up):
        """Sets NAME up or down and waits until vigil has seen it (two runs in the new state)."""
        self.set(name, up)
        wanted = "passing" if up else "failing"
        wait_until(lambda: (c := self.check(name))["status"] == wanted
                   and c["consecutive_successes" if up else "consecutive_failures"] >= 2,
                   what=f"{name} {wanted}")

    def all_up(self):
        for name in ("db", "cache", "heart"):
            self.settle(name, True)


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    a = Agent(tmp_path_factory.mktemp("agent"))
    yield a
    a.vigil.stop()


@pytest.fixture
def db_down(agent):
    agent.all_up()
    agent.settle("db", False)
    yield agent
    agent.all_up()


@pytest.fixture
def all_up(agent):
    agent.all_up()
    return agent


# --- a second, non-loopback local address ---------------------------------------------------------

def _fallback_address():
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        match = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", line)
        if match:
            return match.group(1)
    return None


@pytest.fixture(scope="module")
def outside():
    """A local IPv4 address that is not loopback: a bridge interface with one /32 address (all
    traffic stays on this machine); removed afterwards."""
    name = f"vgl{os.getpid() % 100000}"
    address = f"10.213.{random.randrange(1, 255)}.{random.randrange(1, 255)}"
    made = subprocess.run(["ip", "link", "add", name, "type", "bridge"], capture_output=True).returncode == 0
    try:
        if made:
            subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", name], check=True)
            subprocess.run(["ip", "link", "set", name, "up"], check=True)
        else:
            address = _fallback_address()
            if address is None:
                pytest.fail("no way to get a non-loopback local address here (needs root for ip link)")
        yield address
    finally:
        if made:
            subprocess.run(["ip", "link", "del", name], capture_output=True)


def from_outside(address, url, *args):
    return get(url, "--interface", address, *args)


# --- the probe endpoints, exact bodies --------------------------------------------------------------

READY_ALL = "[+]process ok\n[+]startup ok\n[+]draining ok\n[+]cache ok\n[+]db ok\nreadyz check passed\n"
READY_DB_DOWN = ("[+]process ok\n[+]startup ok\n[+]draining ok\n[+]cache ok\n[-]db failed: exited with code 1: db is down\n"
                 "readyz check failed\n")


def test_passing_probes(all_up):
    a = all_up
    for path in ("/livez", "/healthz", "/readyz", "/ready", "/startupz"):
        code, body, headers = get(a.url(path))
        assert (code, body) == (200, "ok"), path
        assert headers["content-type"] == TEXT
        assert headers["cache-control"] == "no-store"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["content-length"] == "2"
    assert get(a.url("/livez?verbose"))[:2] == (200, "[+]process ok\n[+]heart ok\nlivez check passed\n")
    assert get(a.url("/healthz?verbose"))[:2] == (200, "[+]process ok\n[+]heart ok\nlivez check passed\n")
    assert get(a.url("/readyz?verbose"))[:2] == (200, READY_ALL)
    assert get(a.url("/ready?verbose"))[:2] == (200, READY_ALL)
    assert get(a.url("/startupz?verbose"))[:2] == (200, "[+]process ok\n[+]cache ok\n[+]db ok\nstartupz check passed\n")
    assert get(a.url("/readyz?verbose=1"))[:2] == (200, READY_ALL)  # the key alone decides, as kube-apiserver


def test_failing_readiness_is_verbose(db_down):
    a = db_down
    for path in ("/readyz", "/ready", "/readyz?verbose"):
        code, body, headers = get(a.url(path))
        assert (code, body) == (503, "[+]process ok\n[+]startup ok\n[+]draining ok\n[+]cache ok\n"
                                     "[-]db failed: exited with code 1: db is down\nreadyz check failed\n"), path
        assert headers["content-type"] == TEXT
        assert headers["cache-control"] == "no-store"
        assert headers["x-content-type-options"] == "nosniff"
    # liveness and startup do not care about a readiness check
    assert get(a.url("/livez"))[:2] == (200, "ok")
    assert get(a.url("/startupz"))[:2] == (200, "ok")


def test_exclude(db_down):
    a = db_down
    assert get(a.url("/readyz?exclude=db"))[:2] == (200, "ok")
    assert get(a.url("/readyz?exclude=db&verbose"))[:2] == (
        200, "[+]process ok\n[+]startup ok\n[+]draining ok\n[+]cache ok\n[+]db excluded: ok\nreadyz check passed\n")
    assert get(a.url("/readyz?verbose&exclude=db&exclude=cache"))[:2] == (
        200, "[+]process ok\n[+]startup ok\n[+]draining ok\n[+]cache excluded: ok\n[+]db excluded: ok\nreadyz check passed\n")
    assert get(a.url("/readyz?exclude=%64b&verbose"))[1].count("[+]db excluded: ok\n") == 1  # percent-decoded
    assert get(a.url("/readyz?exclude=nope"))[:2] == (
        503, "[+]process ok\n[+]startup ok\n[+]draining ok\n[+]cache ok\n[-]db failed: exited with code 1: db is down\n"
             "warn: some health checks cannot be excluded: no matches for \"nope\"\nreadyz check failed\n")
    assert get(a.url("/readyz?exclude=db&exclude=nope&exclude=nope&verbose"))[:2] == (
        200, "[+]process ok\n[+]startup ok\n[+]draining ok\n[+]cache ok\n[+]db excluded: ok\n"
             "warn: some health checks cannot be excluded: no matches for \"nope\"\nreadyz check passed\n")
    # implicit facts are checks too
    assert get(a.url("/livez?exclude=process&verbose"))[:2] == (200, "[+]process excluded: ok\n[+]heart ok\nlivez check passed\n")


def test_one_check(db_down):
    a = db_down
    assert get(a.url("/readyz/db"))[:2] == (503, "[-]db failed: exited with code 1: db is down\n")
    assert get(a.url("/ready/db"))[:2] == (503, "[-]db failed: exited with code 1: db is down\n")
    assert get(a.url("/readyz/cache"))[:2] == (200, "ok")
    assert get(a.url("/livez/heart"))[:2] == (200, "ok")
    assert get(a.url("/healthz/heart"))[:2] == (200, "ok")
    assert get(a.url("/startupz/db"))[:2] == (200, "ok")  # startup completed before db failed: latched
    for fact in ("process", "startup", "draining"):
        assert get(a.url(f"/readyz/{fact}"))[:2] == (200, "ok"), fact
    assert get(a.url("/livez/process"))[:2] == (200, "ok")
    assert get(a.url("/readyz/nope"))[:2] == (404, 'no check "nope" feeds readyz\n')
    assert get(a.url("/livez/db"))[:2] == (404, 'no check "db" feeds livez\n')
    assert get(a.url("/startupz/heart"))[:2] == (404, 'no check "heart" feeds startupz\n')


def test_liveness_failure(all_up):
    a = all_up
    a.settle("heart", False)
    try:
        assert get(a.url("/livez"))[:2] == (503, "[+]process ok\n[-]heart failed: exited with code 1: heart is down\nlivez check failed\n")
        assert get(a.url("/healthz"))[0] == 503
        assert get(a.url("/readyz"))[:2] == (200, "ok")
    finally:
        a.settle("heart", True)


def test_index_and_unknown_paths(agent):
    code, body, headers = get(agent.url("/"))
    assert (code, headers["content-type"]) == (200, TEXT)
    assert body == """vigil endpoints:
  /livez /healthz        liveness
  /readyz /ready         readiness
  /startupz              startup
  /livez/<check> …       one check   (?verbose, ?exclude=<check>, ?format=json)
  /status                every check (?format=json)
  /metrics               Prometheus text format (OpenMetrics when asked)
  POST/DELETE /drain     start or end a manual drain
"""
    for path in ("/nope", "/readyz/db/extra", "/metricsz", "/status/db", "/drain/now"):
        code, body, headers = get(agent.url(path))
        assert (code, body) == (404, "not found\n"), path
        assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
    assert get(agent.url("/nope"), "-X", "POST")[:2] == (404, "not found\n")


def test_wrong_method_is_405_with_allow(agent):
    for path in ("/livez", "/readyz", "/readyz/db", "/startupz", "/metrics", "/status", "/"):
        for method in ("POST", "PUT", "DELETE"):
            code, body, headers = get(agent.url(path), "-X", method)
            assert (code, body, headers.get("allow")) == (405, "method not allowed\n", "GET, HEAD"), (method, path)
            assert headers["x-content-type-options"] == "nosniff"
    for method in ("GET", "PUT", "PATCH"):
        code, body, headers = get(agent.url("/drain"), "-X", method)
        assert (code, body, headers.get("allow")) == (405, "method not allowed\n", "POST, DELETE"), method


# --- HTTP/1.0, keep-alive, raw bytes ---------------------------------------------------------------

def split_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body


def test_http_1_0_without_host_as_haproxy_sends(db_down):
    a = db_down
    data, closed = raw_request(a.port, b"GET /ready HTTP/1.0\r\n\r\n")
    status_line, headers, body = split_response(data)
    assert status_line == "HTTP/1.0 503 Service Unavailable"
    assert body == b"[+]process ok\n[+]startup ok\n[+]draining ok\n[+]cache ok\n[-]db failed: exited with code 1: db is down\nreadyz check failed\n"
    assert headers["content-length"] == str(len(body))
    assert closed, "an HTTP/1.0 request without keep-alive gets its connection closed"
    data, closed = raw_request(a.port, b"GET /livez HTTP/1.0\r\n\r\n")
    assert data == (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n"
                    b"Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\nok")
    assert closed
    data, closed = raw_request(a.port, b"HEAD /livez HTTP/1.0\r\n\r\n")
    assert data.startswith(b"HTTP/1.0 200 OK\r\n") and data.endswith(b"\r\n\r\n") and closed


# --- JSON ----------------------------------------------------------------------------------------------

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def validate_document(doc, probe):
    assert list(doc) == ["probe", "status", "items", "probes", "draining", "notify", "app", "version", "checks",
                         "time"]
    assert doc["probe"] == probe
    assert doc["status"] in ("pass", "fail")
    for item in doc["items"]:
        assert list(item) == ["name", "status", "reason"]
        assert item["status"] in ("pass", "fail", "excluded")
        assert (item["reason"] is None) == (item["status"] != "fail")
    assert set(doc["probes"]) == {"startup", "live", "ready"}
    assert all(v in ("pass", "fail") for v in doc["probes"].values())
    assert doc["draining"] is False or isinstance(doc["draining"], str)
    assert list(doc["app"]) == ["running", "pid", "restarts", "last_exit_code"]
    assert doc["notify"] is None or list(doc["notify"]) == ["state", "status"]
    assert list(doc["version"]) == ["vigil", "app"]
    assert isinstance(doc["app"]["running"], bool) and isinstance(doc["app"]["restarts"], int)
    for c in doc["checks"]:
        assert list(c) == ["name", "kind", "status", "probes", "consecutive_successes", "consecutive_failures",
                           "runs", "failed_runs", "last_reason", "last_duration_ms", "last_transition"]
        assert c["kind"] in ("http", "https", "grpc", "grpcs", "tcp", "unix", "exec", "file")
        assert c["status"] in ("pending", "passing", "failing")
        assert set(c["probes"]) <= {"startup", "live", "ready"} and c["probes"]
        for key in ("consecutive_successes", "consecutive_failures", "runs", "failed_runs"):
            assert isinstance(c[key], int) and c[key] >= 0
        assert c["failed_runs"] <= c["runs"]
        assert c["last_duration_ms"] is None or isinstance(c["last_duration_ms"], (int, float))
        assert RFC3339.match(c["last_transition"]), c["last_transition"]
    assert RFC3339.match(doc["time"])
    return doc


def test_json(db_down):
    a = db_down
    for url, args in ((a.url("/readyz?format=json"), ()), (a.url("/readyz"), ("-H", "Accept: application/json")),
                      (a.url("/ready?format=json&verbose"), ())):
        code, body, headers = get(url, *args)
        assert code == 503
        assert headers["content-type"] == "application/json"
        assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
        assert body.endswith("\n")
        doc = validate_document(json.loads(body), "ready")
        assert doc["status"] == "fail"
        assert doc["items"] == [
            {"name": "process", "status": "pass", "reason": None},
            {"name": "startup", "status": "pass", "reason": None},
            {"name": "draining", "status": "pass", "reason": None},
            {"name": "cache", "status": "pass", "reason": None},
            {"name": "db", "status": "fail", "reason": "exited with code 1: db is down"},
        ]
        assert doc["probes"] == {"startup": "pass", "live": "pass", "ready": "fail"}
        assert doc["draining"] is False
        assert doc["app"]["running"] is True and doc["app"]["restarts"] == 0
        with open(f"/proc/{doc['app']['pid']}/stat") as f:
            assert int(f.read().rsplit(")", 1)[1].split()[1]) == a.vigil.pid, "app.pid is vigil's child"
        checks = {c["name"]: c for c in doc["checks"]}
        assert [c["name"] for c in doc["checks"]] == ["cache", "db", "heart"]
        assert checks["db"]["status"] == "failing" and checks["db"]["last_reason"] == "exited with code 1: db is down"
        assert checks["db"]["consecutive_successes"] == 0 and checks["db"]["consecutive_failures"] >= 2
        assert checks["cache"]["status"] == "passing" and checks["cache"]["last_reason"] == "cache is up"
        assert checks["heart"]["probes"] == ["live"] and checks["db"]["probes"] == ["ready"]
        assert checks["db"]["kind"] == "exec"
        assert 0 <= checks["db"]["last_duration_ms"] < 100
        assert abs(time.time() - _epoch(doc["time"])) < 5
    code, body, _ = get(a.url("/readyz?format=json&exclude=db"))
    doc = validate_document(json.loads(body), "ready")
    assert (code, doc["status"]) == (200, "pass")
    assert {"name": "db", "status": "excluded", "reason": None} in doc["items"]
    code, body, _ = get(a.url("/livez?format=json"))
    doc = validate_document(json.loads(body), "live")
    assert (code, doc["status"], [i["name"] for i in doc["items"]]) == (200, "pass", ["process", "heart"])
    code, body, _ = get(a.url("/startupz?format=json"))
    assert (code, validate_document(json.loads(body), "startup")["status"]) == (200, "pass")
    code, body, headers = get(a.url("/status?format=json"))
    assert (code, headers["content-type"]) == (200, "application/json")
    assert validate_document(json.loads(body), "ready")["status"] == "fail"
    code, body, headers = get(a.url("/status"), "-H", "Accept: application/json")
    assert (code, headers["content-type"]) == (200, "application/json")
    # one check asked as JSON stays plain text (documented)
    assert get(a.url("/readyz/db?format=json"))[0] == 503


def _epoch(stamp):
    import calendar
    return calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + int(stamp[20:23]) / 1000


# --- /status -----------------------------------------------------------------------------------------

def status_rows(body):
    table, _, footer = body.partition("\n\n")
    rows = [re.split(r"  +", line.rstrip()) for line in table.splitlines()]
    return rows, footer


def test_status_table(db_down):
    a = db_down
    code, body, headers = get(a.url("/status"))
    assert (code, headers["content-type"]) == (200, TEXT)
    rows, footer = status_rows(body)
    assert rows[0] == ["NAME", "PROBES", "STATUS", "SINCE", "REASON"]
    assert rows[1][:4] == ["process", "live,ready", "passing", "-"] and re.fullmatch(r"pid \d+", rows[1][4])
    names = [r[0] for r in rows[2:]]
    assert names == ["cache", "db", "heart"]
    by_name = {r[0]: r for r in rows[2:]}
    assert by_name["cache"][1:3] == ["ready", "passing"] and by_name["cache"][4] == "cache is up"
    assert by_name["db"][1:3] == ["ready", "failing"] and by_name["db"][4] == "exited with code 1: db is down"
    assert by_name["heart"][1:3] == ["live", "passing"]
    for r in rows[2:]:
        assert re.fullmatch(r"\d+(s|m|h)[\dms]* ago", r[3]), r
    assert footer == "live: pass  ready: fail  startup: pass  draining: no  restarts: 0\n"


# --- /metrics -------------------------------------------------------------------------------------------

def scrape(a):
    code, body, headers = get(a.url("/metrics"))
    assert code == 200
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = {f.name: f for f in text_string_to_metric_families(body)}
    samples = {}
    for family in families.values():
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return families, samples


def test_metrics(db_down):
    a = db_down
    families, samples = scrape(a)
    types = {name: f.type for name, f in families.items()}
    assert types == {
        "vigil_check_up": "gauge", "vigil_check_runs": "counter", "vigil_check_failures": "counter",
        "vigil_check_duration_seconds": "gauge", "vigil_startup": "gauge", "vigil_live": "gauge",
        "vigil_ready": "gauge", "vigil_draining": "gauge", "vigil_app_up": "gauge", "vigil_app_restarts": "counter",
        "vigil_app_last_exit_code": "gauge", "vigil_build_info": "gauge", "process_start_time_seconds": "gauge",
    }
    for family in families.values():
        assert family.documentation, family.name
    up = lambda name: samples[("vigil_check_up", (("check", name),))]
    assert (up("db"), up("cache"), up("heart")) == (0, 1, 1)
    assert samples[("vigil_ready", ())] == 0
    assert samples[("vigil_live", ())] == 1
    assert samples[("vigil_startup", ())] == 1
    assert samples[("vigil_draining", ())] == 0
    assert samples[("vigil_app_up", ())] == 1
    assert samples[("vigil_app_restarts_total", ())] == 0
    for name in ("db", "cache", "heart"):
        runs = samples[("vigil_check_runs_total", (("check", name),))]
        failures = samples[("vigil_check_failures_total", (("check", name),))]
        duration = samples[("vigil_check_duration_seconds", (("check", name),))]
        assert 0 <= failures <= runs and runs >= 2
        # seconds, not ms: a run ends at its timeout, killed if need be
        assert 0 <= duration <= 1.5 * CHECK_TIMEOUT, duration
    assert samples[("vigil_check_failures_total", (("check", "db"),))] >= 2
    before = samples[("vigil_check_runs_total", (("check", "db"),))]
    time.sleep(0.3)
    assert scrape(a)[1][("vigil_check_runs_total", (("check", "db"),))] > before


# --- draining by operator ------------------------------------------------------------------------------

def test_drain_endpoint(all_up):
    a = all_up
    code, body, headers = get(a.url("/drain"), "-X", "POST", *ADMIN)
    assert (code, body, headers["content-type"]) == (200, "draining: readiness fails, the app keeps running\n", TEXT)
    try:
        assert get(a.url("/readyz"))[:2] == (503, "[+]process ok\n[+]startup ok\n[-]draining failed: drained by operator\n"
                                                  "[+]cache ok\n[+]db ok\nreadyz check failed\n")
        assert get(a.url("/readyz/draining"))[:2] == (503, "[-]draining failed: drained by operator\n")
        assert get(a.url("/livez"))[:2] == (200, "ok")
        assert json.loads(get(a.url("/status?format=json"))[1])["draining"] == "drained by operator"
        assert scrape(a)[1][("vigil_draining", ())] == 1
        assert get(a.url("/status"))[1].endswith("draining: drained by operator  restarts: 0\n")
        # a second POST is harmless
        assert get(a.url("/drain"), "-X", "POST", *ADMIN)[0] == 200
    finally:
        code, body, _ = get(a.url("/drain"), "-X", "DELETE", *ADMIN)
    assert (code, body) == (200, "drain ended\n")
    assert get(a.url("/readyz"))[:2] == (200, "ok")
    assert scrape(a)[1][("vigil_draining", ())] == 0
    log = a.vigil.stderr()
    for line in ("manual drain started (POST /drain)", "manual drain ended (DELETE /drain)"):
        assert re.search(rf"^vigil: info: {re.escape(line)} client=127\.0\.0\.1 user_agent=curl/\S+$", log, re.M), log
    assert a.vigil.proc.poll() is None, "the app keeps running"


# --- loopback or not ---------------------------------------------------------------------------------

def test_reasons_are_withheld_from_non_loopback_callers(db_down, outside):
    a = db_down
    code, body, _ = from_outside(outside, a.url("/readyz", outside))
    assert (code, body) == (503, "[+]process ok\n[+]startup ok\n[+]draining ok\n[+]cache ok\n[-]db failed: reason withheld\n"
                                 "readyz check failed\n")
    assert from_outside(outside, a.url("/readyz/db", outside))[:2] == (503, "[-]db failed: reason withheld\n")
    assert from_outside(outside, a.url("/livez", outside))[:2] == (200, "ok")
    doc = json.loads(from_outside(outside, a.url("/readyz?format=json", outside))[1])
    assert {"name": "db", "status": "fail", "reason": "reason withheld"} in doc["items"]
    for c in doc["checks"]:
        assert c["last_reason"] == "reason withheld", c
    body = from_outside(outside, a.url("/status", outside))[1]
    assert "db is down" not in body and "reason withheld" in body
    # the same server still tells loopback callers
    assert get(a.url("/readyz/db"))[:2] == (503, "[-]db failed: exited with code 1: db is down\n")


def test_status_table_withholds_passing_output_too(all_up, outside):
    """An exec check's output is its reason whether it passes or fails; a non-loopback caller must
    not read it in /status either (it may hold anything the script printed)."""
    body = from_outside(outside, all_up.url("/status", outside))[1]
    assert "is up" not in body, body


def test_admin_is_loopback_only_by_default(all_up, outside):
    a = all_up
    for method in ("POST", "DELETE"):
        code, body, headers = from_outside(outside, a.url("/drain", outside), "-X", method)
        assert (code, body) == (403, "forbidden: admin endpoints answer loopback callers only (VIGIL_ADMIN=local)\n")
        assert headers["content-type"] == TEXT
        # a loopback caller without the header: what a forged request from the app itself looks like
        code, body, headers = get(a.url("/drain"), "-X", method)
        assert (code, body) == (403, "forbidden: admin calls need the X-Vigil-Admin header, which `vigil drain` "
                                     "sends (VIGIL_ADMIN=local)\n")
    assert get(a.url("/readyz"))[:2] == (200, "ok"), "a refused POST must not drain"
    log = a.vigil.stderr()
    for method in ("POST", "DELETE"):
        assert (f"vigil: warn: refused {method} /drain: admin endpoints answer loopback callers only (VIGIL_ADMIN=local) "
                f"client={outside} user_agent=curl/") in log, log
        assert (f"vigil: warn: refused {method} /drain: admin calls need the X-Vigil-Admin header, which `vigil drain` "
                f"sends (VIGIL_ADMIN=local) client=127.0.0.1 user_agent=curl/") in log, log


def one_failing_check(tmp_path, extra):
    port = free_port()
    env = {"VIGIL_LISTEN": f"0.0.0.0:{port}", "VIGIL_CHECK_DB": "exec:sh -c 'echo secret-reason; exit 1'",
           "VIGIL_CHECK_DB_INTERVAL": "100ms", "VIGIL_CHECK_DB_TIMEOUT": "100ms", "VIGIL_CHECK_DB_FAILURES": "1"}
    env.update(extra)
    v = Vigil(APP, env=env, port=port, tmp_path=tmp_path)
    v.wait_listening()
    v.wait_for("/readyz/db", 503)
    return v


def test_details_always_and_never(tmp_path, outside):
    v = one_failing_check(tmp_path, {"VIGIL_DETAILS": "always"})
    try:
        url = f"http://{outside}:{v.port}/readyz/db"
        assert from_outside(outside, url)[:2] == (503, "[-]db failed: exited with code 1: secret-reason\n")
    finally:
        v.stop()
    v = one_failing_check(tmp_path, {"VIGIL_DETAILS": "never"})
    try:
        assert get(v.url("/readyz/db"))[:2] == (503, "[-]db failed: reason withheld\n")
        assert "secret-reason" not in get(v.url("/status?format=json"))[1]
        assert "secret-reason" not in get(v.url("/status"))[1]
        url = f"http://{outside}:{v.port}/readyz/db"
        assert from_outside(outside, url)[:2] == (503, "[-]db failed: reason withheld\n")
        # vigil's own log still has it, for the operator
        assert "secret-reason" in v.stderr()
    finally:
        v.stop()


def test_admin_off(tmp_path):
    v = Vigil(APP, env={"VIGIL_ADMIN": "off"}, tmp_path=tmp_path)
    try:
        v.wait_for("/readyz", 200)
        for method in ("POST", "DELETE"):
            assert get(v.url("/drain"), "-X", method, *ADMIN)[:2] == (
                403, "forbidden: admin endpoints are off (VIGIL_ADMIN=off)\n")
        assert get(v.url("/readyz"))[:2] == (200, "ok")
        assert ("vigil: warn: refused POST /drain: admin endpoints are off (VIGIL_ADMIN=off) client=127.0.0.1 "
                "user_agent=curl/") in v.stderr()
        code, out, err = run_vigil("drain", env={"VIGIL_LISTEN": f"127.0.0.1:{v.port}"})
        assert (code, out) == (1, "forbidden: admin endpoints are off (VIGIL_ADMIN=off)\n")
    finally:
        v.stop()


def test_admin_token(tmp_path, outside):
    token = "s3cret-" + str(random.randrange(10**9))
    port = free_port()
    v = Vigil(APP, env={"VIGIL_LISTEN": f"0.0.0.0:{port}", "VIGIL_ADMIN": "token", "VIGIL_ADMIN_TOKEN": token},
              port=port, tmp_path=tmp_path)
    try:
        v.wait_for("/readyz", 200)
        refusal = (403, "forbidden: a valid bearer token is required (VIGIL_ADMIN=token)\n")
        assert get(v.url("/drain"), "-X", "POST")[:2] == refusal  # loopback without a token is refused too
        assert get(v.url("/drain"), "-X", "POST", "-H", "Authorization: Bearer wrong")[:2] == refusal
        assert get(v.url("/drain"), "-X", "POST", "-H", f"Authorization: Bearer {token}x")[:2] == refusal
        assert get(v.url("/drain"), "-X", "POST", "-H", f"Authorization: {token}")[:2] == refusal
        assert get(v.url("/drain"), "-X", "POST", "-H", f"Authorization: Basic {token}")[:2] == refusal
        assert get(v.url("/readyz"))[0] == 200
        outside_url = f"http://{outside}:{port}/drain"
        assert from_outside(outside, outside_url, "-X", "POST")[:2] == refusal
        assert from_outside(outside, outside_url, "-X", "POST", "-H", f"Authorization: Bearer {token}")[:2] == (
            200, "draining: readiness fails, the app keeps running\n")
        assert get(v.url("/readyz"))[0] == 503
        assert from_outside(outside, outside_url, "-X", "DELETE", "-H", f"Authorization: Bearer {token}")[:2] == (200, "drain ended\n")
        assert get(v.url("/readyz"))[:2] == (200, "ok")
        # the command sends the token from its environment
        env = {"VIGIL_LISTEN": f"127.0.0.1:{port}", "VIGIL_ADMIN": "token", "VIGIL_ADMIN_TOKEN": token}
        assert run_vigil("drain", env=env)[:2] == (0, "draining: readiness fails, the app keeps running\n")
        assert run_vigil("drain", "--cancel", env=env)[:2] == (0, "drain ended\n")
        assert run_vigil("drain", env={"VIGIL_LISTEN": f"127.0.0.1:{port}"})[:2] == (1, refusal[1])
        log = v.stderr()
        assert "refused POST /drain: a valid bearer token is required (VIGIL_ADMIN=token) client=127.0.0.1" in log
        assert token not in log
    finally:
        v.stop()


# --- operator commands ------------------------------------------------------------------------------

def test_probe_command(db_down):
    a = db_down
    env = {"VIGIL_LISTEN": f"127.0.0.1:{a.port}"}
    assert run_vigil("probe", env=env) == (1, READY_DB_DOWN, "")
    assert run_vigil("probe", "ready", env=env)[0] == 1
    assert run_vigil("probe", "live", env=env) == (0, "[+]process ok\n[+]heart ok\nlivez check passed\n", "")
    assert run_vigil("probe", "startup", env=env) == (0, "[+]process ok\n[+]cache ok\n[+]db ok\nstartupz check passed\n", "")
    # `:port` (all interfaces, the default form) is asked on loopback
    assert run_vigil("probe", "live", env={"VIGIL_LISTEN": f":{a.port}"})[0] == 0
    assert run_vigil("probe", "--timeout", "1s", "live", env=env)[0] == 0
    assert run_vigil("probe", "live", "--timeout=1s", env=env)[0] == 0
    a.settle("db", True)
    assert run_vigil("probe", env=env) == (0, READY_ALL, "")


def test_probe_command_usage_errors():
    assert run_vigil("probe", "bogus", env={}) == (
        2, "", "vigil: vigil probe: unknown probe \"bogus\" (use live, ready or startup)\nRun 'vigil --help' for usage.\n")
    assert run_vigil("probe", "--timeout", "0", env={}) == (
        2, "", "vigil: --timeout \"0\" is not a duration, as in --timeout 2s\nRun 'vigil --help' for usage.\n")
    assert run_vigil("probe", "live", "ready", env={}) == (
        2, "", "vigil: vigil probe takes one probe: live, ready or startup\nRun 'vigil --help' for usage.\n")


def test_probe_command_when_the_agent_is_unreachable():
    port = free_port()
    assert run_vigil("probe", env={"VIGIL_LISTEN": f"127.0.0.1:{port}"}) == (
        1, "", "vigil: cannot reach the vigil agent: connection refused\n")
    assert run_vigil("probe", env={"VIGIL_LISTEN": "off"}) == (1, "", "vigil: the probe server is off (VIGIL_LISTEN=off)\n")
    # an agent that accepts and never answers: exit 1 within --timeout, plus what starting `vigil
    # probe` costs here (the refused case, timed first), never as late as the default 2s timeout
    refused = Baseline.measure("`vigil probe` refused at once",
                               lambda: run_vigil("probe", env={"VIGIL_LISTEN": f"127.0.0.1:{port}"}), runs=3)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        result, elapsed = timed(lambda: run_vigil(
            "probe", "--timeout", "500ms", env={"VIGIL_LISTEN": f"127.0.0.1:{silent.getsockname()[1]}"}))
    assert result == (1, "", "vigil: cannot reach the vigil agent: no answer within 500ms\n")
    assert_within(elapsed - 0.5, refused.limit(factor=10, floor=1.0, ceiling=1.5), refused,
                  what="`vigil probe --timeout 500ms` beyond its timeout")


def test_status_command(db_down):
    a = db_down
    env = {"VIGIL_LISTEN": f"127.0.0.1:{a.port}"}
    code, out, err = run_vigil("status", env=env)
    assert (code, err) == (0, "")
    rows, footer = status_rows(out)
    assert rows[0] == ["NAME", "PROBES", "STATUS", "SINCE", "REASON"]
    assert [r[0] for r in rows[1:]] == ["process", "cache", "db", "heart"]
    assert rows[3][2] == "failing" and rows[3][4] == "exited with code 1: db is down"
    assert footer == "live: pass  ready: fail  startup: pass  draining: no  restarts: 0\n"
    code, out, err = run_vigil("status", "--json", env=env)
    assert (code, err) == (0, "")
    doc = validate_document(json.loads(out), "ready")
    assert [c["name"] for c in doc["checks"]] == ["cache", "db", "heart"]
    assert run_vigil("status", env={"VIGIL_LISTEN": f"127.0.0.1:{free_port()}"}) == (
        1, "", "vigil: cannot reach the vigil agent: connection refused\n")


def test_drain_command(all_up):
    a = all_up
    env = {"VIGIL_LISTEN": f"127.0.0.1:{a.port}"}
    assert run_vigil("drain", env=env) == (0, "draining: readiness fails, the app keeps running\n", "")
    try:
        assert run_vigil("probe", env=env)[0] == 1
        assert get(a.url("/readyz/draining"))[:2] == (503, "[-]draining failed: drained by operator\n")
    finally:
        assert run_vigil("drain", "--cancel", env=env) == (0, "drain ended\n", "")
    assert run_vigil("probe", env=env)[0] == 0


# --- listening addresses ----------------------------------------------------------------------------

def test_listen_forms(tmp_path):
    port = free_port()
    v = Vigil(APP, env={"VIGIL_LISTEN": f":{port}"}, port=port, tmp_path=tmp_path)
    try:
        v.wait_for("/readyz", 200)
        assert get(f"http://[::1]:{port}/livez")[:2] == (200, "ok")
        data, _ = raw_request(port, b"GET /readyz/process HTTP/1.0\r\n\r\n", host="::1", family=socket.AF_INET6)
        assert data.endswith(b"\r\n\r\nok")
        assert f"vigil: info: probe server listening address=:{port}\n" in v.stderr()
    finally:
        v.stop()
    port = free_port()
    v = Vigil(APP, env={"VIGIL_LISTEN": f"[::1]:{port}"}, port=port, tmp_path=tmp_path)
    try:
        wait_until(lambda: get(f"http://[::1]:{port}/readyz")[:2] == (200, "ok"), what="[::1] listening")
        assert get(f"http://127.0.0.1:{port}/readyz")[0] == 0, "bound to ::1 only"
        assert run_vigil("probe", env={"VIGIL_LISTEN": f"[::1]:{port}"})[0] == 0
    finally:
        v.stop()
    port = free_port()
    v = Vigil(APP, env={"VIGIL_LISTEN": f"localhost:{port}"}, port=port, tmp_path=tmp_path)
    try:
        v.wait_for("/readyz", 200)
    finally:
        v.stop()


# --- vigil's descriptors stay vigil's ----------------------------------------------------------------

def test_the_probe_socket_does_not_leak_into_the_app_or_exec_checks(tmp_path):
    """The app and exec checks get stdin/stdout/stderr only: neither vigil's listening socket (the
    app would keep the probe port bound, unanswered, if vigil died) nor its epoll descriptor."""
    marker = f"1000.{random.randrange(10**6):06d}"
    env = {"VIGIL_CHECK_PEEK": f"exec:sleep {marker}", "VIGIL_CHECK_PEEK_INTERVAL": "10s", "VIGIL_CHECK_PEEK_TIMEOUT": "5s"}
    v = Vigil(APP, env=env, tmp_path=tmp_path)
    try:
        v.wait_listening()
        app_pid = json.loads(get(v.url("/status?format=json"))[1])["app"]["pid"]

        check_pid = next(iter(wait_until(lambda: with_marker(marker), what="the exec check's process")))
        for who, pid in (("app", app_pid), ("exec check", check_pid)):
            fds = descriptors(pid)
            leaked = {fd: target for fd, target in fds.items() if fd > 2}
            assert leaked == {}, f"{who} inherited {leaked}"
    finally:
        v.stop()


# --- HAProxy's own check ----------------------------------------------------------------------------

def test_haproxy_httpchk_marks_the_server_up_and_down(all_up, tmp_path):
    a = all_up
    proxy = HAProxy(str(tmp_path), check_path="/ready", slots=1, inter="200ms", fall=2, rise=2)
    try:
        slot = proxy.add(a.port, a.port)
        proxy.wait_status(slot, "UP", timeout=10)
        first = proxy.stats()[slot]
        assert (first["check_status"], first["check_code"]) == ("L7OK", "200")
        assert get(a.url("/drain"), "-X", "POST", *ADMIN)[0] == 200
        proxy.wait_status(slot, "DOWN", timeout=5)
        down = proxy.stats()[slot]
        assert (down["check_status"], down["check_code"]) == ("L7STS", "503")
        assert get(a.url("/drain"), "-X", "DELETE", *ADMIN)[0] == 200
        proxy.wait_status(slot, "UP", timeout=5)
        a.set("db", False)
        proxy.wait_status(slot, "DOWN", timeout=5)
        a.set("db", True)
        proxy.wait_status(slot, "UP", timeout=5)
    finally:
        proxy.stop()
        a.all_up()


# --- answering fast, whatever the checks and the clients do -------------------------------------------

def timed_get(port, path="/readyz", timeout=2):
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - started
    finally:
        conn.close()


def test_a_hanging_check_does_not_slow_the_probes(tmp_path):
    env = {"VIGIL_CHECK_HANG": "exec:sleep 100", "VIGIL_CHECK_HANG_INTERVAL": "1s", "VIGIL_CHECK_HANG_TIMEOUT": "1s",
           "VIGIL_CHECK_HANG_FAILURES": "1", "VIGIL_CHECK_SLOW": f"tcp://127.0.0.1:{free_port()}"}
    v = Vigil(APP, env=env, tmp_path=tmp_path)
    reference = Vigil(APP, tmp_path=tmp_path)  # no checks: the baseline, asked in turn with v
    try:
        v.wait_listening()
        reference.wait_for("/readyz", 200)
        timings, baseline = [], []
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            status, body, elapsed = timed_get(v.port)
            assert status == 503
            timings.append(elapsed)
            baseline.append(timed_get(reference.port)[2])
            time.sleep(0.05)
        assert len(timings) >= 20
        # a probe that waited for the hanging check would take its 1s timeout
        base = Baseline("GET /readyz of a vigil without checks", baseline)
        assert_within(max(timings), base.limit(factor=20, floor=0.1, ceiling=1.0), base,
                      what=f"the slowest /readyz (slowest five {sorted(timings)[-5:]})")
        assert b"[-]hang failed: timed out after 1s" in timed_get(v.port, "/readyz")[1]
    finally:
        v.stop()
        reference.stop()


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_idle_connections_and_slowloris_do_not_lock_out_probes(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    v = Vigil(APP, env={}, tmp_path=tmp_path)
    reference = Vigil(APP, tmp_path=tmp_path)  # no clients hanging on: the baseline, asked in turn with v
    idle = []
    try:
        v.wait_for("/readyz", 200)
        reference.wait_for("/readyz", 200)
        fds_before = open_fds(v.pid)
        opened = time.monotonic()
        for _ in range(1000):
            idle.append(socket.create_connection(("127.0.0.1", v.port), timeout=5))
        slow = socket.create_connection(("127.0.0.1", v.port), timeout=5)
        slow_opened = time.monotonic()
        slow.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n")
        slow.setblocking(False)
        slow_closed_at = None
        last_trickle = time.monotonic()
        timings, baseline = [], []
        # the probes keep answering while 1000 idle sockets and a slowloris client hang on
        while time.monotonic() - slow_opened < 7.5:
            status, body, elapsed = timed_get(v.port, timeout=3)
            assert (status, body) == (200, b"ok")
            if not timings:
                first_answer = time.monotonic()  # by now vigil has accepted the slowloris connection
            timings.append(elapsed)
            baseline.append(timed_get(reference.port, timeout=3)[2])
            if slow_closed_at is None:
                try:
                    if time.monotonic() - last_trickle > 0.5:
                        slow.send(b"X-Slow: 1\r\n")
                        last_trickle = time.monotonic()
                    if slow.recv(1024) == b"":
                        slow_closed_at = time.monotonic()
                except BlockingIOError:
                    pass
                except OSError:
                    slow_closed_at = time.monotonic()
            time.sleep(0.1)
        assert len(timings) >= 30
        # The first answer waits behind the 1000 connections in the accept queue (about 0.2s with the
        # release build, 1.5s with a debug build); after that every answer is quick.
        assert timings[0] < 3.0, timings[0]
        # locked out, a probe would wait for the slowloris connection's 5s deadline
        base = Baseline("GET /readyz of a vigil without idle clients", baseline)
        assert_within(max(timings[1:]), base.limit(factor=20, floor=0.25, ceiling=1.0), base,
                      what=f"the slowest /readyz after the first (slowest five {sorted(timings)[-5:]})")
        assert slow_closed_at is not None, "the slowloris connection was never closed"
        # closed 5s after vigil accepted it, trickle or not
        assert slow_closed_at - slow_opened >= 4.5, slow_closed_at - slow_opened
        assert slow_closed_at - first_answer <= 6.0, slow_closed_at - first_answer
        # every idle connection was closed: evicted at the limit, or at its 5s deadline
        still_open = 0
        for s in idle:
            s.setblocking(False)
            try:
                if s.recv(1) != b"":
                    still_open += 1
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
        assert still_open == 0
        assert time.monotonic() - opened < 12
        assert open_fds(v.pid) <= fds_before + 2
        assert v.proc.poll() is None
    finally:
        for s in idle:
            s.close()
        v.stop()
        reference.stop()


def test_connection_limit_evicts_the_longest_idle(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    v = Vigil(APP, env={}, tmp_path=tmp_path)
    sockets = []
    try:
        v.wait_for("/readyz", 200)
        for _ in range(600):
            sockets.append(socket.create_connection(("127.0.0.1", v.port), timeout=5))
        # this request is accepted after all 600: once it is answered, vigil has seen them all
        assert timed_get(v.port, timeout=5)[:2] == (200, b"ok")

        def closed(s):
            s.setblocking(False)
            try:
                return s.recv(1) == b""
            except BlockingIOError:
                return False
            except OSError:
                return True
        state = [closed(s) for s in sockets]
        # 601 connections (with the request) for 512 places: the 89 oldest went to make room
        assert sum(state) == 89, sum(state)
        assert all(state[:80]), "the oldest connections are the ones evicted"
        assert not any(state[-400:]), "the newest connections stay"
        assert timed_get(v.port)[:2] == (200, b"ok")
    finally:
        for s in sockets:
            s.close()
        v.stop()
