"""Networks as pure functions of an explicit parameter dict, batched over an ensemble of R seeds.

Parametrization (our reconstruction of the paper's two-layer network, docs/science.md "The model", extended to depth L):

    h_1 = W_1 x                      W_1: (m, d), entries N(0, 1/d), so <w_j, x> ~ N(0, 1)
                                     (Config.init_var = "1": entries N(0, 1) on the raw inputs instead)
    h_l = W_l sigma(h_{l-1}) / sqrt(m)   W_l: (m, m), entries N(0, 1), l = 2..L   (NTK-style layers)
    f(x) = c * sum_j a_j sigma(h_L)_j    a fixed, half +1 and half -1; c = 1/m (mf) or 1/sqrt(m) (ntk)

For L = 1 this is the poster's two-layer network. The explicit 1/sqrt(m) on the hidden layers keeps
their pre-activations O(1) at any width and makes one SGD step move every layer by the same order as the
first: with c = 1/m and eta = m the hidden features move O(1) (feature learning), while with c = 1/sqrt(m)
and eta = O(1) every layer moves O(1/sqrt(m)) relative to W0 (kernel regime). The regime contrast is
therefore the same at L = 2 and 3 as at L = 1. Each parameter carries a leading ensemble axis R.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from sharp.engine.config import Config
from sharp.engine.data import _INIT, generator

Params = dict[str, torch.Tensor]

ACT: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "quadratic": torch.square,
    "relu": F.relu,
    "softplus": F.softplus,
    "gelu": F.gelu,
}


# The same activations applied in place, where torch has them: for evaluations without autograd (`forward`'s
# `inplace`), which then allocate no second (R, m, n) tensor.
ACT_INPLACE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "quadratic": torch.Tensor.square_,
    "relu": torch.relu_,
}


def act_grad(name: str, h: torch.Tensor) -> torch.Tensor:
    """sigma'(h) in closed form (used by the fast two-layer step; checked against autograd in tests)."""
    if name == "quadratic":
        return 2 * h
    if name == "relu":
        return (h > 0).to(h.dtype)
    if name == "softplus":
        return torch.sigmoid(h)
    # exact GELU: Phi(h) + h * phi(h)
    return 0.5 * (1 + torch.erf(h / math.sqrt(2))) + h * torch.exp(-0.5 * h * h) / math.sqrt(2 * math.pi)


