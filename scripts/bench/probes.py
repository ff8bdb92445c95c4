"""Rows: /readyz throughput and latency under wrk next to nginx, and while an exec check hangs."""
import os
import subprocess
import time

from vigiltest.http import http_get, wait_status
from vigiltest.load import parse_wrk
from vigiltest.paths import tool
from vigiltest.ports import free_port, wait_port
from vigiltest.processes import cmdline, descendants

from .common import CLK_TCK, PROCS, TMP, Broken, Row, kib, log, spawn_vigil, tree_ticks

NGINX_CONF = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /readyz {{ return 200 'ok'; }}
    }}
}}
"""


def run_wrk(port, path, seconds, connections=10):
    """wrk -t1 for SECONDS with latency percentiles: (parsed summary, or None when wrk printed
    none, and the raw output)."""
    proc = PROCS.spawn([tool("wrk") or "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                        f"http://127.0.0.1:{port}{path}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=seconds + 30)
    finally:
        PROCS.stop(proc)
    text = out.decode(errors="replace")
    try:
        return parse_wrk(text), text
    except RuntimeError:
        return None, text


def start_nginx():
    """nginx with one worker answering `return 200 'ok'` on /readyz: (process, port), or
    (None, None) when it is missing or does not answer (its column then reads n/a)."""
    nginx = tool("nginx")
    if not nginx:
        log("nginx not found; its column reads n/a (apt-get install nginx-light)")
        return None, None
    tmp = os.path.join(TMP, "nginx")
    os.makedirs(tmp, exist_ok=True)
    port = free_port()
    with open(os.path.join(tmp, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(tmp=tmp, port=port))
    proc = PROCS.spawn([nginx, "-p", tmp, "-e", os.path.join(tmp, "error.log"), "-c", os.path.join(tmp, "nginx.conf"),
                        "-g", "daemon off;"])
    try:
        wait_port(port, proc, what="nginx")
        if http_get(port, "/readyz")[0] != 200:
            raise AssertionError("nginx does not answer 200 on /readyz")
    except AssertionError as error:
        log(f"nginx: {error}; its column reads n/a")
        PROCS.stop(proc)
        return None, None
    return proc, port


def wrk_cell(r, p99=True):
    if r is None:
        return "n/a"
    extra = ""
    if r["socket_errors"] or r["non_2xx"]:
        extra = f", {r['non_2xx']} non-2xx, {r['socket_errors']} socket errors"
    lat = f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms" if p99 else f"p50 {r['p50_ms']:.2f} ms"
    cpu = f", {r['cpu_us']:.0f} µs CPU/req" if r.get("cpu_us") else ""
    return f"{r['requests_per_second']:,.0f} req/s ({lat}{cpu}{extra})"


def p99(r):
    return f"{r['p99_ms']:.2f}" if r and r.get("p99_ms") is not None else "n/a"


def throughput(vigil, vport, nginx, nginx_port, seconds, rounds):
    """The best -c10 round of each server (alternating: other load on a shared machine comes and
    goes), with server CPU per request, and one -c1 run each (the latency of a single request)."""
    best = {}
    for round_ in range(rounds):
        order = [("nginx", nginx_port), ("vigil", vport)] if round_ % 2 == 0 else [("vigil", vport), ("nginx", nginx_port)]
        for name, port in order:
            if port is None:
                continue
            log(f"wrk -t1 -c10 on {name} /readyz for {seconds}s (round {round_ + 1}/{rounds})")
            server = vigil if name == "vigil" else nginx
            ticks0 = tree_ticks(server.pid)
            result, raw = run_wrk(port, "/readyz", seconds)
            if result and result["requests"]:
                result["cpu_us"] = (tree_ticks(server.pid) - ticks0) / CLK_TCK * 1e6 / result["requests"]
            if name == "vigil":
                if vigil.poll() is not None:
                    raise Broken(f"vigil exited under wrk load with {vigil.returncode}")
                if not result or not result["requests_per_second"] or result["requests"] == 0:
                    raise Broken(f"wrk got no answers from vigil /readyz:\n{raw}")
                if result["socket_errors"] or result["non_2xx"]:
                    log(f"warning: vigil /readyz under wrk: {result['non_2xx']} non-2xx, "
                        f"{result['socket_errors']} socket errors")
            if result and result["requests_per_second"] and (
                    name not in best or result["requests_per_second"] > best[name]["requests_per_second"]):
                best[name] = result
    c1 = {}
    for name, port in (("nginx", nginx_port), ("vigil", vport)):
        if port is not None:
            log(f"wrk -t1 -c1 on {name} /readyz for {seconds}s")
            c1[name], _ = run_wrk(port, "/readyz", seconds, connections=1)
    return best, c1


def run(helpers, seconds, rounds):
    """Rows: wrk on /readyz next to nginx, peak RSS after it, /readyz p99 while an exec check hangs."""
    if not tool("wrk"):
        log("wrk not found: the probe rows read n/a (apt-get install wrk)")
        return [Row("/readyz throughput (wrk -t1 -c10)", {}, target="≥ 0.5× nginx", met=None, note="wrk missing"),
                Row("/readyz p99 while an exec check hangs", {}, target="< 5 ms", met=None, note="wrk missing")]
    nginx, nginx_port = start_nginx()
    vport = free_port()
    vigil = spawn_vigil(vport, helpers.three_checks("1s"))
    try:
        wait_status(vport, "/readyz", 200, 15, vigil, what="vigil (3 checks)")
        best, c1 = throughput(vigil, vport, nginx, nginx_port, seconds, rounds)
        vigil_rss = kib(vigil.pid, "VmHWM")
        nginx_rss = sum(kib(p, "VmHWM") for p in [nginx.pid] + descendants(nginx.pid)) if nginx else None
    finally:
        PROCS.stop(vigil)
        if nginx:
            PROCS.stop(nginx)
    v, n = best["vigil"], best.get("nginx")
    ratio = v["requests_per_second"] / n["requests_per_second"] if n and n["requests_per_second"] else None
    rows = [Row("/readyz throughput, wrk -t1 -c10 (vigil with 3 checks @ 1 s; nginx: 1 worker, `return 200 'ok'`)",
                {"vigil": wrk_cell(v), "other": "nginx " + wrk_cell(n)}, target="≥ 0.5× nginx",
                met=(ratio >= 0.5) if ratio is not None else None,
                note=(f"vigil/nginx = {ratio:.2f}x; " if ratio is not None else "")
                     + ("server CPU per request (robust to other load): vigil/nginx = "
                        f"{v['cpu_us'] / n['cpu_us']:.1f}x; " if n and v.get("cpu_us") and n.get("cpu_us") else "")
                     + f"best of {rounds} alternating {seconds}s rounds each")]
    rows.append(Row("peak RSS after the wrk runs", {"vigil": f"{vigil_rss / 1024:.2f} MiB",
                                                   "other": f"nginx master+worker {nginx_rss / 1024:.2f} MiB" if nginx_rss else "n/a"},
                    target="(≤ 8 MiB)", met=None, note="VmHWM; vigil with 3 checks"))
    rows.append(while_a_check_hangs(seconds, v, n, c1))
    return rows


def while_a_check_hangs(seconds, v, n, c1):
    """The same wrk load, then one connection (no queueing), while exec:sleep 100 hangs."""
    port = free_port()
    proc = spawn_vigil(port, {"VIGIL_CHECK_HANG": "exec:sleep 100", "VIGIL_CHECK_HANG_TIMEOUT": "5s",
                              "VIGIL_CHECK_HANG_INTERVAL": "5s"})
    try:
        wait_port(port, proc, what="vigil (hanging check)")
        time.sleep(0.2)
        log(f"wrk -c10 then -c1 on vigil /readyz for {seconds}s each while exec:sleep 100 hangs")
        h, raw = run_wrk(port, "/readyz", seconds)
        h1, _ = run_wrk(port, "/readyz", seconds, connections=1)
        if proc.poll() is not None:
            raise Broken(f"vigil (hanging check) exited with {proc.returncode}")
        status = http_get(port, "/readyz?verbose")
        hung = [p for p in descendants(proc.pid) if "sleep 100" in " ".join(cmdline(p))]
    finally:
        PROCS.stop(proc)
    if not h or not h["requests_per_second"] or h["requests"] == 0:
        raise Broken(f"wrk got no answers from vigil /readyz with a hanging check:\n{raw}")
    met = h["p99_ms"] is not None and h["p99_ms"] < 5.0
    return Row("/readyz p99 while an exec check hangs (exec:sleep 100, timeout 5 s, interval 5 s)",
               {"vigil": f"p99 {p99(h)} ms at -c10 ({h['requests_per_second']:,.0f} req/s), {p99(h1)} ms at -c1; "
                         f"without the hang: {p99(v)} / {p99(c1.get('vigil'))} ms",
                "other": f"nginx p99 {p99(n)} ms at -c10, {p99(c1.get('nginx'))} ms at -c1" if n else "n/a"},
               target="< 5 ms", met=met,
               note=f"judged on -c10; /readyz answered {status[0]} during the hang; "
                    f"hanging exec child seen: {'yes' if hung else 'no'}"
                    + ("" if met else f"; {h['p99_ms'] / 5.0:.1f}x the target"))
