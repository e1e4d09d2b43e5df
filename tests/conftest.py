"""Suite-wide settings. Every test session gets its own disk cache (sweeps and finished live runs), so no test
reads a result that an earlier session, or a visitor of a local server, left in the user's cache. The server's
background warm-up is off unless a test turns it on for its own server (it would compete for the cores with
what a test measures)."""
from __future__ import annotations

import os
import tempfile

import pytest

os.environ["SHARP_WARM"] = "0"


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
