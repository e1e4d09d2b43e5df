"""The guided tour's experiments: the run behind each step and the numbers the step states about it.

Each function takes the step's one setting, runs (or reads from the sweep cache) what the step shows, and returns
a small dataclass of the numbers; the page only formats them. tests/test_tour.py checks the claims.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sharp.engine.config import Config, preset
from sharp.engine.data import make_data
from sharp.experiments import paper
from sharp.experiments.fig1 import censored_median
from sharp.experiments.fit import fit_slope
from sharp.experiments.trajectory import PowerIteration, Trajectory, own_component, power_iteration, trajectory

STEPS = ("The task", "The kernel regime", "Feature learning", "How many steps, and why", "Samples against d",
         "Deep nets, kernel regime")
# Each step's one control: the values it offers.
DS_TASK = (10, 25, 50, 100, 200, 400)  # step 1: d
KERNEL_MS = (256, 512, 1024, 2048)  # step 2 and the trajectories page: the kernel network's width
FEATURE_ETAS = (1.0, 2.0, 5.0, 10.0, 20.0, 40.0)  # step 3 and the trajectories page: the feature network's step
DS_POWER = (25, 50, 100, 200, 400, 800)  # step 4: d

# Steps 2 and 3: both regimes on the same fixed training set of n = 6d samples, full batch.
FIXED_D = 50
FIXED_STEPS = 300
FIXED_SEEDS = 2
LOG_EVERY = 5


# --- step 1: the task ---

@dataclass(frozen=True)
class Task:
    d: int
    n: int
    x: np.ndarray  # (n, d) the samples shown
    y: np.ndarray  # (n,)
    corr: np.ndarray  # (d,) sample correlation of y with each coordinate x_i
    corr_pair: float  # correlation of y with x_1 x_2 (exactly 1)
    pairs: int  # d (d - 1) / 2 candidate pairs


def task(d: int, seed: int = 0) -> Task:
    """n = 6d samples of the XOR task and the correlation of the label with each coordinate.

    Example:
        >>> abs(task(100).corr).max() < 0.2
        True
    """
    cfg = Config(d=d, n=6 * d, n_test=10, seeds=1, seed=seed)
    data, _ = make_data(cfg)
    x, y = data.x_train[0].double().numpy(), data.y_train[0].double().numpy()
    corr = (x * y[:, None]).mean(0)  # coordinates and labels are +-1 with mean ~0: the mean product is the corr.
    return Task(d, cfg.n, x, y, corr, float((x[:, 0] * x[:, 1] * y).mean()), d * (d - 1) // 2)


# --- steps 2 and 3: the two regimes on a fixed set of n = 6d ---

def kernel_config(m: int = 1024, d: int = FIXED_D, seeds: int = FIXED_SEEDS, steps: int = FIXED_STEPS) -> Config:
    """Step 2's run: the kernel preset (NTK scale, eta = 1) at width m on a fixed set of n = 6d."""
    return preset("kernel", m=m, d=d, n=6 * d, steps=steps, every=LOG_EVERY, seeds=seeds, n_test=1000)


def feature_config(eta: float = 20.0, d: int = FIXED_D, seeds: int = FIXED_SEEDS, steps: int = FIXED_STEPS) -> Config:
    """Step 3's run: the feature preset (mean field, m = 20) at step size eta on the same set."""
    return preset("feature", eta=float(eta), d=d, n=6 * d, steps=steps, every=LOG_EVERY, seeds=seeds, n_test=1000)


@dataclass(frozen=True)
class Outcome:
    """The end of a run, means over seeds; and the share of first-layer energy on x_1, x_2 (2/d at init)."""

    test_error: float
    distance: float
    share0: float
    share: float
    own_growth: float  # median over seeds and neurons of |own component| at the end / at the start
    own_ahead: float  # share of neurons (all seeds) whose own component ends larger than their other plane one


def outcome(tr: Trajectory) -> Outcome:
    """The numbers steps 2 and 3 state, read off the run's trajectory."""
    planes = tr.planes  # (T, R, m, 3)
    share = (planes[..., 0] ** 2 + planes[..., 1] ** 2)
    share = share.sum(-1) / (share + planes[..., 2] ** 2).sum(-1)  # (T, R)
    own_all = own_component(planes)  # (T, R, m)
    other = np.abs(planes[..., :2]).sum(-1) - own_all  # the plane component a neuron's sign does not double
    own = np.median(own_all, -1)  # (T, R)
    return Outcome(float(np.nanmean(tr.test_error[-1])), float(np.nanmean(tr.distance[-1])),
                   float(share[0].mean()), float(share[-1].mean()), float(np.median(own[-1] / own[0])),
                   float(np.mean(own_all[-1] > other[-1])))


