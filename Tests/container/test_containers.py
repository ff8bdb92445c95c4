"""vigil in real containers: images built from Dockerfile.template with podman + runc, on a
FROM-scratch base (static busybox as the app) and a Debian 12 base made with debootstrap.

What is checked, on both bases: the image's configuration; vigil is PID 1 and the app its child;
the probe endpoints through a published port; `podman stop` drains (readiness 503) and ends with
the app's exit code in the expected time; a child ignoring SIGTERM is SIGKILLed at
VIGIL_STOP_TIMEOUT; orphans are reaped; `podman healthcheck run` follows the app's check; a bad
VIGIL_* value stops the container with exit code 2 and the reason in `podman logs`.
"""
import json
import re
import threading
import time

import pytest

from vigiltest import images
from vigiltest.podman import VIGIL_IN_IMAGE as VIGIL, podman

# pytest-timeout on the test bodies (up to 9 s on a quiet 2-core machine); fixtures are left out:
# the first use of a base may debootstrap Debian, bounded by the subprocess timeouts in
# vigiltest.images, not by a guess at how fast the mirror is.
pytestmark = pytest.mark.timeout(120, func_only=True)
# An app that runs until it is signalled; `sleep` is a child, the loop keeps the shell in charge.
LOOP = "while :; do sleep 1; done"


def sh(script):
    return ["sh", "-c", script]


# ---------------------------------------------------------------------------------------------
# The template itself


def template_text():
    with open(images.TEMPLATE) as f:
        return f.read()


