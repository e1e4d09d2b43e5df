"""The regime map: where does the kernel regime end? Final test error and distance from initialization over a
grid of width m and step size eta, at fixed d and n = 6d, for the mean-field (1/m) and NTK (1/sqrt(m)) scales.

A grid of configurations handed to `sharp.engine.sweep.sweep` (cached run by run) and a pure summary of its tidy frame.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sharp.engine.config import PRESETS, Config
from sharp.engine.sweep import sweep


@dataclass(frozen=True)
class MapSettings:
    """One regime map. The defaults keep its compute short enough for a page to wait for (docs/science.md,
    Regime map)."""

    d: int = 30  # input dimension; the training set is a fixed set of n = 6d samples
    ms: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)  # widths, log-spaced (even)
    etas: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # step sizes, log-spaced
    scales: tuple[str, ...] = ("mf", "ntk")  # output scales: 1/m (mean field) and 1/sqrt(m) (NTK)
    steps: int = 200  # full-batch SGD steps; only the start and the end are logged
    seeds: int = 2
    n_test: int = 1000
    seed: int = 0


def configs(s: MapSettings) -> list[Config]:
    """Every (scale, m, eta) of the map, full batch on the same n = 6d samples (same seeds, same test set).

    Example:
        >>> len(configs(MapSettings(ms=(16, 32), etas=(1.0,), scales=("mf",))))
        2
    """
    return [Config(scale=scale, m=m, eta=float(eta), d=s.d, n=6 * s.d, steps=s.steps, every=s.steps,
                   seeds=s.seeds, seed=s.seed, n_test=s.n_test)
            for scale in s.scales for eta in s.etas for m in s.ms]


def regime_map(s: MapSettings, **sweep_kw: Any) -> pd.DataFrame:
    """The tidy sweep frame of the map (columns include scale, m, eta, seed, step, test_error, distance)."""
    return sweep(configs(s), **sweep_kw)


def table(df: pd.DataFrame) -> pd.DataFrame:
    """Per (scale, m, eta): the final test error and distance, means over the seeds that did not diverge, and
    `diverged`, the share of seeds that did (their numbers are nan in the frame)."""
    last = df[df.step == df.groupby(["run", "seed"]).step.transform("max")]
    last = last.assign(diverged=last.test_error.isna().astype(float))
    return last.groupby(["scale", "m", "eta"], as_index=False)[["test_error", "distance", "diverged"]].mean()


def grid_of(t: pd.DataFrame, scale: str, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ms, etas, values (len(etas), len(ms))) of one scale's metric, nan where every seed diverged."""
    g = t[t.scale == scale].pivot(index="eta", columns="m", values=metric).sort_index().sort_index(axis=1)
    return g.columns.to_numpy(float), g.index.to_numpy(float), g.to_numpy(float)


def boundary(ms: np.ndarray, etas: np.ndarray, dist: np.ndarray, level: float = 1.0) -> list[tuple[float, float]]:
    """Per width, the step size at which the distance from init first crosses `level` going up in eta,
    interpolated on log-log axes; widths that never cross are left out.

    Example:
        >>> boundary(np.array([16.0]), np.array([1.0, 10.0]), np.array([[0.1], [10.0]]))
        [(16.0, 3.1622776601683795)]
    """
    out = []
    for j, m in enumerate(ms):
        col = dist[:, j]
        for i in range(len(etas) - 1):
            a, b = col[i], col[i + 1]
            if np.isfinite(a) and np.isfinite(b) and a < level <= b:
                w = (math.log(level) - math.log(a)) / (math.log(b) - math.log(a))
                out.append((float(m), float(math.exp((1 - w) * math.log(etas[i]) + w * math.log(etas[i + 1])))))
                break
    return out


def presets() -> dict[str, tuple[str, int, float]]:
    """The two regimes' presets as (scale, m, eta), to mark on the map."""
    return {name: (p["scale"], p["m"], p["eta"]) for name, p in PRESETS.items()}


def nearest(values: Sequence[float], x: float) -> float:
    """The grid value closest to x on a log scale. Example: nearest([16, 32], 20) -> 16"""
    return float(min(values, key=lambda v: abs(math.log(v) - math.log(x))))
