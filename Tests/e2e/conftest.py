"""Fixtures for the load-balancer end-to-end tests (HAProxy + wrk + the demo app); the harness
itself is Tests/support/vigiltest (haproxy, instances, load, rolling)."""
import os

import pytest

from vigiltest.instances import Instance
from vigiltest.paths import VIGIL, tool
from vigiltest.report import SUMMARY
from vigiltest.rolling import Cluster


def pytest_terminal_summary(terminalreporter):
    """The measured counts (vigiltest.report) in the CI output, without -s."""
    if SUMMARY:
        terminalreporter.section("vigil end-to-end: measurements")
        for line in SUMMARY:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session", autouse=True)
def _tools():
    missing = [name for name in ("haproxy", "wrk", "tini", "curl") if not tool(name)]
    if missing:
        pytest.fail("the end-to-end tests need: " + " ".join(missing) + " (apt-get install them)")
    if not os.access(VIGIL, os.X_OK):
        pytest.fail(f"no vigil binary at {VIGIL} (set VIGIL_BIN or run scripts/build-static.sh)")


@pytest.fixture
def cluster(tmp_path):
    """Factory: cluster(init="vigil", **haproxy options) → Cluster; all closed at the end."""
    made = []

    def make(init="vigil", **kwargs):
        workdir = tmp_path / f"cluster{len(made)}"
        workdir.mkdir()
        c = Cluster(workdir=str(workdir), init=init, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def instance(tmp_path):
    """Factory: instance(init="vigil", **Instance options) → Instance, without HAProxy."""
    made = []

    def make(init="vigil", **kwargs):
        i = Instance(init, workdir=str(tmp_path), **kwargs)
        made.append(i)
        return i

    yield make
    for i in made:
        i.cleanup()
