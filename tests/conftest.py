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


_status = {}


def pytest_sessionfinish(session, exitstatus):
    _status["code"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """End the process with the tests' own exit status once pytest has reported everything.

    The app's background threads that AppTest started in this process (the kiosk's scene store, the paper
    pages' sweep jobs, the live runs' workers) may still be inside torch when the interpreter shuts down,
    and libtorch then aborts the process ("terminate called without an active exception"), which would turn
    a passing run into exit code 134. A server's process does not exit that way; a test process should not.
    """
    if "code" in _status:
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_status["code"])
