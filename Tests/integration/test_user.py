"""Issue 14, black-box: VIGIL_USER. vigil (after binding), the app and an exec check all run as
the user, read from /proc/<pid>/status; names come from /etc/passwd and /etc/group; what does not
resolve, or what vigil may not switch to, is a configuration error (exit 2) before anything starts.
"""
import json
import os
import pathlib
import shutil
import tempfile

import pytest

from vigiltest.drain import demo_under_vigil, stop_across
from vigiltest.http import curl
from vigiltest.paths import SYSTEM_PYTHON
from vigiltest.vigil import Vigil, run_vigil
from vigiltest.waiting import wait_until

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")


def ids(pid):
    """(uids, gids, groups) from /proc/PID/status: four uids, four gids, the supplementary list."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            fields[name] = value.split()
    return fields["Uid"], fields["Gid"], fields["Groups"]


def environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return dict(item.split("=", 1) for item in f.read().decode().split("\0") if "=" in item)


@pytest.fixture
def shared_dir():
    """A directory nobody can write (pytest's tmp_path is root's alone)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="vigil-user-"))
    os.chmod(path, 0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_vigil_the_app_and_an_exec_check_run_as_the_user(shared_dir):
    marker = shared_dir / "check"
    v = Vigil(["sleep", "600"], env={
        "VIGIL_USER": "nobody",
        "VIGIL_CHECK_WHO": f"exec:sh -c 'grep -E \"^(Uid|Gid|Groups):\" /proc/self/status > {marker}.tmp; "
                           f"mv {marker}.tmp {marker}'",
        "VIGIL_CHECK_WHO_INTERVAL": "100ms"})
    try:
        v.wait_for("/readyz", 200)
        assert ids(v.pid) == (["65534"] * 4, ["65534"] * 4, ["65534"])
        app = json.loads(curl(v.url("/status?format=json"))[1])["app"]["pid"]
        assert ids(app) == (["65534"] * 4, ["65534"] * 4, ["65534"])
        assert environ(app)["HOME"] == "/nonexistent"
        wait_until(marker.exists, what="the exec check's ids")
        lines = marker.read_text().split("\n")
        assert lines[0].split()[1:] == ["65534"] * 4 and lines[1].split()[1:] == ["65534"] * 4
        assert "vigil: info: running as gid=65534 uid=65534" in v.stderr()
    finally:
        v.stop()


def test_uid_and_gid_numbers_need_no_entry():
    v = Vigil(["sleep", "600"], env={"VIGIL_USER": "4242:4343"})
    try:
        v.wait_for("/readyz", 200)
        app = json.loads(curl(v.url("/status?format=json"))[1])["app"]["pid"]
        assert ids(app) == (["4242"] * 4, ["4343"] * 4, ["4343"])
        assert environ(app)["HOME"] == "/"
    finally:
        v.stop()


def test_what_does_not_resolve_stops_vigil_before_the_start(shared_dir):
    marker = shared_dir / "started"
    code, _, err = run_vigil("--", "touch", str(marker), env={"VIGIL_USER": "ghost"})
    assert code == 2 and not marker.exists()
    assert err == ('vigil: error: VIGIL_USER="ghost": no user "ghost" in /etc/passwd; example: VIGIL_USER=1000:1000\n'
                   "vigil: 1 configuration problem; nothing was started\n")
    code, _, err = run_vigil("--", "true", env={"VIGIL_USER": "nobody:ghosts"})
    assert code == 2 and 'no group "ghosts" in /etc/group' in err
    code, _, err = run_vigil("config", "--check", env={"VIGIL_USER": "a b"})
    assert code == 2 and 'VIGIL_USER="a b": not a user' in err


def test_without_the_privilege_it_is_a_configuration_error_unless_already_that_user(shared_dir):
    if not shutil.which("setpriv"):
        pytest.skip("needs setpriv")
    marker = shared_dir / "started"
    unprivileged = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    code, _, err = run_vigil("--", "touch", str(marker), env={"VIGIL_USER": "root"}, prefix=unprivileged)
    assert code == 2 and not marker.exists()
    assert "vigil runs as uid 65534 gid 65534 and may not switch to uid 0 gid 0" in err
    # Root without CAP_SETUID/CAP_SETGID is no better.
    code, _, err = run_vigil("--", "true", env={"VIGIL_USER": "nobody"},
                             prefix=["setpriv", "--inh-caps=-all", "--bounding-set=-setuid,-setgid"])
    assert code == 2 and "may not switch to uid 65534" in err, err
    # Already that user: nothing to switch.
    code, _, err = run_vigil("--", "sh", "-c", "id -u", env={"VIGIL_USER": "nobody", "VIGIL_LISTEN": "off"},
                             prefix=unprivileged)
    assert code == 0, err


def test_as_the_user_the_drain_still_sees_requests_in_flight(tmp_path):
    """sock_diag needs no privilege for the sockets of vigil's own network namespace: after the
    switch to nobody, the drain still tells the idle keep-alive connection from the busy one."""
    vigil, port = demo_under_vigil(tmp_path, env={"VIGIL_USER": "nobody"}, python=SYSTEM_PYTHON)
    uids = ids(vigil.pid)[0]
    stop = stop_across(vigil, port, idle=1, slow_ms=1500)
    assert uids == ["65534"] * 4
    assert stop.answer["status"] == 200 and stop.code == 143, (stop.answer, stop.log)
    assert stop.answer["at"] - 0.05 <= stop.exited < stop.answer["at"] + 2, stop.log
    assert f"drain: waiting for requests in flight busy=1 open=2 ports={port}" in stop.log
    assert f"drain: waiting for requests in flight busy=0 open=2 ports={port}" in stop.log
    assert "sock_diag is not available" not in stop.log
