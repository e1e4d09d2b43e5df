"""The live page's stream: the server sends each page only the new points of its run; the page draws them.

The page's script draws the live area once per visitor gesture (`area`: the numbers over the charts and the
messages as they are now, places for the charts, the charts' definitions (ui/live.charts) and the browser's
script, web/static/live.js, which draws the charts with uPlot). The script then asks the server's route
`api/live?<the run's settings>&have=<rows it has>...` for what is new: a few numbers per logged step (`rows`),
the messages over the charts, and at most once a second the neuron views (SVG, drawn here and shared by every
page at the same step). The route is keyed by the settings alone, as the page is: it works after a reconnect
and on any replica, and a playing page's request keeps the run wanted (`Pool.want`). It waits (briefly,
without a thread: `Entry.wait_async`) for a row it does not have yet, so a page's requests follow the run's pace
instead of asking in vain. `api/live.svg` gives a chart as an SVG file, as far as the page shows it (the charts'
SVG buttons).

Every URL the page uses is relative to its own address, so the page works under a path prefix.
Nothing here reruns Streamlit scripts: a streaming page costs the server a small JSON answer per redraw.
"""
from __future__ import annotations

import functools
import json
import math
import threading
import time
from html import escape
from typing import Any

import sharp
from sharp.experiments import race
from sharp.experiments.curves import curve
from sharp.experiments.pages import STREAM
from sharp.serve.entry import Entry
from sharp.serve.live_run import REPLAY_S, Frame, LiveRun, Watch
from sharp.serve.pool import shared
from ui import figures, live
from web import assets

WAIT_S = 0.6  # a request for rows not there yet waits at most this long (a long poll)
POLL_MS = 60  # a page asks again this soon after an answer with new rows ...
FULL_PACE = 12  # ... while at most this many pages stream at once; with more, each one asks less often
NEURONS_EVERY_S = 1.0  # the neuron views change slowly: a page asks for them at most this often while streaming
COLUMNS = {"test_error": 1, "distance": 4}  # a metric's mean in a row (`rows`); its lo and hi follow it
_seen: dict[str, tuple[Any, int, float]] = {}  # viewer -> (run key, rows sent, when): what the page shows
_seen_lock = threading.Lock()
SEEN_KEEP_S = 600.0
STREAMING_S = 3.0  # a page that asked within this long while playing counts as streaming (the pace's share)
_streaming: dict[str, float] = {}  # viewer -> when its playing page last asked


def seen(viewer: str, key: Any) -> int | None:
    """How many logged steps the route last sent viewer's page of run `key` (None if it sent none).

    The page's Pause and its catch-up rerun read it: the browser's position is what the visitor saw.
    """
    with _seen_lock:
        hit = _seen.get(viewer)
    return hit[1] if hit is not None and hit[0] == key else None


def _note(viewer: str, key: Any, rows: int) -> None:
    now = time.monotonic()
    with _seen_lock:
        _seen[viewer] = (key, rows, now)
        if len(_seen) > 2000:  # bounded: pages gone for a while are forgotten
            for v, (_, _, t) in list(_seen.items()):
                if now - t > SEEN_KEEP_S:
                    del _seen[v]


def streaming(viewer: str) -> int:
    """A playing page asked for rows: returns how many pages streamed within STREAMING_S, this one included.

    The pages share the server's answers: with more than FULL_PACE of them, each one asks less often.
    """
    now = time.monotonic()
    with _seen_lock:
        _streaming[viewer] = now
        for v, t in list(_streaming.items()):
            if now - t > STREAMING_S:
                del _streaming[v]
        return len(_streaming)


def _num(v: float, digits: int = 5) -> float | None:
    """A value for JSON: NaN and infinities as null, 5 significant digits (the chart draws to a tenth of a pixel)."""
    v = float(v)
    return float(f"{v:.{digits}g}") if math.isfinite(v) else None


