"""vigil end to end behind a real load balancer: HAProxy in front, wrk through it, the demo app
(starts slowly, dies at once on SIGTERM) behind it, under vigil, tini or nothing.

The headline test is a rolling upgrade (maxSurge 1, maxUnavailable 0) under load: zero failed
requests under vigil, some under tini and bare. The others cover the pieces that make it work:
the min-ready window, the connection-aware drain, the manual drain (blue-green) and in-place
restarts. HAProxy never retries or redispatches, so every failure reaches wrk.
"""
import os
import re
import subprocess
import threading
import time

import pytest

from vigiltest.env import base_env
from vigiltest.http import http_get
from vigiltest.load import Load
from vigiltest.paths import VIGIL
from vigiltest.report import report
from vigiltest.rolling import run_rolling_upgrade
from vigiltest.waiting import wait_until

REPLACEMENTS = int(os.environ.get("VIGIL_E2E_REPLACEMENTS", "3"))
# pytest-timeout: the scenarios take 2-13 s on a quiet 2-core machine; their own waits are bounded
# (HAProxy UP within 20 s, stops within 60 s), these only catch a hang.
pytestmark = pytest.mark.timeout(120)
ROLLING_TIMEOUT = pytest.mark.timeout(300)


def failing_log_lines(workdir, limit=30):
    """HAProxy's log lines of requests that did not answer 200, for failure messages."""
    try:
        with open(os.path.join(workdir, "haproxy.log")) as f:
            lines = [l.rstrip() for l in f if '"GET ' in l and " 200 " not in l]
    except OSError:
        return "(no haproxy log)"
    return "\n".join(lines[:limit]) or "(none logged)"


# ----------------------------------------------------------------------------------------------
# rolling upgrades

@ROLLING_TIMEOUT
def test_rolling_upgrade_under_vigil_fails_no_request(tmp_path):
    counts = run_rolling_upgrade("vigil", replacements=REPLACEMENTS, drain_delay="2s", propagation_lag=1.0,
                                 workdir=str(tmp_path), log=report)
    assert counts["requests"] > 1000, counts
    assert counts["failed"] == 0, f"{counts}\nfailed requests in haproxy's log:\n{failing_log_lines(str(tmp_path))}"
    assert counts["haproxy_5xx"] == 0, counts
    # Each old instance went through the whole stop sequence and exited with the app's status.
    assert [s["old_exit_code"] for s in counts["steps"]] == [143] * REPLACEMENTS, counts["steps"]


@ROLLING_TIMEOUT
@pytest.mark.parametrize("init", ["tini", "bare"])
def test_rolling_upgrade_without_vigil_loses_requests(tmp_path, init):
    """The same scenario; the app stops at once on SIGTERM, before HAProxy stops sending to it."""
    counts = run_rolling_upgrade(init, replacements=REPLACEMENTS, propagation_lag=1.0,
                                 workdir=str(tmp_path), log=report)
    assert counts["requests"] > 1000, counts
    assert counts["failed"] > 0, counts


# ----------------------------------------------------------------------------------------------
# min-ready

