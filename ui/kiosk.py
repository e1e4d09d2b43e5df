"""The kiosk page's controller, testable without a browser: the URL's timing knobs, the hand-off links (click
here, or scan the QR code on a phone), and each scene's chart and big numbers.

The scenes themselves, what they run and say and the clock that plays them, are `sharp.experiments.scenes`;
their finished runs are kept by `sharp.serve.scene_store.SceneStore`.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlencode

from sharp.engine.param import parse_bool
from sharp.experiments import race
from sharp.experiments.curves import Curve
from sharp.experiments.pages import PAGES
from sharp.experiments.params import values_of
from sharp.experiments.scenes import ETAS, FIG1_DS, Options, Scene, SceneData, names
from ui import figures, palette

# ---- the URL's timing knobs ------------------------------------------------------------------------------
KIOSK = PAGES["kiosk"]


def parse_options(query: Any) -> tuple[Options, dict[str, str]]:
    """Kiosk options from URL parameters (`PAGES["kiosk"]`); a bad value falls back to its default with a message
    naming it and its range.

    Example:
        >>> parse_options({"scene_s": "2"})[1]["scene_s"]
        "URL parameter scene_s=`'2'` is not allowed: a number of seconds from 3 to 600; using the default 20"
    """
    values, problems = KIOSK.parse(query)
    values.pop("kiosk", None)
    return Options(**values), problems


def wants_kiosk(query: Any) -> bool:
    """True when the URL asks for kiosk mode (?kiosk=1, true, yes or on). Example: wants_kiosk({"kiosk": "1"})"""
    texts = values_of(query).get("kiosk")
    try:
        return bool(texts) and parse_bool(texts[-1])
    except ValueError:
        return False


# ---- links ------------------------------------------------------------------------------------------------
def short_query(s: race.Settings) -> dict[str, str]:
    """The settings that differ from the live page's defaults (a shorter link, a smaller QR code).

    Example: short_query(SCENES[1].settings) -> {'steps': '30', 'feature_eta': '1'}
    """
    full, default = race.to_query(s), race.to_query(race.DEFAULTS)
    return {k: v for k, v in full.items() if v != default[k]}


def handoff_url(scene: Scene, opts: Options) -> str:
    """Where a click on the kiosk goes: the live page at the scene's settings, told to come back when idle.

    Relative to the page's address (as every link of the app's own), so it works under a path prefix.
    Example: handoff_url(SCENES[0], Options()) -> './?from_kiosk=1&idle_s=120&scene_s=20'
    """
    q = {**short_query(scene.settings), "from_kiosk": "1", "idle_s": f"{opts.idle_s:g}", "scene_s": f"{opts.scene_s:g}"}
    return "./?" + urlencode(q)


def return_url(query: Mapping[str, Any]) -> tuple[str, float] | None:
    """For a live page entered from the kiosk (from_kiosk=1 in its URL): the kiosk's URL and the idle seconds
    after which to go back to it; None otherwise.

    Example: return_url({"from_kiosk": "1", "idle_s": "30"}) -> ('./?kiosk=1&idle_s=30&scene_s=20', 30.0)
    """
    if values_of(query).get("from_kiosk", [""])[-1].strip() != "1":
        return None
    values, _ = KIOSK.parse({k: v for k, v in values_of(query).items() if k in ("idle_s", "scene_s")})
    opts = Options(**values)
    return "./?" + urlencode({"kiosk": "1", "idle_s": f"{opts.idle_s:g}", "scene_s": f"{opts.scene_s:g}"}), opts.idle_s


def public_link(scene: Scene, base: str) -> str:
    """The QR code's payload: the scene's settings on the public address ($SHARP_PUBLIC_URL, sharp.settings).

    Example: public_link(SCENES[1], "https://b.org") -> 'https://b.org/?steps=30&feature_eta=1'
    """
    q = short_query(scene.settings)
    return f"{base}/" + (f"?{urlencode(q)}" if q else "")


@functools.lru_cache(maxsize=16)
def qr_svg(url: str) -> str:
    """A QR code for url as inline SVG, black on white with its quiet zone (scanners need the contrast,
    whatever the page's theme), scaled to its container. Cached: the loop redraws every second."""
    import segno  # imported here: only a kiosk with a public address draws one

    code = segno.make(url, error="m")
    svg = code.svg_inline(dark="#000000", light="#ffffff", border=4, omitsize=True, svgclass="kiosk-qr")
    return svg.replace("<svg ", f'<svg role="img" aria-label="QR code: {escape(url)}" ', 1)


# ---- drawing ----------------------------------------------------------------------------------------------
def series(scene: Scene) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """The scene's series names, in run order, with their colours and legend labels."""
    keys = names(scene)
    if scene.kind == "race":
        return keys, dict(figures.COLORS), dict(figures.LABELS)
    # the step sizes and the d's: the one palette's series colours, as on the Digits and Fig 1 pages
    if scene.kind == "eta":
        return keys, palette.series(keys), {n: f"η = {eta:g}" for n, eta in zip(keys, ETAS)}
    return keys, palette.series(keys), {n: f"d = {d}" for n, d in zip(keys, FIG1_DS)}


def frame_svg(data: SceneData, shown: int, chart: str | None = None) -> str:
    """The scene's chart with `shown` items drawn: logged steps (race, step size) or curves one by one (Fig 1).

    `chart` names it for its download and the tests (default "kiosk-" and the scene's key).
    """
    scene = data.scene
    chart = chart or f"kiosk-{scene.key}"
    names, colors, labels = series(scene)
    if scene.kind == "fig1":
        on = names[:shown]
        # Unlabelled: several d share a marker; the readings beside the chart name each one's ceil(ln d).
        marks = [(math.ceil(math.log(d)), "", colors[n]) for n, d in zip(names, FIG1_DS) if n in on]
        panel = figures.Panel([data.error[n] for n in on], "Test error", [0.0, 0.55], markers=marks)
        return figures.curves_svg([panel], x_max=data.steps, chart=chart, plot_height=250, colors=colors,
                                  labels=labels)

    def cut(c: Curve) -> Curve:
        return Curve(c.name, c.step[:shown], c.mean[:shown], c.lo[:shown], c.hi[:shown])

    # The y ranges hold the finished runs, so the axes stay still while the lines grow.
    err_range = figures.shared_range(list(data.error.values()), at_least=0.55)
    dist_range = figures.shared_range(list(data.distance.values()), at_least=0.5)
    panels = [figures.Panel([cut(data.error[n]) for n in names], "Test error", err_range),
              figures.Panel([cut(data.distance[n]) for n in names], "Distance from init  ‖W − W₀‖ / ‖W₀‖",
                            dist_range)]
    return figures.curves_svg(panels, x_max=data.steps, chart=chart, plot_height=120, colors=colors, labels=labels)


@dataclass(frozen=True)
class Reading:
    """One line of the big numbers beside the chart."""

    label: str
    color: str
    value: str


def readings(data: SceneData, shown: int) -> list[Reading]:
    """The big numbers at the drawn point: per series its test error and distance (Fig 1: the first
    zero-error step against ceil(ln d))."""
    names, colors, labels = series(data.scene)
    if data.scene.kind == "fig1":
        out = []
        for name, d in list(zip(names, FIG1_DS))[:shown]:
            z = data.first_zero[name]
            hit = (f"median zero-error step {z.text}" if z.reached == z.seeds else
                   f"{z.reached} of {z.seeds} seeds at zero within {z.horizon} steps (median {z.text})")
            out.append(Reading(f"d = {d}", colors[name], f"⌈ln d⌉ = {math.ceil(math.log(d))}, {hit}"))
        return out
    out = []
    for name in names:
        e, dist = data.error[name], data.distance[name]
        j = min(shown, len(e.step)) - 1
        out.append(Reading(labels[name], colors[name],
                           f"test error {e.mean[j]:.2f} · distance {dist.mean[j]:.2f} · step {e.step[j]:.0f}"))
    return out
