"""Sample complexity, measured: the smallest training-set size n* at which each seed reaches zero test error.

For one regime and dimension d, a probe trains every seed (one batched ensemble) on its own fixed training set
of n samples, full batch, for at most a stated step budget, and asks per seed: is the test error exactly 0 at
some logged step within the budget (on the stated test set)? The search over n doubles from n0 until every seed
has succeeded or n_max is reached, then bisects each seed's bracket (failed at lo, succeeded at hi) until
hi - lo <= rel_tol * hi; every probe trains all seeds together, and a probe settles each seed whose bracket
contains its n. n* is the seed's hi. A seed that never succeeds up to n_max is censored at n_max, never dropped.

Seed r's training set at size n is the first n rows of its stream (sharp.engine.data.signs), so sets grow by
appending: success is close to monotone in n, but not guaranteed; n* is where this search found the edge.
A probe stops training as soon as every seed has reached zero, and its snapshots are kept in the disk store
(sharp.engine.store), so a restarted server reads a finished search back instead of training again.
"""
from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sharp.engine import store
from sharp.engine.config import Config, ConfigError, preset
from sharp.engine.sweep import Cancelled, Progress, seconds
from sharp.engine.train import first_zero_step, train
from sharp.experiments.fit import fit_slope


@dataclass(frozen=True)
class Budget:
    """What a probe of one regime trains and how it is judged."""

    steps: int  # full-batch gradient steps at most
    every: int  # test error checked every this many steps
    n_max_factor: float  # n_max = factor * d^power: the largest n tried
    power: int  # 1 (feature learning: n ~ d expected) or 2 (kernel regime: n ~ d^2)
    label: str  # the regime in words


REGIMES: dict[str, Budget] = {
    "feature": Budget(100, 1, 256, 1, "feature learning (c = 1/m, m = 20, eta = 20)"),
    "kernel": Budget(400, 5, 16, 2, "kernel regime (c = 1/sqrt(m), m = 512, eta = 1)"),
    "linearized": Budget(400, 5, 16, 2, "linearized network (exact kernel regime, m = 512, eta = 1)"),
}
KERNEL_M = 512
N_TEST = 2000  # the stated test set: 2000 fresh points, the same for every seed, n and regime
REL_TOL = 0.1  # bisection stops when the bracket is within 10% of n*
PROBE = "first-zero-probe"  # the name of a probe's entry in the store (a run that may stop early)


def probe_config(regime: str, d: int, n: int, seeds: int = 3, seed: int = 0, n_test: int = N_TEST) -> Config:
    """The run behind one probe: the regime's preset on a fixed set of n, full batch, the regime's budget.

    Example:
        >>> probe_config("kernel", 16, 512).m
        512
    """
    if regime not in REGIMES:
        raise ConfigError("regime", regime, "one of " + ", ".join(REGIMES))
    b = REGIMES[regime]
    common = dict(d=d, n=n, steps=b.steps, every=b.every, seeds=seeds, seed=seed, n_test=n_test)
    if regime == "feature":
        return preset("feature", **common)
    return preset("kernel", m=KERNEL_M, linearized=regime == "linearized", **common)


def n_max(regime: str, d: int) -> int:
    """The largest n the search tries for this regime and d."""
    b = REGIMES[regime]
    return int(b.n_max_factor * d ** b.power)


def first_zero(cfg: Config, cancel: Callable[[], bool] = lambda: False, use_cache: bool = True) -> list[float]:
    """Per seed, the first logged step with test error exactly 0 (nan if none within the budget).

    Training stops as soon as every seed got there. Read from the store when this probe ran before.
    Raises sharp.engine.sweep.Cancelled (with an empty frame) when cancel() turns True.
    """
    stored = store.load_history({PROBE: cfg}) if use_cache else None
    snaps = stored[PROBE] if stored else None
    if snaps is None:
        snaps = []
        for s in train(cfg):
            snaps.append(s)
            if not any(math.isnan(z) for z in first_zero_step(snaps)):  # every seed got there
                break
            if cancel():
                raise Cancelled(pd.DataFrame())
        if use_cache:
            store.save_history({PROBE: cfg}, {PROBE: snaps})
    return first_zero_step(snaps)


@dataclass(frozen=True)
class SeedResult:
    """One seed's outcome of the search."""

    n_star: int  # the smallest n found to succeed (its bracket's hi), or the largest n tried when censored
    censored: bool  # never succeeded up to n_max
    lo: int  # the largest n found to fail below n_star (0 when the first n tried succeeded)


