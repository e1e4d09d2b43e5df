"""The live page's drawing in the browser, for this checkout and others: the cost of a redraw, without the server.

For each checkout, in a process of its own that imports that checkout's web.stream: its live area (`area`,
`client_config`, its browser files from its own routes) is served with a stub api/live that hands out the same
rows (a default run's 150 logged steps of both regimes), one new row per request, at once. Headless Chromium (not
niced) opens it and its script draws each row as it comes. Per page it prints:

  browser_cpu_ms_per_redraw  the browser's CPU time (all its processes, /proc: the script, the requests, style,
                             layout, paint and compositing) per redraw, from the first draw to the last
  redraws_per_s              redraws per second the page kept up (its own clock), when rows come as fast as asked

So two checkouts' pages compare on the same rows, the server's pace left out (on the real page, rows come at the
run's and the stream's pace: at most one answer every 60 ms).

Usage (from the repository root): .venv/bin/python scripts/live_draw_bench.py [--root OTHER ...] [--repeat 3]
(a checkout whose web.stream has `area(entry, frame, cfg)`, `client_config(settings, watch, viewer, mode, run)`
and `routes()`, as this one's).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests"))
from browser_support import CHROMIUM, CHROMIUM_ARGS, descendants_cpu_s  # noqa: E402

N = 150  # logged steps after step 0: a default run's


def rows(name: str) -> list[list]:
    """A run's rows as web.stream.rows gives them: [step, error mean, lo, hi, distance mean, lo, hi, error,
    distance, diverged], falling (feature) or hardly moving (kernel)."""
    out = []
    for i in range(N + 1):
        s = 2 * i
        e = 0.5 - 0.1 * (1 - 2.718 ** (-s / 80)) if name == "kernel" else 0.5 * 2.718 ** (-max(0, s - 4) / 8)
        d = 0.02 * s ** 0.5 if name == "kernel" else 2 * (1 - 2.718 ** (-s / 10))
        out.append([s, e, e * 0.9, e * 1.1, d, d * 0.9, d * 1.1, e, d, 0])
    return out


ROWS = {"kernel": rows("kernel"), "feature": rows("feature")}


def app():
    """The checkout's live area at "/" (before any row: a playing page) and its routes, api/live stubbed."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    from sharp.experiments import race
    from sharp.serve.live_run import Watch
    from web import stream

    settings = dataclasses.replace(race.DEFAULTS, steps=2 * N)
    run = SimpleNamespace(history={}, settings=settings, count=0, done=False)
    cfg = stream.client_config(settings, Watch(settings.run_part()), "v", "play", run)
    area = stream.area(SimpleNamespace(job=run, error=None, finished=True), SimpleNamespace(history={}, running=False),
                       cfg)
    html = f'<!doctype html><html><head><meta charset="utf-8"></head><body style="width:1400px">{area}</body></html>'

    async def page(request):
        return HTMLResponse(html)

    async def live(request):
        have = int(request.query_params.get("have", 0))
        upto = min(have + 1, N + 1)
        return JSONResponse({"count": upto, "done": upto >= N + 1, "error": None, "upto": upto, "top": "",
                             "next_ms": 0, "rows": {k: v[have:upto] for k, v in ROWS.items()},
                             "alerts": {"kernel": "", "feature": ""}})

    routes = [r for r in stream.routes() if r.path != "/api/live"] + [Route("/api/live", live), Route("/", page)]
    return Starlette(routes=routes)


def child(root: Path, repeat: int) -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    srv = uvicorn.Server(uvicorn.Config(app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    threading.Thread(target=srv.run, daemon=True).start()
    for _ in range(400):  # bounded: about 20 s
        if srv.started:
            break
        time.sleep(0.05)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(repeat):
            page = b.new_context(viewport={"width": 1400, "height": 1200}).new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function("() => window.__sharpStats && window.__sharpStats.draws.length > 0",
                                   timeout=60_000)
            c0, n0, t0 = descendants_cpu_s(), page.evaluate("window.__sharpStats.draws.length"), time.monotonic()
            page.wait_for_function(f"() => window.__sharpStats.draws.length >= {N - 5}", timeout=120_000,
                                   polling=100)
            c1, n1, t1 = descendants_cpu_s(), page.evaluate("window.__sharpStats.draws.length"), time.monotonic()
            d = page.evaluate("window.__sharpStats.draws")
            span = (d[-1] - d[n0 - 1]) / 1000
            print(json.dumps({"root": str(root), "draws": n1 - n0, "browser_cpu_ms_per_redraw":
                              round(1000 * (c1 - c0) / (n1 - n0), 2),
                              "redraws_per_s": round((len(d) - n0) / span, 1), "wall_s": round(t1 - t0, 2),
                              "load": Path("/proc/loadavg").read_text().split()[0]}), flush=True)
            page.context.close()
        b.close()
    srv.should_exit = True



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", action="append", type=Path, help="a checkout to measure (repeatable; default: this one)")
    ap.add_argument("--repeat", type=int, default=3, help="pages per checkout (default 3)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # one checkout, in its own process
    a = ap.parse_args()
    if a.child:
        return child(a.child, a.repeat)
    results: dict[str, list[dict]] = {}
    for root in a.root or [HERE]:
        root = root.resolve()
        out = subprocess.run([sys.executable, __file__, "--child", str(root), "--repeat", str(a.repeat)],
                             env={**os.environ, "PYTHONPATH": str(root)}, cwd=root, capture_output=True, text=True,
                             timeout=900)
        lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
        if not lines:
            raise SystemExit(f"{root}: {out.stderr[-2000:]}")
        for r in lines:
            print(json.dumps(r), flush=True)
        results[str(root)] = lines
    print("\nroot: median browser CPU ms per redraw | redraws/s")
    for root, rs in results.items():
        print(f"{root}: {statistics.median(r['browser_cpu_ms_per_redraw'] for r in rs):.1f} | "
              f"{statistics.median(r['redraws_per_s'] for r in rs):.1f}")


if __name__ == "__main__":
    main()
