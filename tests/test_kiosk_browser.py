"""The booth in a real browser: the kiosk loop advances on its own, a click leaves it for the live page at the
scene's settings, idleness brings it back; the live page's keyboard shortcuts and chart downloads; and
screenshots of both at 1920x1080, 1366x768 and a 390x844 phone, light and dark (artifacts/booth/).

The first kiosk visit on a fresh machine trains the scenes' runs (about a minute, then on disk), hence the
long first wait.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from browser_support import ARTIFACTS, chromium, exceptions, serve  # noqa: F401

from sharp.experiments import race, scenes

pytestmark = pytest.mark.browser
PUBLIC = "https://booth.example.org"
SIZES = {"1920x1080": (1920, 1080), "1366x768": (1366, 768), "390x844": (390, 844)}
SHOTS = ARTIFACTS / "booth"
FAST = "d=12&n=72&seeds=1&kernel_m=32&feature_m=8&feature_eta=8"
LONG = "d=100&n=600&seeds=4&kernel_m=1024&steps=2000"
SCENE = "() => document.querySelector('[data-scene]')?.dataset.scene || ''"


@pytest.fixture(scope="module")
def booth(chromium):  # noqa: F811
    with serve(env={"SHARP_PUBLIC_URL": PUBLIC}) as base:
        yield base


def open_kiosk(browser, base: str, query: str, size=(1920, 1080), scheme: str = "light", first_wait_s: float = 300):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]}, color_scheme=scheme)
    page.goto(f"{base}/?kiosk=1&{query}", wait_until="domcontentloaded")
    page.wait_for_selector("[data-scene]", timeout=first_wait_s * 1000)
    return page


def query_of(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def test_kiosk_advances_by_itself(booth, chromium):  # noqa: F811
    page = open_kiosk(chromium, booth, "scene_s=4")
    assert page.locator('[data-testid="stSidebar"]').count() == 0
    assert page.locator("input:visible, button:visible, [role=slider]:visible").count() == 0  # no widgets
    seen = [page.evaluate(SCENE)]
    for _ in range(2):  # two changes of scene, each within 60 s (more scenes become ready while the others train)
        page.wait_for_function(f"() => ({SCENE})() !== {json.dumps(seen[-1])}", timeout=60_000)
        seen.append(page.evaluate(SCENE))
    assert seen[0] != seen[1] != seen[2], f"the kiosk did not move on by itself: {seen}"
    count = page.locator("[data-countdown]").get_attribute("data-countdown")
    assert 0 <= int(count) <= 4
    qr = page.locator("svg.kiosk-qr")
    assert qr.count() == 1 and qr.get_attribute("aria-label").startswith(f"QR code: {PUBLIC}/")
    assert exceptions(page) == 0
    page.close()


def test_a_click_leaves_the_kiosk_and_idleness_brings_it_back(booth, chromium):  # noqa: F811
    page = open_kiosk(chromium, booth, "scene_s=120&idle_s=8&start=b")
    page.wait_for_function(f"() => ({SCENE})() === 'b'", timeout=120_000)
    page.mouse.click(700, 600)
    page.wait_for_url(lambda url: "from_kiosk=1" in url, timeout=30_000)
    page.get_by_text("Kernel regime vs feature learning, live").wait_for(timeout=60_000)
    page.wait_for_function("() => new URLSearchParams(location.search).has('d')", timeout=30_000)
    q = query_of(page.url)
    assert race.parse_query(q)[0] == scenes.BY_KEY["b"].settings  # the scene's settings, on the live page
    assert q["from_kiosk"] == "1" and q["idle_s"] == "8"
    # No interaction: back to the loop after about 8 s (bounded wait, generous for a busy machine).
    page.wait_for_url(lambda url: "kiosk=1" in url and "from_kiosk" not in url, timeout=60_000)
    page.wait_for_selector("[data-scene]", timeout=120_000)
    assert exceptions(page) == 0
    page.close()


def test_a_key_press_leaves_the_kiosk(booth, chromium):  # noqa: F811
    page = open_kiosk(chromium, booth, "scene_s=120&start=a")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "from_kiosk=1" in url, timeout=30_000)
    page.close()


PLAY_LABEL = "() => document.querySelector('.st-key-play button')?.innerText.trim().split(/\\s+/).pop()"
FIRST_STEP = "parseInt(document.querySelector('[data-metric=step]').innerText)"  # the kernel column's step


def press(page, key: str, condition: str, tries: int = 3) -> None:
    """Press `key` until the JS `condition` holds (up to `tries` presses, 15 s each). A press is retried because
    a button press landing in a rerun (the page's own, when its run finishes) is, rarely, not seen by the server
    (the same holds for a mouse click on the button)."""
    for i in range(tries):
        if i and page.evaluate(f"({condition})()"):  # the last press took effect after all: don't undo it
            return
        page.keyboard.press(key)
        try:
            page.wait_for_function(condition, timeout=15_000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; the last try re-raises
            if i == tries - 1:
                raise


def test_live_page_keyboard_shortcuts(booth, chromium):  # noqa: F811
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    # A run long enough not to finish during the test: the server's workers train a run as fast as they can
    # (about a minute here), not at the page's pace, and a finished run's button says Replay.
    page.goto(f"{booth}/?{LONG}", wait_until="domcontentloaded")
    page.get_by_role("button", name="Pause").wait_for(timeout=60_000)
    page.wait_for_function("() => window.__sharpKeys === true", timeout=30_000)
    page.evaluate("""() => { window.__stepClicks = 0; document.addEventListener('click', (e) => {
      if (e.target.closest && e.target.closest('.st-key-step')) window.__stepClicks++; }, true); }""")
    page.locator("h1").first.click()  # focus the page, not a control
    press(page, "Space", f"() => ({PLAY_LABEL})() === 'Play'")  # paused
    before = page.evaluate(f"() => {FIRST_STEP}")
    # the right arrow pressed Step (counted by the click listener), and the chart went further
    press(page, "ArrowRight", f"() => window.__stepClicks >= 1 && {FIRST_STEP} > {before}")
    # stepping leaves it paused (read once the step's rerun has settled: a busy server may relabel a moment late)
    page.wait_for_function(f"() => ({PLAY_LABEL})() === 'Play'", timeout=15_000)
    press(page, "r", "() => new URLSearchParams(location.search).get('seed') === '1'")  # new seeds
    page.wait_for_function(f"() => ({PLAY_LABEL})() === 'Pause'", timeout=30_000)  # a reset plays the new run
    press(page, "Space", f"() => ({PLAY_LABEL})() === 'Play'")  # paused again
    press(page, "Space", f"() => ({PLAY_LABEL})() === 'Pause'")  # and playing
    # Keys typed into a control are the control's: the right arrow on a focused slider moves the slider only.
    steps_pressed = page.evaluate("() => window.__stepClicks")
    assert steps_pressed >= 1  # the right arrow above pressed Step
    page.get_by_role("slider", name="seeds").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => new URLSearchParams(location.search).get('seeds') === '5'", timeout=15_000)
    # ... and this one did not press Step: the keys' listener clicks a button while the key is handled, so a
    # click it made would already be counted (nothing to wait for)
    assert page.evaluate("() => window.__stepClicks") == steps_pressed
    assert exceptions(page) == 0
    page.close()


def test_charts_download_as_svg_and_png(booth, chromium):  # noqa: F811
    page = chromium.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page.goto(f"{booth}/?{FAST}&steps=20", wait_until="domcontentloaded")
    page.get_by_role("button", name="Replay").wait_for(timeout=60_000)  # done: the charts hold still
    chart = page.locator('[data-chart="live-error"]')
    page.wait_for_function("() => document.querySelector('[data-chart=\"live-error\"]').getAttribute('aria-label')"
                           ".includes('Test error: kernel regime')", timeout=20_000)  # its values in words
    with page.expect_download(timeout=20_000) as got:
        chart.locator('[data-download="svg"]').click()
    assert got.value.suggested_filename == "sharp-live-error.svg"
    text = open(got.value.path()).read()
    assert text.startswith("<svg") and "sharp-dl" not in text and "color: rgb(" in text
    assert 'data-points="42"' in text and "Test error: kernel regime" in text  # 21 logged steps of both regimes
    with page.expect_download(timeout=20_000) as got:
        chart.locator('[data-download="png"]').click()
    assert got.value.suggested_filename == "sharp-live-error.png"
    assert open(got.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    page.close()


BACKGROUND = "() => getComputedStyle(document.querySelector('.stApp')).backgroundColor"
CHART_TEXT = "() => getComputedStyle(document.querySelector('[data-chart=\"live-error\"]')).color"


def test_the_menu_switches_between_light_and_dark(booth, chromium):  # noqa: F811
    """toolbarMode = "minimal" keeps the menu because app.py sets a menu item; the menu holds the theme choice,
    and the charts' text follows it (the live charts draw in their place's text colour)."""
    page = chromium.new_page(viewport={"width": 1366, "height": 768}, color_scheme="light")
    page.goto(f"{booth}/?{FAST}&steps=20", wait_until="domcontentloaded")
    page.get_by_role("button", name="Replay").wait_for(timeout=60_000)
    light_bg, light_text = page.evaluate(BACKGROUND), page.evaluate(CHART_TEXT)
    page.locator('[data-testid="stMainMenu"]').click()
    page.locator('[data-testid="stMainMenuItem-theme-Dark"]').click()
    page.wait_for_function(f"() => ({BACKGROUND})() !== {light_bg!r}", timeout=10_000)
    assert light_bg == "rgb(255, 255, 255)" and page.evaluate(CHART_TEXT) != light_text
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_at_three_sizes(booth, chromium, scheme):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, size in SIZES.items():
        keys = [s.key for s in scenes.SCENES] if name == "1920x1080" else ["a"]
        for key in keys:
            # Shown near the end of its scene, when the runs are drawn in full (the last 30% holds them).
            page = open_kiosk(chromium, booth, f"scene_s=10&start={key}", size, scheme)
            page.wait_for_function(f"() => ({SCENE})() === '{key}' && "
                                   "+document.querySelector('[data-countdown]').dataset.countdown <= 2",
                                   timeout=120_000)
            page.screenshot(path=str(SHOTS / f"kiosk-{key}-{name}-{scheme}.png"))
            assert exceptions(page) == 0
            page.close()
        page = chromium.new_page(viewport={"width": size[0], "height": size[1]}, color_scheme=scheme)
        page.goto(f"{booth}/?steps=60", wait_until="domcontentloaded")
        page.get_by_role("button", name="Replay").wait_for(timeout=120_000)
        page.screenshot(path=str(SHOTS / f"live-{name}-{scheme}.png"), full_page=name == "390x844")
        assert exceptions(page) == 0
        page.close()