def search(reach: Callable[[int], Sequence[bool]], seeds: int, n0: int, n_hi: int,
           rel_tol: float = REL_TOL) -> tuple[list[SeedResult], list[int]]:
    """Doubling then bisection for every seed's smallest succeeding n, all seeds probed together.

    Args:
        reach: n -> per seed, whether it succeeds with n samples (one batched probe).
        seeds: how many seeds reach returns.
        n0: the first n tried (>= 1); then 2 n0, 4 n0, ... and n_hi itself as the last.
        n_hi: the largest n tried.
        rel_tol: bisection stops when hi - lo <= max(1, rel_tol * hi).
    Returns:
        (per seed SeedResult, the n probed in order). Each n is probed at most once.
    Example:
        >>> res, probed = search(lambda n: [n >= 100, n >= 300], 2, 16, 1024)
        >>> [r.n_star for r in res], [r.censored for r in res]
        ([100, 300], [False, False])
    """
    if not 1 <= n0 <= n_hi:
        raise ValueError(f"need 1 <= n0 <= n_hi, got n0={n0}, n_hi={n_hi}")
    seen: dict[int, list[bool]] = {}

    def probe(n: int) -> list[bool]:
        if n not in seen:
            seen[n] = [bool(v) for v in reach(n)]
        return seen[n]

    lo, hi = [0] * seeds, [None] * seeds
    n = n0
    while True:
        ok = probe(n)
        for r in range(seeds):
            if hi[r] is None:
                if ok[r]:
                    hi[r] = n
                else:
                    lo[r] = n
        if all(h is not None for h in hi) or n >= n_hi:
            break
        n = min(2 * n, n_hi)
    while True:
        open_ = [r for r in range(seeds) if hi[r] is not None and hi[r] - lo[r] > max(1, rel_tol * hi[r])]
        if not open_:
            break
        r = max(open_, key=lambda r: (hi[r] - lo[r]) / hi[r])  # the widest bracket, relative to its n
        n = (lo[r] + hi[r]) // 2
        ok = probe(n)
        for s in open_:
            if lo[s] < n < hi[s]:
                if ok[s]:
                    hi[s] = n
                else:
                    lo[s] = n
    tried = max(seen)
    results = [SeedResult(h if h is not None else tried, h is None, lo[r]) for r, h in enumerate(hi)]
    return results, list(seen)


