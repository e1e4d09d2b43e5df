"""Poster Fig 1 and the first-hit statistics: the feature regime on online batches of 6d, eta = m = 20,
and, per d and seed, the first step at which the test error reaches a threshold.

The poster's claim: zero test error after about ceil(ln d) steps (measured with an independent prototype,
five seeds each: d = 25 -> 4 4 4 4 4, 100 -> 5 5 6 5 6, 200 -> 6 6 6 6 6, 400 -> 6 7 6 6 6, 800 -> 7 6 7 7 7,
1600 -> 7 7 8 7 7).

The seeds share each step's fresh batch (`Config.shared`) and differ in their initial weights: the forward
pass and the gradient of all seeds are then one (R m, d) @ (d, B) matmul each instead of R thin (m = 20)
ones, which MKL runs much faster, and the data drawn per step is R times smaller. The first zero-error steps
are the same, within a step, as with a batch of its own per seed (docs/performance.md).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pandas as pd

from sharp.engine.config import Config, preset
from sharp.engine.metrics import first_hit
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
        Columns *by, seed, step (first hit, or the run's last step when never reached), reached (bool),
        last (the run's last logged step: the horizon a seed that did not reach the target is censored at).
    Example:
        >>> first_hits(figure1([25], seeds=3)).step.tolist()
        [4.0, 4.0, 4.0]
    """
    keys = [*by, "seed"]
    rows = []
    for key, g in df.sort_values("step").groupby(keys):
        first, last = first_hit(g.step, g.test_error, threshold), int(g.step.max())  # the one definition
        rows.append((*(key if isinstance(key, tuple) else (key,)), last if math.isnan(first) else first,
                     not math.isnan(first), last))
    out = pd.DataFrame(rows, columns=[*keys, "step", "reached", "last"])
    return out.astype({"step": float, "reached": bool, "last": int})


def censored_median(steps: Sequence[float], reached: Sequence[bool], horizon: float) -> tuple[float, str]:
    """The median first-hit step over every seed, a seed that never reached the target counted as censored.

    A censored seed's first hit is unknown but later than `horizon` (the run's last step), so it sorts after
    every seed that did reach it. The median is known when fewer than half the seeds are censored; when half
    or more are, all one can say is that it is later than the horizon. The seeds that never reached it are
    never dropped: 1 of 5 seeds at step 4 gives "> 12", not 4.

    Args:
        steps: per seed, its first-hit step (read only where `reached`).
        reached: per seed, whether it reached the target within the run.
        horizon: the run's last step.
    Returns:
        (value, text): the median and its text ("5", "7.5"); (inf, "> 12") when half or more never reached
        it; (nan, "no seeds") for no seeds.
    Example:
        >>> censored_median([4, 5, 6, 12, 12], [True, True, True, False, False], 12)
        (6.0, '6')
        >>> censored_median([4, 5, 12, 12], [True, True, False, False], 12)
        (inf, '> 12')
    """
    values = sorted(float(s) if r else math.inf for s, r in zip(steps, reached, strict=True))
    n = len(values)
    if n == 0:
        return math.nan, "no seeds"
    mid = values[(n - 1) // 2: n // 2 + 1]  # the middle one, or the middle two
    if math.isinf(mid[-1]):
        return math.inf, f"> {horizon:g}"
    value = sum(mid) / len(mid)
    return value, f"{value:g}"


def hit_summary(df: pd.DataFrame, by: Sequence[str] = ("d",), threshold: float = 0.0) -> pd.DataFrame:
    """Per group: the censored median first-hit step (`censored_median`) and how many seeds got there.

    Returns:
        Columns *by, median (inf when half or more seeds never got there), median_text ("6", "> 12"),
        reached (seeds that got there), seeds, horizon (the run's last step), lo and hi (the fastest and
        slowest seed, a censored seed counted at the horizon), per_seed ("4 5 -": - for never).
    Example:
        >>> hit_summary(figure1([25], seeds=3)).median_text.item()
        '4'
    """
    hits = first_hits(df, by, threshold)
    rows = []
    for key, g in hits.groupby(list(by)) if by else [((), hits)]:
        horizon = int(g["last"].max())
        value, text = censored_median(g.step, g.reached, horizon)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "median": value, "median_text": text, "reached": int(g.reached.sum()),
                     "seeds": len(g), "horizon": horizon, "lo": float(g.step.min()), "hi": float(g.step.max()),
                     "per_seed": " ".join(str(int(s)) if r else "-" for s, r in zip(g.step, g.reached))})
    return pd.DataFrame(rows)


def reach_text(reached: int, seeds: int, horizon: int, target: str = "zero test error") -> str:
    """How many seeds got there, in words. Example: reach_text(3, 5, 12) -> '3 of 5 seeds reached zero test
    error within 12 steps'"""
    who = f"all {seeds} seeds" if reached == seeds and seeds > 1 else f"{reached} of {seeds} seed{'s' * (seeds > 1)}"
    return f"{who} reached {target} within {horizon} steps"


def zero_step_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per d: ceil(ln d) beside the censored median first zero-test-error step and each seed's (- = never).

    Example:
        >>> zero_step_table(figure1([25], seeds=3)).iloc[0].tolist()
        [25, 4, '4', '3 of 3', '4 4 4']
    """
    s = hit_summary(df)
    return pd.DataFrame({"d": s.d.astype(int), "ceil(ln d)": [math.ceil(math.log(d)) for d in s.d],
                         "median first zero-error step": s.median_text,
                         "seeds at zero": [f"{r} of {n}" for r, n in zip(s.reached, s.seeds)],
                         "per seed": s.per_seed})


def zero_step_verdict(df: pd.DataFrame) -> tuple[bool, str]:
    """The Fig 1 page's banner: success only when every seed of every d reached zero test error.

    Returns:
        (True, the median first zero-error step minus ceil(ln d) per d) when every seed got there; otherwise
        (False, how many seeds did for each d that fell short).
    Example:
        >>> zero_step_verdict(figure1([25], seeds=3))[1]
        'Every seed reached zero test error within 12 steps. Median first zero-error step minus ceil(ln d), ...'
    """
    s = hit_summary(df)
    short = s[s.reached < s.seeds]
    if not len(short):
        within = " or ".join(dict.fromkeys(str(h) for h in s.horizon))
        gaps = ", ".join(f"{m - math.ceil(math.log(d)):+g} (d = {d})" for d, m in zip(s.d, s["median"]))
        return True, (f"Every seed reached zero test error within {within} steps. Median first zero-error step "
                      f"minus ceil(ln d), per d: {gaps}.")
    parts = [f"at d = {d}, {reach_text(r, n, h)} (median {t})"
             for d, r, n, h, t in zip(short.d, short.reached, short.seeds, short.horizon, short.median_text)]
    return False, "Not every seed reached zero test error: " + "; ".join(parts) + ". More iterations would tell."
