"""What a run reports: a Snapshot at each logged step, and the Logs that compute them in batches.

`sharp.engine.train` trains; at each logged step it hands the weights to `Logs`, which evaluates the test
set and the metrics for several logged steps at once and returns their Snapshots in order.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from sharp.engine import metrics
from sharp.engine.config import Config
from sharp.engine.data import Data
from sharp.engine.nets import Params


@dataclass(frozen=True)
class Snapshot:
    """The state of an ensemble run at one logged step. Scalars are means over seeds."""

    step: int  # SGD steps taken
    samples: int  # training samples seen per seed (step * batch)
    train_loss: float  # loss on the batch used at this step (the whole set in full-batch mode)
    test_loss: float
    test_error: float
    distance: float  # ||W_t - W0||_F / ||W0||_F, whole network
    feature_share: float  # first-layer weight energy on coordinates 1..k
    train_loss_seeds: tuple[float, ...]
    test_loss_seeds: tuple[float, ...]
    test_error_seeds: tuple[float, ...]
    distance_seeds: tuple[float, ...]
    feature_share_seeds: tuple[float, ...]
    distance_layers: tuple[float, ...]  # per hidden layer, mean over seeds
    distance_layers_seeds: tuple[tuple[float, ...], ...]  # (L, R)
    neuron_relevant: tuple[float, ...] = field(repr=False)  # seed 0: each neuron's energy on x_1..x_k
    neuron_rest: tuple[float, ...] = field(repr=False)  # seed 0: each neuron's energy elsewhere
    diverged: bool = False
    diverged_step: int | None = None  # first step whose loss or outputs were non-finite or beyond BLOWUP
    diverged_seeds: tuple[int, ...] = ()
    final: bool = False  # the last snapshot of the run
    elapsed: float = 0.0  # wall-clock seconds since the run started
    probe: Any = field(default=None, repr=False, compare=False)  # what train(probe=...) read off the weights

    def record(self) -> dict:
        """A JSON-ready dict without the per-neuron arrays."""
        skip = {"neuron_relevant", "neuron_rest", "probe"}
        return {k: v for k, v in self.__dict__.items() if k not in skip}


# Reads something small off the weights at each logged step (e.g. sharp.experiments.trajectory.plane); its
# result rides on the Snapshot as `probe`. Called under torch.no_grad with that step's weights as kept by `Logs`
# (buffers reused for later steps): it must not modify them or return a view of them.
Probe = Callable[[dict[str, torch.Tensor]], Any]


LOG_BATCH = 32  # logged steps evaluated together, at most
LOG_FLOPS = 1e9  # ... and at most this much training between a batch's first and last step: 20 ms at 50 GFLOP/s
LOG_BYTES = 8 << 20  # ... and the weights kept for them take at most this much memory (per run: a server holds many)


def step_flops(cfg: Config) -> float:
    """About the FLOPs of one training step of cfg (forward and gradient matmuls, every seed)."""
    per_sample = cfg.m * (cfg.d + (cfg.depth - 1) * cfg.m)
    return 4.0 * cfg.seeds * cfg.batch_size * per_sample * (2 if cfg.linearized else 1)


def batch_cap(cfg: Config, params0: Params) -> int:
    """How many logged steps a batch holds: a function of the run's configuration alone, never of timing.

    The batch's size changes how the test pass's matmuls are blocked, hence its float32 rounding (1e-7 in the
    test loss): a cap read off the clock made two runs of one configuration differ in their last bits.
    Example: the live page's feature default logs every step of 4.8 MFLOP: 32 logged steps a batch; its kernel
    default (123 MFLOP a step): 8; a run logging every 13th step of 246 MFLOP: 1, each step reported at once.
    """
    per_step = sum(v.numel() * v.element_size() for v in params0.values())
    by_time = int(LOG_FLOPS // max(step_flops(cfg) * cfg.every, 1.0))
    return max(1, min(LOG_BATCH, LOG_BYTES // max(per_step, 1), by_time))


class Logs:
    """The logged steps of a run, evaluated in batches: one snapshot costs less than one training step.

    A logged step only copies the weights and the training loss into buffers. The test-set evaluation, the
    metrics and the transfer to Python then run once for a batch of logged steps, as one computation over
    (steps x seeds): a batch of small per-step passes costs mostly dispatch, which the batch pays once.
    A batch is evaluated when it holds `batch_cap` steps (at most LOG_BATCH, and no more than about 20 ms of
    training: a run whose logged steps are costly, or far apart, reports each one at once, so a live chart
    never waits) and at the run's end. The first logged step is reported at once, so a run's first points do
    not wait for a batch. Where batches fall depends on the configuration only: a run's numbers are the same
    bit for bit every time.
    """

    def __init__(self, cfg: Config, fn, params0: Params, data: Data, t0: float, probe: Probe | None):
        self.cfg, self.fn, self.params0, self.data, self.t0, self.probe = cfg, fn, params0, data, t0, probe
        self.cap = batch_cap(cfg, params0)
        self.weights: dict[str, torch.Tensor] = {}
        self.losses: torch.Tensor | None = None
        self.steps: list[tuple[int, float]] = []  # (step, elapsed) of each kept step
        self.first = True  # no batch evaluated yet

    def add(self, t: int, params: Params, loss: torch.Tensor) -> None:
        if not self.weights:
            self.weights = {k: torch.empty((self.cap, *v.shape), dtype=v.dtype, device=v.device)
                            for k, v in params.items()}
            self.losses = torch.empty((self.cap, *loss.shape), dtype=loss.dtype, device=loss.device)
        i = len(self.steps)
        for k, v in params.items():
            self.weights[k][i].copy_(v)
        self.losses[i].copy_(loss)
        self.steps.append((t, time.perf_counter() - self.t0))

    def due(self) -> bool:
        """Whether to evaluate now: the batch is full, or it holds the run's first logged step."""
        return len(self.steps) >= self.cap or (self.first and bool(self.steps))

    @torch.no_grad()
    def flush(self, bad: torch.Tensor | None = None) -> list[Snapshot]:
        """The kept steps' snapshots, in order (bad: the seeds that diverged at the last of them)."""
        n = len(self.steps)
        if not n:
            return []
        cfg, data, r = self.cfg, self.data, self.cfg.seeds
        w = {k: v[:n] for k, v in self.weights.items()}  # (n, R, ...)
        if cfg.linearized:  # its tangent model is built around R seeds' W0: one evaluation per step
            f_test = torch.stack([self.fn({k: v[i] for k, v in w.items()}, data.x_test) for i in range(n)])
        else:  # any other evaluation treats (steps x seeds) as seeds: one pass for the whole batch
            f_test = self.fn({k: v.reshape(n * r, *v.shape[2:]) for k, v in w.items()}, data.x_test).view(n, r, -1)
        whole, layers = metrics.distances(w, self.params0, cfg.m)  # (n, R), (L, n, R)
        rel, rest = metrics.neuron_energy(w["W1"][:, 0], cfg.k)  # seed 0: (n, m) each
        rows = torch.stack([self.losses[:n], metrics.logistic(f_test, data.y_test),
                            metrics.error(f_test, data.y_test), whole, metrics.feature_share(w["W1"], cfg.k)])
        rows = rows.double().cpu().numpy()  # (5, n, R)
        layers_np = layers.double().cpu().numpy()  # (L, n, R)
        if bad is not None:  # a diverged seed's numbers are meaningless: say nan rather than a lucky 0 error
            mask = bad.cpu().numpy()
            rows[:, -1, mask], layers_np[:, -1, mask] = np.nan, np.nan
        means, layer_means = rows.mean(-1).tolist(), layers_np.mean(-1).tolist()  # (5, n), (L, n)
        per_seed, layers_seeds = rows.tolist(), layers_np.tolist()
        rel_l, rest_l = rel.double().cpu().tolist(), rest.double().cpu().tolist()
        names = ("train_loss", "test_loss", "test_error", "distance", "feature_share")
        out = []
        for i, (t, elapsed) in enumerate(self.steps):
            diverged = bad is not None and i == n - 1
            out.append(Snapshot(
                step=t, samples=t * cfg.batch_size,
                **{name: means[j][i] for j, name in enumerate(names)},
                **{f"{name}_seeds": tuple(per_seed[j][i]) for j, name in enumerate(names)},
                distance_layers=tuple(row[i] for row in layer_means),
                distance_layers_seeds=tuple(tuple(row[i]) for row in layers_seeds),
                neuron_relevant=tuple(rel_l[i]), neuron_rest=tuple(rest_l[i]),
                diverged=diverged, diverged_step=t if diverged else None,
                diverged_seeds=tuple(int(j) for j in torch.nonzero(bad).flatten()) if diverged else (),
                final=diverged or t == cfg.steps, elapsed=elapsed,
                probe=self.probe({k: v[i] for k, v in w.items()}) if self.probe is not None else None))
        self.steps, self.first = [], False
        return out
