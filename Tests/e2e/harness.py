"""Load-balancer harness for vigil's end-to-end tests and benchmarks.

Real pieces only: HAProxy from Debian in front (driven through its runtime API), instances of
examples/demo-app/app.py started under vigil, tini or nothing, and wrk sending paced load through
HAProxy the whole time. HAProxy is set so that it never hides a failure: `retries 0`, no
`option redispatch`, no `retry-on`, no `on-marked-down shutdown-sessions`.

The main scenario, `run_rolling_upgrade`, does what a Deployment with maxSurge 1 and
maxUnavailable 0 does, for each old instance: start a new one, wait until HAProxy marks it UP,
SIGTERM the old one and, a little later (endpoint propagation lag), take it out of HAProxy.

Usable without pytest, e.g. from the benchmark script:

    python3 Tests/e2e/harness.py --init tini --replacements 3 --json /tmp/tini.json

or `from harness import run_rolling_upgrade` with Tests/e2e on sys.path.
"""
import csv
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VIGIL = os.path.abspath(os.environ.get("VIGIL_BIN", os.path.join(ROOT, "out", "vigil")))
DEMO_APP = os.path.join(ROOT, "examples", "demo-app", "app.py")
PYTHON = sys.executable or "python3"
# Marks every process of an instance, so cleanup finds the app even when its init is gone. Not a
# VIGIL_* name: vigil rejects unknown VIGIL_* variables.
TAG_VARIABLE = "E2E_INSTANCE_TAG"


# ----------------------------------------------------------------------------------------------
# small helpers

# Measurements worth showing at the end of a test run (the e2e conftest prints them).
SUMMARY = []


def report(line):
    SUMMARY.append(line)
    print(line, flush=True)

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(**extra):
    """The caller's environment without any VIGIL_*, plus EXTRA."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def http_get(port, path="/", timeout=2.0, method="GET"):
    """(status, body) over a fresh HTTP/1.0 connection; (0, error) when the connection failed."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".encode())
            chunks = []
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
    except OSError as error:
        return 0, str(error)
    raw = b"".join(chunks).decode(errors="replace")
    head, _, body = raw.partition("\r\n\r\n")
    match = re.match(r"HTTP/\d\.\d (\d{3})", head)
    return (int(match.group(1)) if match else 0), body


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def pids_tagged(tag):
    """Processes whose environment carries TAG (an instance and everything it started)."""
    needle = f"{TAG_VARIABLE}={tag}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            pass
    return found


# ----------------------------------------------------------------------------------------------
# HAProxy

