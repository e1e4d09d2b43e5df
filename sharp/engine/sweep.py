"""Sweeps: a grid of configurations in, a tidy pandas DataFrame out (one row per run, seed and logged step).

One function, `sweep`, serves the CLI (`python -m sharp sweep`) and the paper pages. It reads finished
runs from the disk cache (sharp.engine.store), estimates the rest of the work and refuses a grid too large for
this machine before it starts, reports progress after every logged step, and stops between steps when
asked to (raising `Cancelled`, which carries the runs finished so far).
"""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sharp.engine import store as disk
from sharp.engine.config import Config, ConfigError
from sharp.engine.snapshot import Snapshot
from sharp.engine.train import train

METRICS = ("train_loss", "test_loss", "test_error", "distance", "feature_share")

# Work model, calibrated on one CPU thread (tests/test_sweep.py checks its shape, `plan` reports it):
# about 8e9 multiply-adds per second, plus a fixed Python cost per SGD step and per logged evaluation.
MACS_PER_SECOND = 8e9
STEP_OVERHEAD_S = (0.0005, 0.002)  # closed-form two-layer step, autograd step (deep or linearized)
LOG_OVERHEAD_S = 0.0005
# Default cap on the estimated compute of one sweep (seconds on this machine); pages pass their own.
MAX_SECONDS = 3600.0


# Where `sweep` runs a grid: None = here. The app sets a Dask runner (sharp.distributed) for the length of one
# page computation with `runs_on`, so the paper pages' many entry points need no extra argument.
_RUNNER: ContextVar[Callable[..., pd.DataFrame] | None] = ContextVar("sharp_sweep_runner", default=None)


@contextmanager
def runs_on(runner: Callable[..., pd.DataFrame] | None) -> Iterator[None]:
    """Within the block, `sweep` hands its grid and keywords to runner (None: runs here).

    Example:
        >>> with runs_on(functools.partial(sharp.distributed.sweep_dask, client=client)): paper.samples(...)
    """
    token = _RUNNER.set(runner)
    try:
        yield
    finally:
        _RUNNER.reset(token)


class Cancelled(Exception):
    """The sweep was asked to stop; `partial` holds the tidy frame of the runs that finished."""

    def __init__(self, partial: pd.DataFrame):
        self.partial = partial
        super().__init__(f"cancelled after {partial.groupby('run').ngroups if len(partial) else 0} finished runs")


class TooBig(ValueError):
    """A grid whose estimated compute exceeds the cap; the message says what to narrow."""


def seconds(cfg: Config) -> float:
    """Estimated wall-clock seconds of one run on one CPU thread (the work model above).

    Example:
        >>> seconds(preset("feature", d=100, steps=12)) < 1
        True
    """
    width = cfg.d * cfg.m + (cfg.depth - 1) * cfg.m * cfg.m  # multiply-adds per sample per forward pass
    autograd = cfg.depth > 1 or cfg.linearized
    per_step = cfg.seeds * cfg.batch_size * width * 3 * (2 if autograd else 1)  # forward + two backward matmuls
    per_log = cfg.seeds * cfg.n_test * width
    logs = cfg.steps // cfg.every + 2
    return ((cfg.steps * per_step + logs * per_log) / MACS_PER_SECOND
            + cfg.steps * STEP_OVERHEAD_S[autograd] + logs * LOG_OVERHEAD_S)


@dataclass(frozen=True)
class Plan:
    """What a sweep will do before it starts."""

    runs: int  # configurations in the grid
    cached: int  # of which already on disk
    seconds: float  # estimated compute for the rest
    largest: Config | None  # the most expensive run still to compute

    def describe(self) -> str:
        return (f"{self.runs} runs, {self.cached} cached, about {_fmt_s(self.seconds)} of compute left")


