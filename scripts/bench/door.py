"""Rows: vigil's front door (VIGIL_PROXY_*) next to HAProxy as a one-thread sidecar, both in front
of the same nginx, and nginx direct: wrk -t1 -c10 keep-alive throughput, p50/p99 and the proxy's
CPU per request, in http and tcp mode; then each proxy's RSS holding 1,000 idle keep-alive client
connections."""
import os
import re
import statistics
import subprocess

from vigiltest.env import vigil_env
from vigiltest.haproxy import HAProxy
from vigiltest.http import keepalive_connections
from vigiltest.paths import tool
from vigiltest.ports import free_port, wait_port
from vigiltest.processes import raise_open_files

from .common import CLK_TCK, INITS, PROCS, TMP, Broken, Row, cpu_ticks, kib, log, tree_ticks
from .probes import run_wrk, start_nginx, wrk_cell

PATH = "/readyz"  # nginx's `return 200 'ok'` (probes.NGINX_CONF): the smallest static answer
MODES = ("http", "tcp")
METRICS = ("requests_per_second", "p50_ms", "p99_ms", "cpu_us")


class Contender:
    """One way to reach nginx: its port, the process whose CPU counts, and how to read that CPU."""

    def __init__(self, key, label, port, pid, ticks, vigil=False):
        self.key, self.label, self.port, self.pid, self.ticks, self.vigil = key, label, port, pid, ticks, vigil
        self.runs = []


def haproxy_version():
    try:
        out = subprocess.run([tool("haproxy") or "haproxy", "-v"], capture_output=True, text=True).stdout
    except OSError:
        return "HAProxy"
    match = re.search(r"version (\d+\.\d+(?:\.\d+)?)", out)
    return f"HAProxy {match.group(1)}" if match else "HAProxy"


def start_door(upstream_port, mode):
    """vigil with its front door on a port of its own forwarding to UPSTREAM_PORT, the probe server
    off, supervising `sleep infinity` (the app the door stands for is nginx, not its child)."""
    port = free_port()
    proc = PROCS.spawn(INITS["vigil"] + ["sleep", "infinity"], env=vigil_env(
        None, VIGIL_PROXY_LISTEN=f"127.0.0.1:{port}", VIGIL_PROXY_UPSTREAM=f"127.0.0.1:{upstream_port}",
        VIGIL_PROXY_MODE=mode))
    wait_port(port, proc, what=f"vigil's front door ({mode})")
    return proc, port


def start_haproxy(upstream_port, mode):
    """HAProxy with `nbthread 1`, no log, one unchecked server: nginx. None when it is missing or
    does not start (its figures read n/a)."""
    if not tool("haproxy"):
        log("haproxy not found; its figures read n/a (apt-get install haproxy)")
        return None
    workdir = os.path.join(TMP, f"haproxy-{mode}")
    os.makedirs(workdir, exist_ok=True)
    try:
        return HAProxy(workdir, log=False, mode=mode, server=f"127.0.0.1:{upstream_port}", nbthread=1)
    except RuntimeError as error:
        log(f"haproxy ({mode}): {error}; its figures read n/a")
        return None


def measure(contender, seconds):
    """One wrk -t1 -c10 run through CONTENDER, with the CPU its process took per request."""
    ticks0 = contender.ticks(contender.pid)
    result, raw = run_wrk(contender.port, PATH, seconds)
    if result and result["requests"]:
        result["cpu_us"] = (contender.ticks(contender.pid) - ticks0) / CLK_TCK * 1e6 / result["requests"]
    if contender.vigil:
        if not result or not result["requests"]:
            raise Broken(f"wrk got no answers through {contender.label}:\n{raw}")
        if result["socket_errors"] or result["non_2xx"]:
            raise Broken(f"{contender.label} under wrk: {result['non_2xx']} non-2xx, "
                         f"{result['socket_errors']} socket errors:\n{raw}")
    if result:
        contender.runs.append(result)


def median(runs):
    """The median of each figure over RUNS (each on its own), errors summed; None without runs."""
    if not runs:
        return None
    merged = {key: statistics.median(r[key] for r in runs if r.get(key) is not None)
              if any(r.get(key) is not None for r in runs) else None for key in METRICS}
    for key in ("requests", "non_2xx", "socket_errors"):
        merged[key] = sum(r[key] for r in runs)
    return merged


def rounds_of(contenders, seconds, rounds):
    """ROUNDS rounds over CONTENDERS, each round in an order rotated by one (other load on a
    shared machine comes and goes); the median of each figure per contender."""
    for round_ in range(rounds):
        order = contenders[round_ % len(contenders):] + contenders[:round_ % len(contenders)]
        for contender in order:
            log(f"wrk -t1 -c10 through {contender.label} for {seconds}s (round {round_ + 1}/{rounds})")
            measure(contender, seconds)
    return {c.key: median(c.runs) for c in contenders}


def rss_at(port, pid, count, label, vigil):
    """(VmRSS before, VmRSS holding COUNT idle keep-alive client connections) of PID, in KiB."""
    before = kib(pid, "VmRSS")
    log(f"{count} idle keep-alive connections to {label}")
    sockets, statuses = keepalive_connections(port, count, PATH)
    try:
        held = kib(pid, "VmRSS")
    finally:
        for s in sockets:
            s.close()
    bad = sum(1 for status in statuses if status != 200)
    if bad:
        if vigil:
            raise Broken(f"{label}: {bad} of {count} keep-alive connections got no 200")
        log(f"warning: {label}: {bad} of {count} keep-alive connections got no 200")
    return before, held


