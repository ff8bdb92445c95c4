"""The front door end to end (issue 13): vigil accepts the app's clients itself, so the drain
can close each keep-alive connection after a response and a restart can hold requests.

Behind an L4 balancer (HAProxy in `mode tcp`, as kube-proxy balances connections) a client's
keep-alive connection stays on its pod after the endpoint is removed: without the door every
request sent on it after the app stopped fails, whatever the init. Through the door: none.
The app speaks HTTP/1.1 keep-alive and dies at once on SIGTERM.
"""
import os
import signal
import threading
import time

import pytest

from vigiltest.http import http_get
from vigiltest.instances import Instance
from vigiltest.load import Load
from vigiltest.report import report
from vigiltest.rolling import run_rolling_upgrade
from vigiltest.waiting import wait_until

REPLACEMENTS = int(os.environ.get("VIGIL_E2E_REPLACEMENTS", "3"))
pytestmark = pytest.mark.timeout(300)


def rolling(tmp_path, init, balancer, door=False):
    return run_rolling_upgrade(init, replacements=REPLACEMENTS, drain_delay="2s", propagation_lag=1.0,
                               workdir=str(tmp_path), log=report, balancer=balancer, door=door,
                               keepalive_app=True)


@pytest.mark.parametrize("balancer", ["http", "tcp"])
def test_rolling_upgrade_through_the_front_door_fails_no_request(tmp_path, balancer):
    counts = rolling(tmp_path, "vigil", balancer, door=True)
    assert counts["requests"] > 1000, counts
    assert counts["failed"] == 0, counts
    assert [s["old_exit_code"] for s in counts["steps"]] == [143] * REPLACEMENTS, counts["steps"]


@pytest.mark.parametrize("init", ["vigil", "tini", "bare"])
def test_behind_an_l4_balancer_keep_alive_clients_lose_requests_without_the_door(tmp_path, init):
    """The control: vigil's drain alone fails readiness in time, but the connections stay."""
    counts = rolling(tmp_path, init, "tcp")
    assert counts["requests"] > 1000, counts
    assert counts["failed"] > 0, counts


def test_in_place_restart_under_load_refuses_nothing(tmp_path):
    """wrk straight at the door while the app is killed twice: every request is answered 200,
    those sent while the app was down after it came back."""
    instance = Instance("vigil", workdir=str(tmp_path), startup_delay=0.3, door=True,
                        app_env={"KEEPALIVE": "1"}, vigil_env={"VIGIL_RESTART": "always"})
    try:
        wait_until(lambda: instance.vigil("/readyz")[0] == 200, 15, what="ready")
        load = Load(f"http://127.0.0.1:{instance.app_port}/", str(tmp_path), connections=8, pause_ms=20)
        waited = []

        def probe():
            started = time.monotonic()
            status, _ = http_get(instance.app_port, "/", timeout=30)
            waited.append((status, time.monotonic() - started))

        try:
            time.sleep(1)
            for _ in range(2):
                pid = instance.app_pid()
                os.kill(pid, signal.SIGKILL)
                wait_until(lambda: instance.metric("vigil_app_up") == 0, 5, what="the app down")
                thread = threading.Thread(target=probe)
                thread.start()
                thread.join(30)
                time.sleep(1.5)
        finally:
            counts = load.stop()
        report(f"in-place restart under load through the door: {counts['requests']} requests, "
               f"{counts['failed']} failed; requests sent while the app was down took "
               + ", ".join(f"{seconds:.2f}s" for _, seconds in waited))
        assert instance.metric("vigil_app_restarts_total") == 2
        assert counts["requests"] > 300, counts
        assert counts["failed"] == 0, f"{counts}\n{instance.log()[-3000:]}"
        assert [status for status, _ in waited] == [200, 200]
        # Each waited for the restart (1 s backoff and more, plus the app's 0.3 s start).
        assert all(seconds >= 0.5 for _, seconds in waited), waited
    finally:
        instance.cleanup()
