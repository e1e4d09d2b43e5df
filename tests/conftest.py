"""Suite-wide settings. Every test session gets its own disk cache (sweeps and finished live runs), so no test
reads a result that an earlier session, or a visitor of a local server, left in the user's cache. The server's
background warm-up is off unless a test turns it on for its own server (it would compete for the cores with
what a test measures).

No test leaves the app's training running behind it: after each test, the pool that AppTest's pages
used (`sharp.serve.pool.shared()`) is closed, its live runs and computations stopped; at the end of the session
every thread the app started is joined. A run left training in the background would compete with the next
tests, and share torch's process-wide state with them (forward-mode AD levels: a linearized live run, which
uses torch.func.jvp, made a jvp in tests/test_nets.py fail with "Trying to access a forward AD level with an
invalid index"); and one still inside torch when the interpreter exits can abort the process (libtorch's
"terminate called without an active exception", exit status 134) after every test has passed.
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
import time

import pytest

os.environ["SHARP_WARM"] = "0"

APP_THREADS = ("sharp-", "kiosk-")  # name prefixes of the threads the app starts (sharp/serve)
JOIN_S = 60.0  # bound on waiting for them at the end of the session


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


def stop_background_training() -> None:
    """Stop this process's app: its pool's workers stop between two slices and its computations at their
    next step, and they are waited for (web.server.stop). Cheap when the test started nothing."""
    server = sys.modules.get("web.server")
    if server is not None:
        server.stop()  # the next page run starts a fresh pool
    elif (pool := sys.modules.get("sharp.serve.pool")) is not None:
        pool.close_shared()


@pytest.fixture(autouse=True)
def no_training_left_behind():
    yield
    stop_background_training()


def pytest_sessionfinish(session, exitstatus):
    """Stop what the app started in this process and wait for its threads, so the interpreter exits normally."""
    stop_background_training()
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_resource.clear()  # the server's collector and the kiosk's scene store among them
    deadline = time.monotonic() + JOIN_S
    for t in threading.enumerate():
        if t.name.startswith(APP_THREADS):
            t.join(max(0.0, deadline - time.monotonic()))
    left = [t.name for t in threading.enumerate() if t.name.startswith(APP_THREADS) and t.is_alive()]
    if left:
        print(f"\nconftest: app threads still running after {JOIN_S:g} s: {', '.join(left)}", file=sys.stderr)


@pytest.fixture
def own_pool():
    """A pool of the test's own (the process's shared one keeps what earlier tests computed), closed after."""
    from sharp.serve.pool import Pool

    s = Pool(workers=1)
    yield s
    s.close()
