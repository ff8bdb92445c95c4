"""Fixtures for the load-balancer end-to-end tests (HAProxy + wrk + the demo app)."""
import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import harness  # noqa: E402

def pytest_terminal_summary(terminalreporter):
    """The measured counts (harness.report) in the CI output, without -s."""
    if harness.SUMMARY:
        terminalreporter.section("vigil end-to-end: measurements")
        for line in harness.SUMMARY:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session", autouse=True)
def _tools():
    missing = [tool for tool in ("haproxy", "wrk", "tini", "curl")
               if not (shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}"))]
    if missing:
        pytest.fail("the end-to-end tests need: " + " ".join(missing) + " (apt-get install them)")
    if not os.access(harness.VIGIL, os.X_OK):
        pytest.fail(f"no vigil binary at {harness.VIGIL} (set VIGIL_BIN or run scripts/build-static.sh)")


@pytest.fixture
def cluster(tmp_path):
    """Factory: cluster(init="vigil", **haproxy options) → harness.Cluster; all closed at the end."""
    made = []

    def make(init="vigil", **kwargs):
        workdir = tmp_path / f"cluster{len(made)}"
        workdir.mkdir()
        c = harness.Cluster(workdir=str(workdir), init=init, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def instance(tmp_path):
    """Factory: instance(init="vigil", **Instance options) → harness.Instance, without HAProxy."""
    made = []

    def make(init="vigil", **kwargs):
        i = harness.Instance(init, workdir=str(tmp_path), **kwargs)
        made.append(i)
        return i

    yield make
    for i in made:
        i.cleanup()