def rows(snaps: list[sharp.Snapshot]) -> list[list]:
    """Each snapshot as the numbers the page draws: [step, test error mean, lo, hi, distance mean, lo, hi,
    test error, distance, diverged] (mean and min-max band over the seeds that did not diverge, which the charts
    draw (`COLUMNS`); then the snapshot's own means, which the numbers over the charts show).

    Example: rows(run.history["kernel"][:1]) -> [[0, 0.49, 0.47, 0.51, 0.0, 0.0, 0.0, 0.49, 0.0, 0]]
    """
    if not snaps:
        return []
    err, dist = curve("", snaps, "test_error"), curve("", snaps, "distance")
    cols = [err.mean, err.lo, err.hi, dist.mean, dist.lo, dist.hi]
    return [[s.step, *(_num(c[i]) for c in cols), _num(s.test_error), _num(s.distance), int(s.diverged)]
            for i, s in enumerate(snaps)]


def _snaps(run: LiveRun, name: str, upto: int) -> list[sharp.Snapshot]:
    return run.history.get(name, [])[:upto]


def top_html(entry: Entry, shown: int, streaming: bool) -> str:
    """The messages over the charts: the run's error, or that it waits for a place on the server."""
    if entry.error:
        return _box("error", f"This run stopped with an error: {escape(str(entry.error))}. Change a setting or "
                             "press Reset to try again.")
    if not shown and not entry.finished:
        ahead = shared().ahead(entry)
        return _box("info", f"Waiting: {ahead} run{'s' * (ahead != 1)} ahead of this one on this server. It starts "
                            "as soon as one of them finishes or is paused." if ahead else "Starting...")
    if streaming and (ahead := shared().ahead(entry)):
        return _box("info", f"Waiting: {ahead} run{'s' * (ahead != 1)} ahead of this one on this server; it goes "
                            "on as soon as one of them finishes or is paused.")
    return ""


def alerts_html(run: LiveRun, upto: int, regime: str) -> str:
    """A column's diverged-run messages, for the runs drawn in it."""
    s, out = run.settings, []
    for name in race.column_runs(s, regime):
        snaps = _snaps(run, name, upto)
        if snaps and snaps[-1].diverged:
            last = snaps[-1]
            seeds = ", ".join(map(str, last.diverged_seeds))
            out.append(_box("error", f"<strong>{figures.LABELS[name].capitalize()} diverged at step "
                                     f"{last.diverged_step}</strong>: the outputs blew up (beyond 10⁶ or infinite) "
                                     f"for seed(s) {seeds}. The step size η = {getattr(s, name + '_eta'):g} is too "
                                     "large here; lower it."))
    return "".join(out)


def _box(kind: str, html: str) -> str:
    role = "alert" if kind == "error" else "status"
    return f'<div class="sharp-box sharp-{kind}" role="{role}">{html}</div>'


def _metric(label: str, name: str, value: str, sub: str = "", color: str | None = None) -> str:
    swatch = f'<span class="sharp-swatch" style="background:{color}"></span>' if color else ""
    return (f'<div class="sharp-metric"><div class="sharp-metric-label">{swatch}{label}</div>'
            f'<div class="sharp-metric-value" data-metric="{name}">{value}</div>{sub}</div>')


def metrics_html(run: LiveRun, upto: int) -> str:
    """The numbers over the charts: the step, and per regime its test error (large) and distance from init; the
    page's script updates them as it draws (the elements with data-metric)."""
    lasts = {r: snaps[-1] if (snaps := _snaps(run, r, upto)) else None for r in race.REGIMES}
    steps = [x.step for x in lasts.values() if x is not None]
    out = [_metric("step", "step", f"{max(steps)} / {run.settings.steps}" if steps else "—")]
    for r, last in lasts.items():
        err, dist = ("—", "—") if last is None or last.diverged else (f"{last.test_error:.3f}", f"{last.distance:.2f}")
        sub = f'<div class="sharp-metric-sub">distance from init <span data-metric="{r}-distance">{dist}</span></div>'
        out.append(_metric(f"{figures.LABELS[r]}: test error", r, err, sub, figures.COLORS[r]))
    return "".join(out)


CAPTION = "Hover a chart for the values at each step, or a bar for its neuron's shares."


def neuron_views(entry: Entry, upto: int) -> dict[str, str]:
    """Per regime, its neuron view at logged step `upto` (SVG), drawn once for every page at that step."""
    run, out = entry.job, {}
    s = run.settings
    title = f"Neurons: each one's share of its weight energy on x₁..{figures.relevant(s.k)}"
    for name in race.REGIMES:
        snaps = _snaps(run, name, upto)
        if not snaps:
            continue
        out[name] = entry.chart(("neurons", name, len(snaps)), lambda snaps=snaps, name=name: figures.neurons_svg(
            snaps[-1], snaps[0], name, s.k, s.d, title=title, chart=f"neurons-{name}"))
    return out


