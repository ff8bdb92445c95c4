#!/usr/bin/env python3
"""vigil's benchmarks: one table, each row vigil next to its peers measured in the same run.

Driven by scripts/bench.sh (which checks the tools); usable directly:

    python3 scripts/bench.py [--smoke] [--runs N] [--signal-runs N] [--wrk-seconds S]
                             [--idle-seconds S] [--replacements N] [--skip-rolling]

Peers: tini, tini-static, dumb-init, catatonit (Debian packages) and nginx (nginx-light) for the
probe endpoint. Everything listens on 127.0.0.1 only. Every process started here is stopped on
exit, on Ctrl-C and on SIGTERM.

--smoke runs every row with tiny sizes; it exits non-zero only on breakage (vigil does not start,
does not answer /readyz, does not forward SIGTERM, ...), never because of a number.
"""
import argparse
import atexit
import datetime
import importlib.util
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIGIL = os.path.abspath(os.environ.get("VIGIL_BIN") or os.path.join(ROOT, "out", "vigil"))
PYTHON = sys.executable or "python3"
MIB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")

# ----------------------------------------------------------------------------------------------
# process bookkeeping: everything started here is stopped on the way out

PROCS = []
TMP = tempfile.mkdtemp(prefix="vigil-bench-")


class Broken(Exception):
    """vigil (not a number) is broken: the run fails, also in --smoke."""


