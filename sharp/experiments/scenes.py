"""The booth's kiosk scenes: what each one runs, what it says, and the clock that plays them in a loop.

A kiosk replays finished runs: each scene's runs are trained once per server (`sharp.serve.scene_store`) or read
from the disk store of `sharp.engine.sweep`, and the screen shows a growing prefix of them chosen by the clock
alone (`position`, `revealed`), so an attract loop left running for hours costs the server almost nothing. Each
scene's headline and caption are worded from what its runs measured and from the configurations it ran.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sharp.engine.config import Config
from sharp.engine.metrics import first_hit
from sharp.engine.sweep import sweep
from sharp.experiments import race
from sharp.experiments.claims import QUOTES
from sharp.experiments.curves import Curve
from sharp.experiments.fig1 import figure1_configs, hit_summary

REVEAL = 0.7  # a scene's runs grow over this share of its time, then hold still for the takeaway
FRAMES = 12  # distinct drawings per scene (the reveal is quantized, so the frame cache stays small)
ETAS = (1.0, 5.0, 20.0)  # scene (b): the feature network's step size, small to the paper's eta = m
FIG1_DS = (25, 50, 100, 200, 400, 800)  # scene (c): poster Fig 1, the same runs as the Fig 1 page's default


@dataclass(frozen=True)
class Options:
    """The loop's timing, from the kiosk's link (sharp.experiments.pages.PAGES["kiosk"])."""

    scene_s: float = 20.0  # seconds per scene
    idle_s: float = 120.0  # seconds without interaction on the normal page before it returns to the loop
    start: str = "a"  # the scene the loop starts at


@dataclass(frozen=True)
class Scene:
    """One scene of the loop: what it runs, what it says, and where a visitor who touches the screen lands."""

    key: str  # "a".."d": the URL's start=
    kind: str  # "race" (kernel against feature), "eta" (feature at several step sizes) or "fig1"
    title: str  # a few words, for the strip of scene names
    lead: str  # the headline's first words, no numbers: `headline` adds what the scene's runs measured
    settings: race.Settings  # the live page's settings for this scene (the click and the QR code open them)
    paper: str  # what the paper says of it: a key of claims.QUOTES, or "" when the scene is this app's own


DEEP = dataclasses.replace(race.preset_settings("Deep (L = 3)"), seeds=2)  # 2 seeds: L = 3 at m = 256 is heavy
SCENES: tuple[Scene, ...] = (
    Scene("a", "race", "The race", "Same data, two networks", race.DEFAULTS, "motivation"),
    Scene("b", "eta", "The step size", "One network, three step sizes",
          dataclasses.replace(race.DEFAULTS, steps=30, feature_eta=1.0), "large_steps"),
    Scene("c", "fig1", "Steps against d", "Poster Fig 1", race.preset_settings("Poster Fig 1 setting"),
          "abstract_xor_short"),
    Scene("d", "race", "Deeper nets", "Deeper nets, same data", DEEP, ""),
)
BY_KEY = {s.key: s for s in SCENES}


# ---- the scenes' runs -------------------------------------------------------------------------------------
def configs(scene: Scene) -> list[Config]:
    """The runs a scene replays, in the order of its series."""
    s = scene.settings
    if scene.kind == "race":
        return list(race.build_configs(s).values())
    if scene.kind == "eta":
        return [race.build_configs(dataclasses.replace(s, feature_eta=eta))["feature"] for eta in ETAS]
    return figure1_configs(list(FIG1_DS), seeds=5, steps=12, m=20, eta=20.0)


def names(scene: Scene) -> list[str]:
    """The scene's series, in run order: a regime, a step size or a d each.

    Example: names(SCENES[1]) -> ['eta1', 'eta5', 'eta20']
    """
    if scene.kind == "race":
        return ["kernel", "feature"]
    if scene.kind == "eta":
        return [f"eta{eta:g}" for eta in ETAS]
    return [f"d{d}" for d in FIG1_DS]


@dataclass(frozen=True)
class SceneData:
    """A scene's finished runs: per series, its test-error and distance curves over the logged steps."""

    scene: Scene
    error: dict[str, Curve]
    distance: dict[str, Curve]
    steps: int  # the runs' last step (the x axis)
    first_zero: dict[str, FirstZero]  # fig1 only: per series, when its seeds first reached zero test error


