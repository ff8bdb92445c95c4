"""Polling until something holds: the one way every suite waits."""
import time


def wait_until(predicate, timeout=10, interval=0.03, what="condition"):
    """Polls PREDICATE until it returns something truthy, which it returns; AssertionError (with
    the last value) after TIMEOUT seconds, so a wait that fails reads like a failed assert."""
    deadline = time.monotonic() + timeout
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)