class HAProxy:
    """HAProxy with one frontend and a backend of pre-declared, disabled server slots.

    Instances are put into slots at run time: `set server … addr/check-port`, `set server … health
    down` while still in maintenance, then `enable server`, so a new server must pass `rise`
    checks before it gets any request (enabling first would put it UP before any check)."""

    def __init__(self, workdir, check_path="/readyz", slots=8, inter="200ms", fall=2, rise=2, log=True):
        self.workdir = workdir
        self.sockdir = tempfile.mkdtemp(prefix="vigil-hx-")  # unix socket paths must stay short
        self.socket_path = os.path.join(self.sockdir, "admin.sock")
        self.port = free_port()
        self.slots = [f"s{i}" for i in range(1, slots + 1)]
        self.used = set()
        self.config_path = os.path.join(workdir, "haproxy.cfg")
        self.log_path = os.path.join(workdir, "haproxy.log")
        servers = "\n".join(f"    server {s} 127.0.0.1:1 check port 1 disabled" for s in self.slots)
        logging = "    log stdout format raw local0 info\n" if log else ""
        config = f"""global
    stats socket {self.socket_path} level admin
{logging}    maxconn 4096

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    # Never hide a failure from the client: no retry, no redispatch, no retry-on, and in-flight
    # requests of a server marked down are left alone (no on-marked-down shutdown-sessions).
    retries 0

frontend fe
    bind 127.0.0.1:{self.port}
    default_backend be

backend be
    balance roundrobin
    option httpchk GET {check_path}
    http-check expect status 200
    default-server inter {inter} fastinter {inter} downinter {inter} fall {fall} rise {rise}
{servers}
"""
        with open(self.config_path, "w") as f:
            f.write(config)
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([haproxy, "-db", "-f", self.config_path],
                                     stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_until(self._answers, 10, what="haproxy to listen")
        except TimeoutError:
            self.stop()
            raise RuntimeError("haproxy did not start: " + self.log())

    def _answers(self):
        if self.proc.poll() is not None:
            raise RuntimeError("haproxy exited: " + self.log())
        try:
            return "Name: HAProxy" in self.cmd("show info")
        except OSError:
            return False

    def cmd(self, line):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(self.socket_path)
            s.sendall((line + "\n").encode())
            chunks = []
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
        return b"".join(chunks).decode(errors="replace").strip()

    def stats(self):
        """{svname: row} for the backend's servers, plus FRONTEND and BACKEND."""
        text = self.cmd("show stat")
        if text.startswith("# "):
            text = text[2:]
        rows = {}
        for row in csv.DictReader(io.StringIO(text)):
            if row.get("pxname") in ("fe", "be"):
                rows[row["svname"]] = row
        return rows

    def status(self, slot):
        return self.stats()[slot]["status"]

    def add(self, app_port, check_port):
        """Puts a server into a free slot; returns the slot. It gets no request before `activate`.

        `enable server` alone would put it UP at once, before any check, and `set server … health
        down` sent while it is still in maintenance is forgotten on enabling. So: weight 0 first,
        then `enable server; set server … health down` (the server must now pass `rise` checks),
        and `activate` restores the weight once HAProxy marks it UP."""
        slot = next(s for s in self.slots if s not in self.used)
        self.used.add(slot)
        for line in (f"set server be/{slot} addr 127.0.0.1 port {app_port}",
                     f"set server be/{slot} check-port {check_port}",
                     f"set server be/{slot} weight 0",
                     f"enable server be/{slot}; set server be/{slot} health down"):
            out = self.cmd(line)
            if out and not out.startswith("no need to change") and "changed from" not in out:
                raise RuntimeError(f"haproxy: {line}: {out}")
        return slot

    def activate(self, slot):
        self.cmd(f"set server be/{slot} weight 1")

    def remove(self, slot):
        """Maintenance: no new request goes to it; requests in flight are left to finish."""
        self.cmd(f"disable server be/{slot}")

    def wait_status(self, slot, wanted, timeout=15):
        last = [None]

        def check():
            last[0] = self.status(slot)
            return last[0] == wanted
        try:
            wait_until(check, timeout, interval=0.02, what=f"{slot} {wanted}")
        except TimeoutError:
            raise TimeoutError(f"haproxy server {slot}: wanted {wanted}, still {last[0]} after {timeout}s")
        return time.monotonic()

    def log(self):
        try:
            self._log.flush()
            with open(self.log_path, "rb") as f:
                return f.read()[-4000:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if not self._log.closed:
            self._log.close()
        shutil.rmtree(self.sockdir, ignore_errors=True)


# ----------------------------------------------------------------------------------------------
# instances of the demo app

class Instance:
    """The demo app on its own port, started under INIT: "vigil", "tini" or "bare" (nothing).

    Under vigil, HAProxy checks vigil's /readyz (`check_port` = vigil's port); otherwise it checks
    the app's /health on the app's port, the best a load balancer can do without vigil."""

    def __init__(self, init="vigil", workdir="/tmp", startup_delay=1.0, vigil_env=None, app_env=None,
                 command=None, name=None):
        self.init = init
        self.app_port = free_port()
        self.vigil_port = free_port() if init == "vigil" else None
        self.check_port = self.vigil_port if init == "vigil" else self.app_port
        self.tag = uuid.uuid4().hex
        self.name = name or f"{init}-{self.app_port}"
        self.slot = None
        self.started = time.monotonic()
        self.stopped_at = None
        app_settings = {"PORT": self.app_port, "STARTUP_DELAY": startup_delay, "HOST": "127.0.0.1", TAG_VARIABLE: self.tag}
        app_settings.update(app_env or {})
        env = base_env(**app_settings)
        app = list(command) if command else [PYTHON, DEMO_APP]
        if init == "vigil":
            settings = {
                "VIGIL_LISTEN": f"127.0.0.1:{self.vigil_port}",
                "VIGIL_CHECK_APP": f"http://127.0.0.1:{self.app_port}/health",
                "VIGIL_CHECK_APP_INTERVAL": "200ms",
                "VIGIL_CHECK_APP_TIMEOUT": "200ms",
                "VIGIL_DRAIN_DELAY": "2s",
                "VIGIL_STOP_TIMEOUT": "5s",
            }
            # Values may name the instance's ports: "{app_port}", "{vigil_port}". None removes a default.
            settings.update(vigil_env or {})
            settings = {k: str(v).format(app_port=self.app_port, vigil_port=self.vigil_port)
                        for k, v in settings.items() if v is not None}
            if "VIGIL_CHECK_APP" not in settings:  # removed by the caller: drop its options too
                settings = {k: v for k, v in settings.items() if not k.startswith("VIGIL_CHECK_APP_")}
            env.update(settings)
            argv = [VIGIL, "--"] + app
        elif init == "tini":
            argv = [shutil.which("tini") or "/usr/bin/tini", "-s", "--"] + app
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
        return http_get(self.vigil_port, path, method=method, timeout=timeout)

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
        for pid in pids_tagged(self.tag):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if not self._log.closed:
            self._log.close()


# ----------------------------------------------------------------------------------------------
# load

WRK_SCRIPT = """-- paced load: each connection pauses between its requests
local pause = tonumber(os.getenv("WRK_PAUSE_MS") or "20")
function delay()
  return pause
end
"""


class Load:
    """wrk through HAProxy until stop(); keep-alive client connections, paced per connection.

    Rate is roughly connections * 1000 / (pause_ms + latency)."""

    def __init__(self, url, workdir, connections=8, threads=2, pause_ms=20):
        wrk = shutil.which("wrk")
        if not wrk:
            raise RuntimeError("wrk is not installed (apt-get install wrk)")
        script = os.path.join(workdir, "paced.lua")
        with open(script, "w") as f:
            f.write(WRK_SCRIPT)
        self.out_path = os.path.join(workdir, "wrk.out")
        self._out = open(self.out_path, "wb")
        env = dict(os.environ, WRK_PAUSE_MS=str(pause_ms))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [wrk, f"-t{threads}", f"-c{connections}", "-d3600s", "--timeout", "10s", "-s", script, url],
            stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)

    def stop(self):
        """SIGINT makes wrk stop and print its summary; returns the parsed counts."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        with open(self.out_path) as f:
            text = f.read()
        return parse_wrk(text)


def parse_wrk(text):
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", text)
    if not total:
        raise RuntimeError("no summary in wrk output:\n" + text)
    seconds = float(total.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}.get(total.group(3), 1)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()))) if sockets else \
        {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    non2xx = int(non2xx.group(1)) if non2xx else 0
    requests = int(total.group(1))
    socket_errors = sum(errors.values())
    return {
        "requests": requests,
        "failed": non2xx + socket_errors,
        "non_2xx": non2xx,
        "socket_errors": socket_errors,
        "socket_error_kinds": errors,
        "load_seconds": round(seconds, 2),
        "requests_per_second": round(requests / seconds, 1) if seconds else 0.0,
    }


# ----------------------------------------------------------------------------------------------
# the rolling upgrade

class Cluster:
    """HAProxy plus the instances started through it; closing ends them all."""

    def __init__(self, workdir=None, init="vigil", check_path=None, slots=8, inter="200ms", fall=2, rise=2):
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="vigil-e2e-")
        os.makedirs(self.workdir, exist_ok=True)
        self.init = init
        if check_path is None:
            check_path = "/readyz" if init == "vigil" else "/health"
        self.haproxy = HAProxy(self.workdir, check_path=check_path, slots=slots, inter=inter, fall=fall, rise=rise)
        self.instances = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.haproxy.port}/"

    def start(self, init=None, **kwargs):
        instance = Instance(init or self.init, workdir=self.workdir, **kwargs)
        self.instances.append(instance)
        return instance

    def add(self, instance):
        instance.slot = self.haproxy.add(instance.app_port, instance.check_port)
        return instance.slot

    def wait_up(self, instance, timeout=15):
        """Waits until HAProxy's checks mark the instance UP, then lets requests reach it."""
        try:
            up = self.haproxy.wait_status(instance.slot, "UP", timeout)
        except TimeoutError as error:
            raise AssertionError(f"{error}\ninstance log:\n{instance.log()[-3000:]}") from None
        self.haproxy.activate(instance.slot)
        return up

    def close(self, keep_workdir=True):
        for instance in self.instances:
            instance.cleanup()
        self.haproxy.stop()
        if self._own_workdir and not keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def record_results(results, path=None):
    """Merges RESULTS into the JSON file at PATH (default: $VIGIL_E2E_RESULTS), keyed by init."""
    path = path or os.environ.get("VIGIL_E2E_RESULTS")
    if not path:
        return
    existing = {}
    try:
        with open(path) as f:
            existing = json.load(f)
    except (OSError, ValueError):
        pass
    existing[results["init"]] = results
    with open(path, "w") as f:
        json.dump(existing, f, indent=2, sort_keys=True)
        f.write("\n")


def run_rolling_upgrade(init="vigil", replacements=3, replicas=2, startup_delay=1.0, drain_delay="2s",
                        propagation_lag=1.0, connections=8, pause_ms=20, check_inter="200ms",
                        settle=1.0, vigil_env=None, workdir=None, results_path=None, log=print,
                        keep_workdir=None):
    """A rolling upgrade (maxSurge 1, maxUnavailable 0) under load through HAProxy.

    REPLICAS instances serve; then, REPLACEMENTS times: start a new instance (STARTUP_DELAY s to
    listen), wait until HAProxy marks it UP, SIGTERM the oldest, and PROPAGATION_LAG s later take it
    out of HAProxy. Returns the counts: requests, failed (non-2xx + socket errors) and details.

    Logs (HAProxy's, with one line per request, each instance's, wrk's) go to WORKDIR; without
    one, to a temporary directory that is removed afterwards unless KEEP_WORKDIR is true or vigil
    let requests fail."""
    settings = {"VIGIL_DRAIN_DELAY": drain_delay}
    settings.update(vigil_env or {})
    started = time.monotonic()
    steps = []
    cluster = Cluster(workdir=workdir, init=init, slots=replicas + replacements + 1, inter=check_inter)
    counts = None
    try:
        def launch():
            instance = cluster.start(startup_delay=startup_delay, vigil_env=settings)
            cluster.add(instance)
            return instance

        serving = [launch() for _ in range(replicas)]
        for instance in serving:
            cluster.wait_up(instance, timeout=20)
        load = Load(cluster.url, cluster.workdir, connections=connections, pause_ms=pause_ms)
        try:
            time.sleep(settle)
            old_instances = []
            for step in range(replacements):
                t0 = time.monotonic()
                new = launch()
                up = cluster.wait_up(new, timeout=20)
                old = serving.pop(0)
                old.terminate()
                time.sleep(propagation_lag)
                cluster.haproxy.remove(old.slot)
                serving.append(new)
                old_instances.append(old)
                steps.append({"step": step + 1, "new_up_after_s": round(up - t0, 2),
                              "old": old.name, "new": new.name})
            for old in old_instances:
                try:
                    old.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    raise AssertionError(f"{old.name} did not stop:\n{old.log()[-3000:]}")
                next(s for s in steps if s["old"] == old.name)["old_exit_code"] = old.proc.returncode
            time.sleep(settle)
        finally:
            counts = load.stop()
        frontend = cluster.haproxy.stats().get("FRONTEND", {})
        counts["haproxy_5xx"] = int(frontend.get("hrsp_5xx") or 0)
        counts["haproxy_2xx"] = int(frontend.get("hrsp_2xx") or 0)
        counts["workdir"] = cluster.workdir
    finally:
        keep = keep_workdir if keep_workdir is not None else bool(counts and init == "vigil" and counts["failed"])
        cluster.close(keep_workdir=keep)
        if counts and cluster._own_workdir and not keep:
            counts.pop("workdir", None)
    counts.update({
        "init": init,
        "replacements": replacements,
        "replicas": replicas,
        "drain_delay": drain_delay if init == "vigil" else None,
        "propagation_lag_s": propagation_lag,
        "check_inter": check_inter,
        "steps": steps,
        "elapsed_s": round(time.monotonic() - started, 2),
    })
    counts["failed_percent"] = round(100.0 * counts["failed"] / counts["requests"], 3) if counts["requests"] else 0.0
    if log:
        log(f"rolling upgrade [{init}]: {counts['requests']} requests, {counts['failed']} failed "
            f"({counts['failed_percent']}%; non-2xx {counts['non_2xx']}, socket errors {counts['socket_errors']}; "
            f"haproxy 5xx {counts['haproxy_5xx']}) over {replacements} replacements in {counts['elapsed_s']}s")
    record_results(counts, results_path)
    return counts


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description="rolling upgrade through HAProxy under load")
    parser.add_argument("--init", default="vigil", choices=["vigil", "tini", "bare"])
    parser.add_argument("--replacements", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--drain-delay", default="2s")
    parser.add_argument("--propagation-lag", type=float, default=1.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--pause-ms", type=int, default=20)
    parser.add_argument("--check-inter", default="200ms")
    parser.add_argument("--json", help="merge the counts into this JSON file (default $VIGIL_E2E_RESULTS)")
    parser.add_argument("--workdir", help="keep HAProxy's, wrk's and the instances' logs here")
    args = parser.parse_args(argv)
    counts = run_rolling_upgrade(init=args.init, replacements=args.replacements, replicas=args.replicas,
                                 drain_delay=args.drain_delay, propagation_lag=args.propagation_lag,
                                 connections=args.connections, pause_ms=args.pause_ms,
                                 check_inter=args.check_inter, results_path=args.json, workdir=args.workdir,
                                 log=lambda line: print(line, file=sys.stderr))
    print(json.dumps(counts, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
