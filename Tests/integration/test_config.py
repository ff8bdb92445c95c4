"""Configuration from VIGIL_* variables, black-box: exact messages, exit codes, nothing started.

Every message a user can see for a bad environment is asserted here byte for byte: they are part
of vigil's interface (issue 3). A bad configuration must stop vigil with exit code 2 before the
app starts, printing every problem at once, sorted by variable, each with an example.
"""
import os
import socket
import subprocess

import pytest

from vigiltest.env import base_env
from vigiltest.paths import VIGIL
from vigiltest.ports import free_port
from vigiltest.vigil import Vigil, run_vigil

SUMMARY_ONE = "vigil: 1 configuration problem; nothing was started"


def summary(count):
    return SUMMARY_ONE if count == 1 else f"vigil: {count} configuration problems; nothing was started"


def run_app(tmp_path, env, timeout=10):
    """Runs `vigil -- touch <marker>` with ENV (VIGIL_LISTEN=off unless given); returns
    (exit code, stdout, stderr, whether the app ran)."""
    marker = tmp_path / "app-started"
    settings = {"VIGIL_LISTEN": "off"}
    settings.update(env)
    result = subprocess.run([VIGIL, "--", "touch", str(marker)], env=base_env(**settings),
                            capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr, marker.exists()


def expect_problems(tmp_path, env, lines):
    code, out, err, started = run_app(tmp_path, env)
    assert err == "".join(f"vigil: error: {line}\n" for line in lines) + summary(len(lines)) + "\n"
    assert code == 2
    assert out == ""
    assert not started, "the app must not start when the configuration is bad"


DURATION = "not a duration (use 500ms, 5s, 1m30s or a number of seconds)"
TARGET_EXAMPLE = "http://127.0.0.1:8080/health"

# (id, environment, the problem lines vigil prints without the "vigil: error: " prefix)
GLOBAL_PROBLEMS = [
    ("listen-no-port", {"VIGIL_LISTEN": "nope"},
     'VIGIL_LISTEN="nope": missing port; example: VIGIL_LISTEN=:7979'),
    ("listen-port-range", {"VIGIL_LISTEN": ":99999"},
     'VIGIL_LISTEN=":99999": port "99999" is not between 1 and 65535; example: VIGIL_LISTEN=:7979'),
    ("listen-port-zero", {"VIGIL_LISTEN": ":0"},
     'VIGIL_LISTEN=":0": port "0" is not between 1 and 65535; example: VIGIL_LISTEN=:7979'),
    ("listen-host-name", {"VIGIL_LISTEN": "example.com:80"},
     'VIGIL_LISTEN="example.com:80": the host must be empty, localhost or a numeric IP address; example: VIGIL_LISTEN=:7979'),
    ("listen-v6-brackets", {"VIGIL_LISTEN": "::1:80"},
     'VIGIL_LISTEN="::1:80": an IPv6 address needs brackets, as in [::1]:8080; example: VIGIL_LISTEN=:7979'),
    ("listen-unclosed", {"VIGIL_LISTEN": "[::1"},
     'VIGIL_LISTEN="[::1": unclosed [ in the address; example: VIGIL_LISTEN=:7979'),
    ("signal-target", {"VIGIL_SIGNAL_TARGET": "parent"},
     'VIGIL_SIGNAL_TARGET="parent": not one of group, child; example: VIGIL_SIGNAL_TARGET=child'),
    ("stop-signal-kill", {"VIGIL_STOP_SIGNAL": "SIGKILL"},
     'VIGIL_STOP_SIGNAL="SIGKILL": not a signal that can be caught (use a name like SIGTERM or QUIT, or a number); example: VIGIL_STOP_SIGNAL=SIGQUIT'),
    ("stop-signal-unknown", {"VIGIL_STOP_SIGNAL": "FOO"},
     'VIGIL_STOP_SIGNAL="FOO": not a signal that can be caught (use a name like SIGTERM or QUIT, or a number); example: VIGIL_STOP_SIGNAL=SIGQUIT'),
    ("stop-timeout", {"VIGIL_STOP_TIMEOUT": "soon"},
     f'VIGIL_STOP_TIMEOUT="soon": {DURATION}; example: VIGIL_STOP_TIMEOUT=20s'),
    ("log-format", {"VIGIL_LOG_FORMAT": "xml"},
     'VIGIL_LOG_FORMAT="xml": not one of text, json; example: VIGIL_LOG_FORMAT=json'),
    ("log-level", {"VIGIL_LOG_LEVEL": "loud"},
     'VIGIL_LOG_LEVEL="loud": not one of debug, info, warn, error; example: VIGIL_LOG_LEVEL=debug'),
    ("min-ready", {"VIGIL_MIN_READY": "10x"},
     f'VIGIL_MIN_READY="10x": {DURATION}; example: VIGIL_MIN_READY=10s'),
    ("drain-delay-negative", {"VIGIL_DRAIN_DELAY": "-1s"},
     f'VIGIL_DRAIN_DELAY="-1s": {DURATION}; example: VIGIL_DRAIN_DELAY=5s'),
    ("drain-delay-empty", {"VIGIL_DRAIN_DELAY": ""},
     f'VIGIL_DRAIN_DELAY="": {DURATION}; example: VIGIL_DRAIN_DELAY=5s'),
    ("drain-ports", {"VIGIL_DRAIN_PORTS": "80,x"},
     'VIGIL_DRAIN_PORTS="80,x": not a comma-separated list of ports between 1 and 65535; example: VIGIL_DRAIN_PORTS=8080,8443'),
    ("drain-ports-range", {"VIGIL_DRAIN_PORTS": "70000"},
     'VIGIL_DRAIN_PORTS="70000": not a comma-separated list of ports between 1 and 65535; example: VIGIL_DRAIN_PORTS=8080,8443'),
    ("drain-timeout", {"VIGIL_DRAIN_TIMEOUT": "abc"},
     f'VIGIL_DRAIN_TIMEOUT="abc": {DURATION}; example: VIGIL_DRAIN_TIMEOUT=30s'),
    ("restart", {"VIGIL_RESTART": "sometimes"},
     'VIGIL_RESTART="sometimes": not one of never, on-failure, always; example: VIGIL_RESTART=on-failure'),
    ("restart-backoff-max", {"VIGIL_RESTART_BACKOFF_MAX": "500ms"},
     'VIGIL_RESTART_BACKOFF_MAX="500ms": not a duration of at least 1s; example: VIGIL_RESTART_BACKOFF_MAX=30s'),
    ("restart-unhealthy", {"VIGIL_RESTART_UNHEALTHY": "maybe"},
     'VIGIL_RESTART_UNHEALTHY="maybe": not true or false; example: VIGIL_RESTART_UNHEALTHY=true'),
    ("details", {"VIGIL_DETAILS": "all"},
     'VIGIL_DETAILS="all": not one of local, always, never; example: VIGIL_DETAILS=always'),
    ("admin", {"VIGIL_ADMIN": "yes"},
     'VIGIL_ADMIN="yes": not one of local, token, off; example: VIGIL_ADMIN=token'),
    ("admin-token-missing", {"VIGIL_ADMIN": "token"},
     "VIGIL_ADMIN_TOKEN: must be set when VIGIL_ADMIN=token; example: VIGIL_ADMIN_TOKEN=s3cret-token"),
]


@pytest.mark.parametrize("env,line", [case[1:] for case in GLOBAL_PROBLEMS], ids=[case[0] for case in GLOBAL_PROBLEMS])
def test_bad_global_value_is_reported_exactly_and_nothing_starts(tmp_path, env, line):
    expect_problems(tmp_path, env, [line])


CHECK_PROBLEMS = [
    ("unknown-scheme", {"VIGIL_CHECK_DB": "postgres://1.2.3.4:5432"},
     f'VIGIL_CHECK_DB="postgres://1.2.3.4:5432": unknown scheme "postgres" (use http, https, grpc, grpcs, tcp, unix, exec or file); example: VIGIL_CHECK_DB={TARGET_EXAMPLE}'),
    ("not-a-target", {"VIGIL_CHECK_DB": "127.0.0.1:5432"},
     f'VIGIL_CHECK_DB="127.0.0.1:5432": not a check target (use http://, https://, grpc://, grpcs://, tcp://, unix://, exec: or file://); example: VIGIL_CHECK_DB={TARGET_EXAMPLE}'),
    ("empty-target", {"VIGIL_CHECK_DB": ""},
     f'VIGIL_CHECK_DB="": not a check target (use http://, https://, grpc://, grpcs://, tcp://, unix://, exec: or file://); example: VIGIL_CHECK_DB={TARGET_EXAMPLE}'),
    ("tcp-missing-port", {"VIGIL_CHECK_DB": "tcp://127.0.0.1"},
     f'VIGIL_CHECK_DB="tcp://127.0.0.1": missing port; example: VIGIL_CHECK_DB={TARGET_EXAMPLE}'),
    ("tcp-port-range", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:70000"},
     f'VIGIL_CHECK_DB="tcp://127.0.0.1:70000": port "70000" is not between 1 and 65535; example: VIGIL_CHECK_DB={TARGET_EXAMPLE}'),
    ("http-port-range", {"VIGIL_CHECK_WEB": "http://127.0.0.1:0/health"},
     f'VIGIL_CHECK_WEB="http://127.0.0.1:0/health": port "0" is not between 1 and 65535; example: VIGIL_CHECK_WEB={TARGET_EXAMPLE}'),
    ("http-credentials", {"VIGIL_CHECK_WEB": "http://user:pw@127.0.0.1/"},
     f'VIGIL_CHECK_WEB="http://user:pw@127.0.0.1/": credentials in the URL are not supported; example: VIGIL_CHECK_WEB={TARGET_EXAMPLE}'),
    ("unix-relative", {"VIGIL_CHECK_SOCK": "unix://run/x.sock"},
     f'VIGIL_CHECK_SOCK="unix://run/x.sock": unix:// needs an absolute path, as in unix:///run/app.sock; example: VIGIL_CHECK_SOCK={TARGET_EXAMPLE}'),
    ("file-relative", {"VIGIL_CHECK_BEAT": "file://tmp/x"},
     f'VIGIL_CHECK_BEAT="file://tmp/x": file:// needs an absolute path, as in file:///tmp/heartbeat; example: VIGIL_CHECK_BEAT={TARGET_EXAMPLE}'),
    ("exec-empty", {"VIGIL_CHECK_CMD": "exec:"},
     f'VIGIL_CHECK_CMD="exec:": exec: needs a command; example: VIGIL_CHECK_CMD={TARGET_EXAMPLE}'),
    ("exec-quote", {"VIGIL_CHECK_CMD": "exec:sh -c 'echo"},
     f'VIGIL_CHECK_CMD="exec:sh -c \'echo": unterminated quote in the command; example: VIGIL_CHECK_CMD={TARGET_EXAMPLE}'),
    ("exec-backslash", {"VIGIL_CHECK_CMD": "exec:echo \\"},
     f'VIGIL_CHECK_CMD="exec:echo \\": trailing backslash in the command; example: VIGIL_CHECK_CMD={TARGET_EXAMPLE}'),
    ("bad-name", {"VIGIL_CHECK_DB-X": "tcp://127.0.0.1:1"},
     "VIGIL_CHECK_DB-X: a check name may hold only letters, digits and underscores; example: VIGIL_CHECK_DB=tcp://127.0.0.1:5432"),
    ("builtin-process", {"VIGIL_CHECK_PROCESS": "tcp://127.0.0.1:1"},
     "VIGIL_CHECK_PROCESS: process is the name of a built-in fact; choose another name; example: VIGIL_CHECK_APP=http://127.0.0.1:8080/health"),
    ("builtin-draining", {"VIGIL_CHECK_DRAINING": "tcp://127.0.0.1:1"},
     "VIGIL_CHECK_DRAINING: draining is the name of a built-in fact; choose another name; example: VIGIL_CHECK_APP=http://127.0.0.1:8080/health"),
    ("builtin-startup", {"VIGIL_CHECK_STARTUP": "tcp://127.0.0.1:1"},
     "VIGIL_CHECK_STARTUP: startup is the name of a built-in fact; choose another name; example: VIGIL_CHECK_APP=http://127.0.0.1:8080/health"),
    ("option-typo", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_TIMOUT": "2s"},
     'VIGIL_CHECK_DB_TIMOUT="2s": unknown option TIMOUT of check db; did you mean VIGIL_CHECK_DB_TIMEOUT? example: VIGIL_CHECK_DB_TIMEOUT=1s'),
    ("option-typo-intervall", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_INTERVALL": "2s"},
     'VIGIL_CHECK_DB_INTERVALL="2s": unknown option INTERVALL of check db; did you mean VIGIL_CHECK_DB_INTERVAL? example: VIGIL_CHECK_DB_INTERVAL=5s'),
    ("option-unknown", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_XYZZYQQ": "1"},
     'VIGIL_CHECK_DB_XYZZYQQ="1": unknown option XYZZYQQ of check db'),
    ("option-without-check", {"VIGIL_CHECK_DB_TIMEOUT": "2s"},
     f'VIGIL_CHECK_DB_TIMEOUT="2s": option TIMEOUT of check db, but VIGIL_CHECK_DB is not set; example: VIGIL_CHECK_DB={TARGET_EXAMPLE}'),
    ("option-without-check-multiword", {"VIGIL_CHECK_MY_DB_PROBES": "live"},
     f'VIGIL_CHECK_MY_DB_PROBES="live": option PROBES of check my_db, but VIGIL_CHECK_MY_DB is not set; example: VIGIL_CHECK_MY_DB={TARGET_EXAMPLE}'),
    ("probes", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_PROBES": "ready,alive"},
     'VIGIL_CHECK_DB_PROBES="ready,alive": not a comma-separated list of startup, live, ready; example: VIGIL_CHECK_DB_PROBES=ready,live'),
    ("probes-empty", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_PROBES": ","},
     'VIGIL_CHECK_DB_PROBES=",": not a comma-separated list of startup, live, ready; example: VIGIL_CHECK_DB_PROBES=ready,live'),
    ("interval-zero", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_INTERVAL": "0s"},
     'VIGIL_CHECK_DB_INTERVAL="0s": must be more than 0s; example: VIGIL_CHECK_DB_INTERVAL=5s'),
    ("interval-words", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_INTERVAL": "fast"},
     f'VIGIL_CHECK_DB_INTERVAL="fast": {DURATION}; example: VIGIL_CHECK_DB_INTERVAL=5s'),
    ("timeout-zero", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_TIMEOUT": "0"},
     'VIGIL_CHECK_DB_TIMEOUT="0": must be more than 0s; example: VIGIL_CHECK_DB_TIMEOUT=1s'),
    ("failures-zero", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_FAILURES": "0"},
     'VIGIL_CHECK_DB_FAILURES="0": not a whole number from 1 to 1000; example: VIGIL_CHECK_DB_FAILURES=3'),
    ("failures-huge", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_FAILURES": "1001"},
     'VIGIL_CHECK_DB_FAILURES="1001": not a whole number from 1 to 1000; example: VIGIL_CHECK_DB_FAILURES=3'),
    ("successes-words", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_SUCCESSES": "many"},
     'VIGIL_CHECK_DB_SUCCESSES="many": not a whole number from 1 to 1000; example: VIGIL_CHECK_DB_SUCCESSES=1'),
    ("delay", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_DELAY": "later"},
     f'VIGIL_CHECK_DB_DELAY="later": {DURATION}; example: VIGIL_CHECK_DB_DELAY=10s'),
    ("expect-status-not-http", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_EXPECT_STATUS": "200"},
     'VIGIL_CHECK_DB_EXPECT_STATUS="200": EXPECT_STATUS applies to http:// and https:// checks only; example: VIGIL_CHECK_DB_EXPECT_STATUS=200-299,302'),
    ("expect-status-pattern", {"VIGIL_CHECK_WEB": "http://127.0.0.1:1/", "VIGIL_CHECK_WEB_EXPECT_STATUS": "2xx"},
     'VIGIL_CHECK_WEB_EXPECT_STATUS="2xx": not a list of statuses or ranges between 100 and 599; example: VIGIL_CHECK_WEB_EXPECT_STATUS=200-299,302'),
    ("expect-status-reversed", {"VIGIL_CHECK_WEB": "http://127.0.0.1:1/", "VIGIL_CHECK_WEB_EXPECT_STATUS": "300-200"},
     'VIGIL_CHECK_WEB_EXPECT_STATUS="300-200": not a list of statuses or ranges between 100 and 599; example: VIGIL_CHECK_WEB_EXPECT_STATUS=200-299,302'),
    ("expect-status-range", {"VIGIL_CHECK_WEB": "https://127.0.0.1:1/", "VIGIL_CHECK_WEB_EXPECT_STATUS": "200,600"},
     'VIGIL_CHECK_WEB_EXPECT_STATUS="200,600": not a list of statuses or ranges between 100 and 599; example: VIGIL_CHECK_WEB_EXPECT_STATUS=200-299,302'),
    ("expect-body-not-http", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_EXPECT_BODY": "UP"},
     'VIGIL_CHECK_DB_EXPECT_BODY="UP": EXPECT_BODY applies to http:// and https:// checks only; example: VIGIL_CHECK_DB_EXPECT_BODY=UP'),
    ("expect-body-empty", {"VIGIL_CHECK_WEB": "http://127.0.0.1:1/", "VIGIL_CHECK_WEB_EXPECT_BODY": ""},
     'VIGIL_CHECK_WEB_EXPECT_BODY="": must not be empty; example: VIGIL_CHECK_WEB_EXPECT_BODY=UP'),
    ("max-age-not-file", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_MAX_AGE": "30s"},
     'VIGIL_CHECK_DB_MAX_AGE="30s": MAX_AGE applies to file:// checks only; example: VIGIL_CHECK_DB_MAX_AGE=30s'),
    ("max-age-zero", {"VIGIL_CHECK_BEAT": "file:///tmp/beat", "VIGIL_CHECK_BEAT_MAX_AGE": "0"},
     'VIGIL_CHECK_BEAT_MAX_AGE="0": must be more than 0s; example: VIGIL_CHECK_BEAT_MAX_AGE=30s'),
    ("option-holding-a-target", {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_TIMEOUT": "tcp://127.0.0.1:2"},
     f'VIGIL_CHECK_DB_TIMEOUT="tcp://127.0.0.1:2": {DURATION}; example: VIGIL_CHECK_DB_TIMEOUT=1s'),
]


@pytest.mark.parametrize("env,line", [case[1:] for case in CHECK_PROBLEMS], ids=[case[0] for case in CHECK_PROBLEMS])
def test_bad_check_is_reported_exactly_and_nothing_starts(tmp_path, env, line):
    expect_problems(tmp_path, env, [line])


# --- typos -------------------------------------------------------------------------------------

TYPOS = [
    ("VIGIL_DRIAN_DELAY", "5", "VIGIL_DRIAN_DELAY: unknown setting; did you mean VIGIL_DRAIN_DELAY? example: VIGIL_DRAIN_DELAY=5s"),
    ("VIGIL_LISTN", ":80", "VIGIL_LISTN: unknown setting; did you mean VIGIL_LISTEN? example: VIGIL_LISTEN=:7979"),
    ("VIGIL_STOP_TIMOUT", "5s", "VIGIL_STOP_TIMOUT: unknown setting; did you mean VIGIL_STOP_TIMEOUT? example: VIGIL_STOP_TIMEOUT=20s"),
    ("VIGIL_MINREADY", "5s", "VIGIL_MINREADY: unknown setting; did you mean VIGIL_MIN_READY? example: VIGIL_MIN_READY=10s"),
    ("VIGIL_DETAIL", "always", "VIGIL_DETAIL: unknown setting; did you mean VIGIL_DETAILS? example: VIGIL_DETAILS=always"),
    ("VIGIL_ADMIN_TOKN", "x", "VIGIL_ADMIN_TOKN: unknown setting; did you mean VIGIL_ADMIN_TOKEN? example: VIGIL_ADMIN_TOKEN=s3cret-token"),
    ("VIGIL_LOG_LEVL", "debug", "VIGIL_LOG_LEVL: unknown setting; did you mean VIGIL_LOG_LEVEL? example: VIGIL_LOG_LEVEL=debug"),
    ("VIGIL_FOO", "1", "VIGIL_FOO: unknown setting (see `vigil config` for the known ones)"),
]


@pytest.mark.parametrize("name,value,line", TYPOS, ids=[t[0] for t in TYPOS])
def test_unknown_setting_suggests_the_closest_name(tmp_path, name, value, line):
    expect_problems(tmp_path, {name: value}, [line])


def test_the_typo_from_the_issue_reads_exactly_like_the_docs(tmp_path):
    """docs/configuration.md quotes this output; keep the two in step."""
    code, out, err, started = run_app(tmp_path, {"VIGIL_DRIAN_DELAY": "5s"})
    assert (code, started) == (2, False)
    assert err == ("vigil: error: VIGIL_DRIAN_DELAY: unknown setting; did you mean VIGIL_DRAIN_DELAY? example: VIGIL_DRAIN_DELAY=5s\n"
                   "vigil: 1 configuration problem; nothing was started\n")
    docs = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "configuration.md")).read()
    assert err in docs


