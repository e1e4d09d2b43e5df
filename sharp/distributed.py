"""Sweeps beyond one machine: the same grid as `sharp.sweep.sweep`, one Dask task per configuration.

Each task trains one configuration (or reads it from the worker's disk cache) and returns its tidy frame;
the client stacks the frames in grid order and stores each one in its own cache too, so the pages find
the results afterwards. Seeds are still batched inside each task: Dask spreads configurations, not seeds.

    python -m sharp sweep --regime kernel --d 25,50,100,200 --n 600,2400 --scheduler tcp://head:8786 --out x.parquet
    python -m sharp sweep --regime kernel --d 25,50 --n 150,300 --scheduler local:4 --out x.csv   # 4 local workers
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from sharp import cache as disk
from sharp.config import Config, ConfigError
from sharp.sweep import TooBig, plan, tidy
from sharp.train import train


def _task(cfg: Config, use_cache: bool) -> pd.DataFrame:
    """Runs on a worker: the configuration's tidy frame, through the worker's own cache."""
    from sharp.runtime import engine_threads

    engine_threads(1)  # one thread per task: a worker runs as many tasks as it has threads
    frame, _ = disk.cached(cfg, lambda c: tidy(c, list(train(c))), use=use_cache)
    return frame


def parse_scheduler(text: str) -> tuple[str | None, int]:
    """'local:N' -> (None, N) for N local worker processes; anything else is a scheduler address.

    Example:
        >>> parse_scheduler("local:4"), parse_scheduler("tcp://head:8786")
        ((None, 4), ('tcp://head:8786', 0))
    """
    if text.startswith("local:"):
        try:
            n = int(text.removeprefix("local:"))
        except ValueError:
            n = 0
        if not 1 <= n <= 256:
            raise ConfigError("scheduler", text, "local:N with N from 1 to 256 workers, or a scheduler address")
        return None, n
    if "://" not in text:
        raise ConfigError("scheduler", text, "local:N, or a scheduler address such as tcp://host:8786")
    return text, 0


def sweep_dask(configs: Sequence[Config], client=None, *, progress: Callable[[str], None] | None = None,
               use_cache: bool = True, max_seconds: float | None = None) -> pd.DataFrame:
    """Train a grid on a Dask cluster and return the same tidy frame as `sharp.sweep.sweep`.

    Args:
        configs: the grid.
        client: a dask.distributed.Client (the caller owns it).
        progress: called with a one-line message as each run finishes (in completion order).
        use_cache: read and write the disk caches (the workers' and this process's).
        max_seconds: refuse (TooBig) a grid whose estimated compute, divided over the cluster's threads,
            exceeds this; None = no cap.
    Returns:
        The tidy DataFrame of all runs, in grid order, with the column `run`.
    Example:
        >>> with Client(LocalCluster(n_workers=2)) as client: df = sweep_dask(grid(...), client)
    """
    from dask.distributed import as_completed

    configs = list(configs)
    if not configs:
        raise ConfigError("grid", "empty", "at least one configuration")
    p = plan(configs, use_cache)
    threads = max(1, sum(client.nthreads().values()))
    if max_seconds is not None and p.seconds / threads > max_seconds:
        raise TooBig(f"this grid needs about {p.seconds / threads:.0f} s per worker thread on {threads} threads, "
                     f"above the {max_seconds:.0f} s cap: narrow it or add workers")
    futures = client.map(_task, configs, use_cache=use_cache, pure=False)
    index = {f.key: i for i, f in enumerate(futures)}
    frames: list[pd.DataFrame | None] = [None] * len(configs)
    for done, (future, frame) in enumerate(as_completed(futures, with_results=True), start=1):
        i = index[future.key]
        if use_cache:
            disk.store(configs[i], frame)
        frames[i] = frame.assign(run=i)
        if progress:
            c = configs[i]
            progress(f"[{done}/{len(configs)}] d={c.d} n={c.n} m={c.m} depth={c.depth} done")
    return pd.concat(frames, ignore_index=True)
