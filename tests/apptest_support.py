"""For tests that run a page script under AppTest: a private disk cache per test, and the page itself.

Use from a test module in tests/:  `from apptest_support import page, tmp_cache  # noqa: F401`.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from sharp.engine import store as cache


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    """Each test computes into a cache of its own (nothing left over from another test)."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))


def page(name: str, state: dict, timeout: float = 120) -> AppTest:
    """Run views/NAME.py once with these session-state values set first."""
    at = AppTest.from_file(f"../views/{name}.py", default_timeout=timeout)
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()
