"""Sweeps: a grid of configurations in, a tidy pandas DataFrame out (one row per run, seed and logged step)."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence

import pandas as pd

from sharp.config import Config, preset
from sharp.train import Snapshot, train

METRICS = ("train_loss", "test_loss", "test_error", "distance", "feature_share")


def tidy(cfg: Config, snaps: Sequence[Snapshot]) -> pd.DataFrame:
    """Rows (seed, step) for one run: every config field, the member index `seed`, and the metrics.

    The config's base seed is in the column `base_seed`; `seed` is the ensemble member r = 0..R-1.
    """
    fields = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("seed", "seeds")}
    rows = []
    for s in snaps:
        for r in range(cfg.seeds):
            row = {**fields, "base_seed": cfg.seed, "seeds": cfg.seeds, "seed": r, "step": s.step,
                   "samples": s.samples, "diverged": s.diverged}
            row.update({mt: getattr(s, f"{mt}_seeds")[r] for mt in METRICS})
            rows.append(row)
    return pd.DataFrame(rows)


def sweep(configs: Iterable[Config], progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Train every configuration and stack their tidy frames.

    Args:
        configs: the grid.
        progress: called with a one-line message after each run.
    Returns:
        The tidy DataFrame of all runs (see `tidy`).
    Example:
        >>> sweep([preset("feature", d=d, steps=5) for d in (10, 20)]).groupby("d").test_error.min()
    """
    configs = list(configs)
    frames = []
    for i, cfg in enumerate(configs):
        frames.append(tidy(cfg, list(train(cfg))))
        if progress:
            progress(f"[{i + 1}/{len(configs)}] d={cfg.d} n={cfg.n} m={cfg.m} depth={cfg.depth} done")
    return pd.concat(frames, ignore_index=True)


def figure1_configs(ds: Sequence[int], seeds: int = 10, steps: int = 12, seed: int = 0, m: int = 20,
                    eta: float = 20.0, n_test: int = 4000) -> list[Config]:
    """Poster Fig 1: feature regime, online batches of 6d, eta = m = 20, every step logged."""
    return [preset("feature", d=d, n=6 * d, online=True, m=m, eta=eta, steps=steps, every=1, seeds=seeds,
                   seed=seed, n_test=n_test) for d in ds]


def figure1(ds: Sequence[int], progress: Callable[[str], None] | None = None, **kw) -> pd.DataFrame:
    """Poster Fig 1 as a tidy DataFrame (columns include d, seed, step, test_error, distance)."""
    return sweep(figure1_configs(ds, **kw), progress=progress)


def zero_step_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per d: ceil(ln d) beside each seed's first zero-test-error step (nan if never within the run)."""
    rows = []
    for d, g in df.groupby("d"):
        firsts = []
        for _, gs in g.groupby("seed"):
            hit = gs.loc[gs.test_error == 0, "step"]
            firsts.append(float(hit.min()) if len(hit) else math.nan)
        rows.append({"d": int(d), "ceil(ln d)": math.ceil(math.log(d)),
                     "median first zero-error step": pd.Series(firsts).median(),
                     "per seed": " ".join("-" if math.isnan(f) else str(int(f)) for f in firsts)})
    return pd.DataFrame(rows)
