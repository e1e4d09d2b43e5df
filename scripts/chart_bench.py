"""Chart library benchmark: uPlot against Plotly.js redrawing the live page's charts as rows stream in.

The live page draws two charts (test error, distance from init), each with three runs (kernel, linearized,
feature): a line per run (the mean over seeds) and a band (min to max over seeds), on a linear or a log step axis.
Here each library draws that, in headless Chromium, from an empty chart: then one row per run is appended per
animation frame, 150 times (a default run's logged steps), the library redrawing each time (uPlot: `setData`;
Plotly.js: `extendTraces`). Per library and axis it prints:

  script_kb         the library's file
  first_draw_ms     from the page starting to load the library to the empty chart drawn (parse, compile, first draw)
  redraw_ms         one append and redraw, median and 90th percentile (until the browser is free again)
  redraws_per_s     appends drawn per second when appending at every animation frame (at most the frame rate, 60)

uPlot is web/static/vendor's (what the live page uses); Plotly.js is the bundle the pinned Python package ships
(plotly/package_data/plotly.min.js, the full bundle: the npm partial bundle plotly.js-basic-dist-min of the same
version, 1.2 MB, parses faster but redraws with the same code). Run several times: the machine is shared.

Usage (from the repository root): .venv/bin/python scripts/chart_bench.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests"))
from browser_support import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

UPLOT = HERE / "web" / "static" / "vendor" / "uplot"
ROWS = 150
COMMON = """
window.T0 = performance.now();
const NAMES = ['kernel', 'linearized', 'feature'], COL = {kernel: '#4C78A8', linearized: '#72B7B2', feature: '#D95F02'};
const LOG = location.search.includes('log');
// Per run, row i: [step, error mean, lo, hi, distance mean, lo, hi], as the live page's stream sends them.
const row = (name, i) => {
  const s = 2 * i + (LOG ? 1 : 0), k = 0.5 - 0.1 * (1 - Math.exp(-s / 80)), f = 0.5 * Math.exp(-Math.max(0, s - 4) / 8);
  const e = name === 'feature' ? f : name === 'kernel' ? k : k + 0.01;
  const d = name === 'feature' ? 2 * (1 - Math.exp(-s / 10)) : 0.02 * Math.sqrt(s);
  return [s, e, e * 0.9, e * 1.1, d, d * 0.9, d * 1.1];
};
const mc = new MessageChannel();
const idle = () => new Promise((r) => { mc.port1.onmessage = () => r(); mc.port2.postMessage(0); });
const frame = () => new Promise((r) => requestAnimationFrame(r));
"""
PLOTLY = """
const gd = document.getElementById('chart');
function traces() {
  const out = [];
  for (const ax of ['', '2']) for (const n of NAMES) {
    const c = COL[n], band = c + '2e';
    out.push({x: [], y: [], xaxis: 'x' + ax, yaxis: 'y' + ax, mode: 'lines', line: {width: 0}, showlegend: false});
    out.push({x: [], y: [], xaxis: 'x' + ax, yaxis: 'y' + ax, mode: 'lines', line: {width: 0}, fill: 'tonexty',
      fillcolor: band, showlegend: false});
    out.push({x: [], y: [], xaxis: 'x' + ax, yaxis: 'y' + ax, mode: 'lines', line: {color: c, width: 2.5}, name: n,
      showlegend: ax === ''});
  }
  return out;
}
const x = {type: LOG ? 'log' : 'linear', range: LOG ? [0, Math.log10(300)] : [0, 300]};
const layout = {margin: {l: 50, r: 10, t: 30, b: 40}, grid: {rows: 2, columns: 1, roworder: 'top to bottom'},
  xaxis: {...x, matches: 'x2'}, xaxis2: {...x, title: {text: 'SGD step'}}, yaxis: {range: [0, 0.6]},
  yaxis2: {range: [0, 2.5]}, shapes: [{type: 'line', x0: 4, x1: 4, yref: 'y domain', y0: 0, y1: 1}]};
