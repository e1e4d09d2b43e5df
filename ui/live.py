"""The live page's controller, testable without a browser: settings <-> URL, the compared runs, history, export.

A `Settings` is what a visitor can set on the page; `parse_query` turns URL parameters into one (each bad
value is reported and replaced by its default), `to_query` writes it back, and `settle` keeps a session's
settings its visitor's own. `LiveRun` owns the lockstep generator of the compared runs and the snapshots so
far; one LiveRun serves every visitor with the same settings (the server's workers advance it, see
sharp/serve/scheduler.py), and each visitor's `Watch` says which `Frame` of it they see.
"""
from __future__ import annotations

import dataclasses
import io
import json
import logging
import math
import time
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import sharp
from sharp.engine import store
from sharp.engine.config import ACTIVATIONS, Config
from ui import figures, params

REGIMES = ("kernel", "feature")  # the two columns, in page order
OVERLAY = "linearized"  # the optional third run: the kernel network's linearization around W0
N_TEST = 1000  # test points; evaluated at every logged step, so kept modest for a live page
LOG_POINTS = 150  # about this many logged points per run, whatever the number of steps


@dataclass(frozen=True)
class Settings:
    d: int = 50  # input dimension
    n: int = 300  # training-set size (online: fresh samples per step); 6d
    online: bool = False  # fresh batch each step instead of a fixed training set
    depth: int = 1  # hidden layers
    steps: int = 300
    seeds: int = 4
    k: int = 2  # parity order (2 = XOR)
    activation: str = "quadratic"
    kernel_m: int = 512
    kernel_eta: float = 1.0
    feature_m: int = 20
    feature_eta: float = 20.0
    overlay: bool = False  # train the linearized (NTK) network next to the kernel run
    seed: int = 0  # base seed; Reset draws the next one
    log_x: bool = False  # a view setting: logarithmic step axis (changing it does not restart the run)

    def run_part(self) -> Settings:
        """These settings without the view-only ones: two settings with the same run part share a run."""
        return dataclasses.replace(self, log_x=False)


# The page's allowed range per setting (tighter than Config's where a live page must stay responsive):
# (lo, hi) for numbers, a tuple of choices for text, None for booleans.
RANGES: dict[str, Any] = {
    "d": (4, 400), "n": (10, 5000), "online": None, "depth": (1, 4), "steps": (1, 2000), "seeds": (1, 8),
    "k": (1, 6), "activation": ACTIVATIONS, "kernel_m": (2, 2048), "kernel_eta": (1e-3, 1e5),
    "feature_m": (2, 512), "feature_eta": (1e-3, 1e5), "overlay": None, "seed": (0, 2**31 - 1),
    "log_x": None,
}
DEFAULTS = Settings()

PRESETS: dict[str, dict[str, Any]] = {
    "Kernel vs feature (default)": {},
    # Poster Fig 1: online batches of 6d, eta = m = 20; zero test error after about ceil(ln d) steps.
    "Poster Fig 1 setting": dict(d=100, n=600, online=True, steps=15, kernel_m=512, kernel_eta=1.0),
    # Quadratic activation diverges beyond one hidden layer at eta = m; ReLU learns at L = 3.
    "Deep (L = 3)": dict(depth=3, activation="relu", kernel_m=256, steps=300),
}


def preset_settings(name: str, seed: int = 0) -> Settings:
    """The settings of a named preset (defaults plus its overrides). Example: preset_settings("Deep (L = 3)").depth"""
    return dataclasses.replace(DEFAULTS, seed=seed, **PRESETS[name])


def _param(name: str) -> params.Param:
    rng, kind = RANGES[name], _kind(name)
    if kind is bool:
        return params.Bool()
    if kind is str:
        return params.Choice(rng)
    return params.Int(*rng, even=name.endswith("_m")) if kind is int else params.Float(*rng)


def _kind(name: str) -> type:
    return type(getattr(DEFAULTS, name))


SPEC = {name: _param(name) for name in RANGES}  # what each URL parameter accepts (ui.params)


def allowed(name: str) -> str:
    """The allowed range of a setting, in words. Example: allowed("d") -> 'an integer from 4 to 400'"""
    return SPEC[name].describe()


