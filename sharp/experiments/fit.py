"""The one fit of a power law y ~ c x^slope: a least-squares line through (log x, log y).

Every slope a page, a headline or a table states (iterations, sample complexity, deep nets' loss against n, the
digits' gap, the regime map's edge) is this fit, and every fitted line a figure draws is its `at`.

Example:
    >>> fit_slope([1, 2, 4], [8, 4, 2]).slope
    -1.0
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


class Fit(NamedTuple):
    slope: float  # of log y against log x (nan: fewer than two distinct x)
    intercept: float  # log c

    def at(self, x: Sequence[float] | np.ndarray) -> np.ndarray:
        """The fitted line's y at x. Example: fit_slope([1, 2], [4, 2]).at([4]) -> array([1.])"""
        return np.exp(self.intercept) * np.asarray(x, float) ** self.slope


def fit_slope(x: Sequence[float], y: Sequence[float]) -> Fit:
    """Least-squares line through (log x, log y); nan slope and intercept with fewer than two distinct x.

    Args:
        x, y: positive values, the same number of each.
    Returns:
        Fit(slope, intercept). Example: fit_slope([1, 2], [4, 2]).slope == -1.0
    """
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    if len(np.unique(lx)) < 2:
        return Fit(math.nan, math.nan)
    slope, intercept = np.polyfit(lx, ly, 1)
    return Fit(float(slope), float(intercept))