@dataclass(frozen=True)
class FirstZero:
    """Fig 1 scene: one d's first zero-test-error steps over its seeds (`sharp.experiments.fig1.hit_summary`)."""

    median: float  # the censored median: inf when half or more seeds never reached zero within the run
    text: str  # the median as the screen says it: "5", "5.5" or "> 12"
    reached: int  # seeds that reached zero test error
    seeds: int
    horizon: int  # the run's last step


def from_frame(scene: Scene, frame: pd.DataFrame) -> SceneData:
    """Curves from the tidy frame of `sharp.engine.sweep.sweep` (a column `run` numbers the scene's runs).

    Race and step-size scenes draw the mean over seeds, Fig 1 the median (as the poster and the Fig 1 page).
    """
    keys = names(scene)
    center = "median" if scene.kind == "fig1" else "mean"
    err, dist, zero = {}, {}, {}
    for i, name in enumerate(keys):
        g = frame[frame.run == i]
        for metric, out in (("test_error", err), ("distance", dist)):
            by = g.groupby("step")[metric]
            c, lo, hi = by.agg(center), by.min(), by.max()
            out[name] = Curve(name, c.index.to_numpy(float), c.to_numpy(float), lo.to_numpy(float),
                                      hi.to_numpy(float))
        if scene.kind == "fig1":
            h = hit_summary(g).iloc[0]
            zero[name] = FirstZero(float(h["median"]), h.median_text, int(h.reached), int(h.seeds), int(h.horizon))
    return SceneData(scene, err, dist, int(frame.step.max()), zero)


def scene_data(scene: Scene, **sweep_kw: Any) -> SceneData:
    """Train a scene's runs to the end (or read them from the disk store) and keep their curves.

    sweep_kw (on_progress, cancel) goes to sharp.engine.sweep.sweep: the pool runs it in slices."""
    return from_frame(scene, sweep(configs(scene), max_seconds=None, **sweep_kw))


def total(data: SceneData) -> int:
    """How many items a scene reveals: logged steps, or (Fig 1) curves."""
    if data.scene.kind == "fig1":
        return len(data.error)
    return max(len(c.step) for c in data.error.values())


# ---- what the scene says: its headline from its finished runs, its caption from its configurations ----------
STALL = 0.02  # a curve whose mean test error moves less than this over the run's second half, and
HIGH = 0.1  # ends above this, "stalls"; one that ends lower simply "ends at" its value


def err_text(x: float) -> str:
    """A test error for a headline: two significant digits. Example: err_text(0.0163) -> '0.016'"""
    return "diverged" if not math.isfinite(x) else f"{x:.2g}"


def fate(c: Curve) -> str:
    """How a mean test-error curve ends, worded from its numbers: reaches zero (at its first zero step), stalls
    (ends above HIGH, having moved less than STALL over the second half of the run) or ends at its last value.

    Example: fate(Curve("f", [0, 10, 20], [0.5, 0.1, 0.0], ...)) -> 'reaches zero test error at step 20'
    """
    mean, step = np.asarray(c.mean, float), np.asarray(c.step, float)
    last = float(mean[-1])
    if last == 0:  # every seed at zero: from the first step where they all were (the one definition)
        return f"reaches zero test error at step {first_hit(step, mean):g}"
    tail = mean[step >= step[-1] / 2]
    if last > HIGH and np.all(np.isfinite(tail)) and float(tail.max() - tail.min()) < STALL:
        return f"stalls at test error {err_text(last)}"
    return f"ends at test error {err_text(last)}"


