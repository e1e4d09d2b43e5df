"""The pages' measured sentences: each one worded from the frame or table its page draws, and saying what the
measurement can and cannot tell apart. The numbers come from `sharp.experiments.paper` (and its neighbours); the
paper's own statements are `sharp.experiments.claims`. Plain strings, no Streamlit: the tests check them on small
synthetic frames.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sharp.engine.snapshot import Snapshot
from sharp.experiments import paper
from sharp.experiments.complexity import Slopes, fit_slopes, growth_verdict, laws_verdict, slope_text
from sharp.experiments.curves import curve
from sharp.experiments.fig1 import first_hits
from sharp.experiments.fit import fit_slope
from sharp.experiments.trajectory import Trajectory

# --- Iterations vs d ---

def iteration_laws(ds: Sequence[int]) -> dict[str, float]:
    """The log-log slope of each growth law of the iteration count over these d: ln d (feature learning's log(d),
    natural log), d (the kernel row's d^2 samples at 6d fresh samples a step) and d^2 (its d^2 iterations).

    Example: iteration_laws([25, 200])["ln d"] -> 0.2358...
    """
    ds = sorted(ds)
    return {"ln d": fit_slope(ds, np.log(ds)).slope, "d": 1.0, "d^2": 2.0}


def growth_slopes(df: pd.DataFrame, regime: str, threshold: float = 0.0) -> Slopes:
    """The log-log slope of the first step with test error <= threshold against d for one regime: of the median
    over seeds (over the d whose censored median is known) and each seed's own (seeds that got there at every
    such d). A hit at step 0 (before any training) has no logarithm and
    is left out.

    Example: growth_slopes(iterations([25, 50, 100]), "feature").slope -> 0.39...
    """
    hits = first_hits(df[df.regime == regime], ("regime", "d"), threshold)
    hits = hits[hits.step > 0]
    frame = hits.rename(columns={"step": "n_star", "last": "n_max"}).assign(censored=~hits.reached.astype(bool))
    return fit_slopes(frame, regime)


def growth_sentence(df: pd.DataFrame, threshold: float = 0.0) -> str:
    """The Iterations page's measured growth, every number from the visitor's frame: per regime the fitted log-log
    slope of the median first step against d, the seeds' own slopes, and which growth law (`iteration_laws`) they
    allow (`sharp.experiments.complexity.growth_verdict`, widened by one step: a first hit is known to a step).

    Example (the page's defaults):
        >>> growth_sentence(ITERATIONS.run())
        '**Measured growth** (...): feature learning, d = 25, 50, 100, 200: slope 0.25 (seeds ...): **ln d**; ...'
    """
    ds = sorted(int(d) for d in df.d.unique())
    if len(ds) < 2:
        return (f"**Measured growth**: only d = {ds[0]} is selected; pick at least two d to fit how the "
                "iterations grow with d.") if ds else "**Measured growth**: no d selected."
    summary = paper.iteration_summary(df, threshold)
    parts = []
    for regime in [r for r in ("feature", "kernel") if r in set(df.regime)]:
        name = "feature learning" if regime == "feature" else "kernel regime"
        s = growth_slopes(df, regime, threshold)
        rows = summary[summary.regime == regime]
        unknown = rows[~np.isfinite(rows["median"])]
        at = ", ".join(f"{int(d)} (> {int(c)} steps)" for d, c in zip(unknown.d, unknown.cap))
        never = f" (its median is unknown at d = {at}: half or more seeds never got there)" if len(unknown) else ""
        if not math.isfinite(s.slope):
            parts.append(f"{name}: not measured (fewer than two d with a known median){never}")
            continue
        known = rows[rows.d.isin(s.ds)]
        resolution = 1 / float(known["median"].min())  # a first hit is known to within one step
        spread = f" (seeds {slope_text(s.seed_lo)} to {slope_text(s.seed_hi)})" if s.seeds_fitted >= 2 else ""
        left = (f"; {s.censored_seeds} seed{'s' * (s.censored_seeds != 1)} never got there at some d, left out of "
                "the seeds' slopes" if s.censored_seeds else "")
        verdict = growth_verdict(s, resolution, iteration_laws(s.ds), "the first step")
        parts.append(f"{name}, d = {', '.join(map(str, s.ds))}: slope **{slope_text(s.slope)}**{spread}{left}: "
                     f"**{verdict}**{never}")
    laws = iteration_laws(ds)
    target = "zero test error" if threshold == 0 else f"test error <= {threshold:g}"
    return (f"**Measured growth** of the first step with {target} against d (log-log slope of the median over "
            "seeds; the seeds' "
            "own slopes in brackets): " + "; ".join(parts) + f". The laws' slopes over d = {ds[0]} to {ds[-1]}: "
            f"ln d {laws['ln d']:.2f}; d 1 (the kernel row's d^2 samples at 6d a step); d^2 2 (its d^2 iterations). "
            "A verdict keeps the laws whose slope lies within the seeds' slopes, widened by one step of resolution.")


# --- Sample complexity map ---

SAMPLE_LAWS = {"n ~ d": 1.0, "n ~ d^2": 2.0}  # Table 2's sample column: this paper's d, the kernel row's d^2


def edges_sentence(table: pd.DataFrame, target: float = 0.02) -> str:
    """What the sample map's edges can tell, every number from `table`: per regime the smallest n reaching the
    target at the smallest and largest d where one does, the log-log slope between them, and the range that slope
    can take, since each edge is known only to one step of the n grid (the true edge lies above the n tried before
    it); then which of n ~ d and n ~ d^2 that range allows (`sharp.experiments.complexity.laws_verdict`).

    Args:
        table: `paper.final_table(df, ["regime", "d", "n"])`.
        target: the mean final test error a cell must reach.
    Example (the Samples page's defaults, d = 8, 16, 32):
        >>> edges_sentence(final_table(SAMPLES.run(), ["regime", "d", "n"]))
        'Smallest n with mean test error <= 0.02: feature learning 32 at d = 8 to 256 at d = 32, slope 1.50, ...'
    """
    ns = sorted(int(n) for n in table.n.unique())
    parts = []
    for regime in [r for r in ("feature", "kernel") if r in set(table.regime)]:
        name = "feature learning" if regime == "feature" else "kernel regime"
        t = table[(table.regime == regime) & (table.test_error <= target)]
        edge = t.groupby("d").n.min()
        missing = sorted(int(d) for d in set(table[table.regime == regime].d) - set(edge.index))
        none = f"; no n tried reaches it at d = {', '.join(map(str, missing))}" if missing else ""
        if len(edge) < 2:
            parts.append(f"{name}: an edge at fewer than two d, no slope{none}")
            continue
        (d0, n0), (d1, n1) = (int(edge.index[0]), int(edge.iloc[0])), (int(edge.index[-1]), int(edge.iloc[-1]))
        span = math.log(d1 / d0)
        slope = math.log(n1 / n0) / span
        below = {n: max([m for m in ns if m < n], default=0) for n in (n0, n1)}  # the n tried before each edge
        lo = slope - math.log(n1 / below[n1]) / span if below[n1] else -math.inf
        hi = slope + math.log(n0 / below[n0]) / span if below[n0] else math.inf
        rng = f"{lo:.2f} to {hi:.2f}".replace("-inf", "any value").replace("inf", "any value")
        verdict = laws_verdict(lo - 1e-9, hi + 1e-9, slope, SAMPLE_LAWS)  # an edge on a law's slope counts
        parts.append(f"{name} {n0} at d = {d0} to {n1} at d = {d1}, slope {slope:.2f}, which the n grid pins only "
                     f"to {rng}: **{verdict}**{none}")
    return f"Smallest n with mean test error <= {target:g}: " + "; ".join(parts) + "."


# --- Deep nets in the kernel regime (Table 1) ---

def _by_depth(values: dict[int, float]) -> str:
    """Slopes per depth, signed, never "-0.00". Example: _by_depth({1: -1e-9}) -> 'L = 1: +0.00'"""
    return ", ".join(f"L = {L}: {'+' * (slope_text(v)[0] != '-')}{slope_text(v)}" for L, v in values.items())


def _depths(ls: list[int]) -> str:
    return "L = " + ", ".join(map(str, ls))


def deep_sentences(table: pd.DataFrame) -> list[str]:
    """What the Deep nets page's sweeps show and what they cannot tell apart, every number from `table`.

    Both rows of poster Table 1 are upper bounds with unknown constants: a bound predicts no slope, and a loss that
    falls at least as fast as a bound's shape stays under it once under it. So the sentences place each fitted
    slope against the two shapes (against n: 1/n is -1, Chen et al.'s sqrt(m/n) is -0.5; against m: flat is 0,
    sqrt(m) is +0.5), split the change along the m sweep into training loss and gap, and check the distance from
    init in one plain reading of the kernel-regime condition (`paper.kernel_ball`). The width condition
    Omega(poly(log(n)/gamma)) is not checked: the margin gamma of the task is not computed.

    Args:
        table: `paper.final_table(df, ["axis", "L", "n", "m"])` of `paper.deep`.
    Returns:
        One sentence (Markdown) per finding, in page order: against n, against m, the m sweep's change, the
        distance from init.
    """
    slopes = paper.deep_slopes(table).set_index("L")
    out = []
    on_n = {int(L): float(v) for L, v in slopes["slope vs n"].items() if math.isfinite(v)}
    gn = table[table.axis == "n"]
    if on_n:
        m0 = ", ".join(str(int(m)) for m in sorted(gn.m.unique()))
        steep = [L for L, v in on_n.items() if v <= -1]
        mid = [L for L, v in on_n.items() if -1 < v <= -0.5]
        flat = [L for L, v in on_n.items() if v > -0.5]
        what = []
        if steep:
            what.append(f"at {_depths(steep)} the loss falls at least as fast as both shapes, so a bound of either "
                        "shape that holds at the smallest n holds at every n here: these slopes cannot tell the two "
                        "bounds apart")
        if mid:
            what.append(f"at {_depths(mid)} it falls faster than sqrt(m/n) but slower than 1/n: within Chen et al.'s "
                        "shape, and under a c/n only for a c fitted to the largest n")
        if flat:
            what.append(f"at {_depths(flat)} it falls slower than both shapes")
        out.append(f"**Against n** (width m = {m0}): fitted slopes {_by_depth(on_n)}. At a fixed width the new "
                   "bound's shape 1/n has slope -1 and Chen et al.'s sqrt(m/n) slope -0.5; " + "; ".join(what) + ".")
    on_m = {int(L): float(v) for L, v in slopes["slope vs m"].items() if math.isfinite(v)}
    gm = table[table.axis == "m"].sort_values("m")
    if on_m:
        n0 = ", ".join(str(int(n)) for n in sorted(gm.n.unique()))
        down = [L for L, v in on_m.items() if v <= 0]
        mid = [L for L, v in on_m.items() if 0 < v <= 0.5]
        up = [L for L, v in on_m.items() if v > 0.5]
        what = []
        if down:
            what.append(f"at {_depths(down)} the loss does not rise with m, which fits under both")
        if mid:
            what.append(f"at {_depths(mid)} it rises, less than sqrt(m): within Chen et al.'s shape, above the new "
                        "bound's flat one")
        if up:
            what.append(f"at {_depths(up)} it rises faster than sqrt(m), above both shapes")
        caveat = (" Over a finite range of m a bound of either shape holds for a large enough constant, so a rise "
                  "here contradicts neither." if mid or up else "")
        out.append(f"**Against m** (n = {n0}, T = n steps): fitted slopes {_by_depth(on_m)}. The new bound does not "
                   "grow with m (slope 0), Chen et al.'s grows like sqrt(m) (+0.5); " + "; ".join(what) + "."
                   + caveat + " The theorem needs width Ω(poly(log(n)/γ)); the margin γ of this task is not computed, "
                   "so whether these widths meet it is not checked.")
        parts = []
        for L, g in gm.groupby("L"):
            if g.m.nunique() < 2:
                continue
            a, b = g.iloc[0], g.iloc[-1]
            d_test, d_train = b.test_loss - a.test_loss, b.train_loss - a.train_loss
            d_gap = d_test - d_train
            more = "training loss" if abs(d_train) > abs(d_gap) else "gap"
            parts.append(f"L = {int(L)}, m = {int(a.m)} to {int(b.m)}: test loss {d_test:+.4f} = training loss "
                         f"{d_train:+.4f} + gap (test minus training) {d_gap:+.4f}, mostly the {more}")
        if parts:
            out.append("**Along the m sweep**, the change split in two: " + "; ".join(parts) + ".")
    dist = {int(L): fit_slope(g.m, g.distance).slope for L, g in gm.groupby("L")
            if g.m.nunique() >= 2 and (g.distance > 0).all()}
    ball = paper.kernel_ball(table.drop_duplicates(["L", "n", "m"]))  # a run in both sweeps counts once
    beyond = ball[~ball.inside]
    where = ("every run is inside it" if not len(beyond) else "beyond it: " + "; ".join(
        f"L = {int(r.L)}, m = {int(r.m)}, n = {int(r.n)} ({r.absolute:.1f} > {r.radius:.1f})"
        for r in beyond.itertuples()) + f"; the other {len(ball) - len(beyond)} runs are inside")
    against = (f"the relative distance ||W - W0|| / ||W0|| against m has slopes {_by_depth(dist)} (an absolute "
               "distance that stays put as m grows gives -0.5). " if dist else "")
    out.append(f"**Distance from init**: {against}In one plain reading of the poster's kernel-regime condition, "
               f"||W - W0|| ≤ m^(1/L) with ||W0|| about sqrt(L m): {where}.")
    return out


# --- the live race ---

RUN_NAMES = {"kernel": "the kernel regime", "feature": "feature learning", "linearized": "the linearized network"}


def race_sentence(history: Mapping[str, Sequence[Snapshot]], steps: int) -> str:
    """The live page's measured sentence at the point the visitor's page has drawn: per run how its mean test
    error ends (`sharp.experiments.scenes.fate`: reaches zero and since when, stalls, or ends at its value) and its
    distance from init, every number from the snapshots.

    Args:
        history: run name -> its snapshots so far (a `Frame`'s history).
        steps: the run's step budget (to say whether it has ended).
    Example:
        >>> race_sentence(frame.history, 300)
        'After 300 steps (mean of 4 seeds on 1000 test points): the kernel regime stalls at test error 0.28 ...'
    """
    from sharp.experiments.scenes import err_text, fate

    runs = {name: snaps for name, snaps in history.items() if snaps}
    if not runs:
        return "Nothing measured yet."
    at = max(snaps[-1].step for snaps in runs.values())
    seeds = len(next(iter(runs.values()))[-1].test_error_seeds)
    parts = []
    for name, snaps in runs.items():
        last, who = snaps[-1], RUN_NAMES.get(name, name)
        gone = len(last.diverged_seeds)
        if gone == seeds:
            parts.append(f"{who} diverged at step {last.diverged_step} (every seed's outputs blew up)")
            continue
        err, dist = curve(name, snaps, "test_error"), curve(name, snaps, "distance")
        some = f"; {gone} of {seeds} seeds diverged and are left out" if gone else ""
        parts.append(f"{who} {fate(err)} (distance from init {err_text(float(dist.mean[-1]))}{some})")
    head = f"After {at} steps" if at >= steps else f"At step {at} of {steps}"
    return f"{head} (mean of {seeds} seed{'s' * (seeds != 1)}): " + "; ".join(parts) + "."


# --- neuron trajectories ---

def trajectories_sentence(runs: Mapping[str, Trajectory]) -> str:
    """Where each run ends (`sharp.experiments.tour.outcome`): test error, distance from init, the share of its
    first-layer weight on x_1, x_2 (2/d for a neuron that ignores the task), and how many neurons end larger along
    their own direction (u = (e1+e2)/sqrt(2) for a = +1, v = (e1-e2)/sqrt(2) for a = -1) than along the other.

    Example: trajectories_sentence(fixed_runs(1024, 20.0)).startswith("At step 300 (mean of 2 seeds):")
    """
    from sharp.experiments.tour import outcome

    parts, last, seeds, d = [], 0, 0, 0
    for name, tr in runs.items():
        o = outcome(tr)
        last, seeds, d = int(tr.steps[-1]), tr.cfg.seeds, tr.cfg.d
        parts.append(f"{RUN_NAMES.get(name, name)}: test error {o.test_error:.3f}, distance from init "
                     f"{o.distance:.3g}, weight share on x₁, x₂ from {o.share0:.3f} to {o.share:.3f}, "
                     f"{o.own_ahead:.0%} of its neurons larger along their own direction than the other")
    return (f"At step {last} (mean of {seeds} seed{'s' * (seeds != 1)}; 2/d = {2 / d:.3f} is the share of a "
            "neuron that ignores the task): " + "; ".join(parts) + "." if parts else "Nothing measured.")