def test_misspelled_check_prefix_suggests_vigil_check(tmp_path):
    """VIGIL_CHEKC_DB is a typo of VIGIL_CHECK_DB: the suggestion must name it (the closest known
    name), not give up because `VIGIL_CHECK_<NAME>` is far from it as a string."""
    code, out, err, started = run_app(tmp_path, {"VIGIL_CHEKC_DB": "tcp://127.0.0.1:5432"})
    assert (code, started) == (2, False)
    assert err.startswith("vigil: error: VIGIL_CHEKC_DB: unknown setting; did you mean VIGIL_CHECK_DB?"), err
    assert err.endswith(SUMMARY_ONE + "\n")


def test_empty_check_name_is_a_problem(tmp_path):
    """`VIGIL_CHECK_=…` is a VIGIL_* variable that is neither a check nor a setting: strictness says
    it stops vigil like any other unknown name, instead of being ignored."""
    code, out, err, started = run_app(tmp_path, {"VIGIL_CHECK_": "tcp://127.0.0.1:5432"})
    assert (code, started) == (2, False), err
    assert err.startswith("vigil: error: VIGIL_CHECK_"), err
    assert err.endswith(SUMMARY_ONE + "\n")


# --- all problems at once ----------------------------------------------------------------------

def test_every_problem_is_printed_at_once_sorted_by_variable(tmp_path):
    env = {
        "VIGIL_DRIAN_DELAY": "5",
        "VIGIL_CHECK_DB": "foo://x",
        "VIGIL_CHECK_X_TIMEOUT": "1s",
        "VIGIL_LISTEN": ":99999",
        "VIGIL_STOP_TIMEOUT": "forever",
        "VIGIL_ADMIN": "token",
        "VIGIL_CHECK_WEB": "http://127.0.0.1:8080/",
        "VIGIL_CHECK_WEB_FAILURES": "-1",
    }
    expect_problems(tmp_path, env, [
        "VIGIL_ADMIN_TOKEN: must be set when VIGIL_ADMIN=token; example: VIGIL_ADMIN_TOKEN=s3cret-token",
        f'VIGIL_CHECK_DB="foo://x": unknown scheme "foo" (use http, https, grpc, grpcs, tcp, unix, exec or file); example: VIGIL_CHECK_DB={TARGET_EXAMPLE}',
        'VIGIL_CHECK_WEB_FAILURES="-1": not a whole number from 1 to 1000; example: VIGIL_CHECK_WEB_FAILURES=3',
        f'VIGIL_CHECK_X_TIMEOUT="1s": option TIMEOUT of check x, but VIGIL_CHECK_X is not set; example: VIGIL_CHECK_X={TARGET_EXAMPLE}',
        "VIGIL_DRIAN_DELAY: unknown setting; did you mean VIGIL_DRAIN_DELAY? example: VIGIL_DRAIN_DELAY=5s",
        'VIGIL_LISTEN=":99999": port "99999" is not between 1 and 65535; example: VIGIL_LISTEN=:7979',
        f'VIGIL_STOP_TIMEOUT="forever": {DURATION}; example: VIGIL_STOP_TIMEOUT=20s',
    ])


