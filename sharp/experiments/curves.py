"""A metric over logged steps as the pages draw it: the mean over seeds and the min-max band over seeds.

The live page, the kiosk and the neuron-trajectory charts all draw these; the drawing is ui's, the numbers are
here. Diverged seeds (nan) are left out of both.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sharp.engine.snapshot import Snapshot


@dataclass(frozen=True)
class Curve:
    """One run's metric over logged steps: the mean over seeds and a min-max band over seeds."""

    name: str  # the run it belongs to: "kernel", "feature", ... (the figures colour and label it by this)
    step: np.ndarray  # (T,)
    mean: np.ndarray  # (T,)
    lo: np.ndarray  # (T,)
    hi: np.ndarray  # (T,)


def curve(name: str, snaps: Sequence[Snapshot], metric: str) -> Curve:
    """Mean and band of `metric` ("test_error", "distance", ...) over seeds. Diverged seeds (nan) are left out.

    Example: curve("kernel", run.history["kernel"], "test_error").mean[-1]
    """
    per_seed = np.array([getattr(s, f"{metric}_seeds") for s in snaps], dtype=float).reshape(len(snaps), -1)
    finite = np.isfinite(per_seed).any(1)  # (T,): a step where every seed diverged has no band to draw
    safe = np.where(np.isfinite(per_seed), per_seed, 0.0)
    n = np.isfinite(per_seed).sum(1).clip(min=1)
    mean = np.where(finite, safe.sum(1) / n, np.nan)
    lo = np.where(finite, np.where(np.isfinite(per_seed), per_seed, np.inf).min(1, initial=np.inf), np.nan)
    hi = np.where(finite, np.where(np.isfinite(per_seed), per_seed, -np.inf).max(1, initial=-np.inf), np.nan)
    return Curve(name, np.array([s.step for s in snaps], dtype=float), mean, lo, hi)
