"""Fixtures for the black-box tests of the real binary (helpers: Tests/support/vigiltest)."""
import os

import pytest

from vigiltest.paths import VIGIL


@pytest.fixture(scope="session", autouse=True)
def _binary():
    if not os.access(VIGIL, os.X_OK):
        pytest.fail(f"no vigil binary at {VIGIL} (set VIGIL_BIN or run scripts/build-static.sh)")
