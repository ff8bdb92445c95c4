"""Issue 14, black-box: START_INTERVAL, the instance's identity (VIGIL_VERSION in /status and its
JSON, vigil_build_info, process_start_time_seconds, the app's last exit code, OpenMetrics when the
scraper asks for it) and `vigil wait` against a real vigil whose readiness flips.
"""
import json
import os
import subprocess
import time

from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from vigiltest.env import base_env
from vigiltest.http import curl
from vigiltest.paths import VIGIL
from vigiltest.ports import free_port
from vigiltest.vigil import Vigil, run_vigil
from vigiltest.waiting import wait_until

APP = ["sleep", "600"]


def status(v):
    code, body, _ = curl(v.url("/status?format=json"))
    assert code == 200, body
    return json.loads(body)


def samples_of(families):
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


# --- START_INTERVAL ---------------------------------------------------------------------------------

def test_start_interval_until_the_first_pass_then_interval(tmp_path):
    beat = tmp_path / "beat"
    v = Vigil(APP, env={"VIGIL_CHECK_BEAT": f"file://{beat}", "VIGIL_CHECK_BEAT_INTERVAL": "1h",
                        "VIGIL_CHECK_BEAT_START_INTERVAL": "100ms", "VIGIL_CHECK_BEAT_FAILURES": "1000"})
    try:
        v.wait_listening()
        wait_until(lambda: status(v)["checks"][0]["runs"] >= 3, timeout=5, what="runs every 100ms")
        beat.write_text("x")
        made = time.monotonic()
        v.wait_for("/readyz", 200, timeout=5)
        assert time.monotonic() - made < 1.5, "ready within about a START_INTERVAL, not an INTERVAL of 1h"
        runs = status(v)["checks"][0]["runs"]
        time.sleep(0.5)
        assert status(v)["checks"][0]["runs"] == runs, "INTERVAL (1h) once the check passed"
    finally:
        v.stop()


def test_start_interval_in_vigil_config_and_its_errors():
    code, out, _ = run_vigil("config", env={"VIGIL_CHECK_DB": "tcp://127.0.0.1:5432",
                                            "VIGIL_CHECK_DB_START_INTERVAL": "2"})
    assert code == 0 and "VIGIL_CHECK_DB_START_INTERVAL=2s" in out
    code, _, err = run_vigil("config", "--check", env={"VIGIL_CHECK_DB": "tcp://127.0.0.1:5432",
                                                       "VIGIL_CHECK_DB_START_INTERVAL": "fast"})
    assert code == 2
    assert ('VIGIL_CHECK_DB_START_INTERVAL="fast": not a duration (use 500ms, 5s, 1m30s or a number of seconds); '
            'example: VIGIL_CHECK_DB_START_INTERVAL=1s') in err


# --- identity -----------------------------------------------------------------------------------------

def test_version_in_status_json_and_metrics_and_the_last_exit_code():
    started = time.time()
    v = Vigil(["sh", "-c", "exit 3"], env={"VIGIL_VERSION": "blue-1.4.2", "VIGIL_RESTART": "always",
                                          "VIGIL_RESTART_BACKOFF_MAX": "1h"})
    try:
        v.wait_listening()
        doc = wait_until(lambda: (d := status(v))["app"]["last_exit_code"] == 3 and d, timeout=10,
                         what="the app's exit")
        assert doc["version"] == {"vigil": run_vigil("--version")[1].split()[1], "app": "blue-1.4.2"}
        code, text, _ = curl(v.url("/status"))
        assert code == 200 and text.endswith("  version: blue-1.4.2\n")
        code, body, raw = curl(v.url("/metrics"))
        assert "content-type: text/plain; version=0.0.4" in raw.lower()
        samples = samples_of(text_string_to_metric_families(body))
        vigil_version = doc["version"]["vigil"]
        assert samples[("vigil_build_info", (("app_version", "blue-1.4.2"), ("vigil_version", vigil_version)))] == 1
        assert samples[("vigil_app_last_exit_code", ())] == 3
        assert started - 5 < samples[("process_start_time_seconds", ())] <= time.time()
    finally:
        v.stop()