def _fmt_s(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h"


def plan(configs: Sequence[Config], use_cache: bool = True) -> Plan:
    """Count the runs, the cached ones, and estimate the seconds of compute left."""
    todo = [c for c in configs if not (use_cache and disk.path(c).exists())]
    return Plan(len(configs), len(configs) - len(todo), sum(seconds(c) for c in todo),
                max(todo, key=seconds) if todo else None)


def check(p: Plan, max_seconds: float) -> None:
    """Raise TooBig, naming what to narrow, when the plan's estimated compute exceeds max_seconds."""
    if p.seconds <= max_seconds:
        return
    big = p.largest
    raise TooBig(
        f"this grid needs about {_fmt_s(p.seconds)} of compute here ({p.runs} runs, {p.cached} cached), above "
        f"the {_fmt_s(max_seconds)} cap. Narrow it: fewer values of d, n, m or depth, fewer seeds or steps "
        f"(the largest run is d={big.d}, n={big.n}, m={big.m}, depth={big.depth}, seeds={big.seeds}, "
        f"steps={big.steps}, about {_fmt_s(seconds(big))}), or run it on a Dask cluster "
        f"(python -m sharp sweep ... --scheduler local:N or tcp://host:8786).")


def grid(base: Config, **axes: Sequence[Any]) -> list[Config]:
    """Every combination of the axes applied to base (later axes vary fastest).

    Example:
        >>> [c.d for c in grid(preset("feature"), d=[25, 50], n=[100])]
        [25, 50]
    """
    names = list(axes)
    return [dataclasses.replace(base, **dict(zip(names, combo))) for combo in itertools.product(*axes.values())]


def tidy(cfg: Config, snaps: Sequence[Snapshot]) -> pd.DataFrame:
    """Rows (seed, step) for one run: every config field, the member index `seed`, and the metrics. The one tidy
    schema: a sweep's frame, the store's files and the live page's CSV (sharp.experiments.race.tidy) are this.

    The config's base seed is in the column `base_seed`; `seed` is the ensemble member r = 0..R-1; `diverged`
    says whether that member's run blew up (at its last row; its metrics there are nan).
    """
    fields = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("seed", "seeds")}
    rows = []
    for s in snaps:
        for r in range(cfg.seeds):
            row = {**fields, "base_seed": cfg.seed, "seeds": cfg.seeds, "seed": r, "step": s.step,
                   "samples": s.samples, "diverged": r in s.diverged_seeds}
            row.update({mt: getattr(s, f"{mt}_seeds")[r] for mt in METRICS})
            rows.append(row)
    return pd.DataFrame(rows)


Progress = Callable[[float, float, str], None]


def _run(cfg: Config, tick: Callable[[int], None], cancel: Callable[[], bool]) -> pd.DataFrame:
    snaps = []
    for s in train(cfg):
        snaps.append(s)
        tick(s.step)
        if cancel() and not s.final:
            raise _Stop
    return tidy(cfg, snaps)


class _Stop(Exception):
    pass


def sweep(configs: Iterable[Config], progress: Callable[[str], None] | None = None, *,
          on_progress: Progress | None = None, cancel: Callable[[], bool] | None = None,
          use_cache: bool = True, max_seconds: float | None = MAX_SECONDS) -> pd.DataFrame:
    """Train every configuration (or read it from the disk cache) and stack their tidy frames.

    Args:
        configs: the grid (see `grid`).
        progress: called with a one-line message after each run (the CLI prints it).
        on_progress: called as (done, total, message) after every logged step, in estimated seconds of
            work, so done / total is the fraction finished (a page's progress bar).
        cancel: polled after every logged step; when it returns True the sweep stops and raises
            `Cancelled` carrying the finished runs (each finished run is already in the cache).
        use_cache: read and write the disk cache (sharp.engine.store); False recomputes everything.
        max_seconds: refuse (TooBig) a grid whose uncached runs need more estimated seconds; None = no cap.
    Returns:
        The tidy DataFrame of all runs (see `tidy`) with a column `run`, the run's index in the grid.
    Example:
        >>> sweep(grid(preset("feature", steps=5), d=[10, 20])).groupby("d").test_error.min()
    """
    configs = list(configs)
    if not configs:
        raise ConfigError("grid", "empty", "at least one configuration")
    runner = _RUNNER.get()
    if runner is not None:
        with runs_on(None):  # a runner that falls back to this machine calls sweep again
            return runner(configs, progress=progress, on_progress=on_progress, cancel=cancel, use_cache=use_cache,
                          max_seconds=max_seconds)
    p = plan(configs, use_cache)
    if max_seconds is not None:
        check(p, max_seconds)
    cancel = cancel or (lambda: False)
    cost = [seconds(c) for c in configs]
    total, done = float(sum(cost)), 0.0
    frames = []
    for i, cfg in enumerate(configs):
        label = f"[{i + 1}/{len(configs)}] d={cfg.d} n={cfg.n} m={cfg.m} depth={cfg.depth}"

        def tick(step: int, base: float = done, i: int = i, label: str = label) -> None:
            if on_progress:
                on_progress(base + cost[i] * step / max(configs[i].steps, 1), total, f"{label} step {step}")

        try:
            frame, hit = disk.cached(cfg, lambda c, tick=tick: _run(c, tick, cancel), use=use_cache)
        except _Stop:
            raise Cancelled(_stack(frames)) from None
        frames.append(frame.assign(run=i))
        done += cost[i]
        if on_progress:
            on_progress(done, total, f"{label} {'cached' if hit else 'done'}")
        if progress:
            progress(f"{label} {'cached' if hit else 'done'}")
        if cancel() and i + 1 < len(configs):
            raise Cancelled(_stack(frames))
    return _stack(frames)


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
