"""Fixtures for the black-box tests of the real binary (helpers: Tests/support/vigiltest)."""
import os

import pytest

from vigiltest.checks import self_signed_certificate
from vigiltest.paths import VIGIL


@pytest.fixture(scope="session", autouse=True)
def _binary():
    if not os.access(VIGIL, os.X_OK):
        pytest.fail(f"no vigil binary at {VIGIL} (set VIGIL_BIN or run scripts/build-static.sh)")


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """(cert.pem, key.pem): a self-signed certificate for the TLS peers of https:// and grpcs:// checks."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))
