"""podman + runc for vigil's container suite: the podman command line and containers that are
always removed.

Everything runs as root with `podman --storage-driver vfs --cgroup-manager cgroupfs --runtime runc`
(crun and overlay do not work on every CI machine) and needs no registry: the base images are made
here (vigiltest.images).
"""
import itertools
import os
import shlex
import shutil
import subprocess
import sys
import time

from .http import curl
from .paths import VIGIL
from .ports import free_port

PODMAN = ["podman", "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--runtime", "runc"]
CONTAINERS_CONF = "/etc/containers/containers.conf"
BUSYBOX = "/usr/bin/busybox"
PROBE_PORT = 7979
VIGIL_IN_IMAGE = "/usr/local/bin/vigil"
# Names every image and container of this run, so parallel runs never meet.
RUN_ID = f"{os.getpid()}-{int(time.time()) % 100000}"
_names = itertools.count(1)


def log(message):
    sys.stderr.write(f"[container-suite] {message}\n")
    sys.stderr.flush()


def podman(*args, check=True, timeout=180, input=None):
    """Runs `podman <global options> ARGS`; returns the CompletedProcess (text)."""
    result = subprocess.run(PODMAN + [str(a) for a in args], capture_output=True, text=True,
                            timeout=timeout, input=input)
    if check and result.returncode != 0:
        raise AssertionError(
            f"podman {' '.join(map(str, args))} exited {result.returncode}\n"
            f"stdout: {result.stdout[-3000:]}\nstderr: {result.stderr[-3000:]}")
    return result


def missing_prerequisites():
    """Why the suite cannot run here, or None."""
    if os.geteuid() != 0:
        return "the container suite runs podman as root"
    for tool in ("podman", "runc", "curl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/test.sh installs it)"
    if not os.path.exists(BUSYBOX):
        return f"{BUSYBOX} is missing (apt-get install busybox-static)"
    if not os.access(VIGIL, os.X_OK):
        return f"no vigil binary at {VIGIL} (./scripts/build-static.sh, or set VIGIL_BIN)"
    return None


def ensure_containers_conf():
    """runc refuses podman's default ulimits on these machines: `default_ulimits = []`."""
    os.makedirs(os.path.dirname(CONTAINERS_CONF), exist_ok=True)
    text = open(CONTAINERS_CONF).read() if os.path.exists(CONTAINERS_CONF) else ""
    if "default_ulimits" in text:
        return
    if "[containers]" in text:
        text = text.replace("[containers]", "[containers]\ndefault_ulimits = []", 1)
    else:
        text = text + ("\n" if text and not text.endswith("\n") else "") + "[containers]\ndefault_ulimits = []\n"
    with open(CONTAINERS_CONF, "w") as f:
        f.write(text)
    log(f"wrote default_ulimits = [] to {CONTAINERS_CONF}")



def image_exists(name):
    return podman("image", "exists", name, check=False).returncode == 0


class Container:
    """A detached container running IMAGE; removed by the fixture that made it."""

    def __init__(self, image, command, env=None, publish=True, extra=()):
        self.name = f"vigil-test-{RUN_ID}-{next(_names)}"
        self.port = free_port() if publish else None
        args = ["run", "-d", "--name", self.name, "--log-driver", "k8s-file"]
        if self.port:
            args += ["-p", f"127.0.0.1:{self.port}:{PROBE_PORT}"]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        # VIGIL_TEST_PODMAN_RUN_ARGS: extra `podman run` options when debugging the suite.
        args += shlex.split(os.environ.get("VIGIL_TEST_PODMAN_RUN_ARGS", ""))
        args += list(extra) + [image] + list(command)
        # podman logs an error about systemd timers for the HEALTHCHECK where there is no systemd;
        # the container starts anyway and `podman healthcheck run` works.
        self.created = podman(*args, check=False)
        if self.created.returncode != 0:
            raise AssertionError(f"podman run failed: {self.created.stderr}")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path, timeout=3):
        """(status, body) through the published port; status 0 when there was no HTTP answer."""
        return curl(self.url(path), timeout=timeout)[:2]

    def exec(self, *command, check=False, timeout=30):
        return podman("exec", self.name, *command, check=check, timeout=timeout)

    def logs(self):
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def inspect(self, template):
        return podman("inspect", "--format", template, self.name).stdout.strip()

    def running(self):
        return self.inspect("{{.State.Running}}") == "true"

    def exit_code(self):
        return int(self.inspect("{{.State.ExitCode}}"))

    def wait(self, timeout=60):
        """Waits for the container to exit; returns its exit code."""
        result = podman("wait", self.name, timeout=timeout)
        return int(result.stdout.strip().splitlines()[-1])

    def wait_for(self, path, status, timeout=20):
        """Polls PATH through the published port until it answers STATUS; returns the body."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.get(path)
            if last[0] == status:
                return last[1]
            if not self.running():
                break
            time.sleep(0.1)
        raise AssertionError(f"{self.name} {path}: wanted {status}, last {last}\nlogs:\n{self.logs()}")

    def wait_for_log(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            logs = self.logs()
            if text in logs:
                return logs
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: {text!r} never appeared in the logs:\n{self.logs()}")

    def processes(self):
        """[(pid, comm, state, ppid)] of every process in the container, from /proc (no ps needed)."""
        script = 'for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null; echo; done'
        result = self.exec("sh", "-c", script, check=True)
        found = []
        for line in result.stdout.splitlines():
            if ")" not in line:
                continue
            head, _, tail = line.rpartition(")")
            pid, _, comm = head.partition(" (")
            fields = tail.split()
            found.append((int(pid), comm, fields[0], int(fields[1])))
        return found

    def remove(self):
        podman("rm", "-f", "-t", "0", self.name, check=False, timeout=60)