def ms(value):
    return f"{value:.2f} ms" if value is not None else "n/a"


def versus(door, peer, direct):
    """The note's comparison of the door with HAProxy (PEER) and the added p50 over DIRECT."""
    parts = []
    if door and peer and peer["requests_per_second"]:
        parts.append(f"door/HAProxy: throughput {door['requests_per_second'] / peer['requests_per_second']:.2f}x")
        if door["p99_ms"] and peer["p99_ms"]:
            parts.append(f"p99 {door['p99_ms'] / peer['p99_ms']:.2f}x")
        if door.get("cpu_us") and peer.get("cpu_us"):
            parts.append(f"proxy CPU/req {door['cpu_us'] / peer['cpu_us']:.2f}x")
    if direct and direct["p50_ms"] is not None:
        added = [f"{name} +{(r['p50_ms'] - direct['p50_ms']) * 1000:.0f} µs"
                 for name, r in (("door", door), ("HAProxy", peer)) if r and r["p50_ms"] is not None]
        parts.append("p50 added over direct: " + ", ".join(added))
    return "; ".join(parts)


def throughput_row(mode, figures, haproxy_name, seconds, rounds):
    door, peer, direct = figures[f"door-{mode}"], figures.get(f"haproxy-{mode}"), figures.get("direct")
    met = None
    if door and peer and door["p99_ms"] is not None and peer["p99_ms"] is not None:
        met = door["requests_per_second"] >= peer["requests_per_second"] and door["p99_ms"] <= peer["p99_ms"]
    other = [f"direct nginx {wrk_cell(direct)}" if mode == "http" else "direct: see the http row",
             f"{haproxy_name} (mode {mode}, nbthread 1) {wrk_cell(peer)}"]
    return Row(f"front door, {mode} mode: wrk -t1 -c10 keep-alive through the proxy to nginx (1 worker, "
               f"`return 200 'ok'`), median of {rounds} × {seconds} s",
               {"vigil": "door " + wrk_cell(door), "other": "; ".join(other)},
               target=f"≥ {haproxy_name}'s req/s, p99 ≤ its p99", met=met,
               note=versus(door, peer, direct) + "; CPU/req: utime+stime of the proxy process alone "
                    "(nginx's master+worker for direct); each figure the median of its rounds, the "
                    "order rotated every round")


def rss_row(count, door, peer, haproxy_name):
    def cell(pair):
        if pair is None:
            return "n/a"
        before, held = pair
        return (f"{held / 1024:.2f} MiB ({before / 1024:.2f} MiB before, "
                f"+{(held - before) / count:.1f} KiB per connection)")

    ratio = f"door/HAProxy = {door[1] / peer[1]:.2f}x; " if peer else ""
    return Row(f"RSS (VmRSS) of the proxy holding {count:,} idle keep-alive client connections (http mode, "
               "one request made on each)",
               {"vigil": "door " + cell(door), "other": f"{haproxy_name} (nbthread 1) {cell(peer)}"},
               target="", met=None,
               note=ratio + "read after the wrk rounds; the door's figure includes vigil's own binary pages")


def run(seconds, rounds, connections):
    """Rows: http mode, tcp mode, RSS at CONNECTIONS idle connections."""
    name = haproxy_version()
    if not tool("wrk"):
        log("wrk not found: the front-door rows read n/a (apt-get install wrk)")
        return [Row("front door throughput (wrk -t1 -c10)", {}, target=f"≥ {name}", met=None, note="wrk missing")]
    raise_open_files(connections + 4096)  # for the clients here, and inherited by the proxies
    nginx, nginx_port = start_nginx()
    if nginx is None:
        raise Broken("nginx, the front door's upstream in this row, did not start (apt-get install nginx-light)")
    doors, peers = {}, {}
    try:
        contenders = [Contender("direct", "nginx direct", nginx_port, nginx.pid, tree_ticks)]
        for mode in MODES:
            doors[mode] = start_door(nginx_port, mode)
            contenders.append(Contender(f"door-{mode}", f"vigil's door ({mode})", doors[mode][1], doors[mode][0].pid,
                                        lambda pid: cpu_ticks(pid)[0], vigil=True))
            peers[mode] = start_haproxy(nginx_port, mode)
            if peers[mode]:
                contenders.append(Contender(f"haproxy-{mode}", f"{name} ({mode})", peers[mode].port,
                                            peers[mode].proc.pid, lambda pid: cpu_ticks(pid)[0]))
        figures = rounds_of(contenders, seconds, rounds)
        for mode, (proc, _) in doors.items():
            if proc.poll() is not None:
                raise Broken(f"vigil's front door ({mode}) exited with {proc.returncode}")
        door_rss = rss_at(doors["http"][1], doors["http"][0].pid, connections, "vigil's door (http)", True)
        peer_rss = rss_at(peers["http"].port, peers["http"].proc.pid, connections, f"{name} (http)", False) \
            if peers["http"] else None
    finally:
        for proc, _ in doors.values():
            PROCS.stop(proc)
        for peer in peers.values():
            if peer:
                peer.stop()
        PROCS.stop(nginx)
    return [throughput_row(mode, figures, name, seconds, rounds) for mode in MODES] + \
        [rss_row(connections, door_rss, peer_rss, name)]
