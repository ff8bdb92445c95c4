"""The rolling upgrade through HAProxy under wrk load, for the e2e suite and the benchmarks.

It does what a Deployment with maxSurge 1 and maxUnavailable 0 does, for each old instance:
start a new one, wait until HAProxy marks it UP, SIGTERM the old one and, a little later
(endpoint propagation lag), take it out of HAProxy. From a shell:

    PYTHONPATH=Tests/support python3 -m vigiltest.rolling --init tini --replacements 3 --json /tmp/tini.json
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from .haproxy import HAProxy
from .instances import Instance
from .load import Load


class Cluster:
    """HAProxy plus the instances started through it; closing ends them all."""

    def __init__(self, workdir=None, init="vigil", check_path=None, slots=8, inter="200ms", fall=2, rise=2,
                 mode="http", server_options=""):
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="vigil-e2e-")
        os.makedirs(self.workdir, exist_ok=True)
        self.init = init
        if check_path is None:
            check_path = "/readyz" if init == "vigil" else "/health"
        self.haproxy = HAProxy(self.workdir, check_path=check_path, slots=slots, inter=inter, fall=fall, rise=rise,
                               mode=mode, server_options=server_options)
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
        except AssertionError as error:
            raise AssertionError(f"{error}\ninstance log:\n{instance.log()[-3000:]}") from None
        self.haproxy.activate(instance.slot)
        return up

    def add_all_up(self, *instances):
        """Adds each instance to HAProxy, then waits until each is UP (their checks run meanwhile)."""
        for instance in instances:
            self.add(instance)
        for instance in instances:
            self.wait_up(instance)

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
    key = results["init"] if results.get("balancer", "http") == "http" else f"{results['init']}/{results['balancer']}"
    existing[key] = results
    with open(path, "w") as f:
        json.dump(existing, f, indent=2, sort_keys=True)
        f.write("\n")


def run_rolling_upgrade(init="vigil", replacements=3, replicas=2, startup_delay=1.0, drain_delay="2s",
                        propagation_lag=1.0, connections=8, pause_ms=20, check_inter="200ms",
                        settle=1.0, vigil_env=None, workdir=None, results_path=None, log=print,
                        keep_workdir=None, balancer="http", door=False, keepalive_app=False):
    """A rolling upgrade (maxSurge 1, maxUnavailable 0) under load through HAProxy.

    REPLICAS instances serve; then, REPLACEMENTS times: start a new instance (STARTUP_DELAY s to
    listen), wait until HAProxy marks it UP, SIGTERM the oldest, and PROPAGATION_LAG s later take it
    out of HAProxy. Returns the counts: requests, failed (non-2xx + socket errors) and details.

    BALANCER is HAProxy's mode ("http", or "tcp" as kube-proxy balances); DOOR puts vigil's front
    door in front of the app; KEEPALIVE_APP makes the app speak HTTP/1.1 keep-alive.

    Logs (HAProxy's, with one line per request, each instance's, wrk's) go to WORKDIR; without
    one, to a temporary directory that is removed afterwards unless KEEP_WORKDIR is true or vigil
    let requests fail."""
    settings = {"VIGIL_DRAIN_DELAY": drain_delay}
    settings.update(vigil_env or {})
    started = time.monotonic()
    steps = []
    cluster = Cluster(workdir=workdir, init=init, slots=replicas + replacements + 1, inter=check_inter,
                      mode=balancer)
    counts = None
    app_env = {"KEEPALIVE": "1"} if keepalive_app else None
    try:
        def launch():
            instance = cluster.start(startup_delay=startup_delay, vigil_env=settings, door=door, app_env=app_env)
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
    label = f"{init}+door" if door and init == "vigil" else init
    counts.update({
        "init": label,
        "balancer": balancer,
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
        log(f"rolling upgrade [{label}, {balancer} balancer]: {counts['requests']} requests, {counts['failed']} failed "
            f"({counts['failed_percent']}%; non-2xx {counts['non_2xx']}, socket errors {counts['socket_errors']}; "
            f"haproxy 5xx {counts['haproxy_5xx']}) over {replacements} replacements in {counts['elapsed_s']}s")
    record_results(counts, results_path)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description="rolling upgrade through HAProxy under load")
    parser.add_argument("--init", default="vigil", choices=["vigil", "tini", "bare"])
    parser.add_argument("--replacements", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--drain-delay", default="2s")
    parser.add_argument("--propagation-lag", type=float, default=1.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--pause-ms", type=int, default=20)
    parser.add_argument("--check-inter", default="200ms")
    parser.add_argument("--balancer", default="http", choices=["http", "tcp"])
    parser.add_argument("--door", action="store_true", help="vigil's front door in front of the app")
    parser.add_argument("--keepalive-app", action="store_true", help="the app speaks HTTP/1.1 keep-alive")
    parser.add_argument("--json", help="merge the counts into this JSON file (default $VIGIL_E2E_RESULTS)")
    parser.add_argument("--workdir", help="keep HAProxy's, wrk's and the instances' logs here")
    args = parser.parse_args(argv)
    counts = run_rolling_upgrade(init=args.init, replacements=args.replacements, replicas=args.replicas,
                                 drain_delay=args.drain_delay, propagation_lag=args.propagation_lag,
                                 connections=args.connections, pause_ms=args.pause_ms,
                                 check_inter=args.check_inter, results_path=args.json, workdir=args.workdir,
                                 balancer=args.balancer, door=args.door, keepalive_app=args.keepalive_app,
                                 log=lambda line: print(line, file=sys.stderr))
    print(json.dumps(counts, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