def readout(m: int, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Fixed output weights a: half +1, half -1. Shape (m,)."""
    return torch.cat([torch.ones(m // 2), -torch.ones(m - m // 2)]).to(device, dtype)


def init_params(cfg: Config, device: torch.device | str = "cpu") -> Params:
    """W0 for every seed; seed r's weights depend only on (cfg.seed, r), m, d and depth.

    Returns:
        {"W1": (R, m, d), "W2": (R, m, m), ...}.
    Example:
        >>> init_params(Config(d=10, m=4, seeds=3))["W1"].shape
        torch.Size([3, 4, 10])
    """
    per_seed: list[Params] = []
    for r in range(cfg.seeds):
        g = generator(cfg.seed, r, _INIT)
        w1 = torch.randn(cfg.m, cfg.d, generator=g)
        p = {"W1": w1 / math.sqrt(cfg.d) if cfg.init_var == "1/d" else w1}
        for layer in range(2, cfg.depth + 1):
            p[f"W{layer}"] = torch.randn(cfg.m, cfg.m, generator=g)
        per_seed.append(p)
    return {k: torch.stack([p[k] for p in per_seed]).to(device) for k in per_seed[0]}


def forward(params: Params, x: torch.Tensor, cfg: Config, inplace: bool = False) -> torch.Tensor:
    """Network outputs f(x) for every seed.

    Args:
        params: {"W1": (R, m, d), ...}.
        x: (R, B, d), or (B, d) shared by all seeds (the test set).
        cfg: supplies activation, output scale c and depth.
        inplace: apply the activation in place to each layer's fresh pre-activations (a third less memory
            traffic on the test set); only for evaluations that no autograd or torch.func transform sees.
    Returns:
        (R, B) outputs.
    """
    # Computed transposed, h^T: (R, m, B) = W x^T, which MKL runs faster than x W^T at small widths; the
    # deeper layers are then plain W_l sigma(h^T) and the readout a . sigma(h^T) sums over the rows.
    sigma, w1 = (ACT_INPLACE.get(cfg.activation, ACT[cfg.activation]) if inplace else ACT[cfg.activation]), params["W1"]
    r, m, d = w1.shape
    if x.dim() == 2:  # shared by all seeds: one (R m, d) @ (d, B) matmul, not R thin ones (much faster)
        h = (w1.reshape(r * m, d) @ x.T).view(r, m, x.shape[0])  # (R, m, B)
    else:
        h = torch.matmul(w1, x.transpose(-1, -2))  # (R, m, B)
    for layer in range(2, cfg.depth + 1):
        h = torch.matmul(params[f"W{layer}"], sigma(h)) / math.sqrt(cfg.m)
    return cfg.c * (readout(cfg.m, h.device, h.dtype) @ sigma(h))  # (R, B)


def linearize(fn: Callable[[Params, torch.Tensor], torch.Tensor],
              params0: Params) -> Callable[[Params, torch.Tensor], torch.Tensor]:
    """The first-order Taylor expansion of fn around params0, built with torch.func.jvp.

    f_lin(W, x) = f(W0, x) + <grad_W f(W0, x), W - W0>: the network's tangent (NTK) model.

    Example:
        >>> f_lin = linearize(lambda p, x: forward(p, x, cfg), params0)
        >>> torch.allclose(f_lin(params0, x), forward(params0, x, cfg))
        True
    """
    p0 = {k: v.detach() for k, v in params0.items()}

    def f_lin(params: Params, x: torch.Tensor) -> torch.Tensor:
        delta = {k: params[k] - p0[k] for k in p0}
        f0, df = torch.func.jvp(lambda p: fn(p, x), (p0,), (delta,))
        return f0 + df

    return f_lin


def quadratic_form(w: torch.Tensor, v: torch.Tensor | None = None) -> torch.Tensor:
    """Q = sum_j a_j w_j v_j^T per seed, so that a . (W x)^2 = x^T Q x (v = W). (R, m, d) -> (R, d, d)."""
    a = readout(w.shape[1], w.device, w.dtype)
    return torch.matmul(w.transpose(1, 2), (v if v is not None else w) * a[:, None])


def evaluator(cfg: Config, params0: Params) -> Callable[[Params, torch.Tensor], torch.Tensor] | None:
    """A cheaper exact evaluation of f on a shared point set (the test set), or None where there is none.

    For the two-layer quadratic network f(x) = c * sum_j a_j (w_j . x)^2 = c x^T Q x with Q = W^T diag(a) W,
    (d, d): evaluating n points costs 2 m d^2 + 2 n d^2 multiply-adds instead of 2 n d m, fewer whenever
    d (m + n) < n m (the live page's kernel default, d = 50, m = 512, n_test = 1000: 7x fewer, and no
    (R, m, n) temporaries). Its linearization around W0 is the quadratic form of
    W0^T A W + W^T A W0 - W0^T A W0, i.e. of 2 W0^T A W - W0^T A W0 (x^T Q x sees only Q's symmetric part),
    so the linearized overlay gets the same shortcut instead of a forward-mode pass. Both agree with
    `forward` and `linearize` up to float32 rounding (tests/test_nets.py).

    Args:
        cfg: the run (the shortcut needs depth 1 and the quadratic activation).
        params0: W0, used by the linearized model.
    Returns:
        fn(params, x (n, d)) -> (R, n), or None when the plain forward pass is as cheap or no shortcut exists.
    Example:
        >>> ev = evaluator(preset("kernel", d=50, m=512, n_test=1000), params0)
        >>> torch.allclose(ev(params0, x_test), forward(params0, x_test, cfg), atol=1e-4)
        True
    """
    if cfg.depth != 1 or cfg.activation != "quadratic" or cfg.d * (cfg.m + cfg.n_test) >= cfg.n_test * cfg.m:
        return None
    w0 = params0["W1"].detach()
    q0 = quadratic_form(w0) if cfg.linearized else None

    def fn(params: Params, x: torch.Tensor) -> torch.Tensor:
        w = params["W1"]
        if q0 is None:
            q = quadratic_form(w)  # (R, d, d)
        else:
            # x^T Q x sees only Q's symmetric part, so W0^T A W + W^T A W0 may be written 2 W0^T A W
            q = 2 * quadratic_form(w0, w) - q0
        r, d = q.shape[0], q.shape[1]
        xq = (x @ q.transpose(0, 1).reshape(d, r * d)).view(-1, r, d)  # (n, R, d): one matmul for all seeds
        return xq.mul_(x[:, None]).sum(-1).T.mul_(cfg.c)  # (R, n)

    return fn