def test_problems_stop_vigil_before_binding_the_probe_port(tmp_path):
    port = free_port()
    code, out, err, started = run_app(tmp_path, {"VIGIL_LISTEN": f"127.0.0.1:{port}", "VIGIL_CHECK_DB": "nope"})
    assert (code, started) == (2, False)
    with socket.socket() as s:  # still free: nothing was bound
        s.bind(("127.0.0.1", port))


def test_problems_stop_operator_commands_too(tmp_path):
    for command in (["probe"], ["status"], ["drain"]):
        code, out, err = run_vigil(*command, env={"VIGIL_DRIAN_DELAY": "5s"})
        assert code == 2, command
        assert err == ("vigil: error: VIGIL_DRIAN_DELAY: unknown setting; did you mean VIGIL_DRAIN_DELAY? example: VIGIL_DRAIN_DELAY=5s\n"
                       + SUMMARY_ONE + "\n")


# --- what is an option and what is a check -----------------------------------------------------

def config_lines(env):
    code, out, err = run_vigil("config", env=env)
    return code, out.splitlines(), err


def setting(lines, name):
    """`NAME=value  source` → (value, source) for NAME."""
    for line in lines:
        assignment, _, source = line.rpartition("  ")
        key, _, value = assignment.strip().partition("=")
        if key == name:
            return value, source.strip()
    raise AssertionError(f"{name} not in `vigil config`:\n" + "\n".join(lines))


