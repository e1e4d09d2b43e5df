"""The app on a phone (390 x 844, touch, Chromium's mobile emulation): the booth's QR link shows the race on its
first screen, and every page has its figure high and no sideways scroll.

- The QR link of each kiosk scene (ui/kiosk.public_link: the live page with the scene's short query): without
  scrolling, the first screen holds both regimes' test error in one chart, drawn, and the step and each regime's
  test error as large numbers; every text there is at least 11 CSS px (the chart's axes and legend included);
  the Play / Step / Reset buttons, the neuron views and the explanation come below it.
- Every page: no sideways scroll, and its first figure starts within FIRST_FIGURE_PX of the top.
- The live page on a laptop's screen (1366 x 768): the race is on its first screen too.

Screenshots go to artifacts/phone/ (look at them). Loopback only; every wait is bounded.
"""
from __future__ import annotations

import pytest
from browser_support import ARTIFACTS, app_server, chromium, exceptions, settled  # noqa: F401

from sharp.experiments import scenes
from ui import kiosk
from web import guard

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
SCREEN_PX = 844
FIRST_FIGURE_PX = 500  # a page's first figure starts in the top 60 % of a phone's first screen
MIN_TEXT_PX = 11
BIG_NUMBER_PX = 24
SHOTS = ARTIFACTS / "phone"
# Where things are on the page (CSS px from the page's top, the page unscrolled), and their text sizes.
LIVE = """() => {
  const box = (sel) => {
    const e = document.querySelector(sel);
    if (!e) return null;
    const r = e.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, px: parseFloat(getComputedStyle(e).fontSize)};
  };
  const u = document.querySelector('[data-chart="live-error"]')?.__uplot;
  const lines = u ? u.series.map((s, i) => [s.label, s.class, (u.data[i] || []).filter((v) => v !== null).length])
    .filter(([, cls]) => cls !== 'sharp-band').slice(1) : [];
  const texts = Array.from(document.querySelectorAll('[data-sharp-live] *')).filter((e) => {
    const r = e.getBoundingClientRect(), text = (n) => n.nodeType === 3 && n.textContent.trim();
    return r.height > 0 && r.top < SCREEN && Array.from(e.childNodes).some(text);
  }).map((e) => [e.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(e).fontSize)]);
  const main = document.querySelector('.stMain'), doc = document.documentElement;
  return {chart: box('[data-chart="live-error"]'), step: box('[data-metric="step"]'),
    kernel: box('[data-metric="kernel"]'), feature: box('[data-metric="feature"]'), play: box('.st-key-play'),
    neurons: box('[data-part="neurons-kernel"]'), axes: u ? u.axes.map((a) => a.font[1]) : [], lines, texts,
    wide: [doc.scrollWidth, doc.clientWidth, main.scrollWidth, main.clientWidth]};
}""".replace("SCREEN", str(SCREEN_PX))
FIGURES = ".stMain .js-plotly-plot, .stMain svg[data-chart], .stMain [data-chart^='live-']"
FIRST_FIGURE = f"""() => {{
  const tops = Array.from(document.querySelectorAll("{FIGURES}")).map((e) => e.getBoundingClientRect())
    .filter((r) => r.height > 0).map((r) => r.top);
  return tops.length ? Math.min(...tops) : null;
}}"""
SIDEWAYS = """() => [document.documentElement.scrollWidth - document.documentElement.clientWidth,
  document.querySelector('.stMain').scrollWidth - document.querySelector('.stMain').clientWidth]"""
DRAWN = "() => { const e = document.querySelector('[data-chart=\"live-error\"]'); return e && +e.dataset.points > 0; }"


def open_page(browser, url: str, device: dict):
    page = browser.new_context(**device).new_page()
    page.goto(url, wait_until="domcontentloaded")
    return page


@pytest.mark.parametrize("scene", scenes.SCENES, ids=lambda s: s.key)
def test_the_qr_links_first_screen_shows_the_race(app_server, chromium, scene):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(chromium, kiosk.public_link(scene, app_server), PHONE)
    page.wait_for_function(DRAWN, timeout=120_000)
    page.get_by_role("button", name="Replay").wait_for(timeout=240_000)  # the run drawn in full
    assert settled(page, LIVE)  # the page at rest
    page.screenshot(path=str(SHOTS / f"qr-{scene.key}.png"))
    at = page.evaluate(LIVE)
    assert exceptions(page) == 0
    # the race, both regimes in one chart, within the first screen
    assert at["chart"]["bottom"] <= SCREEN_PX, at["chart"]
    runs = {label: n for label, _, n in at["lines"]}
    assert runs.get("kernel regime", 0) > 0 and runs.get("feature learning", 0) > 0, at["lines"]
    for name in ("step", "kernel", "feature"):  # the step and each test error, large, above the chart
        assert at[name]["bottom"] <= at["chart"]["top"] and at[name]["px"] >= BIG_NUMBER_PX, (name, at[name])
    # the rest below the race
    assert at["play"]["top"] >= at["chart"]["bottom"] and at["neurons"]["top"] >= at["chart"]["bottom"]
    # readable: every text on the first screen, and the chart's axes (drawn on its canvas)
    small = [(t, px) for t, px in at["texts"] if px < MIN_TEXT_PX]
    assert not small and at["axes"] and min(at["axes"]) >= MIN_TEXT_PX, (small, at["axes"])
    assert at["wide"][0] <= at["wide"][1] and at["wide"][2] <= at["wide"][3], at["wide"]
    page.context.close()


@pytest.mark.parametrize("path", [p for p in guard.page_paths() if p not in ("/live", "/kiosk")])
def test_every_page_on_a_phone_has_its_figure_high_and_no_sideways_scroll(app_server, chromium, path):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(chromium, app_server + path, PHONE)
    page.locator("h1").first.wait_for(timeout=60_000)
    if path != "/theory":  # the paper's statements and tables, quoted: a page of text with no figure
        page.wait_for_function(f"() => ({FIRST_FIGURE})() !== null", timeout=240_000)  # sweeps may compute first
        assert settled(page, FIRST_FIGURE)  # the page at rest
        top = page.evaluate(FIRST_FIGURE)
        assert top <= FIRST_FIGURE_PX, f"{path}: its first figure starts {top:.0f} px down"
    page.screenshot(path=str(SHOTS / f"page-{path.strip('/') or 'live'}.png"))
    assert exceptions(page) == 0
    assert page.evaluate(SIDEWAYS) == [0, 0], path
    page.context.close()


def test_the_live_page_on_a_laptop_has_the_race_on_its_first_screen(app_server, chromium):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(chromium, app_server + "/?steps=60", {"viewport": {"width": 1366, "height": 768}})
    page.wait_for_function(DRAWN, timeout=120_000)
    page.get_by_role("button", name="Replay").wait_for(timeout=120_000)
    assert settled(page, LIVE)
    page.screenshot(path=str(SHOTS / "laptop-live.png"))
    at = page.evaluate(LIVE)
    assert at["chart"]["bottom"] <= 768 and at["kernel"]["px"] >= BIG_NUMBER_PX, at
    assert page.evaluate(SIDEWAYS) == [0, 0]
    page.context.close()
