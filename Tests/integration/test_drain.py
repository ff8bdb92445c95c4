"""Issue 13, item 4, black-box: VIGIL_DRAIN_PORTS waits for requests in flight, read from the
kernel's sock_diag (per-socket queues and tcp_info), not for idle keep-alive connections; where
netlink is refused it falls back to counting every established connection and says so once.

The app is the demo app speaking HTTP/1.1 keep-alive; it dies at once on SIGTERM, so a request cut
by a stop too early shows as a failed request here."""
import re

import pytest

from vigiltest.drain import demo_under_vigil, stop_across
from vigiltest.sandbox import NO_NETLINK

DRAIN_TIMEOUT = 10


def drain_lines(log):
    return re.findall(r"vigil: info: drain: waiting for (?:requests in flight|connections to close) .*", log)


def test_an_idle_keep_alive_connection_does_not_hold_the_drain(tmp_path):
    vigil, port = demo_under_vigil(tmp_path, drain_timeout=f"{DRAIN_TIMEOUT}s")
    stop = stop_across(vigil, port, idle=1)
    took = stop.exited - stop.signalled
    assert stop.code == 143, stop.log  # the app got its SIGTERM and died of it
    assert took < 3, f"the drain took {took:.2f}s of its {DRAIN_TIMEOUT}s\n{stop.log}"
    assert drain_lines(stop.log) == [f"vigil: info: drain: waiting for requests in flight busy=0 open=1 ports={port}"]
    assert "drain: no request in flight: stopping the app" in stop.log
    assert "sock_diag is not available" not in stop.log


@pytest.mark.parametrize("host", ["127.0.0.1", "::"], ids=["tcp4", "tcp6-dual-stack"])
@pytest.mark.parametrize("answered_before", [0, 1], ids=["first-request", "after-a-request"])
def test_a_slow_request_in_flight_holds_the_drain_until_it_is_answered(tmp_path, host, answered_before):
    """The first request of a connection usually arrives in the clock tick the connection opened, so
    the times alone tie; a later one on a kept-alive connection is told apart by them."""
    vigil, port = demo_under_vigil(tmp_path, drain_timeout=f"{DRAIN_TIMEOUT}s", host=host)
    stop = stop_across(vigil, port, slow_ms=2000, answered_before=answered_before)
    answer = stop.answer
    assert answer["status"] == 200, (answer, stop.log)
    assert answer["body"].startswith(b"slept 2000 ms in "), answer
    assert answer["at"] - answer["sent"] >= 1.9
    assert stop.exited >= answer["at"] - 0.05, "the app was stopped before its response was read"
    waited = stop.exited - answer["at"]
    assert waited < 2, f"vigil kept waiting {waited:.2f}s after the response\n{stop.log}"
    assert stop.exited - stop.signalled < DRAIN_TIMEOUT - 5, stop.log
    assert stop.code == 143, stop.log
    lines = drain_lines(stop.log)
    assert lines[0] == f"vigil: info: drain: waiting for requests in flight busy=1 open=1 ports={port}", stop.log
    assert lines[-1] == f"vigil: info: drain: waiting for requests in flight busy=0 open=1 ports={port}", stop.log


def test_idle_connections_next_to_a_busy_one_are_not_waited_for(tmp_path):
    vigil, port = demo_under_vigil(tmp_path, drain_timeout=f"{DRAIN_TIMEOUT}s")
    stop = stop_across(vigil, port, idle=3, slow_ms=1500)
    assert stop.answer["status"] == 200 and stop.code == 143, (stop.answer, stop.log)
    assert stop.answer["at"] - 0.05 <= stop.exited < stop.answer["at"] + 2, stop.log
    lines = drain_lines(stop.log)
    assert lines[0].endswith(f"busy=1 open=4 ports={port}"), stop.log
    assert lines[-1].endswith(f"busy=0 open=4 ports={port}"), stop.log


def test_where_netlink_is_refused_every_connection_counts_and_the_log_says_so(tmp_path):
    """The fallback, in a seccomp sandbox that fails socket(AF_NETLINK, …) with EPERM: the drain
    cannot tell an idle keep-alive connection from a busy one, so it waits for the timeout."""
    vigil, port = demo_under_vigil(tmp_path, drain_timeout="2s", prefix=NO_NETLINK)
    stop = stop_across(vigil, port, idle=1)
    took = stop.exited - stop.signalled
    assert stop.code == 143, stop.log
    assert 1.8 <= took <= 4, f"vigil exited {took:.2f}s after SIGTERM, DRAIN_TIMEOUT=2s"
    warning = ("vigil: warn: drain: sock_diag is not available (socket(AF_NETLINK, NETLINK_SOCK_DIAG): operation not "
               "permitted): counting every established connection on the drain ports, idle keep-alive ones too")
    assert stop.log.count(warning) == 1, stop.log
    assert drain_lines(stop.log) == [f"vigil: info: drain: waiting for connections to close open=1 ports={port}"]
    assert "drain timeout (2s) reached: stopping the app" in stop.log
