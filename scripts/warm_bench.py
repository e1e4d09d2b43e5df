"""Time to figure on the paper pages of a freshly started server with an empty cache.

Starts the app on a free loopback port with an empty temporary cache (the server starts its warm-up by
itself, with no visitor), waits until --wait seconds after the server's start with nobody visiting, then
opens each paper page in a fresh headless Chromium
context (an empty browser cache, as a new visitor) and prints the seconds from the link's opening to its
default figure on screen. With --no-warm the server's warm-up is off (SHARP_WARM=0): the figures are then
those of the first visitor of each page, computing its sweep.

    .venv/bin/python scripts/warm_bench.py               # docs/serving.md's figures: --wait 180
    .venv/bin/python scripts/warm_bench.py --no-warm --wait 20
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser_support import CHROMIUM, CHROMIUM_ARGS, free_port, rss_mb, stop  # noqa: E402

# Each paper page: the Plotly charts its default figure draws, and a text the page writes after its figure (the
# server has sent the whole page: what remains is the browser loading plotly.js and drawing).
PAGES = {"figure1": (1, "First iteration with zero"), "iterations": (1, "Measured growth"),
         "samples": (1, "Smallest n"), "deep": (3, "Fitted log-log slopes"), "theory": (0, "Measured here"),
         "regime": (1, "What this map shows")}
# Installed in each page: remembers every distinct text of a progress bar, to tell "was still computing" apart.
WATCH_PROGRESS = """window.__progress = []; setInterval(() => {
  const bar = document.querySelector('[data-testid="stProgress"]');
  const text = bar && bar.innerText.trim();
  if (text && window.__progress[window.__progress.length - 1] !== text) window.__progress.push(text);
}, 100);"""


def wait_for_figure(page, charts: int, timeout: float) -> None:
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}",
                           timeout=timeout * 1000)


def visit(page, url: str, name: str, timeout: float) -> tuple[str, str, str]:
    """Open url; seconds to the title, to the text after the figure, and to the figure drawn ("> T" if not)."""
    charts, text = PAGES[name]
    at, out = time.monotonic(), []
    page.goto(url, wait_until="commit")
    try:
        page.locator("h1").first.wait_for(timeout=timeout * 1000)
        out.append(f"{time.monotonic() - at:.2f}")
        page.get_by_text(text).first.wait_for(timeout=timeout * 1000)
        out.append(f"{time.monotonic() - at:.2f}")
        wait_for_figure(page, charts, timeout)
        out.append(f"{time.monotonic() - at:.2f}")
    except Exception:  # noqa: BLE001 - a timeout is a result to print, not a crash
        out += [f"> {timeout:.0f}"] * (3 - len(out))
    return tuple(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wait", type=float, default=180.0, help="seconds after the server's start before the visits")
    p.add_argument("--no-warm", action="store_true", help="turn the warm-up off (SHARP_WARM=0)")
    p.add_argument("--timeout", type=float, default=180.0, help="seconds allowed per page (default 180)")
    p.add_argument("--pages", default=",".join(PAGES), help="comma-separated pages (default all)")
    ns = p.parse_args()
    from playwright.sync_api import sync_playwright

    port, cache = free_port(), tempfile.mkdtemp(prefix="sharp-warm-bench-")
    env = {**os.environ, "SHARP_CACHE_DIR": cache, "SHARP_WARM": "0" if ns.no_warm else "1"}
    t0 = time.monotonic()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        for _ in range(600):  # bounded: about 5 minutes at most
            try:
                if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        print(f"server healthy after {time.monotonic() - t0:.1f} s; load average {os.getloadavg()[0]:.1f}",
              file=sys.stderr)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print(f"nobody visits until {ns.wait:.0f} s", file=sys.stderr)
            time.sleep(max(0.0, ns.wait - (time.monotonic() - t0)))
            for name in ns.pages.split(","):
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                ctx.add_init_script(WATCH_PROGRESS)
                page = ctx.new_page()
                opened = time.monotonic() - t0
                title, content, figure = visit(page, f"{base}/{name}", name, ns.timeout)
                bars = page.evaluate("window.__progress")
                again = visit(page, f"{base}/{name}", name, ns.timeout)[2]  # plotly.js now in the browser's cache
                rows.append((name, f"{opened:.0f}", title, content, figure, again, bars[-1][:50] if bars else "-"))
                print(f"{name}: {rows[-1]}", file=sys.stderr)
                ctx.close()
            browser.close()
        cached = len(list(Path(cache).glob("*/*.parquet")))
        print(f"\nwarm-up {'off' if ns.no_warm else 'on'}, pages opened from {ns.wait:.0f} s after the server's start; "
              f"{cached} runs in the cache at the end; server RSS {rss_mb(server.pid):.0f} MB; "
              f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        print("seconds from opening the link, in a new browser context (an empty browser cache), to: the title, the\n"
              "text after the figure (the server has sent the page), the figure drawn; then the figure drawn on a\n"
              "second visit (plotly.js cached); and the last progress bar text seen on the first visit.")
        print(f"{'page':<12}{'opened at':>10}{'title':>8}{'page sent':>11}{'figure':>8}{'again':>7}  progress seen")
        for name, opened, title, content, figure, again, bar in rows:
            print(f"{name:<12}{opened:>10}{title:>8}{content:>11}{figure:>8}{again:>7}  {bar}")
    finally:
        stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
