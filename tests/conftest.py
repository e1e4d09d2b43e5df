"""Every test session gets its own disk cache (sweeps and finished live runs), so no test reads a result that
an earlier session, or a visitor of a local server, left in the user's cache."""
from __future__ import annotations

import os
import tempfile

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_cache():
    old = os.environ.get("SHARP_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="sharp-test-cache-") as tmp:
        os.environ["SHARP_CACHE_DIR"] = tmp
        yield tmp
    if old is None:
        os.environ.pop("SHARP_CACHE_DIR", None)
    else:
        os.environ["SHARP_CACHE_DIR"] = old
