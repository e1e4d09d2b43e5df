"""Regenerate the README's screenshots of the live page: docs/img/live.png and docs/img/live-phone.png.

Starts the app on a free port of 127.0.0.1 (the tests' helper, warm-up off, an empty temporary run store), opens
the live page at its defaults in headless Chromium (the OS's, /usr/bin/chromium), waits until both live charts
have points and the run has finished (its Replay button), and shoots:

  docs/img/live.png        a desktop browser, 1280 x 800
  docs/img/live-phone.png  a phone, 390 x 844 CSS pixels at device scale 2, touch

Every wait is bounded (--timeout seconds); a page that does not draw is an error, not a blank picture.

Usage (from the repository root): .venv/bin/python scripts/screenshots.py [--out docs/img] [--timeout 180]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser_support import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402

SHOTS = {  # file name -> browser context
    "live.png": {"viewport": {"width": 1280, "height": 800}},
    "live-phone.png": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
                       "device_scale_factor": 2},
}
# Both live charts (data-chart="live-...") have points.
DRAWN = """() => {
  const charts = Array.from(document.querySelectorAll('[data-sharp-live] [data-chart^="live-"]'));
  return charts.length >= 2 && charts.every((e) => +e.dataset.points > 0);
}"""


def shoot(browser, base: str, out: Path, name: str, context: dict, timeout_ms: int) -> Path:
    page = browser.new_context(**context).new_page()
    try:
        page.goto(base + "/", wait_until="domcontentloaded")
        page.wait_for_function(DRAWN, timeout=timeout_ms)
        page.get_by_role("button", name="Replay").wait_for(timeout=timeout_ms)  # the run drawn in full
        page.wait_for_timeout(800)  # the last redraw and the buttons' relabelling settled
        if page.locator('[data-testid="stException"]').count():
            raise RuntimeError(f"{name}: the page shows an exception")
        path = out / name
        page.screenshot(path=str(path))
        return path
    finally:
        page.context.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for each page to draw")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as store, \
            serve(env={"SHARP_WARM": "0", "SHARP_CACHE_DIR": store}) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, context in SHOTS.items():
                path = shoot(browser, base, args.out, name, context, int(args.timeout * 1000))
                print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
                      f"{path.stat().st_size / 1024:.0f} kB")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
