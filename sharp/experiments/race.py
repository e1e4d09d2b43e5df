"""The live page's race: the kernel regime against feature learning on the same data, as a visitor sets it up.

A `Settings` is what a visitor can set; `SPEC` says what each setting accepts (Config's field, narrowed where a
live page must stay responsive); `parse_query` turns URL parameters into Settings (each bad value is reported and
replaced by its default) and `to_query` writes them back. `build_configs` gives the compared runs, and `too_heavy`
refuses settings whose every update would hold a live page for seconds. `tidy` and `curves_csv` export a run's curves.
"""
from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

import sharp
from sharp.engine.config import Config
from sharp.engine.sweep import tidy as sweep_tidy
from sharp.experiments import params

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


# What each URL parameter accepts (sharp.experiments.params): a Config field's own Param, narrowed where a live
# page must stay responsive; overlay and log_x are the page's own switches.
F = params.field
SPEC: dict[str, params.Param] = {
    "d": F("d", 4, 400), "n": F("n", 10, 5000), "online": F("online"), "depth": F("depth", 1, 4),
    "steps": F("steps", 1, 2000), "seeds": F("seeds", 1, 8), "k": F("k", 1, 6), "activation": F("activation"),
    "kernel_m": F("kernel_m", 2, 2048, of="m"), "kernel_eta": F("kernel_eta", 1e-3, 1e5, of="eta"),
    "feature_m": F("feature_m", 2, 512, of="m"), "feature_eta": F("feature_eta", 1e-3, 1e5, of="eta"),
    "overlay": params.Bool(), "seed": F("seed"), "log_x": params.Bool(),
}
# The same ranges for the page's widgets: (lo, hi) for numbers, the choices for text, None for booleans.
RANGES: dict[str, Any] = {name: p.choices or (None if p.kind is bool else p.bounds) for name, p in SPEC.items()}
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


def allowed(name: str) -> str:
    """The allowed range of a setting, in words. Example: allowed("d") -> 'an integer from 4 to 400'"""
    return SPEC[name].describe()


def parse_query(query: Any) -> tuple[Settings, dict[str, str]]:
    """Settings from URL parameters; each invalid value falls back to its default and is reported.

    Args:
        query: `st.query_params`, or parameter name -> text or list of texts (a list takes its last value).
    Returns:
        (settings, problems): problems maps each rejected or repeated parameter to a one-line Markdown message
        naming it and its range (`params.parse`), and `params.UNKNOWN` to a note on the unknown ones.
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
# time, and a heavier one would hold the page for seconds on a small shared server.
MAX_GFLOP = 60.0


def gflop_per_update(s: Settings) -> float:
    """Rough work of one logged interval of all compared runs: SGD steps plus the test-set evaluation.

    Per seed a network has w = d m + (L - 1) m^2 weights; a step costs ~6 w flops per sample (forward and
    backward), an evaluation ~2 w per test point; the linearized overlay costs about four times as much.
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


def column_runs(s: Settings, regime: str) -> list[str]:
    """The runs drawn in a regime's column: itself, plus the linearized overlay on the kernel side."""
    return [regime] + ([OVERLAY] if regime == "kernel" and s.overlay else [])


def tidy(history: Mapping[str, list[sharp.Snapshot]], configs: Mapping[str, Config]) -> pd.DataFrame:
    """The compared runs in the one tidy schema (`sharp.engine.sweep.tidy`, a sweep's): one row per (regime, seed,
    logged step) with the run's configuration and every per-seed metric, the regime first.

    Example: tidy(run.history, run.configs).columns[0] -> 'regime'
    """
    frames = [sweep_tidy(configs[regime], snaps).assign(regime=regime) for regime, snaps in history.items()]
    df = pd.concat(frames, ignore_index=True)
    return df[["regime", *(c for c in df.columns if c != "regime")]]


def curves_csv(history: Mapping[str, list[sharp.Snapshot]], configs: Mapping[str, Config]) -> str:
    """The tidy curves as CSV text."""
    buf = io.StringIO()
    tidy(history, configs).to_csv(buf, index=False)
    return buf.getvalue()
