"""Shared helpers for vigil's black-box tests: the real binary, real processes, real curl."""
import os
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VIGIL = os.path.abspath(os.environ.get("VIGIL_BIN", os.path.join(ROOT, "out", "vigil")))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(**extra):
    """A clean environment: no VIGIL_* from the caller, fast drain unless a test asks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Vigil:
    """vigil running COMMAND with the given VIGIL_* settings; stderr captured to a file."""

    def __init__(self, command, env=None, port=None, listen=True, prefix=(), stdout=None, tmp_path=None):
        self.port = port or free_port()
        settings = {"VIGIL_DRAIN_DELAY": "0"}
        if listen:
            settings["VIGIL_LISTEN"] = f"127.0.0.1:{self.port}"
        else:
            settings["VIGIL_LISTEN"] = "off"
        settings.update(env or {})
        self.env = base_env(**settings)
        self.stderr_path = os.path.join(str(tmp_path) if tmp_path else "/tmp", f"vigil-{self.port}-{time.time_ns()}.log")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            list(prefix) + [VIGIL, "--"] + list(command), env=self.env,
            stdout=stdout if stdout is not None else subprocess.DEVNULL, stderr=self._stderr)

    @property
    def pid(self):
        return self.proc.pid

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_listening(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError(f"vigil exited early ({self.proc.returncode}): {self.stderr()}")
                time.sleep(0.02)
        raise AssertionError("vigil did not listen: " + self.stderr())

    def wait_for(self, path, status, timeout=10):
        """Polls PATH with curl until it answers STATUS; returns the body."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = curl(self.url(path))
            if last[0] == status:
                return last[1]
            time.sleep(0.05)
        raise AssertionError(f"{path}: wanted {status}, last {last}; log: {self.stderr()}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=30):
        return self.proc.wait(timeout=timeout)

    def stderr(self):
        if not self._stderr.closed:
            self._stderr.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        """SIGTERM first, so vigil stops its app too (SIGKILL would orphan it), then SIGKILL."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=10)
        if not self._stderr.closed:
            self._stderr.close()


def wait_until(predicate, timeout=10, interval=0.03, what="condition"):
    """Polls PREDICATE until it returns something truthy, which it returns."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def stop(v):
    """Stops vigil the way a container runtime does: SIGTERM (the app goes with it), then SIGKILL."""
    v.stop()


def curl(url, *args, timeout=5):
    """(status, body, headers) from a real curl; status 0 when the connection failed."""
    result = subprocess.run(
        ["curl", "-sS", "-o", "-", "-D", "/dev/stderr", "-w", "\n%{http_code}", "--max-time", str(timeout), *args, url],
        capture_output=True, text=True)
    body, _, code = result.stdout.rpartition("\n")
    return int(code or 0), body, result.stderr


@pytest.fixture
def vigil(tmp_path):
    """Factory: vigil(["app", "arg"], env={...}) → Vigil; all stopped at the end."""
    started = []

    def start(command, **kwargs):
        v = Vigil(command, tmp_path=tmp_path, **kwargs)
        started.append(v)
        return v

    yield start
    for v in started:
        v.stop()