def sample_complexity(regime: str, ds: Sequence[int], seeds: int = 3, seed: int = 0, n_test: int = N_TEST,
                      rel_tol: float = REL_TOL, progress: Callable[[str], None] | None = None, *,
                      on_progress: Progress | None = None, cancel: Callable[[], bool] | None = None,
                      use_cache: bool = True) -> pd.DataFrame:
    """n* per d and seed for one regime.

    Returns:
        One row per (d, seed): regime, d, seed, n_star, censored, lo, n_max, n0, steps (the budget), every,
        n_test, probes (how many n were tried for this d), seconds (wall clock for this d, 0 when read back).
    Example:
        >>> sample_complexity("feature", [16, 32], seeds=3).n_star.tolist()
    """
    cancel = cancel or (lambda: False)
    for d in ds:  # every setting is checked before anything is computed
        probe_config(regime, d, n_max(regime, d), seeds, seed, n_test)
    weights = [seconds(probe_config(regime, d, max(1, n_max(regime, d) // 8), seeds, seed, n_test)) for d in ds]
    total, done, rows = float(sum(weights)), 0.0, []
    for i, d in enumerate(ds):
        label = f"[{i + 1}/{len(ds)}] {regime} d={d}"
        t0 = time.perf_counter()
        probes = itertools.count(1)

        def reach(n: int, d: int = d, label: str = label, base: float = done, w: float = weights[i],
                  probes: Iterator[int] = probes) -> list[bool]:
            k = next(probes)
            if on_progress:  # within one d, each probe is a step closer (about 10 probes per d)
                on_progress(base + w * min(0.9, k / 10), total, f"{label} n={n}")
            first = first_zero(probe_config(regime, d, n, seeds, seed, n_test), cancel, use_cache)
            return [not math.isnan(f) for f in first]

        results, probed = search(reach, seeds, d, n_max(regime, d), rel_tol)
        elapsed = time.perf_counter() - t0
        b = REGIMES[regime]
        rows += [{"regime": regime, "d": d, "seed": r, "n_star": res.n_star, "censored": res.censored, "lo": res.lo,
                  "n_max": n_max(regime, d), "n0": d, "steps": b.steps, "every": b.every, "n_test": n_test,
                  "probes": len(probed), "seconds": round(elapsed, 2)} for r, res in enumerate(results)]
        done += weights[i]
        if on_progress:
            on_progress(done, total, f"{label} done")
        if progress:
            progress(f"{label} done: n* = {' '.join(str(r.n_star) + ('+' if r.censored else '') for r in results)}"
                     f" ({len(probed)} probes, {elapsed:.1f} s)")
    return pd.DataFrame(rows)


def sample_complexities(regimes: Sequence[str], ds: dict[str, Sequence[int]] | Sequence[int], seeds: int = 3,
                        progress: Callable[[str], None] | None = None, *, on_progress: Progress | None = None,
                        cancel: Callable[[], bool] | None = None, use_cache: bool = True,
                        **kw) -> pd.DataFrame:
    """`sample_complexity` for several regimes (ds: one list for all, or a list per regime), stacked.

    Progress runs over all regimes in turn (each regime's share by its estimated work).
    """
    per = {r: list(ds[r] if isinstance(ds, dict) else ds) for r in regimes}
    weights = {r: sum(seconds(probe_config(r, d, max(1, n_max(r, d) // 8), seeds)) for d in per[r]) for r in regimes}
    total, done, frames = sum(weights.values()) or 1.0, 0.0, []
    for r in regimes:
        scale = weights[r] / total

        def inner(x: float, tot: float, msg: str, base: float = done, scale: float = scale) -> None:
            if on_progress:
                on_progress(base + scale * x / max(tot, 1e-12), 1.0, msg)

        frames.append(sample_complexity(r, per[r], seeds, progress=progress, on_progress=inner, cancel=cancel,
                                        use_cache=use_cache, **kw))
        done += scale
    return pd.concat(frames, ignore_index=True)


def estimate_seconds(regime: str, d: int, seeds: int = 3) -> float:
    """A rough upper bound on one d's search here: ten probes at about the expected n*, each run to the budget
    (sharp.engine.sweep.seconds); probes that stop early make it faster (feature learning: about 5x)."""
    guess = 12 * d if REGIMES[regime].power == 1 else d * d
    return 10 * seconds(probe_config(regime, d, min(guess, n_max(regime, d)), seeds))


def check_cost(ds: dict[str, Sequence[int]], seeds: int, max_seconds: float) -> None:
    """Raise sharp.engine.sweep.TooBig naming the largest d when the estimated work exceeds max_seconds."""
    from sharp.engine.sweep import TooBig

    cost = {(r, d): estimate_seconds(r, d, seeds) for r, dd in ds.items() for d in dd}
    total = sum(cost.values())
    if total > max_seconds:
        (r, d), worst = max(cost.items(), key=lambda kv: kv[1])
        raise TooBig(f"this search needs up to about {total / 60:.0f} min here, above the {max_seconds / 60:.0f} min "
                     f"cap. Narrow it: the largest part is {r} at d = {d} (about {worst / 60:.0f} min); or run "
                     f"python -m sharp samples --regime {r} --d {d} --out n.csv")


# --- the summary: slopes against d and what they say ---

def median_nstar(df: pd.DataFrame) -> pd.DataFrame:
    """Per regime and d: the censored median n* over seeds (inf when half or more seeds are censored), its text,
    and the seeds' range (a censored seed counted at n_max).

    Columns: regime, d, median, median_text, lo, hi, censored, seeds, n_max.
    """
    from sharp.experiments.fig1 import censored_median

    rows = []
    for (regime, d), g in df.groupby(["regime", "d"], sort=False):
        value, text = censored_median(g.n_star, ~g.censored.astype(bool), int(g.n_max.max()))
        rows.append({"regime": regime, "d": int(d), "median": value, "median_text": text,
                     "lo": int(g.n_star.min()), "hi": int(g.n_star.max()), "censored": int(g.censored.sum()),
                     "seeds": len(g), "n_max": int(g.n_max.max())})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Slopes:
    """Fitted log-log slopes of n* against d for one regime."""

    regime: str
    ds: tuple[int, ...]  # the d whose median n* is known (the fit's points)
    slope: float  # of the median n* against d; n*/d has slope - 1, n*/d^2 slope - 2 (nan: < 2 points)
    seed_lo: float  # the smallest and largest per-seed slope (over seeds with n* known at every d of the fit)
    seed_hi: float
    seeds_fitted: int  # seeds in that spread
    censored_seeds: int  # seeds censored at some d (left out of the spread; their slope is only a lower bound)


def fit_slopes(df: pd.DataFrame, regime: str) -> Slopes:
    """The median's slope and the per-seed spread for one regime (see `Slopes`)."""
    g, med = df[df.regime == regime], median_nstar(df[df.regime == regime])
    known = med[np.isfinite(med["median"])]
    ds = tuple(int(d) for d in known.d)
    slope = fit_slope(known.d, known["median"]).slope
    per_seed, censored = [], 0
    for _, s in g[g.d.isin(ds)].groupby("seed"):
        if s.censored.any():
            censored += 1
        elif len(s) >= 2:
            per_seed.append(fit_slope(s.d, s.n_star).slope)
    lo, hi = (min(per_seed), max(per_seed)) if per_seed else (math.nan, math.nan)
    return Slopes(regime, ds, slope, lo, hi, len(per_seed), censored)


def model_slopes(ds: Sequence[int]) -> dict[str, float]:
    """The log-log slope each growth law has over these d: d -> 1, d log d -> 1 + about 1/ln(d), d^2 -> 2."""
    ds = sorted(ds)
    return {"linear (n ~ d)": 1.0, "d log d": fit_slope(ds, [d * math.log(d) for d in ds]).slope,
            "quadratic (n ~ d^2)": 2.0}


def slope_text(x: float) -> str:
    """A slope to two decimals, never "-0.00". Example: slope_text(-1e-17) == "0.00" """
    text = f"{x:.2f}"
    return "0.00" if text == "-0.00" else text


def growth_verdict(s: Slopes, rel_tol: float = REL_TOL, laws: dict[str, float] | None = None,
                   what: str = "n*") -> str:
    """Which growth law the slopes allow: the laws whose slope lies within the seeds' spread of slopes, widened by
    the measurement's resolution (a factor 1 + rel_tol in the measured value at either end of the d range).

    Args:
        s: the fitted slopes (`fit_slopes`).
        rel_tol: the measured value's relative resolution (the search's for n*; 1/step for a first-hit step).
        laws: law -> its log-log slope over s.ds (default `model_slopes`: linear, d log d, quadratic).
        what: the measured value's name, for the messages.
    Example:
        >>> growth_verdict(Slopes("feature", (16, 512), 1.02, 0.98, 1.06, 3, 0))
        'linear (n ~ d)'
    """
    if len(s.ds) < 2 or not math.isfinite(s.slope):
        return f"cannot tell ({what} known at fewer than two d)"
    if s.seeds_fitted < 2:
        return f"cannot tell (fewer than two seeds with {what} known at every d)"
    slack = 2 * math.log1p(rel_tol) / math.log(max(s.ds) / min(s.ds))
    return laws_verdict(s.seed_lo - slack, s.seed_hi + slack, s.slope, model_slopes(s.ds) if laws is None else laws)


def laws_verdict(lo: float, hi: float, slope: float, laws: dict[str, float]) -> str:
    """The growth laws whose log-log slope lies in [lo, hi], in words: the one law, "cannot tell a from b", or
    "none of ..." with the measured slope.

    Example:
        >>> laws_verdict(0.9, 2.1, 1.5, {"n ~ d": 1.0, "n ~ d^2": 2.0})
        'cannot tell n ~ d from n ~ d^2'
    """
    fits = [name for name, b in laws.items() if lo <= b <= hi]
    if len(fits) == 1:
        return fits[0]
    if not fits:
        names = list(laws)
        return f"none of {', '.join(names[:-1])} or {names[-1]} (slope {slope:.2f})"
    return "cannot tell " + " from ".join(fits)


def slopes_sentence(df: pd.DataFrame, rel_tol: float = REL_TOL) -> str:
    """Per regime, the fitted slopes of n*/d and n*/d^2 against d, their spread over seeds and the verdict;
    every number computed from `df`.

    Example:
        >>> slopes_sentence(sample_complexity("feature", [16, 32, 64]))
        '**feature learning ...**: n*/d slope 0.05 (seeds 0.01 to 0.09), n*/d^2 slope -0.95 ...: linear (n ~ d).'
    """
    parts = []
    for regime in [r for r in REGIMES if r in set(df.regime)]:
        s = fit_slopes(df, regime)
        name = REGIMES[regime].label
        if not math.isfinite(s.slope):
            parts.append(f"**{name}**: {growth_verdict(s, rel_tol)}.")
            continue
        t = slope_text
        spread = f" (seeds {t(s.seed_lo - 1)} to {t(s.seed_hi - 1)})" if s.seeds_fitted >= 2 else ""
        spread2 = f" (seeds {t(s.seed_lo - 2)} to {t(s.seed_hi - 2)})" if s.seeds_fitted >= 2 else ""
        n_cen = s.censored_seeds
        left = f"; {n_cen} seed{'s' * (n_cen != 1)} censored at some d" if n_cen else ""
        parts.append(f"**{name}**, d = {', '.join(map(str, s.ds))}: n*/d slope {t(s.slope - 1)}{spread}, "
                     f"n*/d^2 slope {t(s.slope - 2)}{spread2}{left}: **{growth_verdict(s, rel_tol)}**.")
    return " ".join(parts) if parts else "Nothing measured."
