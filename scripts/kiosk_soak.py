#!/usr/bin/env python3
"""Soak the booth's kiosk: serve the app, keep /?kiosk=1 open in headless Chromium for N minutes, and record
the server's resident memory (VmRSS from /proc/PID/status) and CPU time every so often.

    .venv/bin/python scripts/kiosk_soak.py --minutes 30            # docs/kiosk.md's figure
    .venv/bin/python scripts/kiosk_soak.py --minutes 2 --every 10  # a quick look

Prints one line per sample and a summary: memory growth from the first sample taken after one full loop
(every scene trained or read from the disk cache, every frame drawn once) to the end, and the server's CPU
use in percent of one core. Writes the samples to artifacts/kiosk_soak.json. Linux only (/proc).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, cpu_s, rss_mb, serve  # noqa: E402


def soak(minutes: float, every: float, scene_s: float, public_url: str = "https://booth.example.org",
         ready_timeout: float = 600) -> dict:
    from playwright.sync_api import sync_playwright

    procs = []
    env = {"SHARP_PUBLIC_URL": public_url}  # with the QR code, as at a booth ("" for none)
    with serve(env=env, on_start=procs.append) as base, sync_playwright() as pw:
        pid = procs[0].pid
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{base}/?kiosk=1&scene_s={scene_s:g}", wait_until="domcontentloaded")
        t_open = time.monotonic()
        # Warm-up: every scene ready, then one full loop so every frame has been drawn once.
        page.wait_for_function("() => document.querySelectorAll('.kiosk-strip').length > 0",
                               timeout=ready_timeout * 1000)
        seen: set[str] = set()
        while len(seen) < 4 and time.monotonic() - t_open < ready_timeout:
            seen.add(page.evaluate("() => document.querySelector('[data-scene]')?.dataset.scene || ''"))
            page.wait_for_timeout(1000)
        page.wait_for_timeout(int(4 * scene_s * 1000))
        warm_s = time.monotonic() - t_open
        print(f"warm after {warm_s:.0f} s (scenes seen: {sorted(seen - {''})}); sampling every {every:g} s "
              f"for {minutes:g} min", flush=True)
        samples, t0, c0 = [], time.monotonic(), cpu_s(pid)
        deadline = t0 + minutes * 60
        while True:
            now = time.monotonic()
            samples.append({"t_s": round(now - t0, 1), "rss_mb": round(rss_mb(pid), 1),
                            "cpu_s": round(cpu_s(pid) - c0, 2),
                            "scene": page.evaluate("() => document.querySelector('[data-scene]')?.dataset.scene")})
            print(json.dumps(samples[-1]), flush=True)
            if now >= deadline:
                break
            page.wait_for_timeout(int(min(every, max(deadline - now, 0.1)) * 1000))
        exceptions = page.locator('[data-testid="stException"]').count()
        browser.close()
    first, last = samples[0], samples[-1]
    result = {"minutes": round(last["t_s"] / 60, 2), "scene_s": scene_s, "public_url": public_url,
              "warm_s": round(warm_s, 1),
              "rss_start_mb": first["rss_mb"], "rss_end_mb": last["rss_mb"],
              "rss_max_mb": max(s["rss_mb"] for s in samples),
              "growth_mb": round(last["rss_mb"] - first["rss_mb"], 1),
              "cpu_percent_of_a_core": round(100 * last["cpu_s"] / max(last["t_s"], 1e-9), 2),
              "exceptions": exceptions, "samples": samples}
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="how long to sample, after the warm-up (0.5 to 600)")
    ap.add_argument("--every", type=float, default=30.0, help="seconds between samples (1 to 600)")
    ap.add_argument("--scene-s", type=float, default=20.0, help="the kiosk's seconds per scene (3 to 600)")
    ap.add_argument("--public-url", default="https://booth.example.org",
                    help="SHARP_PUBLIC_URL for the server, so the QR code is drawn ('' for none)")
    ap.add_argument("--out", type=Path, default=ARTIFACTS / "kiosk_soak.json")
    a = ap.parse_args(argv)
    for name, value, lo, hi in (("--minutes", a.minutes, 0.5, 600), ("--every", a.every, 1, 600),
                                ("--scene-s", a.scene_s, 3, 600)):
        if not lo <= value <= hi:
            ap.error(f"{name}={value:g} is not allowed: a number from {lo:g} to {hi:g}")
    r = soak(a.minutes, a.every, a.scene_s, a.public_url)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(r, indent=2))
    print(f"kiosk soak: {r['minutes']:.1f} min at {r['scene_s']:g} s per scene: server RSS {r['rss_start_mb']:.1f} -> "
          f"{r['rss_end_mb']:.1f} MB (growth {r['growth_mb']:+.1f} MB, max {r['rss_max_mb']:.1f} MB), "
          f"CPU {r['cpu_percent_of_a_core']:.2f}% of a core; page exceptions: {r['exceptions']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
