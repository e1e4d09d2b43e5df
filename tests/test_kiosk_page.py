"""The kiosk page headless (AppTest): routed by ?kiosk=1, no widgets and no sidebar, a scene with its headline,
countdown, readings and hand-off script, a QR code only with a public address, warnings for bad knobs.

The scenes' runs are replaced by small fake ones (the real ones take a minute to train on a fresh machine;
tests/test_kiosk_browser.py runs them for real).
"""
from __future__ import annotations

from html import escape
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from test_kiosk import fake_frame

from sharp.experiments import scenes
from sharp.serve import scene_store
from ui import kiosk

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(autouse=True)
def fake_scenes(monkeypatch):
    monkeypatch.setattr(scenes, "scene_data", lambda scene, **kw: scenes.from_frame(scene, fake_frame(scene.kind)))
    st.cache_resource.clear()  # a fresh store per test, filled by the fake
    yield
    st.cache_resource.clear()


def page(query: dict[str, str], runs: int = 2) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    kiosk_store().join(60)  # the pool fills the store (background work: after any live run); the next
    # run draws a scene
    for _ in range(runs - 1):
        at.run()
    return at


def kiosk_store() -> scene_store.SceneStore:
    """The page's store: cache_resource keys a function by its name and code, so this is the page's instance."""
    return st.cache_resource(show_spinner=False)(scene_store.SceneStore)()


def html(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def scripts_sent(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html") if "<script" in h.proto.body]


def test_kiosk_shows_a_scene_without_widgets():
    at = page({"kiosk": "1"})
    assert not at.exception
    assert not at.slider and not at.button and not at.number_input and not at.toggle and not at.sidebar.children
    body = html(at)
    assert 'data-scene="a"' in body and "data-countdown=" in body
    # the headline and caption state the runs of the scene on screen (the store's) and its configurations
    data = kiosk_store().get("a")
    assert f'<div class="kiosk-headline">{escape(scenes.headline(data))}</div>' in body
    assert f'<div class="kiosk-caption">{escape(scenes.caption(scenes.SCENES[0]))}</div>' in body
    assert f'<div class="kiosk-caption kiosk-paper">{escape(scenes.paper_line(scenes.SCENES[0]))}</div>' in body
    assert 'data-chart="kiosk-a"' in body and "kernel regime" in body and "test error" in body
    assert "kiosk-qr" not in body  # no public address, no QR code
    leave = [s for s in scripts_sent(at) if "__sharpKioskTarget" in s]
    assert len(leave) == 1 and kiosk.handoff_url(scenes.SCENES[0], kiosk.Options()) in leave[0]


def test_start_and_timing_knobs_and_the_qr_code(monkeypatch):
    monkeypatch.setenv("SHARP_PUBLIC_URL", "https://booth.example.org")
    # 600 s a scene (the most allowed): the page must still show the start scene however slow this machine is
    # (with 8 s, a loaded machine took longer than a scene between the first run and the drawing: scene d)
    at = page({"kiosk": "1", "start": "c", "scene_s": "600", "idle_s": "30"})
    assert not at.exception and not at.warning
    body = html(at)
    assert 'data-scene="c"' in body and "d = 25" in body
    link = kiosk.public_link(scenes.BY_KEY["c"], "https://booth.example.org")
    assert f'aria-label="QR code: {escape(link)}"' in body
    leave = next(s for s in scripts_sent(at) if "__sharpKioskTarget" in s)
    assert "idle_s=30" in leave and "scene_s=600" in leave


def test_bad_knobs_warn_and_fall_back(monkeypatch):
    monkeypatch.setenv("SHARP_PUBLIC_URL", "booth.example.org")
    at = page({"kiosk": "1", "scene_s": "1", "start": "z"})
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any("URL parameter scene_s=`'1'` is not allowed: a number of seconds from 3 to 600" in w for w in warnings)
    assert any("URL parameter start=`'z'` is not allowed: one of a, b, c, d" in w for w in warnings)
    assert any("SHARP_PUBLIC_URL='booth.example.org' is not allowed" in w for w in warnings)
    assert 'data-scene="a"' in html(at) and "kiosk-qr" not in html(at)


def test_without_kiosk_the_live_page_runs_with_its_keys_and_idle_return():
    at = page({"d": "12", "n": "72", "steps": "20", "seeds": "1", "kernel_m": "32", "feature_m": "8",
               "from_kiosk": "1", "idle_s": "45"}, runs=1)
    assert not at.exception
    assert at.session_state["live_watch"] is not None and at.slider
    sent = "\n".join(scripts_sent(at))
    assert "__sharpKeys" in sent and "__sharpDownloads" in sent
    assert "__sharpIdle" in sent and "./?kiosk=1&idle_s=45&scene_s=20" in sent and "45000" in sent
    assert at.query_params["from_kiosk"] in ("1", ["1"])  # kept in the URL beside the settings
