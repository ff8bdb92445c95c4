"""Upper bounds on how long something takes that hold on a loaded, shared 2-core machine.

An absolute bound ("< 0.1 s") fails whenever other work slows the machine down. Instead, time
something trivial of the same kind in the same test (the baseline), then allow a generous FACTOR
of it, never less than FLOOR (the old absolute bound: as strict as before on a quiet machine)
and never CEILING or more (the value that would mean the behaviour under test is broken).
"""
import statistics
import time


def timed(action):
    """(ACTION()'s result, seconds it took)."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


class Baseline:
    """Durations of a trivial action measured in this run, and the bound they allow."""

    def __init__(self, what, samples):
        if not samples:
            raise ValueError("a baseline needs at least one sample")
        self.what = what
        self.samples = list(samples)

    @classmethod
    def measure(cls, what, action, runs=5):
        return cls(what, [timed(action)[1] for _ in range(runs)])

    @property
    def typical(self):
        return statistics.median(self.samples)

    def limit(self, factor, floor, ceiling=None):
        """max(FLOOR, FACTOR × the median, 2 × the slowest sample): a stall that hit the baseline may
        hit the measured action too. Capped just below CEILING."""
        bound = max(floor, factor * self.typical, 2 * max(self.samples))
        return min(bound, 0.95 * ceiling) if ceiling is not None else bound

    def __str__(self):
        return (f"baseline {self.what}: median {self.typical * 1000:.1f} ms, slowest "
                f"{max(self.samples) * 1000:.1f} ms over {len(self.samples)} runs")


def assert_within(seconds, limit, baseline, what="it"):
    """Fails with the measured time, the limit and where the limit came from."""
    assert seconds < limit, f"{what} took {seconds:.3f}s, limit {limit:.3f}s ({baseline})"
