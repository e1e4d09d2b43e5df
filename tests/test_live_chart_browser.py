"""The live page's charts in a real browser, fed known rows: what uPlot draws is read back from the page.

The page is the live area exactly as the app sends it (web.stream.area_html, with the charts' definitions from
ui.live.charts and the app's own browser files from web.assets), served under a path prefix by a small server
whose api/live answers with rows written here instead of a run's. The test reads back from the canvas and from
uPlot: the points drawn, a line's pixels in its run's colour, the band's pixels around it (and none outside it), a
diverged run left out of the y range, the axis type (a log axis leaves step 0 out), the numbers over the charts,
the text alternative and the SVG button's link.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time
from types import SimpleNamespace

import pytest
from browser_support import chromium, free_port  # noqa: F401

from sharp.experiments import race
from sharp.serve.live_run import Watch
from ui import figures
from web import server, stream

pytestmark = pytest.mark.browser
PREFIX = "pre/fix"
SETTINGS = dataclasses.replace(race.DEFAULTS, steps=60, d=50, overlay=True)  # log ticks 1, 2, 5, 10, 20, 50
STEPS = list(range(0, 61, 6))
DIVERGED_AT = 30  # the feature run blows up there: its last row, with no values


def row(step: int, err: float, band: float, dist: float, diverged: bool = False) -> list:
    if diverged:
        return [step, None, None, None, None, None, None, None, None, 1]
    return [step, err, err - band, err + band, dist, dist * 0.9, dist * 1.1, err, dist, 0]


ROWS = {
    "kernel": [row(s, 0.6 - 0.002 * s, 0.05, 0.001 * s) for s in STEPS],
    "linearized": [row(s, 0.3, 0.0, 0.001 * s) for s in STEPS],
    # falling, then blowing up: its band reaches 5 before it diverges, which must not stretch the y axis
    "feature": [row(s, 0.5 - 0.008 * s, 4.0 if s == 24 else 0.02, 0.05 * s) for s in STEPS if s < DIVERGED_AT]
    + [row(DIVERGED_AT, 0, 0, 0, diverged=True)],
}
READ = """() => Array.from(document.querySelectorAll('[data-chart^="live-"]')).map((el) => {
  const u = el.__uplot;
  return {chart: el.dataset.chart, points: +el.dataset.points, label: el.getAttribute('aria-label'),
    src: el.querySelector('[data-download="svg"]').dataset.src, distr: u.scales.x.distr,
    x: [u.scales.x.min, u.scales.x.max], y: [u.scales.y.min, u.scales.y.max], steps: Array.from(u.data[0]),
    font: parseFloat(getComputedStyle(el.querySelector('.u-legend')).fontSize),
    fits: u.ctx.canvas.getBoundingClientRect().width <= el.clientWidth + 1};
})"""
# The colour of the canvas at a value (device pixels), or of a list of them.
PIXEL = """([chart, step, value]) => {
  const u = document.querySelector(`[data-chart="${chart}"]`).__uplot;
  const x = Math.round(u.valToPos(step, 'x', true)), y = Math.round(u.valToPos(value, 'y', true));
  return Array.from(u.ctx.getImageData(x, y, 1, 1).data);
}"""


def html(settings: race.Settings) -> str:
    """A page holding the live area for settings, as the app sends it."""
    cfg = stream.client_config(settings, Watch(settings.run_part()), "viewer", "play", SimpleNamespace(count=0))
    area = stream.area_html("", stream.metrics_html(SimpleNamespace(history={}, settings=settings), 0), "", "",
                            {**cfg, "shown": 0})
    return f'<!doctype html><html><head><meta charset="utf-8"></head><body>{area}</body></html>'


def page_app():
    """The live area under PREFIX (at "log" with a log step axis), and an api/live that answers with ROWS (every
    row at once: a finished run)."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    pages = {"/": html(SETTINGS), "/log": html(dataclasses.replace(SETTINGS, log_x=True))}
    count = len(STEPS)

    async def page(request):
        return HTMLResponse(pages[request.url.path.removeprefix("/" + PREFIX)])

    async def live(request):
        have = int(request.query_params.get("have", 0))
        return JSONResponse({"count": count, "done": True, "error": None, "upto": count, "top": "", "next_ms": 60,
                             "rows": {name: rows[have:] for name, rows in ROWS.items()},
                             "alerts": {r: "" for r in race.REGIMES}})

    routes = [r for r in stream.routes() if r.path != "/api/live"] + [Route("/api/live", live), Route("/", page),
                                                                       Route("/log", page)]
    return Starlette(routes=server.under(PREFIX, routes))