def parse_query(query: Any) -> tuple[Settings, dict[str, str]]:
    """Settings from URL parameters; each invalid value falls back to its default and is reported.

    Args:
        query: `st.query_params`, or parameter name -> text or list of texts (a list takes its last value).
    Returns:
        (settings, problems): problems maps each rejected or repeated parameter to a one-line Markdown message
        naming it and its range (`ui.params.parse`), and `ui.params.UNKNOWN` to a note on the unknown ones.
    Example:
        >>> parse_query({"d": "80", "kernel_m": "abc"})[1]["kernel_m"]
        "URL parameter kernel_m=`'abc'` is not allowed: an even integer from 2 to 2048; using the default 512"
    """
    values, problems = params.parse(query, SPEC, dataclasses.asdict(DEFAULTS))
    s = dataclasses.replace(DEFAULTS, **values)
    if s.k > s.d:  # the only cross-field rule the ranges above cannot express
        problems["k"] = f"URL parameter k={s.k} is not allowed: at most d = {s.d}; using the default {DEFAULTS.k}"
        s = dataclasses.replace(s, k=DEFAULTS.k)
    return s, problems


SPURIOUS = 3  # settings changed by one rerun that cannot be one visitor's gesture (see settle)
_log = logging.getLogger(__name__)


def note_change(state: MutableMapping[str, Any], key: str) -> None:
    """A setting's widget moved (its on_change callback): remember it for `settle` at the start of the run."""
    state.setdefault("live_changes", {})[key] = state[key]


def settle(state: MutableMapping[str, Any], query: Any) -> Settings:
    """The visitor's settings for this script run; call it before any settings widget is drawn.

    The settings live in state["live_settings"], set from the URL at session start and afterwards changed
    only by the visitor: a widget's on_change (`note_change`) or a button. Every run then writes them into
    the widgets' keys, so a widget always shows them and the browser is told its value each run.

    Why not let the widgets hold the settings: under load (6 to 12 sessions on 2 cores) some sessions came out
    of a rerun with every widget at the bottom of its range, the default a Streamlit widget takes when it is
    registered without a stored value, and the page then wrote those into the URL and ran them. A widget that
    loses its value no longer changes anything here: only callbacks do. And since a visitor's gesture moves
    one widget (a quick visitor perhaps two before the rerun), SPURIOUS or more widgets changing in one
    rerun is not a gesture: those changes are dropped and logged.

    Returns:
        The settings now in force (also in state["live_settings"]).
    """
    if "live_settings" not in state:
        state["live_settings"], state["live_problems"] = parse_query(query)
    changes = state.pop("live_changes", None) or {}
    s = state["live_settings"]
    if len(changes) >= SPURIOUS:
        _log.warning("ignored %d settings changed in one rerun (not a visitor's gesture): %s", len(changes), changes)
    elif changes:
        s = state["live_settings"] = dataclasses.replace(s, **changes)
    for key in RANGES:
        state[key] = getattr(s, key)
    return s


def to_query(s: Settings) -> dict[str, str]:
    """URL parameters for settings (every field, so a link reproduces the view). Example: to_query(DEFAULTS)["d"]"""
    return {k: params.to_text(v) for k, v in dataclasses.asdict(s).items()}


def every(steps: int) -> int:
    """Logging interval giving about LOG_POINTS points per run. Example: every(300) -> 2"""
    return max(1, math.ceil(steps / LOG_POINTS))


def build_configs(s: Settings) -> dict[str, Config]:
    """The compared runs: kernel and feature on the same data, plus the linearized kernel net if asked.

    Raises sharp.ConfigError (naming the setting) for a combination the engine refuses.
    Example: build_configs(DEFAULTS)["kernel"].scale -> 'ntk'
    """
    common = dict(k=s.k, d=s.d, n=s.n, online=s.online, n_test=N_TEST, depth=s.depth, activation=s.activation,
                  steps=s.steps, every=every(s.steps), seeds=s.seeds, seed=s.seed)
    cfgs = {"kernel": sharp.preset("kernel", m=s.kernel_m, eta=s.kernel_eta, **common),
            "feature": sharp.preset("feature", m=s.feature_m, eta=s.feature_eta, **common)}
    if s.overlay:
        cfgs[OVERLAY] = sharp.preset("kernel", m=s.kernel_m, eta=s.kernel_eta, linearized=True, **common)
    return cfgs


# The most work one logged interval may take, in GFLOP: the page advances the runs one logged interval at a
# time, and a heavier one would hold the page for seconds (we measured 20-70 GFLOP/s on 2 shared CPU cores).
MAX_GFLOP = 60.0


