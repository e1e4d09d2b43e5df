"""The booth's kiosk mode, testable without a browser: its scenes, which one is on screen at time t, how much
of it is drawn, the hand-off links (click here, or scan the QR code on a phone) and the URL's timing knobs.

A kiosk replays finished runs: each scene's runs are trained once per server (or read from the disk cache of
`sharp.engine.sweep`), and the screen shows a growing prefix of them chosen by the clock alone, so an attract loop
left running for hours costs the server almost nothing. `SceneStore` holds the finished runs and the drawn
frames; it never calls streamlit, and its one background thread only trains.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np
import pandas as pd

from sharp.engine.config import Config
from sharp.engine.sweep import sweep
from sharp.experiments.fig1 import figure1_configs, first_hits
from ui import figures, live

PUBLIC_URL_ENV = "SHARP_PUBLIC_URL"  # the address phones reach the app at; no QR code when unset
REVEAL = 0.7  # a scene's runs grow over this share of its time, then hold still for the takeaway
FRAMES = 12  # distinct drawings per scene (the reveal is quantized, so the frame cache stays small)
ETAS = (1.0, 5.0, 20.0)  # scene (b): the feature network's step size, small to the paper's eta = m
FIG1_DS = (25, 50, 100, 200, 400, 800)  # scene (c): poster Fig 1, the same runs as the Fig 1 page's default
# Series colours for the step sizes and the d's: each has at least 3:1 contrast on both the light and the
# dark background (tests/test_kiosk.py), and every series is also named in the legend beside the chart.
ETA_COLORS = ("#4C78A8", "#9467BD", "#D95F02")
D_COLORS = ("#0072B2", "#009E73", "#9467BD", "#D55E00", "#CC6699", "#7F7F7F")


@dataclass(frozen=True)
class Scene:
    """One scene of the loop: what it runs, what it says, and where a visitor who touches the screen lands."""

    key: str  # "a".."d": the URL's start=
    kind: str  # "race" (kernel against feature), "eta" (feature at several step sizes) or "fig1"
    title: str  # a few words, for the strip of scene names
    headline: str  # the one line read from two metres away
    caption: str  # what the chart shows, in a smaller line
    settings: live.Settings  # the live page's settings for this scene (the click and the QR code open them)


DEEP = dataclasses.replace(live.preset_settings("Deep (L = 3)"), seeds=2)  # 2 seeds: L = 3 at m = 256 is heavy
SCENES: tuple[Scene, ...] = (
    Scene("a", "race", "The race",
          "Same data, two networks: the kernel regime stalls, feature learning reaches zero error",
          "y = x₁·x₂ hidden in d = 50 random ±1 inputs, 300 training samples; test error on 1000 new points",
          live.DEFAULTS),
    Scene("b", "eta", "The step size",
          "A larger step carries the network away from its start, and that is when it learns",
          "Feature-learning network (m = 20), 30 steps at η = 1, 5 and 20 on the same data (d = 50, n = 300)",
          dataclasses.replace(live.DEFAULTS, steps=30, feature_eta=1.0)),
    Scene("c", "fig1", "log d steps",
          "Zero test error after about ln d steps, for d = 25 up to 800 inputs",
          "Poster Fig 1: fresh batches of 6d samples per step, η = m = 20; dashed: ⌈ln d⌉; median of 5 seeds",
          live.preset_settings("Poster Fig 1 setting")),
    Scene("d", "race", "Deeper nets",
          "Three hidden layers: the wide kernel network still stalls, the narrow one still learns",
          "Depth L = 3, ReLU; kernel regime m = 256, feature learning m = 20, η = 20; d = 50, n = 300",
          DEEP),
)
BY_KEY = {s.key: s for s in SCENES}


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


# ---- the clock --------------------------------------------------------------------------------------------
def position(t: float, scene_s: float, n: int, start: int = 0) -> tuple[int, float]:
    """The scene on screen t seconds after the loop started, and how many seconds into it.

    Example: position(45, 20, 4) -> (2, 5.0)
    """
    k = math.floor(max(t, 0.0) / scene_s)
    return (start + k) % n, max(t, 0.0) - k * scene_s


def revealed(total: int, into: float, scene_s: float) -> int:
    """How many of a scene's `total` items (logged steps, or curves) are drawn `into` seconds into it.

    They grow over the first REVEAL of the scene in FRAMES steps, then all stay; at least one is drawn.
    Example: revealed(151, 0.0, 20) -> 13; revealed(151, 15.0, 20) -> 151
    """
    if total <= 0:
        return 0
    frame = min(FRAMES, math.floor(FRAMES * into / (REVEAL * scene_s)) + 1)
    return min(total, max(1, math.ceil(total * frame / FRAMES)))


# ---- links ------------------------------------------------------------------------------------------------
def short_query(s: live.Settings) -> dict[str, str]:
    """The settings that differ from the live page's defaults (a shorter link, a smaller QR code).

    Example: short_query(SCENES[1].settings) -> {'steps': '30', 'feature_eta': '1'}
    """
    full, default = live.to_query(s), live.to_query(live.DEFAULTS)
    return {k: v for k, v in full.items() if v != default[k]}


def handoff_url(scene: Scene, opts: Options) -> str:
    """Where a click on the kiosk goes: the live page at the scene's settings, told to come back when idle.

    Example: handoff_url(SCENES[0], Options()) -> '/?from_kiosk=1&idle_s=120&scene_s=20'
    """
    q = {**short_query(scene.settings), "from_kiosk": "1", "idle_s": f"{opts.idle_s:g}", "scene_s": f"{opts.scene_s:g}"}
    return "/?" + urlencode(q)


def return_url(query: Mapping[str, Any]) -> tuple[str, float] | None:
    """For a live page entered from the kiosk (from_kiosk=1 in its URL): the kiosk's URL and the idle seconds
    after which to go back to it; None otherwise.

    Example: return_url({"from_kiosk": "1", "idle_s": "30"}) -> ('/?kiosk=1&idle_s=30&scene_s=20', 30.0)
    """
    if str(query.get("from_kiosk", "")).strip() != "1":
        return None
    opts, _ = parse_options({k: v for k, v in query.items() if k in ("idle_s", "scene_s")})
    return "/?" + urlencode({"kiosk": "1", "idle_s": f"{opts.idle_s:g}", "scene_s": f"{opts.scene_s:g}"}), opts.idle_s


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


# ---- the scenes' runs -------------------------------------------------------------------------------------
def configs(scene: Scene) -> list[Config]:
    """The runs a scene replays, in the order of its series."""
    s = scene.settings
    if scene.kind == "race":
        return list(live.build_configs(s).values())
    if scene.kind == "eta":
        return [live.build_configs(dataclasses.replace(s, feature_eta=eta))["feature"] for eta in ETAS]
    return figure1_configs(list(FIG1_DS), seeds=5, steps=12, m=20, eta=20.0)


def series(scene: Scene) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """The scene's series names, in run order, with their colours and legend labels."""
    if scene.kind == "race":
        return ["kernel", "feature"], dict(figures.COLORS), dict(figures.LABELS)
    if scene.kind == "eta":
        names = [f"eta{eta:g}" for eta in ETAS]
        return names, dict(zip(names, ETA_COLORS)), {n: f"η = {eta:g}" for n, eta in zip(names, ETAS)}
    names = [f"d{d}" for d in FIG1_DS]
    return names, dict(zip(names, D_COLORS)), {n: f"d = {d}" for n, d in zip(names, FIG1_DS)}


