"""Poster Fig 1 and the first-hit statistics: the feature regime on online batches of 6d, eta = m = 20,
and, per d and seed, the first step at which the test error reaches a threshold.

The poster's claim: zero test error after about ceil(ln d) steps (measured with an independent prototype,
five seeds each: d = 25 -> 4 4 4 4 4, 100 -> 5 5 6 5 6, 200 -> 6 6 6 6 6, 400 -> 6 7 6 6 6, 800 -> 7 6 7 7 7,
1600 -> 7 7 8 7 7).

The seeds share each step's fresh batch (`Config.shared`) and differ in their initial weights: the forward
pass and the gradient of all seeds are then one (R m, d) @ (d, B) matmul each instead of R thin (m = 20)
ones, which MKL runs at about twice the rate, and the data drawn per step is R times smaller. (Until
2026-12, every seed drew its own batches; the first zero-error steps are the same within a step, see the
README's Performance section.)
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pandas as pd

from sharp.engine.config import Config, preset
from sharp.engine.sweep import MAX_SECONDS, Progress, sweep


def figure1_configs(ds: Sequence[int], seeds: int = 10, steps: int = 12, seed: int = 0, m: int = 20,
                    eta: float = 20.0, n_test: int = 4000, shared: bool = True) -> list[Config]:
    """Poster Fig 1: feature regime, online batches of 6d shared by the seeds, eta = m = 20, every step logged.

    Example:
        >>> [c.n for c in figure1_configs([25, 50])]
        [150, 300]
    """
    return [preset("feature", d=d, n=6 * d, online=True, shared=shared, m=m, eta=eta, steps=steps, every=1,
                   seeds=seeds, seed=seed, n_test=n_test) for d in ds]


def figure1(ds: Sequence[int], progress: Callable[[str], None] | None = None, *,
            on_progress: Progress | None = None, cancel: Callable[[], bool] | None = None,
            use_cache: bool = True, max_seconds: float | None = MAX_SECONDS, **kw) -> pd.DataFrame:
    """Poster Fig 1 as a tidy DataFrame (columns include d, seed, step, test_error, distance).

    Example:
        >>> figure1([25, 50], seeds=3).groupby("d").test_error.min()
    """
    return sweep(figure1_configs(ds, **kw), progress=progress, on_progress=on_progress, cancel=cancel,
                 use_cache=use_cache, max_seconds=max_seconds)


def first_hits(df: pd.DataFrame, by: Sequence[str] = ("d",), threshold: float = 0.0) -> pd.DataFrame:
    """Per group and seed: the first logged step with test error <= threshold, or censored at the last step.

    Returns:
        Columns *by, seed, step (first hit, or the run's last step when never reached), reached (bool).
    Example:
        >>> first_hits(figure1([25], seeds=3)).step.tolist()
        [4.0, 4.0, 4.0]
    """
    keys = [*by, "seed"]
    hit = df[df.test_error <= threshold].groupby(keys).step.min()
    last = df.groupby(keys).step.max()
    out = pd.DataFrame({"step": last.astype(float), "reached": False})
    out.loc[hit.index, "step"] = hit.astype(float)
    out.loc[hit.index, "reached"] = True
    return out.reset_index()


def zero_step_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per d: ceil(ln d) beside each seed's first zero-test-error step (nan if never within the run)."""
    hits = first_hits(df)
    rows = []
    for d, g in hits.groupby("d"):
        firsts = g.step.where(g.reached)
        rows.append({"d": int(d), "ceil(ln d)": math.ceil(math.log(d)),
                     "median first zero-error step": firsts.median(),
                     "per seed": " ".join("-" if math.isnan(f) else str(int(f)) for f in firsts)})
    return pd.DataFrame(rows)
