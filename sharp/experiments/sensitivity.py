"""How much poster Fig 1 depends on the reconstruction: the first zero-test-error step against d under the
readings of the paper's setup that a researcher would try (sharp.experiments.claims says which choices the
paper leaves open).

Readings, all at poster Fig 1's eta = m = 20, c = 1/m, quadratic activation, on the same 4000 test points:
- "online": the app's default: each step draws a fresh batch of 6d samples, W0 ~ N(0, 1/d);
- "fixed": one fixed training set of n = 6d per seed, full-batch gradient descent;
- "minibatch": the same fixed set, mini-batches of `MINIBATCH_PER_D` * d samples drawn from it every step;
- "raw-init": online batches of 6d, W0 with N(0, 1) entries on the raw {-1,+1}^d inputs.
A seed that never reaches zero within the step budget counts as censored (sharp.experiments.fig1.hit_summary).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from sharp.engine.config import Config, preset
from sharp.experiments.fig1 import hit_summary

MINIBATCH_PER_D = 2  # mini-batches of 2d samples from the fixed set of 6d: one pass over it every 3 steps
# (batches of d diverge at eta = 20 within 20 steps at d = 25 and 100, 3 seeds each; 2d and 3d do not)
READINGS: dict[str, str] = {  # name -> what it is, in words (the page's legend and table)
    "online": "online batches of 6d, W0 ~ N(0, 1/d) (the app's default)",
    "fixed": "one fixed set of n = 6d, full batch",
    "minibatch": f"one fixed set of n = 6d, mini-batches of {MINIBATCH_PER_D if MINIBATCH_PER_D > 1 else ''}d",
    "raw-init": "online batches of 6d, W0 ~ N(0, 1) on raw inputs",
}
TOLERANCE = 1  # a reading reproduces ceil(ln d) when its median first zero-error step is within this many steps


def reading_config(reading: str, d: int, seeds: int = 3, steps: int = 24, m: int = 20, seed: int = 0,
                   n_test: int = 4000) -> Config:
    """The run of one reading at dimension d (eta = m, c = 1/m, every step logged).

    Example:
        >>> reading_config("minibatch", 100).batch_size
        100
    """
    common = dict(d=d, n=6 * d, m=m, eta=float(m), steps=steps, every=1, seeds=seeds, seed=seed, n_test=n_test)
    if reading == "online":
        return preset("feature", online=True, shared=True, **common)
    if reading == "fixed":
        return preset("feature", **common)
    if reading == "minibatch":
        return preset("feature", batch=MINIBATCH_PER_D * d, **common)
    if reading == "raw-init":
        return preset("feature", online=True, shared=True, init_var="1", **common)
    raise ValueError(f"reading={reading!r} is not allowed: one of {', '.join(READINGS)}")


def sensitivity_configs(ds: Sequence[int], readings: Sequence[str] = tuple(READINGS),
                        **kw: Any) -> list[tuple[dict, Config]]:
    """(labels, Config) for every reading and d, labelled with a column `reading`."""
    return [({"reading": r}, reading_config(r, d, **kw)) for r in readings for d in ds]


def sensitivity(ds: Sequence[int], readings: Sequence[str] = tuple(READINGS), sweep_kw: dict | None = None,
                **kw: Any) -> pd.DataFrame:
    """The tidy frame of every reading's runs (sharp.engine.sweep), with a column `reading`."""
    from sharp.experiments.paper import _run

    return _run(sensitivity_configs(ds, readings, **kw), **(sweep_kw or {}))


def sensitivity_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per reading and d: the censored median first zero-error step beside ceil(ln d).

    Returns:
        Columns reading, d, ceil_ln_d, median (inf when half or more seeds never got there), median_text,
        reached, seeds, horizon, per_seed ("4 5 -"), final_error (median over seeds of the last logged test
        error; a diverged seed counts as error 1), diverged (seeds whose run blew up), in READINGS order.
    """
    s = hit_summary(df, by=("reading", "d"))
    last = df[df.step == df.groupby(["reading", "d", "seed"]).step.transform("max")]
    last = last.assign(err=last.test_error.where(~last.diverged & last.test_error.notna(), 1.0))
    end = last.groupby(["reading", "d"]).agg(final_error=("err", "median"), diverged=("diverged", "sum"))
    s = s.merge(end.reset_index(), on=["reading", "d"])
    s["ceil_ln_d"] = [math.ceil(math.log(d)) for d in s.d]
    s["order"] = [list(READINGS).index(r) if r in READINGS else len(READINGS) for r in s.reading]
    s = s.sort_values(["order", "d"]).drop(columns="order").reset_index(drop=True)
    return s[["reading", "d", "ceil_ln_d", "median", "median_text", "reached", "seeds", "horizon", "per_seed",
              "final_error", "diverged"]]


def reproduces(rows: pd.DataFrame, tolerance: int = TOLERANCE) -> tuple[bool, str]:
    """Whether one reading's rows reproduce ceil(ln d): at every d its median first zero-error step is known and
    within `tolerance` steps of ceil(ln d). Returns (verdict, the reason in words, naming the first d that fails).

    Example:
        >>> reproduces(sensitivity_table(df).query("reading == 'online'"))
        (True, 'median within 1 step of ceil(ln d) at every d')
    """
    for d, med, text, c, horizon, err in zip(rows.d, rows["median"], rows.median_text, rows.ceil_ln_d, rows.horizon,
                                             rows.final_error):
        if not math.isfinite(med):
            return False, (f"half or more seeds never reach zero within {horizon} steps at d = {d}, "
                           f"median test error {err:.3g} at the end")
        if abs(med - c) > tolerance:
            return False, f"median {text} at d = {d}, where ceil(ln d) = {c}"
    return True, f"median within {tolerance} step{'s' * (tolerance != 1)} of ceil(ln d) at every d"


def sensitivity_sentence(table: pd.DataFrame, tolerance: int = TOLERANCE) -> str:
    """Which readings reproduce ceil(ln d) and which do not, every word computed from `table`.

    Example:
        >>> sensitivity_sentence(sensitivity_table(df))
        'Reproduces ceil(ln d) (median first zero-error step within 1 step of it at every d = 25, 50, 100): ...'
    """
    if not len(table):
        return "No reading measured."
    yes, no = [], []
    for reading, rows in table.groupby("reading", sort=False):
        ok, why = reproduces(rows, tolerance)
        name = READINGS.get(reading, reading)
        (yes if ok else no).append(name if ok else f"{name} ({why})")
    ds = ", ".join(str(int(d)) for d in sorted(table.d.unique()))
    within = f"within {tolerance} step{'s' * (tolerance != 1)}"
    parts = []
    if yes:
        parts.append(f"Reproduces ceil(ln d) (median first zero-error step {within} of it at every d = {ds}): "
                     + "; ".join(yes) + ".")
    if no:
        parts.append("Does not: " + "; ".join(no) + ".")
    return " ".join(parts)
