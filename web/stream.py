"""The live page's stream: the server sends each page only the new points of its run; the page draws them.

The page's script draws the live area once per visitor gesture (`area`: the current frame in HTML, as the
browser's script would draw it, plus that script, web/static/live.js). The script then asks the server's route
`/api/live?<the run's settings>&have=<rows it has>...` for what is new: a few numbers per logged step (`rows`),
the messages over the charts, and at most once a second the neuron views (SVG, drawn here and shared by every
page at the same step). The route is keyed by the settings alone, as the page is: it works after a reconnect
and on any replica, and a playing page's request keeps the run wanted (`Pool.want`). It waits (briefly,
without a thread: `Entry.wait_async`) for a row it does not have yet, so a page's requests follow the run's pace
instead of asking in vain.

Nothing here reruns Streamlit scripts: a streaming page costs the server a small JSON answer per redraw.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import threading
import time
from html import escape
from pathlib import Path
from typing import Any

import sharp
from sharp.experiments import race
from sharp.experiments.curves import curve
from sharp.experiments.pages import STREAM
from sharp.serve.entry import Entry
from sharp.serve.live_run import REPLAY_S, Frame, LiveRun, Watch
from sharp.serve.pool import shared
from ui import figures

WAIT_S = 0.6  # a request for rows not there yet waits at most this long (a long poll)
POLL_MS = 60  # a page asks again this soon after an answer with new rows ...
FULL_PACE = 12  # ... while at most this many pages stream at once; with more, each one asks less often
NEURONS_EVERY_S = 1.0  # the neuron views change slowly: a page asks for them at most this often while streaming
CLIENT_JS = (Path(__file__).parent / "static" / "live.js").read_text()
CLIENT_VERSION = hashlib.sha1(CLIENT_JS.encode()).hexdigest()[:12]  # in its URL: a changed script is fetched anew
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
    test error, distance, diverged] (mean and min-max band over the seeds that did not diverge, as
    `figures.curves_svg` draws them; then the snapshot's own means, which the metrics show).

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


def metrics_html(run: LiveRun, upto: int, regime: str) -> str:
    """A column's three metrics (step, test error, distance from init), as the page's script draws them too."""
    snaps = _snaps(run, regime, upto)
    last = snaps[-1] if snaps else None
    vals = (["—"] * 3 if last is None else
            [f"{last.step} / {run.settings.steps}", "—" if last.diverged else f"{last.test_error:.3f}",
             "—" if last.diverged else f"{last.distance:.2f}"])
    return "".join(f'<div class="sharp-metric"><div class="sharp-metric-label">{label}</div>'
                   f'<div class="sharp-metric-value" data-metric="{label}">{v}</div></div>'
                   for label, v in zip(("step", "test error", "distance from init"), vals))


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


def routes() -> list:
    """The stream's Starlette route."""
    from starlette.responses import Response
    from starlette.routing import Route

    async def client(request: Any) -> Response:
        return Response(CLIENT_JS, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    return [Route("/api/live", endpoint), Route("/api/live.js", client)]


STYLE = """<style>
.sharp-live .sharp-cols {display: flex; gap: 3rem; align-items: flex-start;}
.sharp-live .sharp-col {flex: 1 1 0; min-width: 0;}
@media (max-width: 640px) {.sharp-live .sharp-cols {flex-direction: column; gap: 1rem;}}
.sharp-live .sharp-metrics {display: flex; gap: 1rem; margin-bottom: 0.5rem;}
.sharp-live .sharp-metric {flex: 1 1 0;}
.sharp-live .sharp-metric-label {font-size: 0.875rem; opacity: 0.8;}
.sharp-live .sharp-metric-value {font-size: 2.25rem; line-height: 1.3; white-space: nowrap;}
.sharp-live .sharp-box {border-radius: 0.5rem; padding: 1rem; margin: 0.5rem 0;}
.sharp-live .sharp-info {background: rgba(28, 131, 225, 0.1);}
.sharp-live .sharp-error {background: rgba(255, 43, 43, 0.09);}
.sharp-live .sharp-caption {font-size: 0.875rem; opacity: 0.7;}
.sharp-live svg {margin-bottom: 1rem;}
</style>"""


def area(entry: Entry, frame: Frame, cfg: dict[str, Any]) -> str:
    """The live area as the page's script draws it: the frame now (metrics, messages), places for the charts, and
    the browser's script (web/static/live.js) that streams into it and draws the charts. (No SVG here: st.html's
    sanitizer drops SVG; the browser's script writes it.)

    Args:
        entry: the shared run; frame: what this visitor sees now (`Watch.look`).
        cfg: what the browser's script needs (see `client_config`).
    Returns:
        HTML for st.html(..., unsafe_allow_javascript=True).
    """
    run, shown = entry.job, len(frame.history.get("kernel", []))
    upto = max(map(len, frame.history.values()), default=0)
    cols = "".join(
        f'<div class="sharp-col" data-col="{r}"><div class="sharp-metrics" data-part="metrics-{r}">'
        f'{metrics_html(run, upto, r)}</div><div data-part="alerts-{r}">{alerts_html(run, upto, r)}</div>'
        f'<div data-part="curves-{r}"></div><div data-part="neurons-{r}"></div>'
        "</div>" for r in race.REGIMES)
    caption = CAPTION if not frame.running and shown else ""
    cfg_text = json.dumps({**cfg, "shown": upto}).replace("<", "\\u003c")  # no markup in the script's text
    return (f'{STYLE}<div class="sharp-live" data-sharp-live>'
            f'<div data-part="top">{top_html(entry, upto, frame.running)}</div>'
            f'<div class="sharp-cols">{cols}</div><div class="sharp-caption" data-part="caption">{caption}</div></div>'
            f'<script data-sharp-cfg>window.__sharpLiveCfg = {cfg_text};</script>'
            f'<script data-sharp-client src="/api/live.js?v={CLIENT_VERSION}"></script>')


def client_config(settings: race.Settings, watch: Watch, viewer: str, mode: str, run: LiveRun) -> dict:
    """What the browser's script needs: where to ask, what to ask for, and how to draw (mirrors figures)."""
    s = settings
    names = {r: race.column_runs(s, r) for r in race.REGIMES}
    return {"api": "/api/live", "query": race.to_query(watch.key), "viewer": viewer, "mode": mode,
            "until": watch.step_to if mode == "step" else None if mode in ("play", "replay") else watch.shown,
            "steps": s.steps, "log_x": s.log_x, "marker": math.ceil(math.log(s.d)), "names": names,
            "colors": figures.COLORS, "labels": figures.LABELS, "caption": CAPTION, "poll_ms": POLL_MS,
            "neurons_every_ms": NEURONS_EVERY_S * 1000, "replay_s": REPLAY_S,
            "run_key": json.dumps(race.to_query(watch.key), sort_keys=True), "count": run.count,
            "widths": {"left": figures.LEFT, "right": figures.RIGHT, "width": figures.WIDTH}}
