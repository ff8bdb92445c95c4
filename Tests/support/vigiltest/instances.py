"""Instances of the demo app (examples/demo-app/app.py) under vigil, tini or nothing."""
import os
import signal
import subprocess
import time
import uuid

from .env import base_env
from .http import http_get
from .paths import DEMO_APP, PYTHON, VIGIL, tool
from .ports import free_port
from .processes import kill_all, pids_tagged
from .vigil import ADMIN_HEADERS

# Marks every process of an instance, so cleanup finds the app even when its init is gone. Not a
# VIGIL_* name: vigil rejects unknown VIGIL_* variables.
TAG_VARIABLE = "E2E_INSTANCE_TAG"


class Instance:
    """The demo app on its own port, started under INIT: "vigil", "tini" or "bare" (nothing).

    Under vigil, HAProxy checks vigil's /readyz (`check_port` = vigil's port); otherwise it checks
    the app's /health on the app's port, the best a load balancer can do without vigil.

    DOOR: vigil's front door listens on `app_port` (what the balancer sends to) and forwards to
    the app on `upstream_port`."""

    def __init__(self, init="vigil", workdir="/tmp", startup_delay=1.0, vigil_env=None, app_env=None,
                 command=None, name=None, door=False):
        self.init = init
        self.door = door and init == "vigil"
        self.app_port = free_port()
        self.upstream_port = free_port() if self.door else self.app_port
        self.vigil_port = free_port() if init == "vigil" else None
        self.check_port = self.vigil_port if init == "vigil" else self.app_port
        self.tag = uuid.uuid4().hex
        self.name = name or f"{init}-{self.app_port}"
        self.slot = None
        self.started = time.monotonic()
        self.stopped_at = None
        app_settings = {"PORT": self.upstream_port, "STARTUP_DELAY": startup_delay, "HOST": "127.0.0.1", TAG_VARIABLE: self.tag}
        app_settings.update(app_env or {})
        env = base_env(**app_settings)
        app = list(command) if command else [PYTHON, DEMO_APP]
        if init == "vigil":
            settings = {
                "VIGIL_LISTEN": f"127.0.0.1:{self.vigil_port}",
                "VIGIL_CHECK_APP": f"http://127.0.0.1:{self.upstream_port}/health",
                "VIGIL_CHECK_APP_INTERVAL": "200ms",
                "VIGIL_CHECK_APP_TIMEOUT": "200ms",
                "VIGIL_DRAIN_DELAY": "2s",
                "VIGIL_STOP_TIMEOUT": "5s",
            }
            if self.door:
                settings["VIGIL_PROXY_LISTEN"] = f"127.0.0.1:{self.app_port}"
                settings["VIGIL_PROXY_UPSTREAM"] = f"127.0.0.1:{self.upstream_port}"
            # Values may name the instance's ports: "{app_port}", "{upstream_port}", "{vigil_port}".
            # None removes a default.
            settings.update(vigil_env or {})
            settings = {k: str(v).format(app_port=self.app_port, vigil_port=self.vigil_port,
                                         upstream_port=self.upstream_port)
                        for k, v in settings.items() if v is not None}
            if "VIGIL_CHECK_APP" not in settings:  # removed by the caller: drop its options too
                settings = {k: v for k, v in settings.items() if not k.startswith("VIGIL_CHECK_APP_")}
            env.update(settings)
            argv = [VIGIL, "--"] + app
        elif init == "tini":
            argv = [tool("tini") or "tini", "-s", "--"] + app
        elif init == "bare":
            argv = app
        else:
            raise ValueError(f"unknown init {init!r}")
        self.env = env
        self.log_path = os.path.join(workdir, f"{self.name}.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def vigil(self, path, method="GET", timeout=2.0):
        """A request to vigil's probe server; POST and DELETE carry the header loopback admin calls
        need (docs/endpoints.md), as `vigil drain` does."""
        headers = ADMIN_HEADERS if method in ("POST", "DELETE") else None
        return http_get(self.vigil_port, path, method=method, timeout=timeout, headers=headers)

    def app(self, path="/health", timeout=2.0):
        return http_get(self.app_port, path, timeout=timeout)

    def app_pid(self):
        status, body = self.app("/pid")
        try:
            return int(body.strip()) if status == 200 else None
        except ValueError:  # cut short: the app was stopping
            return None

    def metric(self, name):
        """A value from vigil's /metrics (first sample of NAME), or None."""
        status, body = self.vigil("/metrics")
        if status != 200:
            return None
        for line in body.splitlines():
            if line.startswith(name) and (line[len(name):len(name) + 1] in (" ", "{")):
                return float(line.rsplit(" ", 1)[1])
        return None

    def terminate(self):
        self.stopped_at = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout=30):
        return self.proc.wait(timeout=timeout)

    def log(self):
        try:
            self._log.flush()
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def cleanup(self):
        """Ends the instance and whatever it started (found by their environment tag)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        kill_all(pids_tagged(TAG_VARIABLE, self.tag))
        if not self._log.closed:
            self._log.close()