def gflop_per_update(s: Settings) -> float:
    """Rough work of one logged interval of all compared runs: SGD steps plus the test-set evaluation.

    Per seed a network has w = d m + (L - 1) m^2 weights; a step costs ~6 w flops per sample (forward and
    backward), an evaluation ~2 w per test point; the linearized overlay measured about four times as slow.
    Example: round(gflop_per_update(DEFAULTS), 2) -> 0.63
    """
    total, every_ = 0.0, every(s.steps)
    runs = [(s.kernel_m, 1.0), (s.feature_m, 1.0)] + ([(s.kernel_m, 4.0)] if s.overlay else [])
    for m, factor in runs:
        w = s.d * m + (s.depth - 1) * m * m
        total += factor * s.seeds * w * (6 * s.n * every_ + 2 * N_TEST)
    return total / 1e9


def too_heavy(s: Settings) -> str | None:
    """A message naming the cost and what to lower when the settings are too heavy for a live page, else None."""
    g = gflop_per_update(s)
    if g <= MAX_GFLOP:
        return None
    return (f"These settings are too heavy for a live page: about {g:.0f} GFLOP between two updates (at most "
            f"{MAX_GFLOP:g}), which would freeze it for many seconds. Lower the width m (kernel_m = {s.kernel_m}), "
            f"n = {s.n}, d = {s.d}, depth = {s.depth} or seeds = {s.seeds}; the command line (python -m sharp) "
            "runs any size.")


@dataclass(eq=False)
class LiveRun:
    """The compared runs of one setting: the lockstep stream and the snapshots so far.

    One LiveRun serves every visitor with the same settings (see `sharp.serve.scheduler`): one worker thread at a time
    advances it, and any thread may read it. `count` is the number of logged steps taken, raised only after
    every run's snapshot of the step is in, so a reader takes `history[name][:count]` and never sees half a row.
    """

    settings: Settings
    configs: dict[str, Config]
    stream: Iterator[dict[str, sharp.Snapshot]] = field(repr=False)
    history: dict[str, list[sharp.Snapshot]] = field(default_factory=dict, repr=False)
    done: bool = False
    count: int = 0  # logged steps taken; every run's snapshots up to here are in history
    stored: bool = True  # read from and written to the disk store of finished runs
    _bytes: int = field(default=0, repr=False)
    _last: dict[str, sharp.Snapshot] = field(default_factory=dict, repr=False)  # the stream's latest, per run

    @classmethod
    def start(cls, s: Settings, stored: bool = True) -> LiveRun:
        """The finished runs from disk if these settings ran before (`sharp.engine.store`), else an unstarted stream.

        Example: LiveRun.start(DEFAULTS).advance(max_snaps=1)
        """
        cfgs = build_configs(s)
        if stored and (history := store.load_history(cfgs)) is not None:
            run = cls(s, cfgs, iter(()), history, done=True, count=max(map(len, history.values())), stored=True)
            run._bytes = sum(snapshot_bytes(x) for snaps in history.values() for x in snaps)
            return run
        return cls(s, cfgs, sharp.lockstep(cfgs), {name: [] for name in cfgs}, stored=stored)

    def advance(self, budget_s: float = 0.15, max_snaps: int | None = None) -> int:
        """Pull snapshots until the time budget is spent, max_snaps were taken, or the runs end.

        Returns:
            The number of logged steps taken.
        """
        t0, taken = time.perf_counter(), 0
        while not self.done and (max_snaps is None or taken < max_snaps):
            latest = next(self.stream, None)
            if latest is None:
                self.done = True
                break
            for name, snap in latest.items():
                if self._last.get(name) is not snap:  # a diverged run repeats its last snapshot
                    self._last[name] = snap
                    kept = compact(snap)
                    self.history[name].append(kept)
                    self._bytes += snapshot_bytes(kept)
            self.count += 1  # after every run's row is in: readers never see half a row
            taken += 1
            if all(s.final for s in latest.values()):
                self.done = True
            if time.perf_counter() - t0 > budget_s:
                break
        if self.done:
            self.close()
            if self.stored and taken:  # kept on disk for the next visitor, after a restart or an eviction
                store.save_history(self.configs, self.history)
        return taken

    def latest(self, name: str) -> sharp.Snapshot | None:
        return self.history[name][-1] if self.history.get(name) else None

    def nbytes(self) -> int:
        """Memory held by the snapshots (the registry's byte budget counts it)."""
        return self._bytes

    def close(self) -> None:
        """Let the stream go (it holds the data and the weights); the history stays."""
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()
        self.stream = iter(())