# --- step 4: the power iteration ---

def power_config(d: int, seeds: int = 8, steps: int = 10, seed: int = 0) -> Config:
    """Step 4's run: Fig 1's setting (online batches of 6d, m = eta = 20), every step logged."""
    return preset("feature", d=d, n=6 * d, online=True, steps=steps, every=1, seeds=seeds, seed=seed, n_test=1000)


@dataclass(frozen=True)
class Power:
    traj: Trajectory
    power: PowerIteration
    first_zero: float  # censored median over seeds of the first zero-test-error step (inf: half or more never)
    first_zero_text: str  # the same as the page says it: "5", "5.5" or "> 10" (sharp.experiments.fig1.censored_median)
    ceil_ln_d: int
    doublings: float  # log2(rest / start): steps a pure doubling needs to catch up


def power(d: int, **kw: Any) -> Power:
    """Step 4: run, measure the growth of each neuron's own component and when it overtakes the rest.

    Example:
        >>> 1.8 < power(100).power.growth < 2.2
        True
    """
    tr = trajectory(power_config(d, **kw))
    p = power_iteration(tr)
    err = tr.test_error  # (T, R)
    firsts = [float(tr.steps[np.flatnonzero(err[:, r] == 0)[0]]) if (err[:, r] == 0).any() else math.nan
              for r in range(err.shape[1])]
    first, text = censored_median(firsts, [math.isfinite(f) for f in firsts], float(tr.steps[-1]))
    return Power(tr, p, first, text, math.ceil(math.log(d)), float(math.log2(p.rest[0] / p.aligned[0])))


# --- step 5: samples (the sample map, small) ---

SAMPLE_DS = (8, 16)
SAMPLE_NS = (16, 32, 64, 128, 256, 512)


def samples(ds=SAMPLE_DS, ns=SAMPLE_NS, seeds: int = 2, **sweep_kw: Any) -> pd.DataFrame:
    """The samples page's experiment (paper.samples) on a small grid; final means per (regime, d, n)."""
    return paper.final_table(paper.samples(list(ds), list(ns), seeds=seeds, sweep_kw=sweep_kw), ["regime", "d", "n"])


# --- step 6: deep nets in the kernel regime (Table 1) ---

DEEP_NS = (50, 100, 200, 400)


def deep(L: int, ns=DEEP_NS, m: int = 128, seeds: int = 2, **sweep_kw: Any) -> pd.DataFrame:
    """The deep page's n-sweep at depth L, width m: final means per n (test loss falls like 1/n or faster)."""
    df = paper.deep([L], [], list(ns), m0=m, seeds=seeds, sweep_kw=sweep_kw)
    return paper.final_table(df, ["axis", "L", "n", "m"])


@dataclass(frozen=True)
class DeepReading:
    """What step 6 states about its run at depth L, width m."""

    slope: float  # of log test loss against log n (-1 for 1/n)
    lo: float  # relative distance from init at the smallest and largest n
    hi: float
    grows: bool  # the relative distance grows with n (T = n steps)
    absolute: float  # hi * sqrt(L m): ||W - W0|| with ||W0|| about sqrt(L m)
    radius: float  # m^(1/L), the kernel-regime ball's shape (the theory's exponent is O(1/L), constant not given)

    @property
    def inside(self) -> bool:
        return self.absolute < self.radius


def deep_reading(table: pd.DataFrame, L: int) -> DeepReading:
    """Step 6's numbers, read off `deep(L)`'s table (the kernel ball as `paper.kernel_ball` reads it).

    Example:
        >>> deep_reading(deep(1), 1).inside
        True
    """
    t = paper.kernel_ball(table.sort_values("n"))
    dist = t.distance.to_numpy(float)
    return DeepReading(fit_slope(t.n, t.test_loss).slope, float(dist[0]), float(dist[-1]),
                       bool(np.all(np.diff(dist) > 0)), float(t.absolute.max()), float(t.radius.iloc[0]))
