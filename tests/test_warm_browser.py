"""Shared sweeps seen from the browser: a visitor who opens a page while its default figure is being warmed
watches that computation (never a second copy), and so does a second visitor; visitors with the same settings
share one sweep, and one with other settings waits its turn and says so."""
import pytest
from browser_support import chromium, exceptions, serve  # noqa: F401

from sharp.engine import store as cache

# Installed in each page: every distinct text the progress bar showed.
WATCH = """window.__progress = []; setInterval(() => {
  const bar = document.querySelector('[data-testid="stProgress"]');
  const text = bar && bar.innerText.trim();
  if (text && window.__progress[window.__progress.length - 1] !== text) window.__progress.push(text);
}, 50);"""


@pytest.mark.slow
@pytest.mark.browser
def test_visitors_watch_the_warm_up_instead_of_starting_their_own(chromium, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SHARP_WARM", "1")
    monkeypatch.setenv("SHARP_WARM_PAGES", "samples")  # 42 runs: long enough to arrive while it runs
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    with serve() as base:
        first = chromium.new_page()
        first.goto(base + "/theory")  # any page (the warm-up started with the server)
        first.locator("h1").first.wait_for(timeout=60_000)
        pages = []
        for _ in range(2):  # visitor A, then visitor B while A is still waiting
            ctx = chromium.new_context(viewport={"width": 1400, "height": 1000})
            ctx.add_init_script(WATCH)
            page = ctx.new_page()
            page.goto(base + "/samples")
            page.get_by_text("Being computed for everyone").first.wait_for(timeout=60_000)
            pages.append(page)
        for page in pages:  # the heat maps (their data is typed arrays: counted as charts, not points)
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1",
                                   timeout=300_000)
        for page in pages:
            seen = page.evaluate("window.__progress")
            assert seen and all("Being computed for everyone" in t for t in seen), seen  # no job of its own
            assert exceptions(page) == 0 and not page.get_by_text("Cancelled").count()
        assert len(list((tmp_path / "cache").glob("*/*.parquet"))) == 42 + 4  # samples, and the first visit: theory
        # a third visitor after the warm-up gets the figure at once, with no progress bar at all
        late = chromium.new_context().new_page()
        late.add_init_script(WATCH)
        late.goto(base + "/samples")
        late.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1",
                               timeout=60_000)
        assert late.evaluate("window.__progress") == []
        # the heat maps' text alternative, opened as a visitor would: the values row by row
        late.get_by_text("This chart's values as text").first.click()
        row = late.get_by_text("input dimension d = 8; training-set size n = 16 →").first
        row.wait_for(timeout=30_000)
        assert row.inner_text().endswith("1024 → 0.00")  # the default grid: n up to 1024, learned there


@pytest.mark.slow
@pytest.mark.browser
def test_one_sweep_per_settings_and_a_queue_that_says_so(chromium, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SHARP_WORKERS", "1")  # one training thread, whatever the machine
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    with serve() as base:
        pages = []
        for url in ("/samples", "/deep", "/samples"):  # A; B with other settings; C with A's settings
            ctx = chromium.new_context(viewport={"width": 1400, "height": 1000})
            ctx.add_init_script(WATCH)
            page = ctx.new_page()
            page.goto(base + url)
            page.get_by_role("button", name="Cancel").wait_for(timeout=60_000)
            pages.append(page)
        for page in pages:
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1",
                                   timeout=300_000)
        a, b, c = (page.evaluate("window.__progress") for page in pages)
        assert any(t.startswith("Waiting: 1 sweep ahead") for t in b), b  # B waited for A's sweep, and said so
        assert any("shared with 1 other visitor" in t for t in c), c  # C watched A's sweep ...
        assert all(t.startswith(("Starting", "Waiting")) or "shared" in t for t in c), c  # ... never one of its own
        assert all(exceptions(page) == 0 for page in pages)
