"""Rows: start overhead, median(`X -- true`) minus median(`true`), the commands interleaved."""
import os
import random
import statistics
import time

from vigiltest.env import base_env, vigil_env
from vigiltest.ports import free_port

from .common import INITS, PEERS, Broken, Row, log


def run(runs):
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
