"""Black-box tests of the built vigil-lint binary (helpers: Tests/support/vigiltest/lint.py)."""
import os

import pytest

from vigiltest.lint import LINT


@pytest.fixture(scope="session", autouse=True)
def _binary():
    if not os.access(LINT, os.X_OK):
        pytest.fail(f"no vigil-lint binary at {LINT} (set VIGIL_LINT_BIN or run "
                    "`swift build -c release --product vigil-lint`)")