@dataclass(frozen=True)
class SceneData:
    """A scene's finished runs: per series, its test-error and distance curves over the logged steps."""

    scene: Scene
    error: dict[str, figures.Curve]
    distance: dict[str, figures.Curve]
    steps: int  # the runs' last step (the x axis)
    first_zero: dict[str, float]  # fig1 only: per series, the median first step with zero test error


def from_frame(scene: Scene, frame: pd.DataFrame) -> SceneData:
    """Curves from the tidy frame of `sharp.engine.sweep.sweep` (a column `run` numbers the scene's runs).

    Race and step-size scenes draw the mean over seeds, Fig 1 the median (as the poster and the Fig 1 page).
    """
    names, _, _ = series(scene)
    center = "median" if scene.kind == "fig1" else "mean"
    err, dist, zero = {}, {}, {}
    for i, name in enumerate(names):
        g = frame[frame.run == i]
        for metric, out in (("test_error", err), ("distance", dist)):
            by = g.groupby("step")[metric]
            c, lo, hi = by.agg(center), by.min(), by.max()
            out[name] = figures.Curve(name, c.index.to_numpy(float), c.to_numpy(float), lo.to_numpy(float),
                                      hi.to_numpy(float))
        if scene.kind == "fig1":
            hits = first_hits(g)
            zero[name] = float(hits.step.where(hits.reached).median())
    return SceneData(scene, err, dist, int(frame.step.max()), zero)


def scene_data(scene: Scene) -> SceneData:
    """Train a scene's runs to the end (or read them from the disk cache) and keep their curves."""
    return from_frame(scene, sweep(configs(scene), max_seconds=None))