def payload(entry: Entry, have: int, until: int | None, streaming: bool, neurons: bool) -> dict[str, Any]:
    """The route's answer: the rows in [have, upto) of every run, upto = the run's count (or `until`, less).

    Returns:
        {count, done, error, upto, rows: {name: rows(...)}, top, alerts: {regime: html}, neurons: {regime: svg}}
        (neurons only when asked for).
    """
    run = entry.job
    count = run.count  # read once: rows below it are complete in every run (LiveRun.count)
    upto = count if until is None else max(0, min(until, count))
    have = max(0, min(have, upto))
    out = {"count": count, "done": bool(run.done or entry.finished), "error": entry.error, "upto": upto,
           "rows": {name: rows(snaps[have:upto]) for name, snaps in run.history.items()},
           "top": top_html(entry, upto, streaming and not (run.done and upto >= count)),
           "alerts": {regime: alerts_html(run, upto, regime) for regime in race.REGIMES}}
    if neurons:
        out["neurons"] = neuron_views(entry, upto)
    return out


@functools.lru_cache(maxsize=512)
def key_of(query: tuple[tuple[str, str], ...]) -> race.Settings:
    """The run part of the settings in a request's parameters (the page's own URL parameters).

    Raises ValueError with the page's message when the settings cannot run or are too heavy for a live page.
    """
    settings, _ = race.parse_query(dict(query))
    race.build_configs(settings)  # sharp.ConfigError (a ValueError) names the setting
    if heavy := race.too_heavy(settings):
        raise ValueError(heavy)
    return settings.run_part()