def test_min_ready_window_delays_haproxy_marking_the_instance_up(cluster):
    c = cluster()
    plain = c.start(startup_delay=0.3, name="plain")
    gated = c.start(startup_delay=0.3, name="gated", vigil_env={"VIGIL_MIN_READY": "2s"})
    for i in (plain, gated):
        c.add(i)
    events, window_readyz = {}, None
    deadline = time.monotonic() + 20
    while len(events) < 4 and time.monotonic() < deadline:
        stats = c.haproxy.stats()
        now = time.monotonic()
        for i in (plain, gated):
            if (i.name, "app") not in events and i.app("/health", timeout=0.3)[0] == 200:
                events[(i.name, "app")] = now
            if (i.name, "up") not in events and stats[i.slot]["status"] == "UP":
                events[(i.name, "up")] = now
        if window_readyz is None and ("gated", "app") in events and ("gated", "up") not in events \
                and now - events[("gated", "app")] > 0.8:
            window_readyz = gated.vigil("/readyz")
        time.sleep(0.02)
    assert len(events) == 4, f"{events}\n{gated.log()}"
    plain_delay = events[("plain", "up")] - events[("plain", "app")]
    gated_delay = events[("gated", "up")] - events[("gated", "app")]
    report(f"min-ready: app healthy → HAProxy UP in {plain_delay:.2f}s without, {gated_delay:.2f}s with VIGIL_MIN_READY=2s")
    assert plain_delay < 1.5
    assert 1.9 <= gated_delay <= 4.5
    assert window_readyz is not None and window_readyz[0] == 503, window_readyz
    assert "min-ready" in window_readyz[1], window_readyz


# ----------------------------------------------------------------------------------------------
# connection-aware drain

def slow_request_across_stop(c, inst, ms, sigterm_after=0.5):
    """Sends GET /slow?ms=MS through HAProxy, SIGTERMs INST SIGTERM_AFTER s later, and waits for
    both. Returns (status, request start, request end, SIGTERM time, vigil exit time, exit code)."""
    result = {}

    def request():
        result["start"] = time.monotonic()
        result["status"], result["body"] = http_get(c.haproxy.port, f"/slow?ms={ms}", timeout=60)
        result["end"] = time.monotonic()

    thread = threading.Thread(target=request, daemon=True)
    thread.start()
    wait_until(lambda: int(c.haproxy.stats()[inst.slot]["scur"] or 0) >= 1, 5, what="the slow request to reach the app")
    time.sleep(sigterm_after)
    term = time.monotonic()
    inst.terminate()
    code = inst.wait(timeout=60)
    exited = time.monotonic()
    thread.join(60)
    return result["status"], result["start"], result["end"], term, exited, code


@pytest.mark.parametrize("host", ["127.0.0.1", "::"], ids=["tcp4", "tcp6-dual-stack"])
def test_connection_aware_drain_waits_for_a_slow_request(cluster, host):
    """With HOST=:: the app's connections are listed in /proc/net/tcp6 (as ::ffff:127.0.0.1)."""
    c = cluster()
    inst = c.start(startup_delay=0.2, app_env={"HOST": host}, vigil_env={
        "VIGIL_DRAIN_DELAY": "500ms", "VIGIL_DRAIN_PORTS": "{app_port}", "VIGIL_DRAIN_TIMEOUT": "15s"})
    c.add(inst)
    c.wait_up(inst)
    status, start, end, term, exited, code = slow_request_across_stop(c, inst, 3000)
    report(f"connection-aware drain ({host}): slow request answered {status} {end - term:.2f}s after SIGTERM; "
           f"vigil exited {exited - term:.2f}s after SIGTERM")
    assert status == 200, inst.log()
    assert end - start >= 2.9
    assert exited >= end - 0.05, "the app was stopped before the request finished"
    # Polling /proc/net/tcp is not instant (thousands of TIME_WAIT lines on a busy test host).
    assert exited - end < 5.0, "vigil kept waiting long after the connection closed"
    assert code == 143


def test_without_drain_ports_the_slow_request_is_cut(cluster):
    """The control for the test above: same request, drain delay only."""
    c = cluster()
    inst = c.start(startup_delay=0.2, vigil_env={"VIGIL_DRAIN_DELAY": "500ms"})
    c.add(inst)
    c.wait_up(inst)
    status, start, end, term, exited, code = slow_request_across_stop(c, inst, 3000)
    assert status != 200
    assert exited - term < 2.0


