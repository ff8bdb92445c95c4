"""Issue 14, black-box: sd_notify. A Python app speaks the protocol over NOTIFY_SOCKET (an
abstract-namespace datagram socket): READY=1 completes startup and readiness, RELOADING=1 and
STOPPING=1 fail readiness, STATUS= shows in /status, WATCHDOG=1 feeds liveness, and only the app's
process group is heard (credentials from SO_PASSCRED).
"""
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

from vigiltest.http import curl
from vigiltest.vigil import Vigil, run_vigil
from vigiltest.waiting import wait_until

# The app: writes its notify environment to env.json, then sends each file dropped into ctl/ as one
# datagram (files are taken in name order and removed once sent).
APP = r"""
import json, os, socket, sys, time
home = sys.argv[1]
json.dump({k: os.environ.get(k) for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}, open(home + "/env.json.tmp", "w"))
os.rename(home + "/env.json.tmp", home + "/env.json")
address = os.environ["NOTIFY_SOCKET"]
address = "\0" + address[1:] if address.startswith("@") else address
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
while True:
    for name in sorted(os.listdir(home + "/ctl")):
        path = home + "/ctl/" + name
        s.sendto(open(path, "rb").read(), address)
        os.unlink(path)
    time.sleep(0.02)
"""


class NotifyApp:
    def __init__(self, tmp_path):
        self.home = tmp_path
        (tmp_path / "ctl").mkdir()
        (tmp_path / "app.py").write_text(APP)
        self.count = 0

    @property
    def command(self):
        return [sys.executable, str(self.home / "app.py"), str(self.home)]

    def send(self, text):
        self.count += 1
        tmp = self.home / f"tmp-{self.count}"
        tmp.write_text(text)
        os.rename(tmp, self.home / "ctl" / f"{self.count:06d}")
        wait_until(lambda: not (self.home / "ctl" / f"{self.count:06d}").exists(), timeout=5, what="sent")

    def env(self):
        path = self.home / "env.json"
        wait_until(path.exists, timeout=5, what="env.json")
        return json.loads(path.read_text())


def status(v):
    return json.loads(curl(v.url("/status?format=json"))[1])


def test_ready_reloading_status_and_stopping(tmp_path):
    app = NotifyApp(tmp_path)
    v = Vigil(app.command, env={"VIGIL_NOTIFY": "true"})
    try:
        v.wait_listening()
        env = app.env()
        assert env["NOTIFY_SOCKET"] == f"@vigil-notify-{v.pid}" and env["WATCHDOG_USEC"] is None
        code, body, _ = curl(v.url("/readyz?verbose"))
        assert code == 503 and "[-]notify failed: waiting for READY=1" in body
        assert curl(v.url("/startupz"))[0] == 503
        app.send("STATUS=warming the cache")
        wait_until(lambda: (status(v)["notify"] or {}).get("status") == "warming the cache", what="STATUS")
        assert status(v)["notify"]["state"] == "waiting"
        app.send("READY=1\nSTATUS=serving")
        v.wait_for("/readyz", 200)
        assert curl(v.url("/startupz"))[0] == 200
        text = curl(v.url("/status"))[1]
        assert text.endswith("notify: ready  status: serving\n"), text
        assert "[+]notify ok" in curl(v.url("/readyz?verbose"))[1]
        app.send("RELOADING=1")
        body = v.wait_for("/readyz?verbose", 503)
        assert "[-]notify failed: reloading (RELOADING=1)" in body
        app.send("READY=1")
        v.wait_for("/readyz", 200)
        app.send("STOPPING=1")
        body = v.wait_for("/readyz?verbose", 503)
        assert "[-]draining failed: app is stopping (STOPPING=1)" in body
        assert v.proc.poll() is None, "the app is not signalled"
        log = v.stderr()
        assert "the app is ready (READY=1)" in log and "the app is stopping (STOPPING=1)" in log
    finally:
        v.stop()


def test_only_the_apps_process_group_is_heard(tmp_path):
    app = NotifyApp(tmp_path)
    v = Vigil(app.command, env={"VIGIL_NOTIFY": "true"})
    try:
        v.wait_listening()
        address = app.env()["NOTIFY_SOCKET"]
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            for _ in range(3):
                s.sendto(b"READY=1", "\0" + address[1:])
        wait_until(lambda: "ignored an sd_notify message" in v.stderr(), what="the refusal logged")
        assert v.stderr().count("ignored an sd_notify message") == 1, "one line per sender"
        assert curl(v.url("/readyz"))[0] == 503
    finally:
        v.stop()


def test_the_watchdog_feeds_liveness(tmp_path):
    app = NotifyApp(tmp_path)
    v = Vigil(app.command, env={"VIGIL_NOTIFY": "true", "VIGIL_NOTIFY_WATCHDOG": "600ms"})
    try:
        v.wait_listening()
        assert app.env()["WATCHDOG_USEC"] == "600000"
        app.send("READY=1")
        v.wait_for("/livez", 200)
        body = v.wait_for("/livez?verbose", 503, timeout=5)
        assert "[-]watchdog failed: no WATCHDOG=1 within 600ms" in body
        app.send("WATCHDOG=1")
        v.wait_for("/livez", 200, timeout=2)
    finally:
        v.stop()


def test_works_as_an_unprivileged_user(tmp_path):
    """No writable directory, no capability: an abstract socket needs neither."""
    if os.geteuid() != 0 or not shutil.which("setpriv") or not os.path.exists("/usr/bin/python3"):
        pytest.skip("needs root, setpriv and /usr/bin/python3")
    home = pathlib.Path(tempfile.mkdtemp(prefix="vigil-notify-"))  # pytest's tmp_path is root's alone
    try:
        run_unprivileged(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run_unprivileged(home):
    app = NotifyApp(home)
    os.chmod(home, 0o777)
    os.chmod(home / "ctl", 0o777)
    command = ["/usr/bin/python3"] + app.command[1:]
    v = Vigil(command, env={"VIGIL_NOTIFY": "true"},
              prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                      "--bounding-set=-all"])
    try:
        v.wait_listening()
        app.send("READY=1")
        v.wait_for("/readyz", 200)
    finally:
        v.stop()


def test_settings_errors():
    code, _, err = run_vigil("config", "--check", env={"VIGIL_NOTIFY_WATCHDOG": "30s"})
    assert code == 2 and "VIGIL_NOTIFY_WATCHDOG=\"30s\": the watchdog needs VIGIL_NOTIFY=true" in err


def test_s6_readiness_a_newline_on_a_descriptor(tmp_path):
    go = tmp_path / "go"
    v = Vigil(["sh", "-c", f"while [ ! -e {go} ]; do sleep 0.02; done; echo >&5; exec sleep 600"],
              env={"VIGIL_NOTIFY_FD": "5"})
    try:
        v.wait_listening()
        body = v.wait_for("/readyz?verbose", 503)
        assert "[-]notify failed: waiting for READY=1" in body
        go.write_text("")
        v.wait_for("/readyz", 200)
        assert "the app is ready (a newline on its descriptor 5)" in v.stderr()
    finally:
        v.stop()


def test_the_readiness_descriptor_must_not_be_a_standard_stream():
    code, _, err = run_vigil("config", "--check", env={"VIGIL_NOTIFY_FD": "2"})
    assert code == 2
    assert ('VIGIL_NOTIFY_FD="2": not a descriptor number from 3 to 1023 (0, 1 and 2 are the app\'s standard '
            'streams); example: VIGIL_NOTIFY_FD=3') in err
