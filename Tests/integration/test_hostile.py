"""PID 1 never crashes: hostile values in every setting, every shutdown signal, restart budgets,
nothing left behind, a start without /proc. Black-box: the real binary, real signals."""
import random
import signal
import subprocess
import time


from vigiltest import processes
from vigiltest.env import base_env
from vigiltest.http import curl
from vigiltest.paths import VIGIL
from vigiltest.vigil import Vigil, run_vigil
from vigiltest.waiting import wait_until

# Values a user (or a template gone wrong) may put in any setting.
HOSTILE = [
    "99999999999999999999", "-99999999999999999999", "9223372036854775807", "9223372036854775",
    "18446744073709551616", "-1", "0", "5", "1e309", "1e5", "nan", "inf", "-inf", "0x10", "1.7976931348623157e308",
    "８７６０", "٣s", "1,5s", "5ss", "s", "ms", "h", "m5", "..5", "1.2.3", "8760h", "8760h1ms", "100000h",
    "", " ", "\t\n", " 5s ", "€", "ｓ", "\u200b5s", "true", "TRUE", "yes", "off", "SIGKILL", "SIGSTOP", "SIGCHLD",
    "64", "65", "TERM,,QUIT", ",", ":", ":0", ":65536", "[::1]:99999", "[::1", "127.0.0.1:-1", "tcp://:0",
    "tcp://[::1]:99999999999", "http://[", "http://127.0.0.1:80/%zz", "exec:", "exec:'", "exec:\"a\\", "file://",
    "unix://", "ftp://x/", "grpc://", "grpc://127.0.0.1", "grpcs://[::1]:0/x", "grpc://127.0.0.1:1/\n",
    "200-199", "99-600", "1000-1", "200,,", "x" * 100_000, "9" * 100_000,
]

OPTIONS = ["PROBES", "INTERVAL", "START_INTERVAL", "TIMEOUT", "FAILURES", "SUCCESSES", "DELAY", "EXPECT_STATUS",
           "EXPECT_BODY", "MAX_AGE"]


def global_settings():
    """Every global setting's name, as `vigil config` lists them (the Settings table)."""
    code, out, err = run_vigil("config")
    assert code == 0, err
    return [line.split("=")[0] for line in out.splitlines() if line.startswith("VIGIL_") and "_CHECK_" not in line]


def cases():
    names = global_settings()
    assert len(names) >= 19, names
    for name in names:
        for value in HOSTILE:
            yield {name: value}, name
    for kind, target in [("H", "http://127.0.0.1:1/x"), ("G", "grpc://127.0.0.1:1/svc"), ("T", "tcp://127.0.0.1:1"),
                         ("F", "file:///tmp/x")]:
        for option in OPTIONS:
            for value in HOSTILE:
                yield {f"VIGIL_CHECK_{kind}": target, f"VIGIL_CHECK_{kind}_{option}": value}, \
                    f"VIGIL_CHECK_{kind}_{option}"
    for value in HOSTILE:
        yield {"VIGIL_CHECK_X": value}, "VIGIL_CHECK_X"


def test_every_setting_with_hostile_values_exits_0_or_2_never_a_signal():
    """The property: for each setting and check option, each hostile value either parses (exit 0)
    or is refused with exit 2 and a message naming the variable; vigil never dies of a signal."""
    tried = 0
    accepted = []
    for extra, name in cases():
        code, out, err = run_vigil("config", "--check", env=extra)
        tried += 1
        assert code in (0, 2), f"{extra!r:.200}: exit {code}: {err[-500:]}"
        if code == 2:
            assert f"vigil: error: {name}" in err, f"{name}: {err[:300]}"
            assert max(len(line) for line in err.splitlines()) < 1000, "errors stay short lines"
        else:
            accepted.append(extra)
    assert tried > 1500, tried
    # Values that parse must also run: the agent starts, supervises and exits with the app's code.
    sample = random.Random(7).sample(accepted, 40)
    for extra in sample:
        env = base_env(**{"VIGIL_LISTEN": "off", "VIGIL_DRAIN_DELAY": "0", **extra})
        result = subprocess.run([VIGIL, "--", "sh", "-c", "exit 7"], env=env, capture_output=True, timeout=30)
        refused_port = result.returncode == 2 and b"VIGIL_LISTEN" in result.stderr and b"cannot listen" in result.stderr
        # VIGIL_USER resolves against this machine's /etc/passwd only when vigil starts.
        unknown_user = result.returncode == 2 and b"vigil: error: VIGIL_USER=" in result.stderr
        assert result.returncode == 7 or refused_port or unknown_user, \
            f"{extra!r:.200}: exit {result.returncode}: {result.stderr[-300:]}"