def test_a_suffix_is_an_option_only_when_its_check_exists():
    # VIGIL_CHECK_DB_TIMEOUT holds a target and VIGIL_CHECK_DB is not set: a check named db_timeout.
    code, lines, err = config_lines({"VIGIL_CHECK_DB_TIMEOUT": "tcp://127.0.0.1:1"})
    assert (code, err) == (0, "")
    assert setting(lines, "VIGIL_CHECK_DB_TIMEOUT") == ("tcp://127.0.0.1:1", "environment")
    assert setting(lines, "VIGIL_CHECK_DB_TIMEOUT_TIMEOUT") == ("1s", "default")
    # With VIGIL_CHECK_DB set it is DB's option.
    code, lines, err = config_lines({"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_TIMEOUT": "2s"})
    assert (code, err) == (0, "")
    assert setting(lines, "VIGIL_CHECK_DB_TIMEOUT") == ("2s", "environment")
    assert not any(line.startswith("VIGIL_CHECK_DB_TIMEOUT_") for line in lines)
    # A name that only looks like it has an option suffix is a check of its own.
    code, lines, err = config_lines({"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_EXTRA": "tcp://127.0.0.1:2"})
    assert (code, err) == (0, "")
    assert setting(lines, "VIGIL_CHECK_DB_EXTRA") == ("tcp://127.0.0.1:2", "environment")
    assert setting(lines, "VIGIL_CHECK_DB_EXTRA_PROBES") == ("ready", "default")


