"""The benchmark behind `python -m sharp bench`: the batched engine against a plain per-seed PyTorch loop.

Both sides do the same training work: the same Config, the same data (both call `make_data` and
`batches`), the same initial weights (`init_params`), the same logistic loss and plain SGD, the same number
of steps. The engine is `sharp.engine.train` exactly as the app runs it; the baseline is what one would write
first: one nn.Module per seed, autograd, torch.optim.SGD, a Python loop over seeds. Each side's clock runs
from the same start (data and weights included) to its last step; the engine also pays for its first and
last snapshots and the forward pass at the final step, so its figures are, if anything, understated.

FLOPs counted per step and seed (matmuls only): 2 B d m for the hidden layer W x, 2 B m for the readout
sum over a, and 2 B d m for dL/dW = (dL/dh)^T X; no gradient with respect to X is needed. Fig 1 also counts
its test evaluations (2 n_test d m + 2 n_test m per seed and logged step) and the last step's forward pass.

The logged-step rows time the live page's defaults trained with a snapshot at every step against one every
50 steps (training only, no process start-up), and say what one logged step costs in training steps.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sharp.engine.config import Config, preset
from sharp.engine.data import batches, make_data
from sharp.engine.nets import ACT, init_params, readout
from sharp.engine.threads import engine_threads
from sharp.engine.train import train
from sharp.experiments.fig1 import figure1, figure1_configs

FIG1_TARGET_S = 10.0  # the poster's Fig 1 (d = 25 to 1600, 10 seeds, 12 steps) reproduced within this, data included

class SeedNet(nn.Module):
    """One seed's two-layer network, written the ordinary way: f(x) = c * sigma(W x) . a."""

    def __init__(self, w0: torch.Tensor, cfg: Config):
        super().__init__()
        self.hidden = nn.Linear(cfg.d, cfg.m, bias=False)
        with torch.no_grad():
            self.hidden.weight.copy_(w0)
        self.register_buffer("a", readout(cfg.m))
        self.sigma, self.c = ACT[cfg.activation], cfg.c

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d) -> (B,)
        return self.c * (self.sigma(self.hidden(x)) @ self.a)


def baseline(cfg: Config) -> torch.Tensor:
    """Train cfg's seeds one nn.Module at a time with autograd and torch.optim.SGD.

    Args:
        cfg: a two-layer run (depth 1, not linearized) on the CPU.
    Returns:
        (steps, R) training losses, each on the batch of its step before that step's update.
    Example:
        >>> baseline(preset("feature", d=10, n=30, steps=3, seeds=2)).shape
        torch.Size([3, 2])
    """
    if cfg.depth != 1 or cfg.linearized:
        raise ValueError("the baseline is the two-layer network only")
    data, gens = make_data(cfg)
    w0 = init_params(cfg)["W1"]  # (R, m, d)
    nets = [SeedNet(w0[r], cfg) for r in range(cfg.seeds)]
    opts = [torch.optim.SGD(net.parameters(), lr=cfg.eta) for net in nets]
    stream = batches(cfg, data, gens)
    losses = []
    for _ in range(cfg.steps):
        x, y = next(stream)  # (R, B, d), (R, B)
        per_seed = []
        for r, (net, opt) in enumerate(zip(nets, opts)):
            opt.zero_grad(set_to_none=True)
            loss = F.softplus(-y[r] * net(x if cfg.shared else x[r])).mean()  # shared: one (B, d) batch
            loss.backward()
            opt.step()
            per_seed.append(loss.detach())
        losses.append(torch.stack(per_seed))
    return torch.stack(losses) if losses else torch.empty(0, cfg.seeds)


def engine(cfg: Config) -> torch.Tensor:
    """The same run through `sharp.engine.train`; (steps, R) training losses as in `baseline`.

    Example:
        >>> torch.allclose(engine(cfg), baseline(cfg), atol=1e-5)
        True
    """
    snaps = list(train(dataclasses.replace(cfg, every=1)))
    return torch.tensor([s.train_loss_seeds for s in snaps[:-1]]).reshape(cfg.steps, cfg.seeds)