def test_a_min_ready_beyond_a_year_is_a_configuration_error_not_a_crash():
    code, _, err = run_vigil("--", "true", env={"VIGIL_MIN_READY": "9223372036854775"})
    assert code == 2
    assert 'VIGIL_MIN_READY="9223372036854775": longer than 8760h, the longest duration vigil takes' in err


def test_a_timeout_longer_than_the_interval_is_accepted():
    env = {"VIGIL_CHECK_DB": "tcp://127.0.0.1:5432", "VIGIL_CHECK_DB_INTERVAL": "1s", "VIGIL_CHECK_DB_TIMEOUT": "3s"}
    assert run_vigil("config", "--check", env=env)[:2] == (0, "configuration ok\n")


# MARK: - Shutdown signals


def test_a_configured_shutdown_signal_drains_before_the_app_is_stopped(tmp_path):
    v = Vigil(["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done"], tmp_path=tmp_path,
              env={"VIGIL_SHUTDOWN_SIGNALS": "SIGQUIT", "VIGIL_DRAIN_DELAY": "1s"})
    try:
        v.wait_for("/readyz", 200)
        v.signal(signal.SIGQUIT)
        v.wait_for("/readyz", 503, timeout=2)
        assert v.proc.poll() is None, "still serving during the drain"
        assert v.wait(timeout=10) == 0
        assert "vigil: info: SIGQUIT: draining: readiness fails, the app keeps serving for 1s" in v.stderr()
        assert "vigil: info: sending SIGTERM to the app target=group" in v.stderr()
    finally:
        v.stop()


def test_sigterm_is_forwarded_when_it_is_not_a_shutdown_signal(tmp_path):
    v = Vigil(["sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.05; done"], tmp_path=tmp_path,
              env={"VIGIL_SHUTDOWN_SIGNALS": "SIGINT"})
    try:
        v.wait_for("/readyz", 200)
        v.signal(signal.SIGTERM)
        assert v.wait(timeout=5) == 42
        assert "draining" not in v.stderr()
    finally:
        v.stop()


def test_a_shutdown_signal_while_waiting_to_restart_ends_vigil_with_the_last_code(tmp_path):
    v = Vigil(["sh", "-c", "exit 3"], tmp_path=tmp_path, listen=False,
              env={"VIGIL_RESTART": "always", "VIGIL_RESTART_BACKOFF_MAX": "30s", "VIGIL_SHUTDOWN_SIGNALS": "QUIT"})
    try:
        wait_until(lambda: "restarting the app in" in v.stderr(), timeout=5, what="a restart backoff")
        started = time.monotonic()
        v.signal(signal.SIGQUIT)
        assert v.wait(timeout=5) == 3
        assert time.monotonic() - started < 3, "the backoff was not waited out"
        assert "SIGQUIT while waiting to restart: exiting" in v.stderr()
    finally:
        v.stop()


# MARK: - Restart budget