async def endpoint(request: Any) -> Any:
    """GET /api/live: see the module's docstring and `payload`. A bad request gets 400 and a message."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    q = request.query_params
    own, problems = STREAM.parse({k: v for k, v in q.items() if k in STREAM.spec})
    if problems:  # the browser's script sends none of these: a hand-made request, told what is wrong
        return JSONResponse({"error": "; ".join(problems.values())}, status_code=400)
    try:
        key = key_of(tuple(sorted((k, v) for k, v in q.items() if k in race.SPEC)))
    except ValueError as e:
        return JSONResponse({"error": str(e)}, status_code=400)
    arg = {**STREAM.defaults, **own}
    have, until, want, play, viewer = arg["have"], arg["until"], arg["want"], arg["play"], q.get("viewer", "")[:64]
    pool = shared()
    entry = pool.peek(key)
    if entry is None:  # a reconnect after the run was dropped, another replica: start it as the page would
        entry = await run_in_threadpool(pool.get, key, lambda: LiveRun.start(key), want)
    if want or (until is not None and entry.job.count < until):  # a stepping page asks for rows it lacks
        pool.want(entry)
    pace = streaming(viewer) if viewer and play else 1
    target = have + 1 if until is None else min(have + 1, until)  # the next row, or none past the page's until
    await entry.wait_async(WAIT_S, until=lambda: entry.job.count >= target)
    body = payload(entry, have, until, play, arg["neurons"])
    body["next_ms"] = round(POLL_MS * max(1.0, pace / FULL_PACE))
    if viewer:
        _note(viewer, key, body["upto"])
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def svg_endpoint(request: Any) -> Any:
    """GET /api/live.svg?<the page's settings>&chart=<name>&upto=<rows>: one of the page's charts (ui/live.charts) as
    an SVG file, drawn from the run's first `upto` logged steps (what the page shows). 400 for settings the page
    refuses, 404 for a run this server does not hold (any more) or an unknown chart."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse, PlainTextResponse, Response

    q = request.query_params
    query = tuple(sorted((k, v) for k, v in q.items() if k in race.SPEC))
    own, problems = STREAM.parse({k: v for k, v in q.items() if k == "upto"})
    try:
        if problems:
            raise ValueError("; ".join(problems.values()))
        key = key_of(query)
    except ValueError as e:
        return JSONResponse({"error": str(e)}, status_code=400)
    entry = shared().peek(key)
    view = race.parse_query(dict(query))[0]  # with the view's own settings (log_x)
    chart = next((c for c in live.charts(view) if c.name == q.get("chart")), None)
    if entry is None or chart is None:
        return PlainTextResponse("This chart is not on this server (any more): reload the page.", status_code=404)
    upto = own.get("upto")
    history = {name: snaps[:upto] for name, snaps in entry.job.history.items()}
    text = await run_in_threadpool(chart.svg, history)
    return Response(text, media_type="image/svg+xml", headers={
        "Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="sharp-live-{chart.name}.svg"'})


def routes() -> list:
    """The stream's Starlette routes: the rows, a chart as a file, and the browser's files (web.assets)."""
    from starlette.routing import Route

    return [Route("/api/live", endpoint), Route("/api/live.svg", svg_endpoint), *assets.routes()]


# uPlot's style sheet and the area's own, inline: they hold from the area's first paint, whatever loads first.
STYLE = f"<style>{assets.UPLOT_CSS.read_text()}\n{(assets.STATIC / 'live.css').read_text()}</style>"


def area(entry: Entry, frame: Frame, cfg: dict[str, Any]) -> str:
    """The live area as the page's script draws it: the messages and the numbers as they are now, a place for each
    chart, and the browser's script (web/static/live.js) that streams into it and draws the charts.

    Args:
        entry: the shared run; frame: what this visitor sees now (`Watch.look`).
        cfg: what the browser's script needs (see `client_config`).
    Returns:
        HTML for st.html(..., unsafe_allow_javascript=True) (see `area_html`).
    """
    run, shown = entry.job, len(frame.history.get("kernel", []))
    upto = max(map(len, frame.history.values()), default=0)
    return area_html(top_html(entry, upto, frame.running), metrics_html(run, upto),
                     "".join(alerts_html(run, upto, r) for r in race.REGIMES),
                     CAPTION if not frame.running and shown else "", {**cfg, "shown": upto})


def area_html(top: str, metrics: str, alerts: str, caption: str, cfg: dict[str, Any]) -> str:
    """The live area's HTML from its parts (no SVG or canvas: st.html's sanitizer drops SVG; the browser's script
    draws the charts into their places, `cfg["charts"]`)."""
    charts = "".join(f'<figure class="sharp-chart" data-chart="{c["chart"]}" data-points="0" role="img" '
                     f'aria-label="{escape(c["title"])}"></figure>' for c in cfg["charts"])
    cfg_text = json.dumps(cfg).replace("<", "\\u003c")  # no markup in the script's text
    return (f'{STYLE}<div class="sharp-live" data-sharp-live><div data-part="top">{top}</div>'
            f'<div class="sharp-metrics">{metrics}</div><div data-part="alerts">{alerts}</div>'
            f'<div class="sharp-charts">{charts}</div>'
            f'<div class="sharp-caption" data-part="caption">{caption}</div></div>'
            f'<script data-sharp-cfg>window.__sharpLiveCfg = {cfg_text};</script>'
            f'<script data-sharp-uplot src="{assets.url("uplot.js")}"></script>'
            f'<script data-sharp-client src="{assets.url("live.js")}"></script>')


def neurons_place(regime: str) -> str:
    """Where the page's script puts a regime's neuron view (st.html; the page puts it under the regime's settings)."""
    return f'<div class="sharp-neurons" data-part="neurons-{regime}"></div>'


def client_config(settings: race.Settings, watch: Watch, viewer: str, mode: str, run: LiveRun) -> dict:
    """What the browser's script needs: where to ask (URLs relative to the page), what to ask for, and what to
    draw (each chart's definition, ui/live.charts; the rows' columns)."""
    s = settings
    return {"api": "api/live", "svg": "api/live.svg", "uplot_js": assets.url("uplot.js"),
            "query": race.to_query(watch.key), "log_x": s.log_x,
            "viewer": viewer, "mode": mode,
            "until": watch.step_to if mode == "step" else None if mode in ("play", "replay") else watch.shown,
            "steps": s.steps, "regimes": list(race.REGIMES), "charts": [c.spec() for c in live.charts(s)],
            "columns": COLUMNS, "caption": CAPTION, "poll_ms": POLL_MS,
            "neurons_every_ms": NEURONS_EVERY_S * 1000, "replay_s": REPLAY_S,
            "run_key": json.dumps(race.to_query(watch.key), sort_keys=True), "count": run.count}