def test_openmetrics_when_the_scraper_asks():
    v = Vigil(APP, env={"VIGIL_CHECK_DB": "tcp://127.0.0.1:1"})
    try:
        v.wait_listening()
        accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        code, body, raw = curl(v.url("/metrics"), "-H", f"Accept: {accept}")
        assert code == 200 and body.endswith("\n# EOF\n")
        assert "content-type: application/openmetrics-text; version=1.0.0; charset=utf-8" in raw.lower()
        families = {f.name: f for f in openmetrics_families(body)}
        assert families["vigil_app_restarts"].type == "counter"
        assert families["vigil_check_runs"].type == "counter"
        assert families["vigil_build_info"].type == "gauge"
        samples = samples_of(families.values())
        assert samples[("vigil_build_info", (("app_version", ""), ("vigil_version", status(v)["version"]["vigil"])))] == 1
        assert ("vigil_app_last_exit_code", ()) not in samples, "the app never ended"
        assert status(v)["version"]["app"] is None
    finally:
        v.stop()


def test_a_bad_version_is_a_configuration_error():
    code, _, err = run_vigil("--", "true", env={"VIGIL_VERSION": "v1\x1b[2J"})
    assert code == 2
    assert 'VIGIL_VERSION="v1\\u{1b}[2J": must not hold control characters; example: VIGIL_VERSION=v1.4.2' in err


# --- vigil wait ---------------------------------------------------------------------------------------

def wait_command(*args):
    return subprocess.Popen([VIGIL, "wait", *args], env=base_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_wait_until_ready_for_the_window_through_a_flip(tmp_path):
    up = tmp_path / "up"
    v = Vigil(APP, env={"VIGIL_VERSION": "v2", "VIGIL_CHECK_UP": f"file://{up}", "VIGIL_CHECK_UP_INTERVAL": "50ms",
                        "VIGIL_CHECK_UP_FAILURES": "1"})
    try:
        v.wait_listening()
        waiter = wait_command(v.url(""), "--ready-for", "1s", "--version", "v2", "--timeout", "30s")
        time.sleep(0.5)
        up.write_text("x")
        v.wait_for("/readyz", 200)
        time.sleep(0.4)
        up.unlink()  # a flip inside the window: the count starts again
        v.wait_for("/readyz", 503)
        time.sleep(0.3)
        assert waiter.poll() is None
        up.write_text("x")
        last_ready = time.monotonic()
        v.wait_for("/readyz", 200)
        _, err = waiter.communicate(timeout=10)
        assert waiter.returncode == 0, err
        assert time.monotonic() - last_ready >= 1.0
        lines = err.splitlines()
        assert lines[0].startswith("vigil: wait: waiting for 127.0.0.1:") and "at version v2 for 1s" in lines[0]
        said = [line.split("] ", 1)[1] for line in lines[1:]]
        assert all(a != b for a, b in zip(said, said[1:])), "one line per change"
        kinds = []
        for line in said:
            kind = line.split(":")[0].split(",")[0]
            if not kinds or kinds[-1] != kind:
                kinds.append(kind)
        assert kinds == ["not ready", "ready", "not ready", "ready", "done"], err
        assert "ready, version v2; must stay ready for 1s" in said
        assert any(line.startswith("not ready: up failed: ") and line.endswith("does not exist, version v2")
                   for line in said), err
        assert said[-1].startswith("done: ready, version v2 for 1")
    finally:
        v.stop()


def test_wait_times_out_at_the_wrong_version_and_says_what_it_saw():
    v = Vigil(APP, env={"VIGIL_VERSION": "v1"})
    try:
        v.wait_listening()
        start = time.monotonic()
        waiter = wait_command(f"http://127.0.0.1:{v.port}/", "--ready-for", "0s", "--version", "v2",
                              "--timeout", "1500ms")
        _, err = waiter.communicate(timeout=10)
        assert waiter.returncode == 1
        assert 1.4 < time.monotonic() - start < 5
        assert err.splitlines()[-1].endswith(
            "timed out after 1.5s; last seen: ready, version v1, waiting for version v2"), err
    finally:
        v.stop()


def test_wait_reports_an_unreachable_instance_and_usage_errors():
    port = free_port()
    waiter = wait_command(f"http://127.0.0.1:{port}", "--timeout", "700ms")
    _, err = waiter.communicate(timeout=10)
    assert waiter.returncode == 1
    assert "] unreachable: connection refused" in err and "last seen: unreachable: connection refused" in err
    assert len(err.splitlines()) == 3, "one line per change"
    for args, message in [((), "missing URL"), (("ftp://x",), "is not an http:// URL"),
                          (("http://127.0.0.1:1", "--ready-for", "x"), "--ready-for \"x\" is not a duration")]:
        code, _, err = run_vigil("wait", *args)
        assert code == 2 and message in err, err