def flops_per_step(cfg: Config) -> int:
    """Matmul FLOPs of one SGD step for all seeds (see the module docstring for what is counted)."""
    return cfg.seeds * cfg.batch_size * (4 * cfg.d * cfg.m + 2 * cfg.m)


def fig1_flops(cfgs: list[Config]) -> int:
    """Matmul FLOPs of the Fig 1 runs: their SGD steps, the last step's forward pass and every test evaluation.

    Example:
        >>> fig1_flops(figure1_configs([25], seeds=1, steps=0)) == 150 * 2 * 25 * 20 + 150 * 2 * 20 + 4000 * 2 * 21 * 20
        True
    """
    total = 0
    for c in cfgs:
        fwd = 2 * c.d * c.m + 2 * c.m  # per sample and seed
        total += c.seeds * (c.steps * c.batch_size * (fwd + 2 * c.d * c.m) + c.batch_size * fwd
                            + (c.steps // c.every + 1 + (c.steps % c.every > 0)) * c.n_test * fwd)
    return total


def matmul_peak(n: int = 4096, repeats: int = 3) -> float:
    """GFLOP/s of the best of `repeats` float32 (n, n) @ (n, n) torch matmuls on this machine, now."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up: thread pool and BLAS buffers
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _seconds(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


FIG1_PEAK = 0.6  # Fig 1's target share of the matmul peak
LOG_COST = 1.0  # a logged step may cost at most this many training steps


@dataclass(frozen=True)
class Case:
    """One benchmark setting and the targets it is held to."""

    name: str
    cfg: Config
    min_ratio: float  # engine steps/s over baseline steps/s
    min_peak: float = 0.0  # engine GFLOP/s over the measured matmul peak


@dataclass(frozen=True)
class Row:
    """One line of the table. Times are the best over the interleaved repeats."""

    case: str
    steps: int
    engine_s: float
    baseline_s: float
    gflop: float  # per run
    peak: float  # matmul GFLOP/s measured in the same run
    target: str
    passed: bool

    @property
    def ratio(self) -> float:
        return self.baseline_s / self.engine_s


@dataclass(frozen=True)
class Logged:
    """A run timed with a snapshot at every step and with one every `sparse` steps (training only)."""

    case: str
    steps: int
    sparse: int
    every1_s: float
    sparse_s: float

    @property
    def ratio(self) -> float:
        return self.every1_s / self.sparse_s

    @property
    def log_cost(self) -> float:
        """What one logged step costs on top of training, in training steps (the sparse run's mean step)."""
        extra_logs = (self.steps + 1) - (self.steps // self.sparse + 1)
        return (self.every1_s - self.sparse_s) / extra_logs / (self.sparse_s / self.steps)


@dataclass(frozen=True)
class Report:
    rows: tuple[Row, ...]
    fig1_s: float  # poster Fig 1 reproduction, wall seconds, data generation included
    fig1_target_s: float
    fig1_ds: tuple[int, ...]
    fig1_gflop: float  # the matmul work it must do (fig1_flops)
    fig1_peak: float  # matmul GFLOP/s, the best measured beside it
    logged: tuple[Logged, ...]
    threads: int
    load: tuple[float, float, float]  # 1, 5 and 15 minute load averages at the start
    quick: bool  # tiny sizes: the targets are not judged


def cases(quick: bool = False) -> list[Case]:
    """Booth size (the live page's default, feature regime) and a large kernel-regime run; tiny if quick.

    Both run on the CPU, like the baseline, whatever accelerator the machine has; n_test is the minimum
    because the test set is not part of the training work being compared.
    """
    common = dict(n_test=10, device="cpu")
    if quick:
        return [Case("booth", preset("feature", d=20, m=8, n=60, seeds=4, steps=5, every=5, **common), 8.0),
                Case("large", preset("kernel", d=32, m=64, n=96, seeds=2, steps=3, every=3, **common), 0.9, 0.6)]
    return [Case("booth", preset("feature", d=100, m=20, n=600, seeds=16, steps=200, every=200, **common), 8.0),
            Case("large", preset("kernel", d=400, m=2048, n=2400, seeds=4, steps=10, every=10, **common), 0.9, 0.6)]


def logged_cases(quick: bool = False) -> list[tuple[str, Config, int]]:
    """The live page's defaults (d = 50, n = 300, 4 seeds, n_test = 1000): (name, run with every = 1, sparse every).

    Deep and linearized runs are shorter (they train several times slower); the ratio does not depend on
    the number of steps.
    """
    live = dict(d=50, n=300, seeds=4, n_test=1000, every=1, device="cpu")
    kernel, feature = dict(m=512, eta=1.0), dict(m=20, eta=20.0)
    if quick:
        return [("kernel", preset("kernel", **{**live, "d": 10, "n": 30, "n_test": 50, "m": 16, "steps": 4}), 2)]
    return [("kernel", preset("kernel", steps=300, **kernel, **live), 50),
            ("feature", preset("feature", steps=300, **feature, **live), 50),
            ("kernel, depth 3, relu", preset("kernel", steps=30, depth=3, activation="relu", **kernel, **live), 15),
            ("feature, depth 3, relu", preset("feature", steps=300, depth=3, activation="relu", **feature, **live), 50),
            ("kernel, linearized", preset("kernel", steps=100, linearized=True, **kernel, **live), 50)]


def run(quick: bool = False, repeats: int = 5, progress: Callable[[str], None] | None = None) -> Report:
    """Measure every case, the matmul peak and the Fig 1 reproduction in one process.

    Engine and baseline alternate `repeats` times per case and the best time of each is kept, so that a
    burst of load from other processes does not decide the ratio.

    Args:
        quick: tiny sizes (seconds in all), for tests; the targets are then not meaningful.
        repeats: interleaved repetitions per case.
        progress: called with a one-line message after each measurement.
    Returns:
        The Report; `format_report` renders it.
    Example:
        >>> print(format_report(run(quick=True)))
    """
    say = progress or (lambda _msg: None)
    threads = engine_threads()
    load = os.getloadavg()
    n_peak = 256 if quick else 4096  # ~0.7 s a product: load hits it as it hits the engine
    peak = matmul_peak(n_peak)
    for case in cases(quick=True):  # warm-up, untimed: lazy imports and first-call costs on both sides
        list(train(case.cfg)), baseline(case.cfg)
    say(f"matmul peak {peak:.1f} GFLOP/s on {threads} thread(s)")
    best = []
    for case in cases(quick):
        t_eng, t_base = [], []
        for _ in range(max(1, repeats)):
            # the peak is re-measured beside every engine run and the best kept: other processes come and go
            peak = max(peak, matmul_peak(n_peak, repeats=2))
            t_eng.append(_seconds(lambda c=case.cfg: list(train(c))))
            t_base.append(_seconds(lambda c=case.cfg: baseline(c)))
            say(f"{case.name}: engine {t_eng[-1]:.3f} s, baseline {t_base[-1]:.3f} s, peak so far {peak:.1f}")
        best.append((case, min(t_eng), min(t_base)))
    ds = (10, 20) if quick else (25, 50, 100, 200, 400, 800, 1600)
    fig1_kw = dict(seeds=2 if quick else 10, steps=12)
    # Each d timed on its own, best of `repeats`, the peak beside each: a burst of load from other processes
    # then costs one repetition of one d, not the whole figure. (The sum is the whole sweep's work.)
    fig1_peak, fig1_best = 0.0, {d: math.inf for d in ds}
    for _ in range(1 if quick else max(1, min(repeats, 3))):
        fig1_peak = max(fig1_peak, matmul_peak(n_peak, repeats=2))
        for d in ds:
            fig1_best[d] = min(fig1_best[d], _seconds(lambda d=d: figure1([d], use_cache=False, **fig1_kw)))
        say(f"fig1: {sum(fig1_best.values()):.2f} s so far, peak so far {fig1_peak:.1f}")
    fig1_peak = max(fig1_peak, matmul_peak(n_peak, repeats=2))
    fig1_gflop = fig1_flops(figure1_configs(ds, **fig1_kw)) / 1e9
    logged = []
    for name, cfg, sparse in logged_cases(quick):
        sparse_cfg = dataclasses.replace(cfg, every=sparse)
        t1, ts = [], []
        for _ in range(1 if quick else 3):
            t1.append(_seconds(lambda c=cfg: list(train(c))))
            ts.append(_seconds(lambda c=sparse_cfg: list(train(c))))
        logged.append(Logged(name, cfg.steps, sparse, min(t1), min(ts)))
        say(f"logged {name}: every 1 {min(t1):.3f} s, every {sparse} {min(ts):.3f} s")
    rows = tuple(judge(case, e, b, peak) for case, e, b in best)  # all against the best peak of the whole run
    return Report(rows, sum(fig1_best.values()), FIG1_TARGET_S, ds, fig1_gflop, fig1_peak, tuple(logged), threads,
                  load, quick)


def judge(case: Case, engine_s: float, baseline_s: float, peak: float) -> Row:
    """The table's row for a case: passed when the engine is min_ratio times the baseline's speed or more, and
    reaches min_peak of the matmul peak (GFLOP/s).

    Example:
        >>> judge(cases()[0], engine_s=1.0, baseline_s=6.0, peak=50.0).passed
        True
    """
    gflop = flops_per_step(case.cfg) * case.cfg.steps / 1e9
    ok = baseline_s / engine_s >= case.min_ratio and gflop / engine_s >= case.min_peak * peak
    target = f">= {case.min_ratio:g}x" + (f", >= {case.min_peak:.0%} of peak" if case.min_peak else "")
    return Row(case.name, case.cfg.steps, engine_s, baseline_s, gflop, peak, target, ok)



def format_report(rep: Report) -> str:
    """The benchmark table as text (one row per case, then the Fig 1 line)."""
    head = (f"{'case':6} {'steps':>5} {'engine it/s':>11} {'baseline it/s':>13} {'ratio':>6} "
            f"{'engine GFLOP/s':>14} {'peak GFLOP/s':>12} {'% peak':>6}  {'target':32} result")
    lines = [f"threads: {rep.threads}   load average at start: " + " ".join(f"{v:.2f}" for v in rep.load)
             + ("   (--quick: tiny sizes, targets not judged)" if rep.quick else ""), head, "-" * len(head)]

    def verdict(ok: bool) -> str:
        return "-" if rep.quick else "PASS" if ok else "FAIL"

    for r in rep.rows:
        lines.append(f"{r.case:6} {r.steps:5d} {r.steps / r.engine_s:11.1f} {r.steps / r.baseline_s:13.1f} "
                     f"{r.ratio:6.2f} {r.gflop / r.engine_s:14.4g} {r.peak:12.1f} {r.gflop / r.engine_s / r.peak:6.0%}"
                     f"  {r.target:32} {verdict(r.passed)}")
    ds = ",".join(str(d) for d in rep.fig1_ds)
    rate = rep.fig1_gflop / rep.fig1_s
    ok = rep.fig1_s < rep.fig1_target_s and rate >= FIG1_PEAK * rep.fig1_peak
    lines.append(f"fig1   Fig 1 reproduction (d = {ds}, 12 steps, data and test evaluations included): "
                 f"{rep.fig1_s:.2f} s, {rep.fig1_gflop:.1f} GFLOP, {rate:.1f} GFLOP/s, peak {rep.fig1_peak:.1f}, "
                 f"{rate / rep.fig1_peak:.0%} of peak  target >= {FIG1_PEAK:.0%} of peak and < {rep.fig1_target_s:g} s"
                 f"  {verdict(ok)}")
    head = (f"{'logged steps (live defaults)':28} {'steps':>5} {'every 1 s':>9} {'sparse s':>9} {'ratio':>6} "
            f"{'one log, in steps':>17}  target")
    lines += ["", head, "-" * len(head)]
    for g in rep.logged:
        lines.append(f"{g.case:28} {g.steps:5d} {g.every1_s:9.3f} {g.sparse_s:9.3f} {g.ratio:6.2f} "
                     f"{g.log_cost:17.2f}  <= {LOG_COST:g} step  {verdict(g.log_cost <= LOG_COST)}"
                     f"   (sparse: every {g.sparse})")
    return "\n".join(lines)
