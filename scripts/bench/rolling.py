"""Row: failed requests during rolling upgrades through HAProxy, under vigil, tini and nothing
(the zero-downtime scenario of Tests/e2e, from vigiltest.rolling)."""
from vigiltest.paths import tool
from vigiltest.rolling import run_rolling_upgrade

from .common import Broken, Row, log

WHERE = "Tests/support/vigiltest/rolling.py"


def run(replacements, smoke):
    if not tool("haproxy"):
        return Row("failed requests during rolling upgrades", {}, target="0", met=None,
                   note="haproxy missing (apt-get install haproxy)")
    cells, counts = {}, {}
    kwargs = {"replacements": replacements, "log": lambda *a: log(*a)}
    if smoke:
        kwargs.update(replicas=1, settle=0.3, propagation_lag=0.5, startup_delay=0.3)
    for init in ("vigil", "tini", "bare"):
        column = "other" if init == "bare" else init
        log(f"rolling upgrade under {init}: {replacements} replacements ({WHERE})")
        try:
            c = run_rolling_upgrade(init=init, **kwargs)
        except Exception as error:
            if init == "vigil" and isinstance(error, AssertionError):
                raise Broken(f"rolling upgrade under vigil: {error}")
            log(f"rolling upgrade under {init} failed to run: {error!r}")
            cells[column] = "error"
            continue
        counts[init] = c
        text = f"{c['failed']} / {c['requests']:,}"
        cells[column] = ("bare app " + text) if init == "bare" else text
    v = counts.get("vigil")
    met = (v["failed"] == 0) if v else None
    note = f"failed / requests through HAProxy, {replacements} replacements each; {WHERE}"
    if v and v["failed"]:
        note += f"; vigil lost {v['failed']} ({v['failed_percent']}%)"
    return Row("failed requests during a rolling upgrade (HAProxy, wrk load)", cells, target="0", met=met, note=note)