def compact(snap: sharp.Snapshot) -> sharp.Snapshot:
    """The snapshot with its per-neuron energies as float32 arrays: 4 bytes a neuron instead of a Python float's
    32, so a finished default run keeps about 0.7 MB instead of 5 MB in the server's memory."""
    return dataclasses.replace(snap, neuron_relevant=np.asarray(snap.neuron_relevant, np.float32),
                               neuron_rest=np.asarray(snap.neuron_rest, np.float32))


def snapshot_bytes(snap: sharp.Snapshot) -> int:
    """About how many bytes a snapshot holds: a CPython float in a tuple costs 32 bytes (8 + 24), arrays their data."""
    size = 200
    for v in snap.__dict__.values():
        if isinstance(v, np.ndarray):
            size += 112 + v.nbytes
        elif isinstance(v, tuple):
            size += 56 + 32 * sum(len(t) if isinstance(t, tuple) else 1 for t in v)
        else:
            size += 32
    return size


@dataclass(frozen=True)
class Frame:
    """What one visitor sees of a shared run: its first `shown` logged steps, and whether it is streaming.

    The drawing functions take a Frame (or a LiveRun: both have settings, configs, history and latest()).
    """

    settings: Settings
    configs: dict[str, Config]
    history: dict[str, list[sharp.Snapshot]]
    running: bool  # this visitor is playing and the run has more to show
    done: bool  # the run has finished and everything is shown

    @classmethod
    def of(cls, run: LiveRun, shown: int, playing: bool) -> Frame:
        count = run.count
        shown = max(0, min(shown, count))
        done = run.done and shown >= count
        # Row i of every run is its snapshot i (a diverged run stops adding rows, so it simply has fewer).
        hist = {name: snaps[:shown] for name, snaps in run.history.items()}
        return cls(run.settings, run.configs, hist, playing and not done, done)

    def latest(self, name: str) -> sharp.Snapshot | None:
        return self.history[name][-1] if self.history.get(name) else None


REPLAY_S = 8.0  # a replay of a finished run shows its whole history in about this long


@dataclass
class Watch:
    """One visitor's view of a shared run: how far they have seen, and whether they are playing.

    Pausing is this visitor's alone: their position freezes while the shared run goes on for the others;
    Play jumps back to wherever the run is. A replay walks through a finished run's history again without
    training anything.
    """

    key: Settings  # the run part of the settings watched
    shown: int = 0  # logged steps on this visitor's screen
    playing: bool = True
    replaying: bool = False
    step_to: int | None = None  # Step asked for this many logged steps; shown once the run has them

    def look(self, run: LiveRun, ticks_per_s: float = 8.0) -> Frame:
        """Move this visitor's position along the run (at each redraw) and return what they see."""
        count = run.count
        if self.step_to is not None:
            self.shown = min(self.step_to, count)
            if count >= self.step_to or run.done:
                self.step_to = None
        elif self.replaying:
            stride = max(1, math.ceil(count / (REPLAY_S * ticks_per_s)))
            self.shown = min(count, self.shown + stride)
            if self.shown >= count and run.done:
                self.replaying = False
        elif self.playing:
            self.shown = count
        return Frame.of(run, self.shown, self.playing)

    def catch_up(self, run: LiveRun, shown: int | None) -> None:
        """Take the position the visitor's browser has drawn (`ui.stream.seen`; None: keep this one), and end a
        step or a replay it has reached. The browser streams on its own, so the server's position lags it."""
        if shown is not None:
            self.shown = max(0, min(shown, run.count))
        if self.step_to is not None and (self.shown >= self.step_to or run.done):
            self.step_to = None
        if self.replaying and run.done and self.shown >= run.count:
            self.replaying = False

    def toggle(self, run: LiveRun) -> None:
        """Play/Pause/Replay: pause a playing view, resume a paused one, replay a finished one from the start."""
        if run.done and self.shown >= run.count and not self.replaying:
            self.shown, self.playing, self.replaying = 1, True, True
        else:
            self.playing, self.replaying = not self.playing, False

    def step(self, run: LiveRun) -> None:
        """Show one more logged step, then stay paused (the run computes it if nobody has yet)."""
        self.playing = self.replaying = False
        if not (run.done and self.shown >= run.count):
            self.step_to = self.shown + 1