def test_drain_timeout_bounds_the_connection_wait(cluster):
    c = cluster()
    inst = c.start(startup_delay=0.2, vigil_env={
        "VIGIL_DRAIN_DELAY": "500ms", "VIGIL_DRAIN_PORTS": "{app_port}", "VIGIL_DRAIN_TIMEOUT": "2s"})
    c.add(inst)
    c.wait_up(inst)
    status, start, end, term, exited, code = slow_request_across_stop(c, inst, 8000, sigterm_after=0.2)
    assert status != 200
    assert 1.8 <= exited - term <= 4.0, f"vigil exited {exited - term:.2f}s after SIGTERM, DRAIN_TIMEOUT=2s"


def test_haproxys_pooled_keep_alive_connections_do_not_hold_the_drain(cluster):
    """HAProxy in http mode keeps idle connections to each server for reuse (`http-reuse safe`,
    its default), and a keep-alive app keeps them open after HAProxy has marked it down (for 60 s
    here: HAProxy purges idle ones every `pool-purge-delay`, 5 s by default). The drain ends once
    none of them carries a request, not at the timeout, and nothing fails."""
    c = cluster(server_options="pool-purge-delay 60s")
    drain = {"VIGIL_DRAIN_DELAY": "1s", "VIGIL_DRAIN_PORTS": "{app_port}", "VIGIL_DRAIN_TIMEOUT": "15s"}
    old = c.start(startup_delay=0.2, name="old", app_env={"KEEPALIVE": "1"}, vigil_env=drain)
    other = c.start(startup_delay=0.2, name="other", app_env={"KEEPALIVE": "1"})
    c.add_all_up(old, other)
    load = Load(c.url, c.workdir, connections=4, pause_ms=20)
    try:
        time.sleep(1.0)
        term = time.monotonic()
        old.terminate()
        code = old.wait(timeout=30)
        exited = time.monotonic()
        time.sleep(0.5)
    finally:
        counts = load.stop()
    log = old.log()
    held = re.findall(r"drain: waiting for requests in flight busy=0 open=(\d+)", log)
    report(f"keep-alive behind HAProxy: vigil exited {exited - term:.2f}s after SIGTERM "
           f"(drain delay 1s, timeout 15s) with {held[-1] if held else '?'} idle pooled connections open")
    assert code == 143, log
    assert held and int(held[-1]) >= 1, f"no idle pooled connection was open at the end of the drain:\n{log}"
    assert exited - term < 4.0, f"vigil exited {exited - term:.2f}s after SIGTERM, DRAIN_TIMEOUT=15s\n{log}"
    assert counts["requests"] > 100, counts
    assert counts["failed"] == 0, f"{counts}\n{failing_log_lines(c.workdir)}"


# ----------------------------------------------------------------------------------------------
# manual drain, blue-green

def test_manual_drain_takes_the_instance_out_without_stopping_it(cluster):
    c = cluster()
    a = c.start(startup_delay=0.2, name="a")
    b = c.start(startup_delay=0.2, name="b")
    c.add_all_up(a, b)
    load = Load(c.url, c.workdir, connections=4, pause_ms=20)
    try:
        time.sleep(0.5)
        status, body = a.vigil("/drain", method="POST")
        assert 200 <= status < 300, (status, body)
        c.haproxy.wait_status(a.slot, "DOWN", timeout=5)
        status, body = a.vigil("/readyz")
        assert status == 503 and "[-]draining failed" in body, (status, body)
        assert a.alive()
        assert a.app("/health")[0] == 200
        assert a.vigil("/livez")[0] == 200
        before = int(c.haproxy.stats()[a.slot]["stot"])
        time.sleep(1.0)
        assert int(c.haproxy.stats()[a.slot]["stot"]) == before, "a drained instance still got requests"

        status, body = a.vigil("/drain", method="DELETE")
        assert 200 <= status < 300, (status, body)
        c.haproxy.wait_status(a.slot, "UP", timeout=5)
        wait_until(lambda: int(c.haproxy.stats()[a.slot]["stot"]) > before, 5, what="requests to a again")
        assert a.alive()
    finally:
        counts = load.stop()
    assert counts["requests"] > 100
    assert counts["failed"] == 0, f"{counts}\n{failing_log_lines(c.workdir)}"