def test_the_default_timeout_follows_a_shorter_interval():
    code, lines, err = config_lines({"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_DB_INTERVAL": "200ms"})
    assert (code, err) == (0, "")
    assert setting(lines, "VIGIL_CHECK_DB_INTERVAL") == ("200ms", "environment")
    assert setting(lines, "VIGIL_CHECK_DB_TIMEOUT") == ("200ms", "default")


def test_a_timeout_longer_than_the_interval_is_accepted():
    """As in kubelet and Docker (docs/configuration.md): runs never overlap, the next one starts
    when the previous one ended."""
    for options in ({"VIGIL_CHECK_DB_TIMEOUT": "10s"},
                    {"VIGIL_CHECK_DB_INTERVAL": "500ms", "VIGIL_CHECK_DB_TIMEOUT": "1.5s"}):
        env = {"VIGIL_CHECK_DB": "tcp://127.0.0.1:1", **options}
        code, lines, err = config_lines(env)
        assert (code, err) == (0, ""), err
        assert setting(lines, "VIGIL_CHECK_DB_TIMEOUT") == (options["VIGIL_CHECK_DB_TIMEOUT"], "environment")
        assert run_vigil("config", "--check", env=env) == (0, "configuration ok\n", "")


def test_multi_word_check_names_take_their_options():
    code, lines, err = config_lines({
        "VIGIL_CHECK_MY_DB": "tcp://127.0.0.1:1", "VIGIL_CHECK_MY_DB_INTERVAL": "1.5s",
        "VIGIL_CHECK_MY_DB_PROBES": "live, startup", "VIGIL_CHECK_MY_DB_FAILURES": "5"})
    assert (code, err) == (0, "")
    assert setting(lines, "VIGIL_CHECK_MY_DB_INTERVAL") == ("1.5s", "environment")
    assert setting(lines, "VIGIL_CHECK_MY_DB_PROBES") == ("startup,live", "environment")
    assert setting(lines, "VIGIL_CHECK_MY_DB_FAILURES") == ("5", "environment")
    assert setting(lines, "VIGIL_CHECK_MY_DB_SUCCESSES") == ("1", "default")