window.bench = async (n) => {
  await Plotly.newPlot(gd, traces(), layout, {displayModeBar: false});
  const first = performance.now() - T0, times = [], t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const xs = [], ys = [];
    for (const at of [1, 4]) for (const name of NAMES) {
      const r = row(name, i);
      for (const k of [1, 2, 0]) { xs.push([r[0]]); ys.push([r[at + k]]); }
    }
    const a = performance.now();
    await Plotly.extendTraces(gd, {x: xs, y: ys}, xs.map((_, j) => j));
    await idle(); times.push(performance.now() - a);
    await frame();
  }
  return {first, times, loop: performance.now() - t0};
};
"""
UPLOT_JS = """
function opts(title) {
  const series = [{}], bands = [];
  NAMES.forEach((n, j) => {
    series.push({stroke: 'transparent', width: 0}, {stroke: 'transparent', width: 0}, {stroke: COL[n], width: 2.5});
    bands.push({series: [2 + 3 * j, 1 + 3 * j], fill: COL[n] + '2e'});
  });
  return {title, width: 860, height: 240, series, bands, scales: {x: {time: false, distr: LOG ? 3 : 1,
    range: () => (LOG ? [1, 300] : [0, 300])}, y: {range: [0, 2.5]}}};
}
window.bench = async (n) => {
  const data = [0, 1].map(() => [[], ...NAMES.flatMap(() => [[], [], []])]);
  const plots = ['Test error', 'Distance'].map((t, i) => new uPlot(opts(t), data[i], document.getElementById('chart')));
  const first = performance.now() - T0, times = [], t0 = performance.now();
  for (let i = 0; i < n; i++) {
    [1, 4].forEach((at, c) => {
      data[c][0].push(row('kernel', i)[0]);
      NAMES.forEach((name, j) => {
        const r = row(name, i), s = data[c];
        s[1 + 3 * j].push(r[at + 1]); s[2 + 3 * j].push(r[at + 2]); s[3 + 3 * j].push(r[at]);
      });
    });
    const a = performance.now();
    plots.forEach((u, c) => u.setData(data[c]));
    await idle(); times.push(performance.now() - a);
    await frame();
  }
  return {first, times, loop: performance.now() - t0};
};
"""


def page(script: str, body: str, css: str = "") -> str:
    return (f'<!doctype html><html><head><meta charset="utf-8">{css}</head><body><div id="chart" '
            f'style="width:860px;height:520px"></div><script>{COMMON}</script><script src="{script}"></script>'
            f"<script>{body}</script></body></html>")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="measurements per library and axis (default 3)")
    a = ap.parse_args()
    import plotly
    from playwright.sync_api import sync_playwright

    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(UPLOT / "uPlot.iife.min.js", folder / "uplot.js")
        shutil.copy(plotly_js, folder / "plotly.js")
        (folder / "uplot.html").write_text(page("uplot.js", UPLOT_JS, f"<style>{(UPLOT / 'uPlot.min.css').read_text()}"
                                                                       "</style>"))
        (folder / "plotly.html").write_text(page("plotly.js", PLOTLY))
        sizes = {"uplot": (folder / "uplot.js").stat().st_size, "plotly": (folder / "plotly.js").stat().st_size}

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=tmp))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        results: dict[tuple[str, str], list[dict]] = {}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(a.repeat):
                for lib in ("uplot", "plotly"):
                    for axis in ("linear", "log"):
                        ctx = browser.new_context(viewport={"width": 1000, "height": 700})
                        p = ctx.new_page()
                        p.goto(f"{base}/{lib}.html{'?log' if axis == 'log' else ''}")
                        r = p.evaluate(f"bench({ROWS})")
                        ctx.close()
                        t = sorted(r["times"])
                        out = {"library": lib, "axis": axis, "script_kb": round(sizes[lib] / 1024),
                               "first_draw_ms": round(r["first"]), "redraw_ms": round(statistics.median(t), 1),
                               "redraw_p90_ms": round(t[int(0.9 * len(t))], 1),
                               "redraws_per_s": round(ROWS / r["loop"] * 1000, 1)}
                        results.setdefault((lib, axis), []).append(out)
                        print(json.dumps(out), flush=True)
            browser.close()
        srv.shutdown()
    print("\nmedians | script kB | first draw ms | redraw ms (p90) | redraws/s at frame pace")
    for (lib, axis), rs in results.items():
        med = {k: statistics.median(r[k] for r in rs) for k in ("first_draw_ms", "redraw_ms", "redraw_p90_ms",
                                                                 "redraws_per_s")}
        print(f"{lib:6} {axis:6} | {rs[0]['script_kb']:5} | {med['first_draw_ms']:6.0f} | {med['redraw_ms']:5.1f} "
              f"({med['redraw_p90_ms']:.1f}) | {med['redraws_per_s']:.1f}")
    for axis in ("linear", "log"):
        u, p = (statistics.median(r["redraw_ms"] for r in results[(lib, axis)]) for lib in ("uplot", "plotly"))
        print(f"{axis}: a Plotly.js redraw costs {p / u:.1f} times a uPlot redraw")


if __name__ == "__main__":
    main()