def test_the_restart_limit_ends_vigil_with_the_apps_code(tmp_path):
    v = Vigil(["sh", "-c", "exit 5"], tmp_path=tmp_path, listen=False,
              env={"VIGIL_RESTART": "on-failure", "VIGIL_RESTART_LIMIT": "2", "VIGIL_RESTART_WINDOW": "1m"})
    try:
        assert v.wait(timeout=20) == 5
        log = v.stderr()
        assert log.count("started the app") == 3, log
        assert ("the app was restarted 2 restarts within 1m (VIGIL_RESTART_LIMIT): not restarting it again"
                in log)
    finally:
        v.stop()


# MARK: - Nothing left behind


def test_an_exec_check_that_daemonizes_leaves_nothing_behind(tmp_path):
    marker = f"{random.randint(100, 999)}.{random.randint(1000, 9999)}"
    v = Vigil(["sleep", "30"], tmp_path=tmp_path,
              env={"VIGIL_CHECK_LEAK": f"exec:sh -c 'setsid sleep {marker} & exit 0'",
                   "VIGIL_CHECK_LEAK_INTERVAL": "200ms"})
    try:
        v.wait_for("/readyz", 200)
        wait_until(lambda: _runs(v) >= 5, timeout=10, what="five runs")
        assert processes.with_marker(marker) == {}, "a daemon outlived its check run"
    finally:
        v.stop()
    assert processes.with_marker(marker) == {}


def _runs(v):
    for line in curl(v.url("/metrics"))[1].splitlines():
        if line.startswith('vigil_check_runs_total{check="leak"}'):
            return int(float(line.split()[-1]))
    return 0


def test_at_exit_vigil_stops_what_the_app_left_in_other_sessions(tmp_path):
    marker = f"{random.randint(100, 999)}.{random.randint(1000, 9999)}"
    v = Vigil(["sh", "-c", f"setsid sleep {marker} & sleep 0.3"], tmp_path=tmp_path, listen=False)
    try:
        wait_until(lambda: processes.with_marker(marker), timeout=5, what="the daemon")
        assert v.wait(timeout=10) == 0
        assert processes.with_marker(marker) == {}
        assert "terminating what the app left behind processes=1" in v.stderr()
    finally:
        v.stop()


# MARK: - Without /proc


def test_vigil_starts_and_supervises_without_proc():
    script = (f"umount -l /proc && VIGIL_LISTEN=off {VIGIL} -- sh -c 'env | grep -c SWIFT_BACKTRACE; exit 4'; "
              f"echo rc=$?")
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], env=base_env(), capture_output=True, text=True,
                            timeout=30)
    assert result.stdout.splitlines() == ["0", "rc=4"], (result.stdout, result.stderr)
    version = subprocess.run(["unshare", "-m", "sh", "-c", f"umount -l /proc && {VIGIL} --version"],
                             capture_output=True, text=True, timeout=30)
    assert version.returncode == 0 and version.stdout.startswith("vigil "), version


# MARK: - Admin calls and the fast path


def test_a_loopback_drain_needs_the_admin_header(tmp_path):
    v = Vigil(["sleep", "30"], tmp_path=tmp_path)
    try:
        v.wait_for("/readyz", 200)
        code, body, _ = curl(v.url("/drain"), "-X", "POST")
        assert (code, body) == (403, "forbidden: admin calls need the X-Vigil-Admin header, which `vigil drain` "
                                     "sends (VIGIL_ADMIN=local)\n")
        assert curl(v.url("/readyz"))[:2] == (200, "ok")
        assert curl(v.url("/drain"), "-X", "POST", "-H", "X-Vigil-Admin: 1")[0] == 200
        assert curl(v.url("/readyz"))[0] == 503
        assert "refused POST /drain: admin calls need the X-Vigil-Admin header" in v.stderr()
    finally:
        v.stop()


def test_the_fast_path_answers_json_when_accept_asks_for_it(tmp_path):
    v = Vigil(["sleep", "30"], tmp_path=tmp_path)
    try:
        v.wait_for("/readyz", 200)
        code, body, headers = curl(v.url("/readyz"), "-H", "Accept: application/json")
        assert code == 200 and body.startswith("{") and "application/json" in headers
    finally:
        v.stop()