def headline(data: SceneData) -> str:
    """The one line read from two metres away: the scene's lead, then what its finished runs measured.

    Race scenes: how each regime's mean test error ends (`fate`). Step sizes: per eta the final distance from
    init and test error, with "the larger the step, the farther" only when the distances do grow with eta.
    Fig 1: every seed at zero test error (then the median first steps at the smallest and largest d), or how
    many seeds got there for each d that fell short.
    Example: headline(data) -> 'Same data, two networks: the kernel regime stalls at test error 0.28, feature
    learning reaches zero test error at step 140'
    """
    scene = data.scene
    keys = names(scene)
    if scene.kind == "race":
        return (f"{scene.lead}: the kernel regime {fate(data.error['kernel'])}, "
                f"feature learning {fate(data.error['feature'])}")
    if scene.kind == "eta":
        dist = [float(data.distance[n].mean[-1]) for n in keys]
        err = [float(data.error[n].mean[-1]) for n in keys]
        farther = all(b > a for a, b in zip(dist, dist[1:]))
        better = all(b < a for a, b in zip(err, err[1:]))
        claim = ("the larger the step, the farther the network moves from its start"
                 + (" and the lower its test error" if better else "")) if farther else "distance and test error"
        return (f"{scene.lead}: {claim}. η = {', '.join(f'{e:g}' for e in ETAS)}: distance "
                f"{', '.join(f'{v:.2g}' for v in dist)}; test error {', '.join(err_text(v) for v in err)}")
    zs = [(d, data.first_zero[n]) for n, d in zip(keys, FIG1_DS)]
    horizon = max(z.horizon for _, z in zs)
    short = [(d, z) for d, z in zs if z.reached < z.seeds]
    if not short:
        (d0, z0), (d1, z1) = zs[0], zs[-1]
        return (f"{scene.lead}: every seed reaches zero test error within {horizon} steps, d = {d0} to {d1}; "
                f"median {z0.text} steps at d = {d0}, {z1.text} at d = {d1} "
                f"(⌈ln d⌉ = {math.ceil(math.log(d0))}, {math.ceil(math.log(d1))})")
    full = [d for d, z in zs if z.reached == z.seeds]
    return (f"{scene.lead}: not every seed reaches zero test error within {horizon} steps: "
            + "; ".join(f"{z.reached} of {z.seeds} seeds at d = {d}" for d, z in short)
            + (f"; every seed at d = {', '.join(map(str, full))}" if full else ""))


def caption(scene: Scene) -> str:
    """What the chart shows, in a smaller line, read off the configurations the scene runs (`configs`).

    Example: caption(SCENES[0]) -> 'y = x₁·x₂ hidden in d = 50 random ±1 inputs, 300 training samples; test
    error on 1000 new points; kernel regime m = 512, η = 1; feature learning m = 20, η = 20; mean of 4 seeds'
    """
    cfgs = configs(scene)
    c = cfgs[0]
    target = "y = x₁·x₂" if c.k == 2 else f"y = x₁⋯x{c.k} (parity)"
    if scene.kind == "fig1":
        return (f"Poster Fig 1: {target}, a fresh batch of {c.n // c.d}d samples per step, m = {c.m}, η = {c.eta:g}; "
                f"dashed: ⌈ln d⌉; median of {c.seeds} seeds, test error on {c.n_test} new points")
    data = (f"{target} hidden in d = {c.d} random ±1 inputs, {c.n} training samples; "
            f"test error on {c.n_test} new points")
    act = {"relu": "ReLU", "gelu": "GELU"}.get(c.activation, c.activation)
    net = f"depth L = {c.depth}, {act}; " if c.depth > 1 else ""
    if scene.kind == "eta":
        return (f"{data}; feature-learning network m = {c.m}, {net}{c.steps} steps at η = "
                f"{', '.join(f'{x.eta:g}' for x in cfgs)}; mean of {c.seeds} seeds")
    k, f = cfgs[0], cfgs[1]
    return (f"{data}; {net}kernel regime m = {k.m}, η = {k.eta:g}; feature learning m = {f.m}, η = {f.eta:g}; "
            f"mean of {c.seeds} seeds")


def paper_line(scene: Scene) -> str:
    """What the paper says of the scene, quoted with its source, or that the scene is this app's own.

    Example: paper_line(SCENES[2]) -> 'The paper: “mini-batch SGD ... ⌈log(d)⌉ iterations” (arXiv 2410.10024v2, ...)'
    """
    if not scene.paper:
        return ("The paper's result for deep nets is a kernel-regime bound on the test loss (poster Table 1); this "
                "scene is this app's own experiment.")
    q = QUOTES[scene.paper]
    return f"The paper: “{q.text}” ({q.source})"


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