def test_blue_green_switch_with_vigil_drain(cluster):
    """Blue serves; green comes up; `vigil drain` on blue moves all traffic to green; blue is then
    stopped. No request fails; `vigil drain --cancel` is the way back."""
    c = cluster()
    blue = c.start(startup_delay=0.2, name="blue")
    c.add(blue)
    c.wait_up(blue)
    load = Load(c.url, c.workdir, connections=4, pause_ms=20)
    try:
        time.sleep(0.5)
        green = c.start(startup_delay=0.5, name="green")
        c.add(green)
        c.wait_up(green)
        env = base_env(VIGIL_LISTEN=f"127.0.0.1:{blue.vigil_port}")

        drained = subprocess.run([VIGIL, "drain"], env=env, capture_output=True, text=True, timeout=10)
        assert drained.returncode == 0, drained
        c.haproxy.wait_status(blue.slot, "DOWN", timeout=5)
        assert blue.alive() and blue.app("/health")[0] == 200

        cancelled = subprocess.run([VIGIL, "drain", "--cancel"], env=env, capture_output=True, text=True, timeout=10)
        assert cancelled.returncode == 0, cancelled
        c.haproxy.wait_status(blue.slot, "UP", timeout=5)

        drained = subprocess.run([VIGIL, "drain"], env=env, capture_output=True, text=True, timeout=10)
        assert drained.returncode == 0, drained
        c.haproxy.wait_status(blue.slot, "DOWN", timeout=5)
        time.sleep(0.5)
        blue.terminate()
        blue.wait(timeout=15)
        c.haproxy.remove(blue.slot)
        time.sleep(0.5)
    finally:
        counts = load.stop()
    report(f"blue-green with vigil drain: {counts['requests']} requests, {counts['failed']} failed")
    assert counts["failed"] == 0, f"{counts}\n{failing_log_lines(c.workdir)}"


# ----------------------------------------------------------------------------------------------
# restarts in place

def start_times(path):
    try:
        with open(path) as f:
            return [float(line) for line in f if line.strip()]
    except OSError:
        return []


def crashing_app(path, code):
    """An app that notes when it started and exits with CODE at once."""
    return ["sh", "-c", f"date +%s.%N >> {path}; exit {code}"]


def test_on_failure_restarts_a_crashing_app_with_growing_backoff(instance, tmp_path):
    starts = tmp_path / "starts"
    inst = instance(command=crashing_app(starts, 3), vigil_env={
        "VIGIL_CHECK_APP": None, "VIGIL_RESTART": "on-failure", "VIGIL_RESTART_BACKOFF_MAX": "30s"})
    wait_until(lambda: len(start_times(starts)) >= 4 or not inst.alive(), 15, what="4 starts")
    times = start_times(starts)
    gaps = [round(b - a, 2) for a, b in zip(times, times[1:])][:3]
    report(f"on-failure backoff between starts: {gaps} (expected about 1, 2, 4 s)")
    assert inst.alive(), f"vigil exited ({inst.proc.returncode}) instead of restarting:\n{inst.log()}"
    assert 0.8 <= gaps[0] <= 1.8, gaps
    assert 1.7 <= gaps[1] <= 3.0, gaps
    assert 3.5 <= gaps[2] <= 5.5, gaps
    restarts = inst.metric("vigil_app_restarts_total")
    assert restarts is not None and restarts >= 3, restarts
    assert inst.vigil("/readyz")[0] == 503
    inst.terminate()
    inst.wait(timeout=10)