def log(*parts):
    print("bench:", *parts, file=sys.stderr, flush=True)


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def proc_stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (index 0 is the state)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(proc_stat_fields(entry)[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def spawn(argv, env=None, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
    proc = subprocess.Popen(argv, env=env if env is not None else base_env(), stdin=subprocess.DEVNULL,
                            stdout=stdout, stderr=stderr, start_new_session=True)
    PROCS.append(proc)
    return proc


def stop(proc, grace=3.0):
    """SIGTERM, then SIGKILL for the process and everything below it."""
    if proc.poll() is None:
        kids = descendants(proc.pid)
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=grace)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
        for pid in [proc.pid] + kids + descendants(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    if proc in PROCS:
        PROCS.remove(proc)


def cleanup():
    for proc in list(PROCS):
        stop(proc, grace=1.0)
    shutil.rmtree(TMP, ignore_errors=True)


def on_signal(signum, _frame):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # once: let the cleanup run to its end
    log(f"signal {signum}: stopping everything")
    raise SystemExit(128 + signum)


atexit.register(cleanup)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, on_signal)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0, what="process"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise Broken(f"{what} exited early with {proc.returncode}")
            time.sleep(0.02)
    raise Broken(f"{what} does not listen on 127.0.0.1:{port} after {timeout}s")


def http_get(port, path, timeout=2.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as error:
        return 0, str(error)
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    match = re.match(r"HTTP/\d\.\d (\d{3})", head)
    return (int(match.group(1)) if match else 0), body


def wait_status(port, path, status, timeout, proc=None, what="vigil"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = http_get(port, path)
        if last[0] == status:
            return last[1]
        if proc is not None and proc.poll() is not None:
            raise Broken(f"{what} exited early with {proc.returncode}")
        time.sleep(0.05)
    raise Broken(f"{what}: {path} did not answer {status} within {timeout}s (last: {last})")


def rss_split_kib(pid):
    """(RssAnon, RssFile) now, in KiB: how much of the resident set is the binary's own pages."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("RssAnon", "RssFile"):
                values[key] = int(line.split()[1])
    return values.get("RssAnon", 0), values.get("RssFile", 0)


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise Broken(f"no VmHWM for {pid}")


def cpu_ticks(pid):
    fields = proc_stat_fields(pid)
    # utime, stime, cutime, cstime are fields 14..17 of stat, i.e. 11..14 after the name
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


# ----------------------------------------------------------------------------------------------
# the contenders

def find_peer(name):
    path = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
    if path is None and name == "catatonit":
        try:
            listing = subprocess.run(["dpkg", "-L", "catatonit"], capture_output=True, text=True).stdout
            path = next((p for p in listing.split() if p.endswith("/catatonit") and os.access(p, os.X_OK)), None)
        except OSError:
            path = None
    return path


# name -> argv prefix before the app command. tini gets -s (child subreaper), as vigil and catatonit
# register themselves when they are not PID 1; dumb-init has no such option.
INITS = {}


def discover():
    if not os.access(VIGIL, os.X_OK):
        raise Broken(f"vigil binary {VIGIL} is missing or not executable (set VIGIL_BIN)")
    INITS["vigil"] = [VIGIL, "--"]
    for name, extra in (("tini", ["-s"]), ("tini-static", ["-s"]), ("dumb-init", []), ("catatonit", [])):
        path = find_peer(name)
        if path:
            INITS[name] = [path] + extra + ["--"]
        else:
            log(f"{name} not found; its column reads n/a (apt-get install {name.split('-static')[0]})")


PEERS = ["tini", "tini-static", "dumb-init", "catatonit"]


def vigil_env(port=None, checks=None, **extra):
    settings = {"VIGIL_DRAIN_DELAY": "0", "VIGIL_LISTEN": f"127.0.0.1:{port}" if port else "off"}
    settings.update(checks or {})
    settings.update(extra)
    return base_env(**settings)


# ----------------------------------------------------------------------------------------------
# helper servers for the tcp:// and http:// checks (a separate process, so this one stays quiet)

HELPER = r"""
import http.server, socket, sys, threading
tcp = socket.socket(); tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("127.0.0.1", int(sys.argv[1]))); tcp.listen(64)
def accept():
    while True:
        conn, _ = tcp.accept(); conn.close()
threading.Thread(target=accept, daemon=True).start()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), H).serve_forever()
"""


class Helpers:
    def __init__(self):
        self.tcp_port, self.http_port = free_port(), free_port()
        self.proc = spawn([PYTHON, "-c", HELPER, str(self.tcp_port), str(self.http_port)])
        wait_port(self.tcp_port, self.proc, what="tcp helper")
        wait_port(self.http_port, self.proc, what="http helper")

    def three_checks(self, interval="1s"):
        return {
            "VIGIL_CHECK_EXEC": "exec:true", "VIGIL_CHECK_EXEC_INTERVAL": interval,
            "VIGIL_CHECK_TCP": f"tcp://127.0.0.1:{self.tcp_port}", "VIGIL_CHECK_TCP_INTERVAL": interval,
            "VIGIL_CHECK_WEB": f"http://127.0.0.1:{self.http_port}/", "VIGIL_CHECK_WEB_INTERVAL": interval,
        }


# ----------------------------------------------------------------------------------------------
# row 1: binary size (ELF parsed here: static = no PT_INTERP, stripped = no .symtab)

def elf_info(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return {"dynamic": None, "stripped": None}
    end = "<" if data[5] == 1 else ">"
    phoff, shoff = struct.unpack_from(end + "QQ", data, 0x20)
    phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", data, 0x36)
    dynamic = any(struct.unpack_from(end + "I", data, phoff + i * phentsize)[0] == 3 for i in range(phnum))
    symtab = any(struct.unpack_from(end + "I", data, shoff + i * shentsize + 4)[0] == 2 for i in range(shnum))
    return {"dynamic": dynamic, "stripped": not symtab}


def shared_libs_size(path):
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    total = 0
    for lib in re.findall(r"(/\S+)\s+\(0x", out):
        try:
            total += os.path.getsize(os.path.realpath(lib))
        except OSError:
            pass
    return total


def fmt_size(n):
    return f"{n / MIB:.2f} MiB" if n >= MIB else f"{n / 1024:.1f} KiB"


def bench_sizes():
    cells = {}
    vigil_size = None
    for name, argv in INITS.items():
        path = argv[0]
        size = os.path.getsize(path)
        info = elf_info(path)
        if name == "vigil":
            vigil_size = size
        text = fmt_size(size)
        if info["dynamic"]:
            libs = shared_libs_size(path)
            text += f" dynamic (+{fmt_size(libs)} libs)" if libs else " dynamic"
        else:
            text += " static"
        if info["stripped"] is False:
            text += ", not stripped"
        cells[name] = text
    info = elf_info(VIGIL)
    if info["dynamic"] or not info["stripped"]:
        log("warning: vigil is " + ("dynamically linked" if info["dynamic"] else "not stripped"))
    target = 14 * MIB
    met = vigil_size <= target and info["dynamic"] is False and info["stripped"]
    note = f"{vigil_size / 1e6:.2f} MB = {vigil_size / target:.2f}x the 14 MiB target" if not met else ""
    return Row("binary size (stripped)", cells, target="≤ 14 MiB, static", met=met, note=note)


# ----------------------------------------------------------------------------------------------
# rows 2-3 (+ idle CPU): a fleet of inits supervising `sleep`, idle for a while; VmHWM and CPU

def bench_fleet(helpers, idle_seconds):
    sleeper = ["sleep", "3600"]
    fleet = {}
    port0, port3 = free_port(), free_port()
    fleet["vigil:0"] = spawn(INITS["vigil"] + sleeper, env=vigil_env(port0))
    fleet["vigil:off"] = spawn(INITS["vigil"] + sleeper, env=vigil_env(None))
    fleet["vigil:3"] = spawn(INITS["vigil"] + sleeper, env=vigil_env(port3, helpers.three_checks("1s")))
    for name in PEERS:
        if name in INITS:
            fleet[name] = spawn(INITS[name] + sleeper)
    wait_status(port0, "/readyz", 200, 10, fleet["vigil:0"], what="vigil (0 checks)")
    body = wait_status(port3, "/readyz?verbose", 200, 15, fleet["vigil:3"], what="vigil (3 checks)")
    for check in ("exec", "tcp", "web"):
        if f"[+]{check} ok" not in body:
            raise Broken(f"vigil (3 checks): check {check} not passing: {body!r}")
    time.sleep(0.3)
    for key, proc in fleet.items():
        if proc.poll() is not None:
            raise Broken(f"{key} exited early with {proc.returncode}") if key.startswith("vigil") else \
                Broken(f"peer {key} exited early with {proc.returncode}")
    before = {k: cpu_ticks(p.pid) for k, p in fleet.items()}
    t0 = time.monotonic()
    log(f"idle fleet: {len(fleet)} inits supervising sleep for {idle_seconds:g}s (idle CPU, peak RSS)")
    time.sleep(idle_seconds)
    elapsed = time.monotonic() - t0
    after = {k: cpu_ticks(p.pid) for k, p in fleet.items()}
    hwm = {k: vm_hwm_kib(p.pid) for k, p in fleet.items()}
    split = {k: rss_split_kib(p.pid) for k, p in fleet.items()}
    threads = {}
    for k, p in fleet.items():
        threads[k] = int(proc_stat_fields(p.pid)[17])
    # one more check that the 3-check vigil kept passing the whole time
    body = http_get(port3, "/readyz?verbose")
    if body[0] != 200:
        log(f"warning: vigil (3 checks) /readyz is {body[0]} after the idle period: {body[1]!r}")
    for proc in fleet.values():
        stop(proc)

    def pct(key, which=0):
        return 100.0 * (after[key][which] - before[key][which]) / CLK_TCK / elapsed

    def kib(key):
        return f"{hwm[key] / 1024:.2f} MiB" if hwm[key] >= 1024 else f"{hwm[key]} KiB"

    def anon_note(key, peers=False):
        anon, file_ = split[key]
        text = f"vigil RSS = {anon} KiB anonymous + {file_} KiB file-backed (its own binary's pages)"
        if peers:
            text += "; peers' anonymous KiB: " + ", ".join(f"{n} {split[n][0]}" for n in PEERS if n in split)
        return text

    peers = {n: kib(n) for n in PEERS if n in hwm}
    rows = [
        Row("peak RSS (VmHWM of the init), supervising sleep, 0 checks, probe server on",
            dict(peers, vigil=kib("vigil:0")), target="", met=None,
            note=f"threads: vigil {threads['vigil:0']}; " + anon_note("vigil:0", peers=True)),
        Row("peak RSS, 0 checks, VIGIL_LISTEN=off", dict(peers, vigil=kib("vigil:off")), target="", met=None,
            note=f"threads: vigil {threads['vigil:off']}; " + anon_note("vigil:off")),
    ]
    rss3 = hwm["vigil:3"]
    met = rss3 <= 8 * 1024
    rows.append(Row("peak RSS, 3 checks @ 1 s (exec, tcp, http), probe server on",
                    dict(peers, vigil=kib("vigil:3")), target="≤ 8 MiB", met=met,
                    note=f"after {idle_seconds:g}s; threads: vigil {threads['vigil:3']}; " + anon_note("vigil:3")
                    + ("" if met else f"; {rss3 / 8192:.2f}x the target")))
    cpu3 = pct("vigil:3")
    cpu_cells = {n: f"{pct(n):.3f}%" for n in PEERS if n in after}
    cpu_cells["vigil"] = f"{cpu3:.3f}%"
    met = cpu3 < 0.5
    children = pct("vigil:3", 1)
    rows.append(Row(f"idle CPU over {idle_seconds:g}s, 3 checks @ 1 s (utime+stime of the init, % of a core)",
                    cpu_cells, target="< 0.5%", met=met,
                    note=f"vigil 0 checks {pct('vigil:0'):.3f}%; exec-check children (reaped) {children:.3f}%"
                    + ("" if met else f"; {cpu3 / 0.5:.1f}x the target")))
    return rows


# ----------------------------------------------------------------------------------------------
# row: start overhead, `X -- true` minus `true`, interleaved

def bench_start(runs):
    devnull_actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                       (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
                       (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)]
    port = free_port()
    commands = {"true": (["true"], base_env())}
    commands["vigil"] = (INITS["vigil"] + ["true"], vigil_env(None))
    commands["vigil:server"] = (INITS["vigil"] + ["true"], vigil_env(port))
    for name in PEERS:
        if name in INITS:
            commands[name] = (INITS[name] + ["true"], base_env())

    def once(key):
        argv, env = commands[key]
        t0 = time.perf_counter_ns()
        pid = os.posix_spawnp(argv[0], argv, env, file_actions=devnull_actions)
        _, status = os.waitpid(pid, 0)
        t1 = time.perf_counter_ns()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise Broken(f"`{' '.join(argv)}` exited with {code}") if key.startswith("vigil") else \
                Broken(f"peer `{' '.join(argv)}` exited with {code}")
        return t1 - t0

    keys = list(commands)
    warmup = max(3, runs // 20)
    log(f"start overhead: {len(keys)} commands x {runs} interleaved runs (+{warmup} warm-up)")
    samples = {k: [] for k in keys}
    for round_ in range(warmup + runs):
        random.shuffle(keys)
        for key in keys:
            t = once(key)
            if round_ >= warmup:
                samples[key].append(t)
    med = {k: statistics.median(v) / 1e6 for k, v in samples.items()}
    over = {k: med[k] - med["true"] for k in med if k != "true"}

    def cell(k):
        q = statistics.quantiles([s / 1e6 - med["true"] for s in samples[k]], n=4) if len(samples[k]) > 1 else [0, 0, 0]
        return f"{over[k]:.2f} ms (IQR {q[0]:.2f}–{q[2]:.2f})"

    peers = {n: cell(n) for n in PEERS if n in over}
    base = over.get("tini")
    ratio = over["vigil"] / base if base and base > 0 else None
    met = ratio is not None and ratio <= 2.0
    note = f"`true` alone: {med['true']:.2f} ms; {runs} runs"
    if ratio is not None:
        note += f"; vigil/tini = {ratio:.2f}x"
    if "tini-static" in over and over["tini-static"] > 0:
        note += f", vigil/tini-static = {over['vigil'] / over['tini-static']:.2f}x"
    rows = [Row("start overhead: median(`X -- true`) − median(`true`), VIGIL_LISTEN=off",
                dict(peers, vigil=cell("vigil")), target="≤ 2× tini", met=met if ratio is not None else None,
                note=note)]
    ratio_s = over["vigil:server"] / base if base and base > 0 else None
    rows.append(Row("start overhead, vigil with the probe server on",
                    dict(peers, vigil=cell("vigil:server")), target="(≤ 2× tini)",
                    met=None, note=f"vigil/tini = {ratio_s:.2f}x" if ratio_s else ""))
    return rows


# ----------------------------------------------------------------------------------------------
# row: signal forwarding latency (SIGTERM to the init -> the child's handler runs)

CHILD = r"""
import os, signal, sys, time
out = sys.argv[1]
def handler(signum, frame):
    t = time.monotonic_ns()
    with open(out + ".tmp", "w") as f:
        f.write(str(t))
    os.rename(out + ".tmp", out)
    os._exit(0)
signal.signal(signal.SIGTERM, handler)
open(out + ".ready", "w").close()
while True:
    signal.pause()
"""


def bench_signal(runs):
    names = ["vigil"] + [n for n in PEERS if n in INITS]
    samples = {n: [] for n in names}
    log(f"signal forwarding: {len(names)} inits x {runs} interleaved runs")
    counter = 0
    for _ in range(runs):
        random.shuffle(names)
        for name in names:
            counter += 1
            out = os.path.join(TMP, f"sig-{counter}")
            env = vigil_env(free_port()) if name == "vigil" else base_env()
            proc = spawn(INITS[name] + [PYTHON, "-S", "-c", CHILD, out], env=env)
            deadline = time.monotonic() + 10
            while not os.path.exists(out + ".ready"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    stop(proc)
                    raise Broken(f"{name}: the child did not start (exit {proc.returncode})")
                time.sleep(0.002)
            time.sleep(0.02)  # let the init settle back into its wait
            t0 = time.monotonic_ns()
            os.kill(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while not os.path.exists(out):
                if time.monotonic() > deadline:
                    stop(proc)
                    raise Broken(f"{name}: SIGTERM was not forwarded to the child within 5s")
                time.sleep(0.0005)
            with open(out) as f:
                samples[name].append((int(f.read()) - t0) / 1000.0)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                raise Broken(f"{name}: did not exit 10s after its child did")
            finally:
                stop(proc)
    med = {n: statistics.median(v) for n, v in samples.items()}

    def cell(n):
        return f"{med[n]:.0f} µs (p90 {sorted(samples[n])[int(0.9 * (len(samples[n]) - 1))]:.0f})"

    return [Row("signal forwarding: SIGTERM to the init → child's handler runs (median)",
                {n: cell(n) for n in med}, target="", met=None,
                note=f"{runs} runs each; vigil with VIGIL_DRAIN_DELAY=0, probe server on; "
                     f"vigil/tini = {med['vigil'] / med['tini']:.2f}x" if "tini" in med else f"{runs} runs")]


# ----------------------------------------------------------------------------------------------
# rows: wrk on /readyz vs nginx; /readyz p99 while an exec check hangs

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(text):
    def ms(value):
        m = re.match(r"([\d.]+)(us|ms|s|m)$", value)
        return float(m.group(1)) * UNITS[m.group(2)] if m else None
    result = {"rps": None, "p50": None, "p99": None, "non2xx": 0, "errors": 0, "requests": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        result["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in", text)
    if m:
        result["requests"] = int(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", text, re.M)
        if m:
            result[key] = ms(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        result["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        result["errors"] = sum(int(x) for x in m.groups())
    return result


def run_wrk(port, path, seconds, connections=10):
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}{path}"]
    proc = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=seconds + 30)
    finally:
        stop(proc)
    return parse_wrk(out.decode(errors="replace")), out.decode(errors="replace")


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


def find_nginx():
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def start_nginx():
    nginx = find_nginx()
    if not nginx:
        log("nginx not found; its column reads n/a (apt-get install nginx-light)")
        return None, None
    tmp = os.path.join(TMP, "nginx")
    os.makedirs(tmp, exist_ok=True)
    port = free_port()
    with open(os.path.join(tmp, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(tmp=tmp, port=port))
    proc = spawn([nginx, "-p", tmp, "-e", os.path.join(tmp, "error.log"), "-c", os.path.join(tmp, "nginx.conf"),
                  "-g", "daemon off;"])
    try:
        wait_port(port, proc, what="nginx")
        if http_get(port, "/readyz")[0] != 200:
            raise Broken("nginx does not answer 200 on /readyz")
    except Broken as error:
        log(f"nginx: {error}; its column reads n/a")
        stop(proc)
        return None, None
    return proc, port


def wrk_cell(r, p99=True):
    if r is None:
        return "n/a"
    extra = ""
    if r["errors"] or r["non2xx"]:
        extra = f", {r['non2xx']} non-2xx, {r['errors']} socket errors"
    lat = f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms" if p99 else f"p50 {r['p50']:.2f} ms"
    cpu = f", {r['cpu_us']:.0f} µs CPU/req" if r.get("cpu_us") else ""
    return f"{r['rps']:,.0f} req/s ({lat}{cpu}{extra})"


def tree_ticks(pid):
    """utime+stime of PID and its descendants (threads included), in clock ticks."""
    total = 0
    for p in [pid] + descendants(pid):
        try:
            total += cpu_ticks(p)[0]
        except (OSError, IndexError):
            pass
    return total


def bench_http(helpers, seconds, rounds):
    if not shutil.which("wrk"):
        log("wrk not found: the probe rows read n/a (apt-get install wrk)")
        return [Row("/readyz throughput (wrk -t1 -c10)", {}, target="≥ 0.5× nginx", met=None, note="wrk missing"),
                Row("/readyz p99 while an exec check hangs", {}, target="< 5 ms", met=None, note="wrk missing")]
    nginx, nginx_port = start_nginx()
    vport = free_port()
    vigil = spawn(INITS["vigil"] + ["sleep", "3600"], env=vigil_env(vport, helpers.three_checks("1s")))
    best = {}
    try:
        wait_status(vport, "/readyz", 200, 15, vigil, what="vigil (3 checks)")
        # alternate the two servers, best round each: other load on a shared machine comes and goes
        for round_ in range(rounds):
            order = [("nginx", nginx_port), ("vigil", vport)] if round_ % 2 == 0 else [("vigil", vport), ("nginx", nginx_port)]
            for name, port in order:
                if port is None:
                    continue
                log(f"wrk -t1 -c10 on {name} /readyz for {seconds}s (round {round_ + 1}/{rounds})")
                server = vigil if name == "vigil" else nginx
                ticks0 = tree_ticks(server.pid)
                result, raw = run_wrk(port, "/readyz", seconds)
                if result["requests"]:
                    result["cpu_us"] = (tree_ticks(server.pid) - ticks0) / CLK_TCK * 1e6 / result["requests"]
                if name == "vigil":
                    if vigil.poll() is not None:
                        raise Broken(f"vigil exited under wrk load with {vigil.returncode}")
                    if not result["rps"] or result["requests"] == 0:
                        raise Broken(f"wrk got no answers from vigil /readyz:\n{raw}")
                    if result["errors"] or result["non2xx"]:
                        log(f"warning: vigil /readyz under wrk: {result['non2xx']} non-2xx, {result['errors']} socket errors")
                if result["rps"] and (name not in best or result["rps"] > best[name]["rps"]):
                    best[name] = result
        # one connection, no queueing: the latency of a single request
        c1 = {}
        for name, port in (("nginx", nginx_port), ("vigil", vport)):
            if port is not None:
                log(f"wrk -t1 -c1 on {name} /readyz for {seconds}s")
                c1[name], _ = run_wrk(port, "/readyz", seconds, connections=1)
        vigil_rss = vm_hwm_kib(vigil.pid)
        nginx_rss = sum(vm_hwm_kib(p) for p in [nginx.pid] + descendants(nginx.pid)) if nginx else None
    finally:
        stop(vigil)
        if nginx:
            stop(nginx)
    v, n = best["vigil"], best.get("nginx")
    ratio = v["rps"] / n["rps"] if n and n["rps"] else None
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

    # p99 while an exec check hangs: same wrk load, then one connection (no queueing)
    port = free_port()
    env = vigil_env(port, {"VIGIL_CHECK_HANG": "exec:sleep 100", "VIGIL_CHECK_HANG_TIMEOUT": "5s",
                           "VIGIL_CHECK_HANG_INTERVAL": "5s"})
    proc = spawn(INITS["vigil"] + ["sleep", "3600"], env=env)
    try:
        wait_port(port, proc, what="vigil (hanging check)")
        time.sleep(0.2)
        log(f"wrk -c10 then -c1 on vigil /readyz for {seconds}s each while exec:sleep 100 hangs")
        h, raw = run_wrk(port, "/readyz", seconds)
        h1, _ = run_wrk(port, "/readyz", seconds, connections=1)
        if proc.poll() is not None:
            raise Broken(f"vigil (hanging check) exited with {proc.returncode}")
        status = http_get(port, "/readyz?verbose")
        hung = [p for p in descendants(proc.pid) if "sleep 100" in " ".join(read_cmdline(p))]
    finally:
        stop(proc)
    if not h["rps"] or h["requests"] == 0:
        raise Broken(f"wrk got no answers from vigil /readyz with a hanging check:\n{raw}")
    met = h["p99"] is not None and h["p99"] < 5.0

    def p99(r):
        return f"{r['p99']:.2f}" if r and r.get("p99") is not None else "n/a"

    rows.append(Row("/readyz p99 while an exec check hangs (exec:sleep 100, timeout 5 s, interval 5 s)",
                    {"vigil": f"p99 {p99(h)} ms at -c10 ({h['rps']:,.0f} req/s), {p99(h1)} ms at -c1; "
                              f"without the hang: {p99(v)} / {p99(c1.get('vigil'))} ms",
                     "other": f"nginx p99 {p99(n)} ms at -c10, {p99(c1.get('nginx'))} ms at -c1" if n else "n/a"},
                    target="< 5 ms", met=met,
                    note=f"judged on -c10; /readyz answered {status[0]} during the hang; "
                         f"hanging exec child seen: {'yes' if hung else 'no'}"
                         + ("" if met else f"; {h['p99'] / 5.0:.1f}x the target")))
    return rows


def read_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace").rstrip("\0").split("\0")
    except OSError:
        return []


# ----------------------------------------------------------------------------------------------
# row: failed requests during rolling upgrades (Tests/e2e harness, HAProxy)

def load_rolling():
    e2e = os.path.join(ROOT, "Tests", "e2e")
    for fname in ("test_zero_downtime.py", "harness.py"):
        path = os.path.join(e2e, fname)
        if not os.path.exists(path):
            continue
        if e2e not in sys.path:
            sys.path.insert(0, e2e)
        spec = importlib.util.spec_from_file_location(f"bench_e2e_{fname[:-3]}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # a missing pytest, a half-written file: not vigil's breakage
            log(f"cannot import {path}: {error}")
            continue
        fn = getattr(module, "run_rolling_upgrade", None)
        if fn:
            return fn, os.path.relpath(path, ROOT)
    return None, None


def bench_rolling(replacements, smoke):
    fn, where = load_rolling()
    if fn is None:
        return Row("failed requests during rolling upgrades", {}, target="0", met=None,
                   note="see Tests/e2e (run_rolling_upgrade not found)")
    if not shutil.which("haproxy") and not os.access("/usr/sbin/haproxy", os.X_OK):
        return Row("failed requests during rolling upgrades", {}, target="0", met=None,
                   note="haproxy missing (apt-get install haproxy)")
    cells, counts = {}, {}
    kwargs = {"replacements": replacements, "log": lambda *a: log(*a)}
    if smoke:
        kwargs.update(replicas=1, settle=0.3, propagation_lag=0.5, startup_delay=0.3)
    for init in ("vigil", "tini", "bare"):
        log(f"rolling upgrade under {init}: {replacements} replacements ({where})")
        try:
            c = fn(init=init, **kwargs)
        except Exception as error:
            if init == "vigil" and isinstance(error, AssertionError):
                raise Broken(f"rolling upgrade under vigil: {error}")
            log(f"rolling upgrade under {init} failed to run: {error!r}")
            cells["other" if init == "bare" else init] = "error"
            continue
        counts[init] = c
        text = f"{c['failed']} / {c['requests']:,}"
        cells["other" if init == "bare" else init] = ("bare app " + text) if init == "bare" else text
    v = counts.get("vigil")
    met = (v["failed"] == 0) if v else None
    note = f"failed / requests through HAProxy, {replacements} replacements each; {where}"
    if v and v["failed"]:
        note += f"; vigil lost {v['failed']} ({v['failed_percent']}%)"
    return Row("failed requests during a rolling upgrade (HAProxy, wrk load)", cells, target="0", met=met, note=note)


# ----------------------------------------------------------------------------------------------
# the table

class Row:
    def __init__(self, metric, cells, target, met, note=""):
        self.metric, self.cells, self.target, self.met, self.note = metric, cells, target, met, note


COLUMNS = ["vigil", "tini", "tini-static", "dumb-init", "catatonit", "other"]


def render(rows):
    header = ["metric"] + COLUMNS + ["target", "vigil meets", "notes"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "**NO**")
        if r.met is None and r.target and not r.target.startswith("("):
            met = "n/a"
        cells = [r.metric] + [r.cells.get(c, "—") for c in COLUMNS] + [r.target or "—", met or "—", r.note or ""]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def machine():
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s+(.+)", out)
        model = m.group(1).strip() if m else ""
    except OSError:
        pass
    mem = ""
    with open("/proc/meminfo") as f:
        m = re.search(r"MemTotal:\s+(\d+) kB", f.read())
        mem = f"{int(m.group(1)) / 1024 / 1024:.1f} GiB" if m else ""
    return f"{os.cpu_count()} CPUs ({model}), {mem} RAM, Linux {platform.release()}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI; fails only on breakage")
    parser.add_argument("--runs", type=int, help="start-overhead runs per command (default 400; smoke 10)")
    parser.add_argument("--signal-runs", type=int, help="signal-forwarding runs per init (default 40; smoke 3)")
    parser.add_argument("--wrk-seconds", type=int, help="wrk duration per server and round (default 8, 2 rounds; smoke 1, 1 round)")
    parser.add_argument("--idle-seconds", type=float, help="idle CPU / RSS window (default 60; smoke 2)")
    parser.add_argument("--replacements", type=int, help="rolling-upgrade replacements (default 3; smoke 1)")
    parser.add_argument("--skip-rolling", action="store_true", help="leave out the rolling-upgrade row")
    args = parser.parse_args(argv)
    smoke = args.smoke
    runs = args.runs or (10 if smoke else 400)
    signal_runs = args.signal_runs or (3 if smoke else 40)
    wrk_seconds = args.wrk_seconds or (1 if smoke else 8)
    wrk_rounds = 1 if smoke else 2
    idle_seconds = args.idle_seconds or (2 if smoke else 60)
    replacements = args.replacements or (1 if smoke else 3)

    started = time.monotonic()
    command = " ".join(["./scripts/bench.sh"] + (argv if argv is not None else sys.argv[1:]))
    try:
        discover()
        helpers = Helpers()
        rows = [bench_sizes()]
        fleet_rows = bench_fleet(helpers, idle_seconds)
        rows += fleet_rows[:3]
        rows += bench_start(runs)
        rows += bench_signal(signal_runs)
        rows += bench_http(helpers, wrk_seconds, wrk_rounds)
        rows.append(fleet_rows[3])
        if not args.skip_rolling:
            rows.append(bench_rolling(replacements, smoke))
    except Broken as error:
        print(f"bench: BROKEN: {error}", file=sys.stderr, flush=True)
        return 1

    print(f"vigil benchmarks ({'smoke' if smoke else 'full'} mode), {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {machine()}")
    print(f"vigil: {VIGIL}")
    print(f"command: {command}; took {time.monotonic() - started:.0f}s")
    print()
    print(render(rows))
    print()
    missed = [r for r in rows if r.met is False]
    print("vigil misses: " + ("; ".join(f"{r.metric} ({r.target})" for r in missed) if missed else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