def frame_svg(data: SceneData, shown: int, chart: str = "kiosk") -> str:
    """The scene's chart with `shown` items drawn: logged steps (race, step size) or curves one by one (Fig 1)."""
    scene = data.scene
    names, colors, labels = series(scene)
    if scene.kind == "fig1":
        on = names[:shown]
        # Unlabelled: several d share a marker; the readings beside the chart name each one's ceil(ln d).
        marks = [(math.ceil(math.log(d)), "", colors[n]) for n, d in zip(names, FIG1_DS) if n in on]
        panel = figures.Panel([data.error[n] for n in on], "Test error", [0.0, 0.55], markers=marks)
        return figures.curves_svg([panel], x_max=data.steps, chart=chart, plot_height=250, colors=colors,
                                  labels=labels)

    def cut(c: figures.Curve) -> figures.Curve:
        return figures.Curve(c.name, c.step[:shown], c.mean[:shown], c.lo[:shown], c.hi[:shown])

    # The y ranges hold the finished runs, so the axes stay still while the lines grow.
    err_range = figures.shared_range(list(data.error.values()), at_least=0.55)
    dist_range = figures.shared_range(list(data.distance.values()), at_least=0.5)
    panels = [figures.Panel([cut(data.error[n]) for n in names], "Test error", err_range),
              figures.Panel([cut(data.distance[n]) for n in names], "Distance from init  ‖W − W₀‖ / ‖W₀‖",
                            dist_range)]
    return figures.curves_svg(panels, x_max=data.steps, chart=chart, plot_height=120, colors=colors, labels=labels)


def total(data: SceneData) -> int:
    """How many items a scene reveals: logged steps, or (Fig 1) curves."""
    if data.scene.kind == "fig1":
        return len(data.error)
    return max(len(c.step) for c in data.error.values())


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
            hit = "not within 12 steps" if math.isnan(z) else f"zero error at step {z:g}"
            out.append(Reading(f"d = {d}", colors[name], f"⌈ln d⌉ = {math.ceil(math.log(d))}, {hit}"))
        return out
    out = []
    for name in names:
        e, dist = data.error[name], data.distance[name]
        j = min(shown, len(e.step)) - 1
        out.append(Reading(labels[name], colors[name],
                           f"test error {e.mean[j]:.2f} · distance {dist.mean[j]:.2f} · step {e.step[j]:.0f}"))
    return out


class SceneStore:
    """Every scene's finished runs, computed once per server and kept, with an LRU of drawn frames.

    `warm` trains the missing scenes in loop order on one background thread (it only trains: it never calls
    streamlit); the page draws the scenes that are ready. Held by st.cache_resource, so one per server.
    """

    def __init__(self, compute: Callable[[Scene], SceneData] | None = None, max_frames: int = 4 * (FRAMES + 1)):
        # scene_data looked up now, not bound as a default when the class is defined: the page's tests replace
        # it with small fake runs (a default argument kept the real training, a minute, in every page test)
        self._compute = compute or scene_data
        self._data: dict[str, SceneData] = {}
        self.errors: dict[str, str] = {}
        self._frames: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._max_frames = max_frames
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def warm(self, scenes: Sequence[Scene] = SCENES) -> None:
        """Start computing the scenes not yet ready (once; later calls return at once)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._fill, args=(tuple(scenes),), name="kiosk-scenes",
                                            daemon=True)
            self._thread.start()

    def _fill(self, scenes: tuple[Scene, ...]) -> None:
        for scene in scenes:
            if scene.key in self._data:
                continue
            try:
                data = self._compute(scene)
            except Exception as e:  # noqa: BLE001 - shown on the page instead of a dead loop
                self.errors[scene.key] = f"{type(e).__name__}: {e}"
                continue
            self._data[scene.key] = data

    def join(self, timeout: float | None = None) -> None:
        """Wait for the background computation (tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def ready(self) -> list[str]:
        """Keys of the scenes whose runs are done, in loop order."""
        return [s.key for s in SCENES if s.key in self._data]

    def get(self, key: str) -> SceneData | None:
        return self._data.get(key)

    def frame(self, key: str, shown: int) -> str:
        """The scene's chart with `shown` items, drawn once and then served from the LRU."""
        with self._lock:
            hit = self._frames.get((key, shown))
            if hit is not None:
                self._frames.move_to_end((key, shown))
                return hit
        svg = frame_svg(self._data[key], shown, chart=f"kiosk-{key}")
        with self._lock:
            self._frames[(key, shown)] = svg
            while len(self._frames) > self._max_frames:
                self._frames.popitem(last=False)
        return svg

    def __len__(self) -> int:
        return len(self._frames)


def loop_order(ready: Sequence[str], start: str) -> list[str]:
    """The ready scenes in loop order, beginning at `start` (or the first ready one after it).

    Example: loop_order(["a", "b", "d"], "c") -> ['d', 'a', 'b']
    """
    keys = [s.key for s in SCENES]
    i = keys.index(start)
    rotated = keys[i:] + keys[:i]
    return [k for k in rotated if k in ready]


def seconds_left(into: float, scene_s: float) -> int:
    """The countdown's whole seconds to the next scene. Example: seconds_left(5.2, 20) -> 15"""
    return max(0, math.ceil(scene_s - into - 1e-9))


def progress_share(into: float, scene_s: float) -> float:
    """How far through the scene the countdown bar is, in [0, 1]."""
    return float(np.clip(into / scene_s, 0.0, 1.0))
