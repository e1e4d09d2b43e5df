"""The server does its start-up work before any visitor: the warm-up runs with nobody connected, and a server
restarted on a warm store has every default at once, computing nothing again (a real server process)."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest
from browser_support import ARTIFACTS, serve

PAGES = "theory"  # the quickest default: the test is about who starts it, not about how long it takes


def status(base: str) -> dict:
    return json.loads(urllib.request.urlopen(base + "/api/status", timeout=10).read())


def wait_warm(base: str, timeout: float = 300) -> dict:
    """/api/status once every background job has finished (bounded by timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = status(base)
        if s["background"] and all(v in ("done", "failed", "cancelled") for v in s["background"].values()):
            return s
        assert s["background"] or time.monotonic() < deadline - timeout + 30, f"no warm-up was started: {s}"
        time.sleep(0.5)
    raise AssertionError(f"the warm-up did not finish in {timeout:.0f} s: {status(base)}")


@pytest.mark.slow
def test_the_warm_up_starts_with_the_server_and_a_restart_reads_it_back(tmp_path):
    env = {"SHARP_WARM": "1", "SHARP_WARM_PAGES": PAGES, "SHARP_CACHE_DIR": str(tmp_path)}
    with serve(env=env) as base:  # nobody ever opens a page of this server
        s = wait_warm(base)
        assert list(s["background"].values()) == ["done"] and s["background"]
        assert next(iter(s["background"])).startswith("theory:")
        log = (ARTIFACTS / f"streamlit-{base.rsplit(':', 1)[1]}.log").read_text()
        said = [line for line in log.splitlines() if "serving at" in line]
        assert len(said) == 1 and f"serving at {base}/ with " in said[0] and said[0].endswith(f"store {tmp_path}"), said
    stored = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/*.parquet")}
    assert stored  # the default's runs are in the store
    with serve(env=env) as base:  # restarted on that store
        s = wait_warm(base, timeout=60)
        assert list(s["background"].values()) == ["done"]
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/*.parquet")} == stored  # nothing computed again