# --- vigil config -------------------------------------------------------------------------------

DEFAULT_CONFIG = """\
VIGIL_LISTEN=:7979                 default
VIGIL_SIGNAL_TARGET=group          default
VIGIL_STOP_SIGNAL=SIGTERM          default
VIGIL_SHUTDOWN_SIGNALS=SIGTERM     default
VIGIL_STOP_TIMEOUT=20s             default
VIGIL_LOG_FORMAT=text              default
VIGIL_LOG_LEVEL=info               default
VIGIL_MIN_READY=0s                 default
VIGIL_DRAIN_DELAY=5s               default
VIGIL_DRAIN_PORTS=                 default
VIGIL_DRAIN_TIMEOUT=30s            default
VIGIL_RESTART=never                default
VIGIL_RESTART_BACKOFF_MAX=30s      default
VIGIL_RESTART_LIMIT=0              default
VIGIL_RESTART_WINDOW=5m            default
VIGIL_RESTART_UNHEALTHY=false      default
VIGIL_DETAILS=local                default
VIGIL_ADMIN=local                  default
VIGIL_ADMIN_TOKEN=                 default
VIGIL_VERSION=                     default
VIGIL_NOTIFY=false                 default
VIGIL_NOTIFY_WATCHDOG=0s           default
VIGIL_NOTIFY_FD=                   default
VIGIL_USER=                        default
VIGIL_PROXY_LISTEN=off             default
VIGIL_PROXY_UPSTREAM=              default
VIGIL_PROXY_MODE=http              default
VIGIL_PROXY_TIMEOUT=1m             default
VIGIL_PROXY_HEADER_TIMEOUT=10s     default
VIGIL_PROXY_IDLE_TIMEOUT=1m        default
VIGIL_PROXY_FORWARDED=true         default
VIGIL_PROXY_MAX_CONNECTIONS=10000  default
VIGIL_PROXY_QUEUE=1000             default
"""


def test_config_prints_every_setting_with_its_default():
    code, out, err = run_vigil("config")
    assert (code, out, err) == (0, DEFAULT_CONFIG, "")