@contextlib.contextmanager
def serving(app):
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(400):  # bounded: at most about 20 s
        if srv.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def base():
    with serving(page_app()) as url:
        yield url


def drawn(browser, base: str, log_x: bool = False):
    page = browser.new_page(viewport={"width": 1200, "height": 900}, device_scale_factor=2)  # a canvas of 2x pixels
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/{PREFIX}/{'log' if log_x else ''}", wait_until="domcontentloaded")
    page.wait_for_function("() => document.querySelector('[data-part=caption]').innerText.length > 0",
                           timeout=30_000)  # the run is over and drawn in full
    assert not errors, errors  # an error while drawing leaves a chart blank
    return page


def test_the_chart_draws_the_rows_it_is_fed(base, chromium):  # noqa: F811
    page = drawn(chromium, base)
    error, distance = page.evaluate(READ)
    assert error["chart"] == "live-error" and distance["chart"] == "live-distance"
    # every finite mean is a drawn point: 11 kernel, 11 linearized, 5 feature (its diverged row has none)
    assert error["points"] == distance["points"] == 11 + 11 + 5
    assert error["distr"] == 1 and error["x"] == [0, 60] and error["steps"] == STEPS
    # the y axis: the highest band of the runs that did not diverge (kernel: 0.65 at step 0), padded; the blown-up
    # feature run's band (4.3 at step 24) is left out
    assert error["y"][0] == 0 and math.isclose(error["y"][1], 0.65 * figures.PAD, rel_tol=1e-6)
    # a line in its run's colour (opaque), its band around it (the colour, translucent), nothing beyond the band
    # (the canvas is transparent there: the page shows through)
    kernel = [int(figures.COLORS["kernel"][i:i + 2], 16) for i in (1, 3, 5)]
    on_line = page.evaluate(PIXEL, ["live-error", 42, 0.516])
    in_band = page.evaluate(PIXEL, ["live-error", 42, 0.516 + 0.035])
    outside = page.evaluate(PIXEL, ["live-error", 42, 0.516 + 0.09])
    assert all(abs(a - b) <= 8 for a, b in zip(on_line, kernel + [255])), on_line
    assert all(abs(a - b) <= 8 for a, b in zip(in_band, kernel + [round(255 * figures.BAND_ALPHA)])), in_band
    assert outside[3] == 0, outside
    # the numbers over the charts, the text alternative, the SVG button's link (as far as the page shows)
    numbers = page.evaluate("() => Object.fromEntries(Array.from(document.querySelectorAll('[data-metric]'))"
                            ".map((e) => [e.dataset.metric, e.textContent]))")
    assert numbers == {"step": "60 / 60", "kernel": "0.480", "kernel-distance": "0.06", "feature": "—",
                       "feature-distance": "—"}
    assert "Test error: kernel regime 0.48 at step 60 (seeds 0.43 to 0.53); linearized (NTK) net 0.3 at step 60;" \
           " feature learning 0.308 at step 24 (seeds -3.69 to 4.31)." in error["label"]
    assert error["src"].startswith("api/live.svg?") and "chart=error" in error["src"] and "upto=11" in error["src"]
    assert error["font"] >= 11  # the legend's text, in CSS pixels
    assert error["fits"] and distance["fits"]  # uPlot's style sheet applies: a canvas as wide as its place
    page.close()


def test_a_log_axis_leaves_step_0_out_and_spaces_decades_evenly(base, chromium):  # noqa: F811
    page = drawn(chromium, base, log_x=True)
    error, _ = page.evaluate(READ)
    assert error["distr"] == 3 and error["x"] == [1, 60] and error["steps"] == STEPS[1:]
    assert error["points"] == 10 + 10 + 4
    xs = page.evaluate("""() => { const u = document.querySelector('[data-chart="live-error"]').__uplot;
      return [1, 10, 100].map((s) => u.valToPos(s, 'x')); }""")
    assert xs[0] < xs[1] < xs[2] and math.isclose(xs[1] - xs[0], xs[2] - xs[1], rel_tol=1e-6)
    page.close()
