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
from urllib.parse import urlencode, urlsplit

from sharp.experiments import race
from sharp.experiments.curves import Curve
from sharp.experiments.scenes import BY_KEY, ETAS, FIG1_DS, Scene, SceneData, names
from ui import figures

PUBLIC_URL_ENV = "SHARP_PUBLIC_URL"  # the address phones reach the app at; no QR code when unset
# Series colours for the step sizes and the d's: each has at least 3:1 contrast on both the light and the
# dark background (tests/test_kiosk.py), and every series is also named in the legend beside the chart.
ETA_COLORS = ("#4C78A8", "#9467BD", "#D95F02")
D_COLORS = ("#0072B2", "#009E73", "#9467BD", "#D55E00", "#CC6699", "#7F7F7F")


# ---- the URL's timing knobs ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Options:
    scene_s: float = 20.0  # seconds per scene
    idle_s: float = 120.0  # seconds without interaction on the normal page before it returns to the loop
    start: str = "a"  # the scene the loop starts at


OPTION_RANGES: dict[str, Any] = {"scene_s": (3.0, 600.0), "idle_s": (5.0, 3600.0), "start": tuple(BY_KEY)}


def parse_options(query: Mapping[str, Any]) -> tuple[Options, dict[str, str]]:
    """Kiosk options from URL parameters; a bad value falls back to its default with a message naming it.

    Example:
        >>> parse_options({"scene_s": "2"})[1]["scene_s"]
        "scene_s='2' is not allowed: a number of seconds from 3 to 600; using the default 20"
    """
    values, problems = {}, {}
    for name, rng in OPTION_RANGES.items():
        if name not in query:
            continue
        text = query[name]
        text = str(text[-1] if isinstance(text, list | tuple) and text else text).strip()
        default = getattr(Options(), name)
        if name == "start":
            if text in rng:
                values[name] = text
            else:
                problems[name] = f"{name}={text!r} is not allowed: one of {', '.join(rng)}; using the default {default}"
            continue
        try:
            x = float(text)
        except ValueError:
            x = math.nan
        if math.isfinite(x) and rng[0] <= x <= rng[1]:
            values[name] = x
        else:
            problems[name] = (f"{name}={text!r} is not allowed: a number of seconds from {rng[0]:g} to {rng[1]:g}; "
                              f"using the default {default:g}")
    return Options(**values), problems


def wants_kiosk(query: Mapping[str, Any]) -> bool:
    """True when the URL asks for kiosk mode (?kiosk=1, true, yes or on). Example: wants_kiosk({"kiosk": "1"})"""
    text = query.get("kiosk", "")
    text = str(text[-1] if isinstance(text, list | tuple) and text else text).strip().lower()
    return text in ("1", "true", "yes", "on")


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
    if str(query.get("from_kiosk", "")).strip() != "1":
        return None
    opts, _ = parse_options({k: v for k, v in query.items() if k in ("idle_s", "scene_s")})
    return "./?" + urlencode({"kiosk": "1", "idle_s": f"{opts.idle_s:g}", "scene_s": f"{opts.scene_s:g}"}), opts.idle_s


def public_base(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The public address from the environment: (address, None), (None, None) when unset, or (None, message).

    Example: public_base({"SHARP_PUBLIC_URL": "https://booth.example.org/"}) -> ('https://booth.example.org', None)
    """
    text = env.get(PUBLIC_URL_ENV, "").strip()
    if not text:
        return None, None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        return None, (f"{PUBLIC_URL_ENV}={text!r} is not allowed: an http:// or https:// address without a query, "
                      "e.g. https://booth.example.org; no QR code is shown")
    return text.rstrip("/"), None


def public_link(scene: Scene, base: str) -> str:
    """The QR code's payload: the scene's settings on the public address.

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
    if scene.kind == "eta":
        return keys, dict(zip(keys, ETA_COLORS)), {n: f"η = {eta:g}" for n, eta in zip(keys, ETAS)}
    return keys, dict(zip(keys, D_COLORS)), {n: f"d = {d}" for n, d in zip(keys, FIG1_DS)}


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