def test_config_shows_environment_values_canonically_and_check_options():
    code, out, err = run_vigil("config", env={
        "VIGIL_LISTEN": "127.0.0.1:8000", "VIGIL_STOP_SIGNAL": "quit", "VIGIL_STOP_TIMEOUT": "90",
        "VIGIL_LOG_LEVEL": "WARNING", "VIGIL_MIN_READY": "1m30s", "VIGIL_DRAIN_PORTS": "8080, 8443",
        "VIGIL_ADMIN": "token", "VIGIL_ADMIN_TOKEN": "hunter2-very-secret",
        "VIGIL_CHECK_WEB": "http://localhost:8080/health", "VIGIL_CHECK_WEB_PROBES": "live,ready",
        "VIGIL_CHECK_WEB_EXPECT_BODY": "UP", "VIGIL_CHECK_WEB_INTERVAL": "2s",
        "VIGIL_CHECK_BEAT": "file:///tmp/beat", "VIGIL_CHECK_BEAT_MAX_AGE": "90",
    })
    assert code == 0
    assert err == ("vigil: warning: VIGIL_DRAIN_TIMEOUT + VIGIL_STOP_TIMEOUT = 2m, more than Kubernetes' default grace "
                   "period of 30s: raise the pod's terminationGracePeriodSeconds to at least 125, or lower them\n")
    assert out == """\
VIGIL_LISTEN=127.0.0.1:8000                   environment
VIGIL_SIGNAL_TARGET=group                     default
VIGIL_STOP_SIGNAL=SIGQUIT                     environment
VIGIL_SHUTDOWN_SIGNALS=SIGTERM                default
VIGIL_STOP_TIMEOUT=1m30s                      environment
VIGIL_LOG_FORMAT=text                         default
VIGIL_LOG_LEVEL=warn                          environment
VIGIL_MIN_READY=1m30s                         environment
VIGIL_DRAIN_DELAY=5s                          default
VIGIL_DRAIN_PORTS=8080,8443                   environment
VIGIL_DRAIN_TIMEOUT=30s                       default
VIGIL_RESTART=never                           default
VIGIL_RESTART_BACKOFF_MAX=30s                 default
VIGIL_RESTART_LIMIT=0                         default
VIGIL_RESTART_WINDOW=5m                       default
VIGIL_RESTART_UNHEALTHY=false                 default
VIGIL_DETAILS=local                           default
VIGIL_ADMIN=token                             environment
VIGIL_ADMIN_TOKEN=(set, hidden)               environment
VIGIL_VERSION=                                default
VIGIL_NOTIFY=false                            default
VIGIL_NOTIFY_WATCHDOG=0s                      default
VIGIL_NOTIFY_FD=                              default
VIGIL_USER=                                   default
VIGIL_PROXY_LISTEN=off                        default
VIGIL_PROXY_UPSTREAM=                         default
VIGIL_PROXY_MODE=http                         default
VIGIL_PROXY_TIMEOUT=1m                        default
VIGIL_PROXY_HEADER_TIMEOUT=10s                default
VIGIL_PROXY_IDLE_TIMEOUT=1m                   default
VIGIL_PROXY_FORWARDED=true                    default
VIGIL_PROXY_MAX_CONNECTIONS=10000             default
VIGIL_PROXY_QUEUE=1000                        default
VIGIL_CHECK_BEAT=file:///tmp/beat             environment
VIGIL_CHECK_BEAT_PROBES=ready                 default
VIGIL_CHECK_BEAT_INTERVAL=5s                  default
VIGIL_CHECK_BEAT_TIMEOUT=1s                   default
VIGIL_CHECK_BEAT_FAILURES=3                   default
VIGIL_CHECK_BEAT_SUCCESSES=1                  default
VIGIL_CHECK_BEAT_DELAY=0s                     default
VIGIL_CHECK_BEAT_MAX_AGE=1m30s                environment
VIGIL_CHECK_WEB=http://localhost:8080/health  environment
VIGIL_CHECK_WEB_PROBES=live,ready             environment
VIGIL_CHECK_WEB_INTERVAL=2s                   environment
VIGIL_CHECK_WEB_TIMEOUT=1s                    default
VIGIL_CHECK_WEB_FAILURES=3                    default
VIGIL_CHECK_WEB_SUCCESSES=1                   default
VIGIL_CHECK_WEB_DELAY=0s                      default
VIGIL_CHECK_WEB_EXPECT_STATUS=200-399         default
VIGIL_CHECK_WEB_EXPECT_BODY=UP                environment
"""
    assert "hunter2" not in out


def test_config_with_listen_off_drops_the_drain_delay():
    """Without a probe server nobody can see readiness fail, so the default delay is 0s."""
    code, lines, err = config_lines({"VIGIL_LISTEN": "off"})
    assert code == 0
    assert setting(lines, "VIGIL_LISTEN") == ("off", "environment")
    assert setting(lines, "VIGIL_DRAIN_DELAY") == ("0s", "default")
    code, lines, err = config_lines({"VIGIL_LISTEN": "off", "VIGIL_DRAIN_DELAY": "3s"})
    assert setting(lines, "VIGIL_DRAIN_DELAY") == ("3s", "environment")


def test_config_with_problems_prints_the_table_and_the_problems_and_exits_2():
    code, out, err = run_vigil("config", env={"VIGIL_DRIAN_DELAY": "5s"})
    assert code == 2
    assert out == DEFAULT_CONFIG
    assert err == ("vigil: error: VIGIL_DRIAN_DELAY: unknown setting; did you mean VIGIL_DRAIN_DELAY? example: VIGIL_DRAIN_DELAY=5s\n"
                   + SUMMARY_ONE + "\n")


def test_config_check_prints_ok_or_only_the_problems():
    assert run_vigil("config", "--check") == (0, "configuration ok\n", "")
    assert run_vigil("config", "--check", env={"VIGIL_CHECK_DB": "tcp://127.0.0.1:5432"}) == (0, "configuration ok\n", "")
    code, out, err = run_vigil("config", "--check", env={"VIGIL_LOG_FORMAT": "xml", "VIGIL_MIN_READY": "x"})
    assert (code, out) == (2, "")
    assert err == ('vigil: error: VIGIL_LOG_FORMAT="xml": not one of text, json; example: VIGIL_LOG_FORMAT=json\n'
                   f'vigil: error: VIGIL_MIN_READY="x": {DURATION}; example: VIGIL_MIN_READY=10s\n'
                   "vigil: 2 configuration problems; nothing was started\n")


def test_config_warns_when_the_stop_can_outlast_the_grace_period():
    code, out, err = run_vigil("config", "--check", env={"VIGIL_DRAIN_DELAY": "20s", "VIGIL_STOP_TIMEOUT": "20s"})
    assert (code, out) == (0, "configuration ok\n")
    assert err == ("vigil: warning: VIGIL_DRAIN_DELAY + VIGIL_STOP_TIMEOUT = 40s, more than Kubernetes' default grace "
                   "period of 30s: raise the pod's terminationGracePeriodSeconds to at least 45, or lower them\n")


