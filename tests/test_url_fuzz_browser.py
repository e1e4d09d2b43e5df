"""Hostile links against the real server, in headless Chromium: every page of app.py, about 20 URLs.

Each page names every bad parameter in a warning that shows the text literally (no <b>, no LaTeX, no
icon rendered from it), raises no exception, and the server's health endpoint still answers. The parameters
come from the registry the pages read their links through (sharp.experiments.pages.PAGES), values from the
same corpus as test_url_fuzz.py, picked by a seeded generator so a failure can be replayed.
"""
from __future__ import annotations

import random
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from browser_support import ARTIFACTS, chromium, exceptions, serve  # noqa: F401
from url_fuzz_support import HOSTILE, UNKNOWN_KEYS, fuzzed, link, pages

pytestmark = [pytest.mark.browser, pytest.mark.slow]
URLS_PER_PAGE = 2
MAX_URL_CHARS = 12_000  # the server refuses much longer request lines (HTTP 431), before any page runs
WARNINGS = "[data-testid='stAlertContentWarning']"
MARKUP = ["<b>bold</b>", "$x^2$", ":material/home:"]  # must show as typed, not as bold, LaTeX or an icon


@pytest.fixture(scope="module")
def server(chromium, tmp_path_factory):  # noqa: F811
    """The app on a free port, with a cache of its own (the paper pages start their default sweeps)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHARP_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        with serve() as base:
            yield base


def health(base: str) -> float:
    t0 = time.perf_counter()
    assert urllib.request.urlopen(base + "/_stcore/health", timeout=30).read().strip() == b"ok"
    return time.perf_counter() - t0


def warnings_on(browser, url: str, at_least: int) -> tuple[list[str], int, object]:
    """Open url; wait for at least `at_least` warnings (or any, when 0); return their texts and exceptions."""
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(url, wait_until="domcontentloaded")
    page.locator("h1, .kiosk-headline").first.wait_for(timeout=60_000)  # the kiosk's headline is no heading
    if at_least:
        page.wait_for_function(f"() => document.querySelectorAll(\"{WARNINGS}\").length >= {at_least}",
                               timeout=60_000)
    texts = [t.replace("\u2060", "") for t in page.locator(WARNINGS).all_inner_texts()]
    return texts, exceptions(page), page


def hostile_url(rng: random.Random, base: str, page_url: str, keys: list[str],
                fixed: dict[str, str]) -> tuple[str, list[str]]:
    """A link with a hostile value for every parameter the page reads (some repeated) and an unknown one, plus
    the parameters every link to the page carries (`fixed`)."""
    q: list[list[str]] = [[k, v] for k, v in fixed.items()]
    for k in keys:
        if rng.random() < 0.25:
            q.append([k, "25"])  # a repeat: the last value counts
        q.append([k, rng.choice(MARKUP + HOSTILE)])
    unknown = rng.choice(UNKNOWN_KEYS)
    q.append([unknown, "1"])

    def url() -> str:
        return f"{base}/{page_url}?" + urllib.parse.urlencode([tuple(kv) for kv in q], quote_via=urllib.parse.quote)

    while len(url()) >= MAX_URL_CHARS:  # the server would refuse it before any page runs: shorten the longest
        max(q, key=lambda kv: len(urllib.parse.quote(kv[1])))[1] = "x" * 100
    return url(), [unknown]


def test_hostile_links_warn_on_every_page(server, chromium):  # noqa: F811
    rng = random.Random(10)
    slowest, opened = 0.0, 0
    shots = ARTIFACTS / "url-fuzz"
    shots.mkdir(parents=True, exist_ok=True)
    for pg in pages():
        keys, fixed = fuzzed(pg), link(pg).fixed
        for i in range(URLS_PER_PAGE):
            url, unknown = hostile_url(rng, server, pg.url, keys, fixed)
            texts, errors, page = warnings_on(chromium, url, len(keys) + 1)
            opened += 1
            assert errors == 0, url
            for k in keys:
                assert any(t.startswith(f"URL parameter {k}=") for t in texts), (k, url, texts)
            note = next(t for t in texts if "(it reads" in t)
            assert repr(unknown[0][:40] + ("…" if len(unknown[0]) > 40 else "")) in note
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))
            for k in keys:  # markup in a value is shown as typed
                if query[k] in MARKUP:
                    assert any(t.startswith(f"URL parameter {k}='{query[k]}'") for t in texts), (k, texts)
            alerts = page.locator(WARNINGS)
            assert alerts.locator("b, strong, em, .katex, [data-testid='stIconMaterial'], script").count() == 0
            if i == 0:
                page.screenshot(path=str(shots / f"{pg.url or Path(pg.path).stem}.png"))
            page.close()
            slowest = max(slowest, health(server))
    print(f"{opened} hostile links on {len(pages())} pages; slowest health answer in between {slowest:.2f} s")
    assert opened >= 2 * 12
