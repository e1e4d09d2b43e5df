"""Training: plain SGD on the logistic loss, an ensemble of seeds as one batched computation.

`train(cfg)` is a generator of immutable snapshots at the logging steps; the CLI, the sweeps and the pages
all consume the same stream. A run whose loss or outputs become non-finite ends with a snapshot that says
it diverged, and at which step; the generator never raises for it.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar

import torch

from sharp.engine import metrics
from sharp.engine.config import Config, ConfigError
from sharp.engine.data import batches, make_data
from sharp.engine.nets import ACT, Params, act_grad, evaluator, forward, init_params, linearize, readout
from sharp.engine.snapshot import Logs, Probe, Snapshot


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", name, "cpu or auto: no CUDA device is available here")
    return torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")


# Called before every SGD step when set (default: nothing): a job that must hand the CPU back between two logged
# steps, however far apart they are, sets it for the thread that trains (sharp.serve.jobs.FunctionJob).
STEP_HOOK: ContextVar[Callable[[], None] | None] = ContextVar("sharp_step_hook", default=None)

# One SGD step's outputs on its batch, (R, B), and gradients; the batch's loss is computed only where logged.
StepFn = Callable[[Params, torch.Tensor, torch.Tensor], tuple[torch.Tensor, Params]]


def _fast_step(cfg: Config) -> StepFn:
    """Two-layer network, closed-form gradient: two batched matmuls and a few elementwise passes.

    For f = c * sigma(X W^T) a and loss mean_B softplus(-y f):
        dL/df = -y * sigmoid(-y f) / B               (R, B)
        dL/dh = c * dL/df[..., None] * a * sigma'(h) (R, B, m)
        dL/dW = (dL/dh)^T X                          (R, m, d)
    At large widths the (R, m, B) elementwise passes rival the matmuls, so they are kept few and in place:
    the pre-activations and their squares live in buffers reused across steps, and for the quadratic
    activation dL/dh overwrites h (the factor a_j is applied to the rows of the small dL/dW instead).
    tests/test_train.py checks it against autograd.
    """
    sigma, c = ACT[cfg.activation], cfg.c
    cache: dict[str, torch.Tensor] = {}

    def buffer(name: str, x: torch.Tensor) -> torch.Tensor:
        # (R, m, B) scratch reused across steps: a fresh one per step costs page faults at large sizes
        shape = (cfg.seeds, cfg.m, x.shape[-2])
        b = cache.get(name)
        if b is None or b.shape != shape or b.dtype != x.dtype or b.device != x.device:
            b = cache[name] = torch.empty(shape, dtype=x.dtype, device=x.device)
        return b

    def pre_activations(params: Params, x: torch.Tensor) -> torch.Tensor:
        # Laid out (R, m, B), i.e. h^T = W X^T: at small widths MKL runs this orientation faster than X W^T,
        # and dL/dW = (dL/dh^T) X then needs no transposed operand.
        w, h = params["W1"], buffer("h", x)
        if x.dim() == 2:  # one batch shared by all seeds (cfg.shared): one fat (R m, d) @ (d, B) matmul
            torch.mm(w.view(-1, x.shape[1]), x.T, out=h.view(-1, x.shape[0]))
            return h
        # X^T as a view: a contiguous transposed copy runs this product alone a little faster, but in the training
        # loop, where the copy and X both pass through the cache every step, it is slower
        return torch.bmm(w, x.transpose(1, 2), out=h)  # (R, m, B)

    def weight_grad(dh: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        # (R, m, B) with (R, B, d), or with a shared (B, d): (R m, B) @ (B, d), one matmul for all seeds
        if x.dim() == 2:
            return (dh.view(-1, x.shape[0]) @ x).view(dh.shape[0], dh.shape[1], x.shape[1])
        return torch.bmm(dh, x)  # (R, m, d)

    def readout_weights(x: torch.Tensor) -> torch.Tensor:
        a = cache.get("a")
        if a is None or a.dtype != x.dtype or a.device != x.device:
            a = cache["a"] = readout(cfg.m, x.device).to(x.dtype)
        return a  # (m,)

    def labels(y: torch.Tensor, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        # -y and scale * y, made once per label tensor (a full-batch run's is the same every step); y is +-1,
        # so sigmoid(-y f) * (scale y) is bit for bit sigmoid(-y f) * y * scale, in one pass instead of two
        if cache.get("y") is not y:
            cache["y"], cache["-y"], cache["ky"] = y, y.neg(), y.mul(scale)
        return cache["-y"], cache["ky"]

    def quadratic(params: Params, x: torch.Tensor, y: torch.Tensor):
        a, h = readout_weights(x), pre_activations(params, x)
        f = torch.bmm(a.expand(h.shape[0], 1, -1), torch.square(h, out=buffer("q", x))).view(h.shape[0], -1)
        f.mul_(c)  # (R, B)
        neg_y, ky = labels(y, -2 * c / x.shape[-2])
        s = torch.mul(neg_y, f).sigmoid_().mul_(ky)[:, None]  # 2c dL/df = -2c/B y sigmoid(-y f), (R, 1, B)
        h.mul_(s)  # in place: dL/dh = 2c a_j h dL/df, but for the factor a_j, applied to the rows of dL/dW
        return f, {"W1": weight_grad(h, x).mul_(a[:, None])}

    def general(params: Params, x: torch.Tensor, y: torch.Tensor):
        a, h = readout_weights(x), pre_activations(params, x)
        f = c * (a @ sigma(h))  # (R, B)
        g = -y * torch.sigmoid(-y * f) / x.shape[-2]  # (R, B)
        dh = act_grad(cfg.activation, h).mul_(g[:, None])  # (R, m, B), without the factor c a_j
        return f, {"W1": weight_grad(dh, x).mul_((c * a)[:, None])}

    return quadratic if cfg.activation == "quadratic" else general


def _autograd_step(fn: Callable[[Params, torch.Tensor], torch.Tensor]) -> StepFn:
    """Any network: gradient of the summed per-seed losses by torch.func (seeds do not interact)."""

    def loss(params: Params, x: torch.Tensor, y: torch.Tensor):
        f = fn(params, x)
        per_seed = metrics.logistic(f, y)
        return per_seed.sum(), (per_seed.detach(), f.detach())

    grad = torch.func.grad(loss, has_aux=True)

    def step(params: Params, x: torch.Tensor, y: torch.Tensor):
        grads, (_, f) = grad(params, x, y)
        return f, grads

    return step


def make_model(cfg: Config, params0: Params) -> tuple[Callable[[Params, torch.Tensor], torch.Tensor], StepFn]:
    """The function the run trains (network or its linearization) and its SGD gradient step.

    Example:
        >>> fn, step = make_model(cfg, init_params(cfg))
    """
    net = lambda p, x: forward(p, x, cfg)  # noqa: E731
    if cfg.linearized:
        fn = linearize(net, params0)
        return fn, _autograd_step(fn)
    return net, (_fast_step(cfg) if cfg.depth == 1 else _autograd_step(net))


BLOWUP = 1e6  # an output this large in magnitude counts as divergence


def train(cfg: Config, probe: Probe | None = None) -> Iterator[Snapshot]:
    """Train an ensemble of cfg.seeds networks and yield a Snapshot at every logged step.

    Steps 0, every, 2*every, ... and the last step are logged. Parameters are updated in place with
    W <- W - eta * grad, plain SGD with a constant step.

    Args:
        cfg: the run.
        probe: optional; called with the parameters {"W1": (R, m, d), ...} at every logged step, its result
            stored as Snapshot.probe (the neuron trajectories use it; None costs nothing).
    Returns:
        A generator of Snapshots; the last one has final=True (and diverged=True if the run blew up).
    Example:
        >>> last = list(train(preset("feature", d=30, n=180, steps=50, every=10)))[-1]
        >>> last.step, last.final
        (50, True)
    """
    t0 = time.perf_counter()
    device = resolve_device(cfg.device)
    data, gens = make_data(cfg, device)
    params0 = init_params(cfg, device)
    params = {k: v.clone() for k, v in params0.items()}
    fn, step = make_model(cfg, params0)
    # The test set's outputs: the same numbers, cheaper where a shortcut exists; the plain network's are
    # computed without autograd (under Logs.flush's no_grad), so its activations may be applied in place.
    test_fn = evaluator(cfg, params0) or (fn if cfg.linearized else lambda p, x: forward(p, x, cfg, inplace=True))
    stream = batches(cfg, data, gens, device, reuse=True)
    logs = Logs(cfg, test_fn, params0, data, t0, probe)
    hook = STEP_HOOK.get()
    for t in range(cfg.steps + 1):
        if hook is not None:
            hook()
        x, y = next(stream)
        if t == cfg.steps:
            with torch.no_grad():
                f, grads = fn(params, x), None
        else:
            f, grads = step(params, x, y)
        # Non-finite, or outputs so large that the loss only says the run is blowing up (a healthy run's margins
        # y f stay below ~100: the logistic loss is already e^-100 there). One reduction per step (NaN fails
        # the <=); the per-seed verdict, (R,), only when something is wrong.
        if not float(f.abs().amax()) <= BLOWUP:  # the loss is a function of f: finite when f is
            loss = metrics.logistic(f, y)
            bad = ~(torch.isfinite(f).all(-1) & torch.isfinite(loss)) | (f.abs().amax(-1) > BLOWUP)
            yield from logs.flush()
            logs.add(t, params, loss)
            yield from logs.flush(bad)
            return
        if t % cfg.every == 0 or t == cfg.steps:
            logs.add(t, params, metrics.logistic(f, y))  # the batch's loss: only a logged step needs it
            if t == cfg.steps or logs.due():
                yield from logs.flush()
        if grads is not None:
            with torch.no_grad():
                for k, g in grads.items():
                    params[k].sub_(g, alpha=cfg.eta)


# Fields two runs must share to be compared on the same data at the same logged steps.
PAIRED = ("k", "noise", "d", "n", "online", "batch", "n_test", "steps", "every", "seeds", "seed")


def lockstep(cfgs: Mapping[str, Config], probe: Probe | None = None) -> Iterator[dict[str, Snapshot]]:
    """Step several runs (e.g. the two regimes) together on the same data.

    Yields, at each logged step, {name: latest Snapshot}. A run that ends early (diverged) keeps its last
    snapshot while the others go on.

    Example:
        >>> for snaps in lockstep({"kernel": preset("kernel"), "feature": preset("feature")}): ...
    """
    first = next(iter(cfgs.values()))
    for c in cfgs.values():
        for f in PAIRED:
            if getattr(c, f) != getattr(first, f):
                raise ConfigError(f, getattr(c, f), f"the same value in every compared run ({getattr(first, f)!r})")
    runs = {name: train(c, probe) for name, c in cfgs.items()}
    latest: dict[str, Snapshot] = {}
    while runs:
        for name in list(runs):
            snap = next(runs[name], None)
            if snap is None:
                del runs[name]
            else:
                latest[name] = snap
        if runs:
            yield dict(latest)


def first_zero_step(snaps: list[Snapshot]) -> list[float]:
    """Per seed, the first logged step at which the test error is exactly 0 (nan if never): `metrics.first_hit`."""
    if not snaps:
        return []
    steps = [s.step for s in snaps]
    seeds = range(len(snaps[0].test_error_seeds))
    return [metrics.first_hit(steps, [s.test_error_seeds[r] for s in snaps]) for r in seeds]
