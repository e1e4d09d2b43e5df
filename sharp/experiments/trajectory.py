"""Neuron trajectories on the XOR plane, and the power iteration that explains the ln d steps.

For y = x_1 x_2 the correlation matrix E[y x x^T] = e1 e2^T + e2 e1^T has eigenvectors
    u = (e1 + e2)/sqrt(2) (eigenvalue +1)   and   v = (e1 - e2)/sqrt(2) (eigenvalue -1).
Near initialization, with the quadratic activation, the mean-field scale c = 1/m and eta = m, one SGD step on the
logistic loss (sigmoid(-y f) ~ 1/2 while f ~ 0) is about
    w_j <- w_j + a_j E[y x x^T] w_j,
so a neuron with a_j = +1 doubles its component on u, one with a_j = -1 doubles its component on v, and the
other coordinates only pick up sampling noise: a power iteration. Each neuron's own direction starts at about
1/sqrt(d) and the rest of its weight vector has norm about 1, so the aligned part overtakes the rest after
about log2(sqrt(d)) ~ ln d / 1.4 doublings, plus the steps the saturating loss slows down.

`plane` reads (u . w_j, v . w_j, ||w_j restricted to x_3..x_d||) off the weights (a probe for sharp.engine.train),
`trajectory` runs a configuration and keeps them per step, `power_iteration` summarises the growth.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from sharp.engine.config import Config, ConfigError
from sharp.engine.train import train

SQRT2 = math.sqrt(2.0)


@torch.no_grad()
def plane(params: dict[str, torch.Tensor]) -> np.ndarray:
    """Each first-layer neuron on the XOR plane: (R, m, 3) = (w . u, w . v, ||w_{3..d}||), u, v as above.

    Example:
        >>> plane({"W1": torch.tensor([[[1.0, 1.0, 3.0, 4.0]]])}).round(3).tolist()
        [[[1.414, 0.0, 5.0]]]
    """
    w = params["W1"]  # (R, m, d)
    u = (w[..., 0] + w[..., 1]) / SQRT2
    v = (w[..., 0] - w[..., 1]) / SQRT2
    rest = w[..., 2:].square().sum(-1).sqrt()
    return torch.stack([u, v, rest], -1).double().cpu().numpy()


def own_component(planes: np.ndarray) -> np.ndarray:
    """|w_j . u| for neurons with a_j = +1 (the first half), |w_j . v| for a_j = -1: the direction each neuron's
    power iteration doubles. (..., m, 3) -> (..., m)."""
    m = planes.shape[-2]
    return np.abs(np.concatenate([planes[..., : m // 2, 0], planes[..., m // 2:, 1]], -1))


@dataclass(frozen=True)
class Trajectory:
    """A run's neurons on the XOR plane and its curves, at every logged step."""

    cfg: Config
    steps: np.ndarray  # (T,)
    planes: np.ndarray  # (T, R, m, 3): u . w_j, v . w_j, norm on x_3..x_d
    test_error: np.ndarray  # (T, R)
    distance: np.ndarray  # (T, R) ||W_t - W0||_F / ||W0||_F
    diverged: bool


def trajectory(cfg: Config) -> Trajectory:
    """Train cfg (two-layer, XOR) and keep every neuron's position on the XOR plane at each logged step.

    Args:
        cfg: a run with k = 2 (the plane is that of x_1 and x_2).
    Returns:
        The Trajectory; a diverged run stops at its last snapshot (diverged=True).
    Example:
        >>> trajectory(preset("feature", d=30, n=180, steps=5)).planes.shape
        (6, 4, 20, 3)
    """
    if cfg.k != 2:
        raise ConfigError("k", cfg.k, "2: neuron trajectories are drawn on the plane of x_1 and x_2 (XOR)")
    snaps = list(train(cfg, probe=plane))
    return Trajectory(cfg, np.array([s.step for s in snaps]), np.stack([s.probe for s in snaps]),
                      np.array([s.test_error_seeds for s in snaps]), np.array([s.distance_seeds for s in snaps]),
                      snaps[-1].diverged)


@dataclass(frozen=True)
class PowerIteration:
    """The tour's step 4 numbers, read off a Trajectory; medians pool every neuron of every seed."""

    steps: np.ndarray  # (T,)
    aligned: np.ndarray  # (T,) median |own component| (see own_component)
    rest: np.ndarray  # (T,) median norm on x_3..x_d
    growth: float  # median over neurons of (|own_t| / |own_0|)^(1/t), t = `over`: the per-step factor
    growth_steps: np.ndarray  # (over,) the same factor step by step: median of |own_{s+1}| / |own_s|
    over: int
    crossing: int | None  # first logged step at which `aligned` exceeds `rest` (None if never)
    ln_d: float


def power_iteration(traj: Trajectory, over: int = 3) -> PowerIteration:
    """Growth of each neuron's own component, and the step at which the median one overtakes the rest.

    The growth factor is taken neuron by neuron (a neuron's own component at step `over` over its value at
    step 0, to the power 1/over), then its median over all neurons of all seeds: the power iteration
    acts on each neuron, and a median of ratios is steadier than a ratio of medians.

    Args:
        traj: a run logged at every step (every = 1) for at least `over` steps.
        over: the steps over which the growth factor is measured (near init, before the loss saturates).
    Example:
        >>> power_iteration(trajectory(preset("feature", d=100, n=600, online=True, steps=8, seeds=8))).growth
    """
    if traj.cfg.every != 1 or len(traj.steps) <= over:
        raise ConfigError("every", traj.cfg.every, f"1, with at least {over} steps, to measure per-step growth")
    t = len(traj.steps)
    own = own_component(traj.planes).reshape(t, -1)  # (T, R m)
    aligned = np.median(own, -1)
    rest = np.median(traj.planes[..., 2].reshape(t, -1), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = float(np.median((own[over] / own[0]) ** (1.0 / over)))
        steps = np.median(own[1:over + 1] / own[:over], -1)
    hit = np.flatnonzero(aligned > rest)
    return PowerIteration(traj.steps, aligned, rest, growth, steps, over,
                          int(traj.steps[hit[0]]) if hit.size else None, math.log(traj.cfg.d))
