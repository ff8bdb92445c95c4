"""vigil's benchmarks: one table, each row vigil next to its peers measured in the same run.

Driven by scripts/bench.sh (which checks the tools and sets PYTHONPATH); by hand:

    PYTHONPATH=Tests/support:scripts python3 -m bench [--smoke] [--runs N] [--signal-runs N]
        [--wrk-seconds S] [--idle-seconds S] [--replacements N] [--skip-rolling]
        [--door-seconds S] [--door-rounds N] [--skip-door]

Peers: tini, tini-static, dumb-init, catatonit (Debian packages), nginx (nginx-light) for the
probe endpoint, and HAProxy (haproxy) with nginx behind it for the front door. Everything listens
on 127.0.0.1 only. Every process started here is stopped on exit, on Ctrl-C and on SIGTERM.

--smoke runs every row with tiny sizes; it exits non-zero only on breakage (vigil does not start,
does not answer /readyz, does not forward SIGTERM, ...), never because of a number.
"""
import argparse
import atexit
import datetime
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time

from vigiltest.paths import VIGIL

from . import door, fleet, forwarding, lint, probes, rolling, sizes, start
from .common import PROCS, TMP, Helpers, discover, log

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


def cleanup():
    PROCS.stop_all()
    shutil.rmtree(TMP, ignore_errors=True)


def on_signal(signum, _frame):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # once: let the cleanup run to its end
    log(f"signal {signum}: stopping everything")
    raise SystemExit(128 + signum)


def parse(argv):
    parser = argparse.ArgumentParser(prog="bench.sh", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI; fails only on breakage")
    parser.add_argument("--runs", type=int, help="start-overhead runs per command (default 400; smoke 10)")
    parser.add_argument("--signal-runs", type=int, help="signal-forwarding runs per init (default 40; smoke 3)")
    parser.add_argument("--wrk-seconds", type=int, help="wrk duration per server and round (default 8, 2 rounds; smoke 1, 1 round)")
    parser.add_argument("--idle-seconds", type=float, help="idle CPU / RSS window (default 60; smoke 2)")
    parser.add_argument("--replacements", type=int, help="rolling-upgrade replacements (default 3; smoke 1)")
    parser.add_argument("--skip-rolling", action="store_true", help="leave out the rolling-upgrade row")
    parser.add_argument("--door-seconds", type=int, help="wrk run per front-door contender and round (default 5; smoke 1)")
    parser.add_argument("--door-rounds", type=int, help="front-door rounds, the median counts (default 3; smoke 1)")
    parser.add_argument("--skip-door", action="store_true", help="leave out the front-door rows")
    return parser.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    smoke = args.smoke
    runs = args.runs or (10 if smoke else 400)
    signal_runs = args.signal_runs or (3 if smoke else 40)
    wrk_seconds = args.wrk_seconds or (1 if smoke else 8)
    wrk_rounds = 1 if smoke else 2
    idle_seconds = args.idle_seconds or (2 if smoke else 60)
    replacements = args.replacements or (1 if smoke else 3)
    door_seconds = args.door_seconds or (1 if smoke else 5)
    door_rounds = args.door_rounds or (1 if smoke else 3)

    atexit.register(cleanup)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    started = time.monotonic()
    try:
        discover()
        helpers = Helpers()
        rows = [sizes.run()]
        fleet_rows = fleet.run(helpers, idle_seconds)
        rows += fleet_rows[:3]
        rows += start.run(runs)
        rows += forwarding.run(signal_runs)
        rows += probes.run(helpers, wrk_seconds, wrk_rounds)
        if not args.skip_door:
            rows += door.run(door_seconds, door_rounds, connections=1000)
        rows.append(fleet_rows[3])
        if not args.skip_rolling:
            rows.append(rolling.run(replacements, smoke))
        rows.append(lint.run(smoke))
    except AssertionError as error:  # Broken, or a wait of the support package that failed
        print(f"bench: BROKEN: {error}", file=sys.stderr, flush=True)
        return 1

    print(f"vigil benchmarks ({'smoke' if smoke else 'full'} mode), {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {machine()}")
    print(f"vigil: {VIGIL}")
    print(f"command: {' '.join(['./scripts/bench.sh'] + argv)}; took {time.monotonic() - started:.0f}s")
    print()
    print(render(rows))
    print()
    missed = [r for r in rows if r.met is False]
    print("vigil misses: " + ("; ".join(f"{r.metric} ({r.target})" for r in missed) if missed else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