def test_always_restarts_clean_exits_and_caps_the_backoff(instance, tmp_path):
    starts = tmp_path / "starts"
    inst = instance(command=crashing_app(starts, 0), vigil_env={
        "VIGIL_CHECK_APP": None, "VIGIL_RESTART": "always", "VIGIL_RESTART_BACKOFF_MAX": "2s"})
    wait_until(lambda: len(start_times(starts)) >= 4 or not inst.alive(), 12, what="4 starts")
    times = start_times(starts)
    gaps = [round(b - a, 2) for a, b in zip(times, times[1:])][:3]
    report(f"always, backoff max 2s, between starts: {gaps} (expected about 1, 2, 2 s)")
    assert inst.alive(), inst.log()
    assert 0.8 <= gaps[0] <= 1.8, gaps
    assert 1.7 <= gaps[1] <= 3.0, gaps
    assert 1.7 <= gaps[2] <= 3.0, gaps
    inst.terminate()
    inst.wait(timeout=10)


def test_on_failure_does_not_restart_a_clean_exit(instance, tmp_path):
    starts = tmp_path / "starts"
    inst = instance(command=crashing_app(starts, 0), vigil_env={"VIGIL_CHECK_APP": None, "VIGIL_RESTART": "on-failure"})
    assert inst.wait(timeout=10) == 0, inst.log()
    time.sleep(1.5)
    assert len(start_times(starts)) == 1


def test_failed_liveness_restarts_the_app_in_place(cluster):
    c = cluster()
    inst = c.start(startup_delay=0, vigil_env={
        "VIGIL_RESTART_UNHEALTHY": "true",
        "VIGIL_CHECK_LIVE": "http://127.0.0.1:{app_port}/health",
        "VIGIL_CHECK_LIVE_PROBES": "live",
        "VIGIL_CHECK_LIVE_INTERVAL": "300ms",
        "VIGIL_CHECK_LIVE_TIMEOUT": "300ms",
        "VIGIL_CHECK_LIVE_FAILURES": "3",
        "VIGIL_DRAIN_DELAY": "1s"})
    c.add(inst)
    c.wait_up(inst)
    first = inst.app_pid()
    assert first
    assert inst.app("/sick")[0] == 200
    sick = time.monotonic()
    seen_down = []

    def restarted():
        if c.haproxy.status(inst.slot).startswith("DOWN"):
            seen_down.append(True)
        pid = inst.app_pid()
        return pid if pid not in (None, first) else None

    second = wait_until(restarted, 15, what="a new app process")
    report(f"liveness restart: new app process {time.monotonic() - sick:.2f}s after /health started failing")
    assert inst.alive(), inst.log()
    assert seen_down, "HAProxy never saw the instance unready while its app was unhealthy or down"
    c.haproxy.wait_status(inst.slot, "UP", timeout=10)
    assert inst.app("/health") == (200, f"ok {second}\n")
    restarts = inst.metric("vigil_app_restarts_total")
    assert restarts is not None and restarts >= 1, restarts


def test_liveness_is_not_acted_on_before_a_slow_app_has_started(cluster):
    """Kubernetes runs only the startup probe until it succeeds; a slow start is no liveness
    failure. With a check feeding `startup`, VIGIL_RESTART_UNHEALTHY must wait for it."""
    c = cluster()
    inst = c.start(startup_delay=2.5, vigil_env={
        "VIGIL_CHECK_APP_PROBES": "startup,ready",
        "VIGIL_RESTART_UNHEALTHY": "true",
        "VIGIL_CHECK_LIVE": "http://127.0.0.1:{app_port}/health",
        "VIGIL_CHECK_LIVE_PROBES": "live",
        "VIGIL_CHECK_LIVE_INTERVAL": "200ms",
        "VIGIL_CHECK_LIVE_TIMEOUT": "200ms",
        "VIGIL_CHECK_LIVE_FAILURES": "3"})
    c.add(inst)
    c.wait_up(inst, timeout=15)
    assert inst.metric("vigil_app_restarts_total") == 0, inst.log()
    assert "restarting the app" not in inst.log(), inst.log()