def test_template_documents_every_build_argument():
    text = template_text()
    header = text.split("\nARG ", 1)[0]
    arguments = sorted(set(re.findall(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)", text, re.M)))
    assert {"APP_IMAGE", "VIGIL_SOURCE", "VIGIL_BINARY", "SWIFT_IMAGE"} <= set(arguments)
    for argument in arguments:
        assert re.search(rf"^#\s+{argument}\s", header, re.M), f"ARG {argument} is not documented in the header"


def test_template_has_the_runtime_instructions():
    text = template_text()
    assert 'ENTRYPOINT ["/usr/local/bin/vigil", "--"]' in text
    assert re.search(r'^HEALTHCHECK .*\\\n\s+CMD \["/usr/local/bin/vigil", "probe", "ready"\]', text, re.M)
    assert re.search(r"^STOPSIGNAL SIGTERM$", text, re.M)
    assert re.search(r"^EXPOSE 7979$", text, re.M)
    assert re.search(r"^COPY --from=vigil /vigil /usr/local/bin/vigil$", text, re.M)
    assert re.search(r"^FROM \$\{APP_IMAGE\}$", text, re.M)


def test_image_configuration(image, built_images):
    info = json.loads(podman("image", "inspect", image).stdout)[0]
    config = info["Config"]
    assert config["Entrypoint"] == [VIGIL, "--"]
    assert config["StopSignal"] == "SIGTERM"
    assert "7979/tcp" in config["ExposedPorts"]
    assert {"VIGIL_LISTEN=:7979", "VIGIL_DRAIN_DELAY=5s", "VIGIL_STOP_TIMEOUT=20s"} <= set(config["Env"])
    # --format docker keeps the HEALTHCHECK (the OCI format has none).
    assert info["Healthcheck"]["Test"] == ["CMD", VIGIL, "probe", "ready"]
    # VIGIL_SOURCE=prebuilt: the Swift stage is skipped (it would need a registry to pull from).
    output = next(out for tag, out in built_images.values() if tag == image)
    assert "AS vigil-prebuilt" in output
    assert "AS vigil-source" not in output and "swift build" not in output
    # The build ran the binary once (the `vigil` stage's RUN) before copying it.
    assert re.search(r"^vigil \d+\.\d+", output, re.M), output


# ---------------------------------------------------------------------------------------------
# Running


def test_vigil_is_pid_1_and_the_app_its_child(image, run):
    c = run(image, sh(f'echo "app pid=$$ ppid=$PPID"; {LOOP}'), publish=False)
    logs = c.wait_for_log("app pid=")
    cmdline = c.exec("cat", "/proc/1/cmdline", check=True).stdout.split("\0")
    assert cmdline[:3] == [VIGIL, "--", "sh"], cmdline
    assert "ppid=1" in logs, logs
    assert c.exec(VIGIL, "--version", check=True).stdout.startswith("vigil ")
    if "debian" in image and images.debian_kind() == "debootstrap":
        assert c.exec("cat", "/etc/debian_version", check=True).stdout.startswith("12.")
    # The agent in the container answers its own CLI (what HEALTHCHECK and operators use).
    probe = c.exec(VIGIL, "probe", "ready")
    assert probe.returncode == 0, probe.stdout + probe.stderr
    status = c.exec(VIGIL, "status")
    assert status.returncode == 0 and "process" in status.stdout, status.stdout + status.stderr


def test_probe_endpoints_through_a_published_port(image, run):
    c = run(image, sh(LOOP))
    assert c.wait_for("/readyz", 200) == "ok"
    assert c.get("/livez") == (200, "ok")
    assert c.get("/startupz") == (200, "ok")
    status, body = c.get("/readyz?verbose")
    assert status == 200 and "[+]process ok" in body and "readyz check passed" in body, body
    status, metrics = c.get("/metrics")
    assert status == 200
    assert re.search(r"^vigil_ready 1$", metrics, re.M), metrics
    assert re.search(r"^vigil_app_up 1$", metrics, re.M), metrics


@pytest.mark.parametrize("app, expected", [
    pytest.param(LOOP, 143, id="killed-by-SIGTERM"),
    pytest.param(f'trap "exit 0" TERM; {LOOP}', 0, id="exits-0-on-SIGTERM"),
])
def test_podman_stop_drains_then_stops_the_app(image, run, app, expected):
    c = run(image, sh(app), env={"VIGIL_DRAIN_DELAY": "2s", "VIGIL_STOP_TIMEOUT": "10s"})
    c.wait_for("/readyz", 200)
    seen = []
    stopping = threading.Event()

    def watch():
        while not stopping.is_set():
            seen.append((time.monotonic(), *c.get("/readyz", timeout=1)))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    started = time.monotonic()
    watcher.start()
    try:
        podman("stop", "-t", "30", c.name, timeout=60)
        elapsed = time.monotonic() - started
    finally:
        stopping.set()
        watcher.join()
    code = c.exit_code()
    logs = c.logs()
    assert code == expected, logs
    # The drain delay is spent failing readiness, then the app goes at once (far below -t 30).
    assert 1.8 <= elapsed < 8, f"stopped after {elapsed:.1f}s\n{logs}"
    draining = [(t - started, s, b) for t, s, b in seen if s == 503]
    assert draining, f"readiness never failed during the drain: {seen}"
    assert any("draining" in b for _, _, b in draining), draining
    assert draining[0][0] < 1.0, f"readiness failed only {draining[0][0]:.1f}s after SIGTERM"
    assert not [x for x in seen if x[1] == 200 and x[0] - started > 1.0 and x[0] - started < elapsed], \
        "readiness passed again during the drain"


def test_child_ignoring_sigterm_is_killed_at_stop_timeout(image, run):
    # The shell ignores SIGTERM and so does every sleep it starts (ignored signals are inherited).
    c = run(image, sh(f'trap "" TERM; echo ignoring; {LOOP}'), publish=False,
            env={"VIGIL_DRAIN_DELAY": "1s", "VIGIL_STOP_TIMEOUT": "3s"})
    c.wait_for_log("ignoring")
    started = time.monotonic()
    podman("stop", "-t", "30", c.name, timeout=60)
    elapsed = time.monotonic() - started
    logs = c.logs()
    assert c.exit_code() == 137, logs
    # 1s drain + 3s stop timeout; podman's own SIGKILL would only come after 30s.
    assert 3.8 <= elapsed < 10, f"stopped after {elapsed:.1f}s\n{logs}"


def test_orphans_are_reaped(image, run):
    # Twenty grandchildren, each orphaned at once (its parent subshell exits), re-parented to PID 1.
    app = f'i=0; while [ $i -lt 20 ]; do (sleep 2 &); i=$((i+1)); done; echo spawned; {LOOP}'
    c = run(image, sh(app), publish=False)
    c.wait_for_log("spawned")
    orphans = [p for p in c.processes() if p[1] == "sleep" and p[3] == 1]
    assert len(orphans) >= 15, f"orphans not re-parented to vigil: {c.processes()}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        processes = c.processes()
        if not [p for p in processes if p[1] == "sleep" and p[3] == 1]:
            break
        time.sleep(0.5)
    time.sleep(0.5)
    processes = c.processes()
    zombies = [p for p in processes if p[2] == "Z"]
    assert not zombies, f"zombies: {zombies}\nall: {processes}"
    assert not [p for p in processes if p[1] == "sleep" and p[3] == 1], processes
    assert c.running()


def test_healthcheck_follows_the_apps_check(image, run):
    c = run(image, sh(f"touch /tmp/ok; {LOOP}"), publish=False, env={
        "VIGIL_CHECK_APP": "exec:test -f /tmp/ok",
        "VIGIL_CHECK_APP_INTERVAL": "1s",
        "VIGIL_CHECK_APP_FAILURES": "1",
    })
    deadline = time.monotonic() + 15
    while True:
        result = podman("healthcheck", "run", c.name, check=False)
        if result.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert result.returncode == 0, f"{result.stdout}{result.stderr}\n{c.logs()}"
    assert c.inspect("{{.State.Health.Status}}") == "healthy"

    c.exec("rm", "/tmp/ok", check=True)
    deadline = time.monotonic() + 15
    while True:
        result = podman("healthcheck", "run", c.name, check=False)
        if result.returncode != 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert result.returncode == 1, f"{result.stdout}{result.stderr}\n{c.logs()}"
    assert "unhealthy" in result.stdout
    last = json.loads(c.inspect("{{json .State.Health.Log}}"))[-1]
    assert last["ExitCode"] == 1
    assert "[-]app failed" in last["Output"] and "readyz check failed" in last["Output"], last
    assert c.running(), "a failing readiness check must not stop the app"


def test_http_check_against_the_app(run, template_image):
    """busybox httpd as the app (scratch image only: the Debian minbase has no HTTP server)."""
    image = template_image("scratch")
    app = "mkdir -p /tmp/www && echo hello > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /tmp/www"
    c = run(image, sh(app), env={
        "VIGIL_CHECK_WEB": "http://127.0.0.1:8080/index.html",
        "VIGIL_CHECK_WEB_INTERVAL": "1s",
        "VIGIL_CHECK_WEB_FAILURES": "1",
    })
    assert c.wait_for("/readyz", 200) == "ok"
    c.exec("rm", "/tmp/www/index.html", check=True)
    body = c.wait_for("/readyz", 503)
    assert "[-]web failed" in body, body
    assert c.get("/livez") == (200, "ok"), "readiness checks must not fail liveness"


def test_app_exit_code_is_the_containers(image, run):
    c = run(image, sh("echo bye; exit 7"), publish=False)
    assert c.wait(timeout=30) == 7, c.logs()


@pytest.mark.parametrize("variable, value, message", [
    ("VIGIL_DRAIN_DELAY", "soon", 'vigil: error: VIGIL_DRAIN_DELAY="soon": not a duration'),
    ("VIGIL_STOP_TIMOUT", "5s", "did you mean VIGIL_STOP_TIMEOUT?"),
])
def test_bad_setting_exits_2_before_the_app_starts(image, run, variable, value, message):
    c = run(image, sh(f"echo app-started; {LOOP}"), publish=False, env={variable: value})
    code = c.wait(timeout=30)
    logs = c.logs()
    assert code == 2, logs
    assert message in logs, logs
    assert "nothing was started" in logs, logs
    assert "app-started" not in logs, logs


# ---------------------------------------------------------------------------------------------
# VIGIL_USER (issue 14)

# The ids of this shell, from /proc with shell builtins only (the scratch base has busybox's sh).
IDS = ('while read -r k a b c d; do case "$k" in Uid:|Gid:) echo "$k $a $b $c $d";; esac; '
       'done < /proc/self/status')


def ids_of(c, pid):
    script = IDS.replace("/proc/self/", f"/proc/{pid}/")
    return c.exec("sh", "-c", script, check=True).stdout.split("\n")[:2]


def test_vigil_user_drops_vigil_the_app_and_exec_checks(image, run):
    c = run(image, sh(LOOP), env={"VIGIL_USER": "65534:65534", "VIGIL_CHECK_WHO": f"exec:sh -c '{IDS}'",
                                  "VIGIL_CHECK_WHO_INTERVAL": "200ms"})
    c.wait_for("/readyz", 200)
    nobody = ["Uid: 65534 65534 65534 65534", "Gid: 65534 65534 65534 65534"]
    assert ids_of(c, 1) == nobody, "vigil itself, PID 1, after binding :7979"
    app = [pid for pid, comm, _, ppid in c.processes() if ppid == 1 and comm == "sh"]
    assert app and ids_of(c, app[0]) == nobody, "the app"
    status = json.loads(c.exec(VIGIL, "status", "--json", check=True).stdout)
    reason = next(check["last_reason"] for check in status["checks"] if check["name"] == "who")
    assert "Uid: 65534 65534 65534 65534" in reason and "Gid: 65534 65534 65534 65534" in reason, reason


def test_vigil_user_that_does_not_resolve_stops_the_container(image, run):
    c = run(image, sh(LOOP), env={"VIGIL_USER": "ghost"}, publish=False)
    assert c.wait() == 2
    assert 'VIGIL_USER="ghost": no user "ghost" in /etc/passwd' in c.logs()
