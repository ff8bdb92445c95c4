"""Rows: a fleet of inits supervising `sleep`, idle for a while: peak RSS (VmHWM) and idle CPU."""
import time

from vigiltest.http import http_get, wait_status
from vigiltest.ports import free_port
from vigiltest.processes import stat_fields

from .common import CLK_TCK, INITS, PEERS, PROCS, Broken, Row, cpu_ticks, kib, log, spawn_vigil


def run(helpers, idle_seconds):
    """Rows: peak RSS with 0 checks (probe server on, off), with 3 checks, idle CPU (the last row
    goes at the end of the table)."""
    fleet = {}
    port0, port3 = free_port(), free_port()
    fleet["vigil:0"] = spawn_vigil(port0)
    fleet["vigil:off"] = spawn_vigil(None)
    fleet["vigil:3"] = spawn_vigil(port3, helpers.three_checks("1s"))
    for name in PEERS:
        if name in INITS:
            fleet[name] = PROCS.spawn(INITS[name] + ["sleep", "3600"])
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
    hwm = {k: kib(p.pid, "VmHWM") for k, p in fleet.items()}
    # how much of the resident set is anonymous, how much the binary's own (file-backed) pages
    split = {k: (kib(p.pid, "RssAnon"), kib(p.pid, "RssFile")) for k, p in fleet.items()}
    threads = {k: int(stat_fields(p.pid)[17]) for k, p in fleet.items()}
    # one more check that the 3-check vigil kept passing the whole time
    body = http_get(port3, "/readyz?verbose")
    if body[0] != 200:
        log(f"warning: vigil (3 checks) /readyz is {body[0]} after the idle period: {body[1]!r}")
    for proc in fleet.values():
        PROCS.stop(proc)

    def pct(key, which=0):
        return 100.0 * (after[key][which] - before[key][which]) / CLK_TCK / elapsed

    def mib(key):
        return f"{hwm[key] / 1024:.2f} MiB" if hwm[key] >= 1024 else f"{hwm[key]} KiB"

    def anon_note(key, peers=False):
        anon, file_ = split[key]
        text = f"vigil RSS = {anon} KiB anonymous + {file_} KiB file-backed (its own binary's pages)"
        if peers:
            text += "; peers' anonymous KiB: " + ", ".join(f"{n} {split[n][0]}" for n in PEERS if n in split)
        return text

    peers = {n: mib(n) for n in PEERS if n in hwm}
    rows = [
        Row("peak RSS (VmHWM of the init), supervising sleep, 0 checks, probe server on",
            dict(peers, vigil=mib("vigil:0")), target="", met=None,
            note=f"threads: vigil {threads['vigil:0']}; " + anon_note("vigil:0", peers=True)),
        Row("peak RSS, 0 checks, VIGIL_LISTEN=off", dict(peers, vigil=mib("vigil:off")), target="", met=None,
            note=f"threads: vigil {threads['vigil:off']}; " + anon_note("vigil:off")),
    ]
    rss3 = hwm["vigil:3"]
    met = rss3 <= 8 * 1024
    rows.append(Row("peak RSS, 3 checks @ 1 s (exec, tcp, http), probe server on",
                    dict(peers, vigil=mib("vigil:3")), target="≤ 8 MiB", met=met,
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
