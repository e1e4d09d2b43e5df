"""The one tick algorithm of every chart: round values 1, 2 or 5 times a power of ten, on a linear axis evenly
spaced (`nice_ticks`), on a log axis the values themselves (`log_ticks`, decades only when three or more fit).

Example:
    >>> nice_ticks(0, 0.594), log_ticks(1, 60), log_ticks(1, 300)
    ([0.0, 0.2, 0.4], [1.0, 2.0, 5.0, 10.0, 20.0, 50.0], [1.0, 10.0, 100.0])
"""
from __future__ import annotations

import math
from collections.abc import Iterable

MANTISSAS = (1, 2, 5)


def nice_ticks(lo: float, hi: float, most: int = 5) -> list[float]:
    """Evenly spaced round ticks inside [lo, hi], 1, 2 or 5 times a power of ten apart: at most `most` + 1 of them,
    and at least two whenever hi > lo (a finer step is taken if the round one would leave fewer).

    Example: nice_ticks(0, 0.594) -> [0.0, 0.2, 0.4]
    """
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / most
    base = 10 ** math.floor(math.log10(raw))
    steps = [f * base for f in (10, 5, 2, 1, 0.5, 0.2, 0.1)]  # coarse to fine
    ticks: list[float] = []
    for step in steps[next(i for i in range(len(steps) - 1, -1, -1) if steps[i] >= raw):]:
        first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
        ticks = [round(i * step, 12) for i in range(first, last + 1)]
        if len(ticks) >= 2:
            break
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    """The round values inside [lo, hi] (0 < lo) for a log axis: 1, 2 and 5 times each power of ten, or only the
    powers of ten when three or more of them fit (more would crowd the axis).

    Example: log_ticks(1, 60) -> [1.0, 2.0, 5.0, 10.0, 20.0, 50.0]; log_ticks(1, 300) -> [1.0, 10.0, 100.0]
    """
    if not 0 < lo <= hi:
        return []
    exps = range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
    values = [float(f"{f * 10.0 ** e:.12g}") for e in exps for f in MANTISSAS]
    inside = [t for t in values if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
    decades = [t for t in inside if f"{t:e}".startswith("1")]
    return decades if len(decades) >= 3 else inside


def log_ticks_around(values: Iterable[float]) -> list[float]:
    """`log_ticks` for a log axis that holds these values (plotly's own minor labels read as bare digits): the
    range a little wider than theirs, or three times wider when that gives fewer than two ticks.

    Example: log_ticks_around([0.012, 0.3]) -> [0.02, 0.05, 0.1, 0.2]
    """
    v = [x for x in values if x > 0 and math.isfinite(x)]
    if not v:
        return [1.0]
    ticks = log_ticks(min(v) / 1.05, max(v) * 1.05)
    return ticks if len(ticks) >= 2 else log_ticks(min(v) / 3, max(v) * 3)
