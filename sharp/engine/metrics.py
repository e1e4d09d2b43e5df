"""Per-seed metrics of an ensemble: losses, 0-1 error, distance from init, learned-feature share."""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from sharp.engine.nets import Params


def logistic(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-seed mean logistic loss log(1 + exp(-y f)), computed stably as softplus(-y f). (R, B) -> (R,)."""
    return F.softplus(-y * f).mean(-1)


def error(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-seed 0-1 error; an output of exactly 0 counts as a mistake. (R, B) -> (R,)."""
    return (y * f <= 0).to(f.dtype).mean(-1)


def _effective(name: str, w: torch.Tensor, m: int) -> torch.Tensor:
    # Hidden layers carry a 1/sqrt(m) multiplier in the forward pass (see nets.py); the whole-network
    # distance is taken on the effective weights so that every layer's norm is O(sqrt(m)) alike.
    return w if name == "W1" else w / math.sqrt(m)


def distances(params: Params, params0: Params, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Relative distance from init ||W_t - W0||_F / ||W0||_F per seed.

    params may carry leading dimensions before the seeds' (e.g. (steps, R, m, d)); params0 is (R, m, d).
    Returns:
        (whole (..., R), per_layer (L, ..., R)).
    """
    num, den, per_layer = 0.0, 0.0, []
    for name in params0:
        dw2 = (_effective(name, params[name] - params0[name], m) ** 2).sum((-1, -2))  # (R,)
        w02 = (_effective(name, params0[name], m) ** 2).sum((-1, -2))
        per_layer.append((dw2 / w02).sqrt())
        num, den = num + dw2, den + w02
    return (num / den).sqrt(), torch.stack(per_layer)


def feature_share(w1: torch.Tensor, k: int) -> torch.Tensor:
    """Share of first-layer weight energy on the k relevant coordinates, per seed. (R, m, d) -> (R,).

    At init it is about k/d; it tends to 1 when the neurons align with x_1..x_k.
    """
    energy = w1.square()
    return energy[..., :k].sum((-1, -2)) / energy.sum((-1, -2))


def neuron_energy(w1: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each neuron's first-layer weight energy on coordinates 1..k and on the rest. (..., m, d) -> (..., m) twice."""
    energy = w1.square()
    return energy[..., :k].sum(-1), energy[..., k:].sum(-1)


def first_hit(steps: Sequence[float], errors: Sequence[float], threshold: float = 0.0) -> float:
    """The first logged step whose test error is at most threshold (nan if none): the one definition of "the
    first zero-error step" (threshold 0: exactly no mistakes), per seed or of a curve over seeds.

    Example: first_hit([0, 5, 10, 15], [0.5, 0.0, 0.1, 0.0]) -> 5.0
    """
    for step, e in zip(steps, errors, strict=True):
        if e <= threshold:  # nan (a diverged seed) never counts
            return float(step)
    return math.nan
