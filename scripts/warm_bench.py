"""Time to figure on the paper pages of a freshly started server with an empty cache.

Starts the app on a free loopback port with an empty temporary cache, opens the live page once (the first
visitor: Streamlit runs no app code before a session connects, so this is what starts the warm-up), waits
until --wait seconds after the server's start, then opens each paper page in a fresh headless Chromium
context (an empty browser cache, as a new visitor) and prints the seconds from the link's opening to its
default figure on screen. With --no-warm the server's warm-up is off (SHARP_WARM=0): the figures are then
those of the first visitor of each page, computing its sweep.

    .venv/bin/python scripts/warm_bench.py               # the README's figures: --wait 180
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
from browser_support import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

# Each paper page and what shows that its default figure is on screen: Plotly charts drawn, or (theory) a text.
PAGES = {"figure1": 1, "iterations": 1, "samples": 1, "deep": 3, "theory": "Measured here"}
# Installed in each page: remembers every distinct text of a progress bar, to tell "was still computing" apart.
WATCH_PROGRESS = """window.__progress = []; setInterval(() => {
  const bar = document.querySelector('[data-testid="stProgress"]');
  const text = bar && bar.innerText.trim();
  if (text && window.__progress[window.__progress.length - 1] !== text) window.__progress.push(text);
}, 100);"""


def wait_for_figure(page, want: int | str, timeout: float) -> None:
    if isinstance(want, str):
        page.get_by_text(want).first.wait_for(timeout=timeout * 1000)
    else:
        page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {want}",
                               timeout=timeout * 1000)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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
            first = browser.new_page()
            first.goto(base + "/")
            first.locator("h1").first.wait_for(timeout=120_000)
            first.close()
            print(f"first visit (live page) done at {time.monotonic() - t0:.1f} s; waiting until {ns.wait:.0f} s",
                  file=sys.stderr)
            time.sleep(max(0.0, ns.wait - (time.monotonic() - t0)))
            for name in ns.pages.split(","):
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                ctx.add_init_script(WATCH_PROGRESS)
                page = ctx.new_page()
                at = time.monotonic()
                page.goto(f"{base}/{name}", wait_until="commit")
                page.locator("h1").first.wait_for(timeout=ns.timeout * 1000)
                title = f"{time.monotonic() - at:.2f}"
                try:
                    wait_for_figure(page, PAGES[name], ns.timeout)
                    took = f"{time.monotonic() - at:.2f}"
                except Exception:  # noqa: BLE001 - a timeout is a result to print, not a crash
                    took = f"> {ns.timeout:.0f}"
                bars = page.evaluate("window.__progress")
                rows.append((name, f"{at - t0:.0f}", title, took, bars[-1][:60] if bars else "-"))
                print(f"{name}: {took} s; progress seen: {bars[:1] + bars[-1:]}", file=sys.stderr)
                ctx.close()
            browser.close()
        cached = len(list(Path(cache).glob("*/*.parquet")))
        print(f"\nwarm-up {'off' if ns.no_warm else 'on'}, pages opened from {ns.wait:.0f} s after the server's start; "
              f"{cached} runs in the cache at the end; server RSS {rss_mb(server.pid):.0f} MB; "
              f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        print(f"{'page':<12}{'opened at (s)':>15}{'title (s)':>11}{'figure (s)':>12}  last progress line seen")
        for name, opened, title, took, bar in rows:
            print(f"{name:<12}{opened:>15}{title:>11}{took:>12}  {bar}")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