def test_config_rejects_operands():
    code, out, err = run_vigil("config", "extra")
    assert (code, out) == (2, "")
    assert err == "vigil: vigil config: unexpected argument \"extra\"\nRun 'vigil --help' for usage.\n"


# --- secrets -------------------------------------------------------------------------------------

def test_secret_values_never_appear(tmp_path):
    secret = "hunter2-do-not-print"
    env = {"VIGIL_ADMIN": "token", "VIGIL_ADMIN_TOKEN": secret, "DATABASE_PASSWORD": "pw-" + secret}
    # vigil config
    code, out, err = run_vigil("config", env=env)
    assert code == 0 and secret not in out + err
    assert "VIGIL_ADMIN_TOKEN=(set, hidden)" in out
    # problems next to a secret; an unknown VIGIL_ variable's value is never printed either
    code, out, err, started = run_app(tmp_path, dict(env, VIGIL_PASSWORD="vp-" + secret, VIGIL_MIN_READY="x"))
    assert (code, started) == (2, False)
    assert secret not in out + err
    assert "VIGIL_PASSWORD: unknown setting" in err
    # the running agent's log, at debug level
    port = free_port()
    v = Vigil(["true"], env=dict(env, VIGIL_LOG_LEVEL="debug", VIGIL_CHECK_OK="exec:true"), port=port, tmp_path=tmp_path)
    try:
        assert v.wait(timeout=10) == 0
        log = open(v.stderr_path).read()
        assert "started the app" in log
        assert secret not in log
    finally:
        v.stop()


# --- values that are fine ------------------------------------------------------------------------

def test_accepted_spellings(tmp_path):
    """Durations: 500ms, 5s, 1m30s, 1.5s, bare seconds, 2h; signals by name, short name or number;
    booleans; case-insensitive choices."""
    code, lines, err = config_lines({
        "VIGIL_STOP_TIMEOUT": "1.5s", "VIGIL_DRAIN_DELAY": "500ms", "VIGIL_DRAIN_TIMEOUT": "2h",
        "VIGIL_MIN_READY": "90", "VIGIL_STOP_SIGNAL": "3", "VIGIL_RESTART_UNHEALTHY": "yes",
        "VIGIL_RESTART": "On-Failure", "VIGIL_LOG_FORMAT": "JSON", "VIGIL_DETAILS": "never",
        "VIGIL_LISTEN": "[::1]:7979",
    })
    assert (code, err) == (0, "")
    assert setting(lines, "VIGIL_STOP_TIMEOUT")[0] == "1.5s"
    assert setting(lines, "VIGIL_DRAIN_DELAY")[0] == "500ms"
    assert setting(lines, "VIGIL_DRAIN_TIMEOUT")[0] == "2h"
    assert setting(lines, "VIGIL_MIN_READY")[0] == "1m30s"
    assert setting(lines, "VIGIL_STOP_SIGNAL")[0] == "SIGQUIT"
    assert setting(lines, "VIGIL_RESTART_UNHEALTHY")[0] == "true"
    assert setting(lines, "VIGIL_RESTART")[0] == "on-failure"
    assert setting(lines, "VIGIL_LOG_FORMAT")[0] == "json"
    assert setting(lines, "VIGIL_DETAILS")[0] == "never"
    assert setting(lines, "VIGIL_LISTEN")[0] == "[::1]:7979"


def test_check_targets_that_parse(tmp_path):
    env = {
        "VIGIL_CHECK_A": "http://127.0.0.1/", "VIGIL_CHECK_B": "https://[::1]:8443/health?full=1",
        "VIGIL_CHECK_C": "tcp://localhost:5432", "VIGIL_CHECK_D": "unix:///run/app.sock",
        "VIGIL_CHECK_E": "exec:sh -c 'test -e /tmp/ready'", "VIGIL_CHECK_F": "file:///tmp/heartbeat",
        "VIGIL_CHECK_F_MAX_AGE": "30s", "VIGIL_CHECK_A_EXPECT_STATUS": "200-299,302",
    }
    code, out, err = run_vigil("config", "--check", env=env)
    assert (code, out, err) == (0, "configuration ok\n", "")


# --- the probe port -------------------------------------------------------------------------------

def test_a_port_that_cannot_be_bound_stops_vigil_before_the_app(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err, started = run_app(tmp_path, {"VIGIL_LISTEN": f"127.0.0.1:{port}"})
    assert (code, started) == (2, False)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vigil: error: ") and "VIGIL_LISTEN" in lines[0] and f"127.0.0.1:{port}" in lines[0]
    assert "already in use" in lines[0].lower()
    # the operator reads this: no Swift function signatures or unbalanced punctuation
    assert "descriptor" not in lines[0] and "bind(" not in lines[0], lines[0]


def test_listen_off_runs_a_plain_init(tmp_path):
    code, out, err, started = run_app(tmp_path, {"VIGIL_LISTEN": "off"})
    assert (code, started) == (0, True)
    assert "probe server listening" not in err


def test_usage_errors_exit_2():
    assert run_vigil() == (2, "", "vigil: missing COMMAND: vigil runs an app, as in `vigil -- my-app --flag`\n"
                                  "Run 'vigil --help' for usage.\n")
    assert run_vigil("--bogus") == (2, "", "vigil: unknown option --bogus (vigil is configured with VIGIL_* variables; "
                                           "see vigil --help)\nRun 'vigil --help' for usage.\n")
    code, out, err = run_vigil("--help")
    assert code == 0 and "VIGIL_CHECK_<NAME>=<target>" in out and err == ""
