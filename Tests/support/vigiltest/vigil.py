"""vigil itself: a running agent (`Vigil`) and one-shot commands (`run_vigil`)."""
import os
import signal
import subprocess
import time

from .env import base_env
from .http import curl
from .paths import VIGIL
from .ports import free_port, wait_port

# What a loopback admin call (POST/DELETE /drain) must carry, as `vigil drain` does: a forged
# request from the app itself (SSRF) cannot (docs/endpoints.md).
ADMIN_HEADERS = {"X-Vigil-Admin": "1"}


def run_vigil(*args, env=None, timeout=10, prefix=()):
    """(exit code, stdout, stderr) of `vigil ARGS` with a clean environment plus ENV, started
    through PREFIX (`setpriv …`) when given."""
    result = subprocess.run([*prefix, VIGIL, *args], env=base_env(**(env or {})), capture_output=True, text=True,
                            timeout=timeout)
    return result.returncode, result.stdout, result.stderr


class Vigil:
    """vigil running COMMAND with the given VIGIL_* settings; stderr captured to a file.

    Defaults that keep tests quick: no drain delay, the probe server on a free 127.0.0.1 port
    (LISTEN=False: off)."""

    def __init__(self, command, env=None, port=None, listen=True, prefix=(), stdout=None, tmp_path=None):
        self.port = port or free_port()
        settings = {"VIGIL_DRAIN_DELAY": "0", "VIGIL_LISTEN": f"127.0.0.1:{self.port}" if listen else "off"}
        settings.update(env or {})
        self.env = base_env(**settings)
        self.stderr_path = os.path.join(str(tmp_path) if tmp_path else "/tmp",
                                        f"vigil-{self.port}-{time.time_ns()}.log")
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
        wait_port(self.port, self.proc, timeout=timeout, what="vigil", log=self.stderr)

    def wait_for(self, path, status, timeout=10):
        """Polls PATH with curl until it answers STATUS; returns the body."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
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
        """Stops vigil the way a container runtime does: SIGTERM first, so that vigil stops its app
        too (SIGKILL would orphan it), SIGKILL after 10 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=10)
        if not self._stderr.closed:
            self._stderr.close()