def wait_first(entry: Any, timeout: float) -> bool:
    """Wait (at most timeout seconds) until a shared run has its first points or has ended; True if it has points.

    A new run's first slice jumps the workers' queue (sharp.serve.scheduler), so this is short unless the server is
    saturated, in which case the page says how many runs are ahead.
    """
    deadline = time.monotonic() + timeout
    while entry.job.count == 0 and not entry.finished and time.monotonic() < deadline:
        time.sleep(0.02)
    return entry.job.count > 0


def column_runs(s: Settings, regime: str) -> list[str]:
    """The runs drawn in a regime's column: itself, plus the linearized overlay on the kernel side."""
    return [regime] + ([OVERLAY] if regime == "kernel" and s.overlay else [])


def column_panels(run: LiveRun) -> dict[str, list[figures.Panel]]:
    """Per regime, its column's test-error and distance panels, with y-ranges shared by both columns.

    The shared ranges come from the runs that did not diverge (a blown-up run would flatten the others);
    the feature side marks step ceil(ln d).
    Example: column_panels(run)["feature"][0].marker -> 4 (d = 50)
    """
    s = run.settings
    err = {n: figures.curve(n, snaps, "test_error") for n, snaps in run.history.items() if snaps}
    dist = {n: figures.curve(n, snaps, "distance") for n, snaps in run.history.items() if snaps}
    sane = [n for n in err if not run.latest(n).diverged] or list(err)
    err_range = figures.shared_range([err[n] for n in sane], at_least=0.55)
    dist_range = figures.shared_range([dist[n] for n in sane], at_least=0.5)
    marker, out = math.ceil(math.log(s.d)), {}
    for regime in REGIMES:
        names = [n for n in column_runs(s, regime) if n in err]
        out[regime] = [figures.Panel([err[n] for n in names], "Test error", err_range,
                                     marker if regime == "feature" else None, f"⌈ln d⌉ = {marker}"),
                       figures.Panel([dist[n] for n in names], "Distance from init  ‖W − W₀‖ / ‖W₀‖", dist_range)]
    return out


def curve_charts(run: LiveRun, log_x: bool = False, hover: bool = False) -> dict[str, str]:
    """Per regime, its column's panels (`column_panels`) as an SVG chart; `hover` adds per-step tooltips.

    Example: curve_charts(run)["feature"].startswith("<svg")
    """
    return {regime: figures.curves_svg(panels, x_max=run.settings.steps, log_x=log_x, chart=f"curves-{regime}",
                                       hover=hover)
            for regime, panels in column_panels(run).items()}


def tidy(history: Mapping[str, list[sharp.Snapshot]]) -> pd.DataFrame:
    """One row per (regime, seed, logged step) with every per-seed metric.

    Example: tidy(run.history).columns[:3] -> ['regime', 'seed', 'step']
    """
    rows = []
    for regime, snaps in history.items():
        for s in snaps:
            for r in range(len(s.test_error_seeds)):
                rows.append(dict(regime=regime, seed=r, step=s.step, samples=s.samples,
                                 test_error=s.test_error_seeds[r], test_loss=s.test_loss_seeds[r],
                                 train_loss=s.train_loss_seeds[r], distance=s.distance_seeds[r],
                                 feature_share=s.feature_share_seeds[r], diverged=r in s.diverged_seeds))
    cols = ["regime", "seed", "step", "samples", "test_error", "test_loss", "train_loss", "distance",
            "feature_share", "diverged"]
    return pd.DataFrame(rows, columns=cols)


def curves_csv(history: Mapping[str, list[sharp.Snapshot]]) -> str:
    """The tidy curves as CSV text."""
    buf = io.StringIO()
    tidy(history).to_csv(buf, index=False)
    return buf.getvalue()


def config_json(run: LiveRun) -> str:
    """The page settings, the URL query and each run's full Config as JSON text."""
    return json.dumps({"settings": dataclasses.asdict(run.settings), "query": to_query(run.settings),
                       "runs": {name: c.to_dict() for name, c in run.configs.items()}}, indent=2)


def summary(run: LiveRun) -> dict[str, dict[str, float]]:
    """Latest step, mean test error and distance per run (what the big metrics show)."""
    return {name: dict(step=s.step, test_error=s.test_error, distance=s.distance, diverged=s.diverged)
            for name in run.history if (s := run.latest(name)) is not None}
