"""The paper's claims as experiments: the grids behind the paper pages and the numbers they summarize.

Each experiment is a grid of configurations handed to `sharp.engine.sweep.sweep` (so it is cached run by run)
plus a pure summary of the tidy frame. Pages call these; the theory's rates at given settings (the poster's
Tables 1 and 2, quoted in docs/science.md, "What it reproduces") are in `table1_at` and `table2_at`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sharp.engine.config import Config, preset
from sharp.engine.sweep import sweep
from sharp.experiments.fig1 import hit_summary, reach_text
from sharp.experiments.fit import fit_slope


def _run(labelled: list[tuple[dict[str, Any], Config]], **sweep_kw: Any) -> pd.DataFrame:
    """Sweep the distinct configurations once and attach each label row to its run's frame."""
    distinct = list(dict.fromkeys(cfg for _, cfg in labelled))
    df = sweep(distinct, **sweep_kw)
    index = {cfg: i for i, cfg in enumerate(distinct)}
    parts = [df[df.run == index[cfg]].assign(**labels) for labels, cfg in labelled]
    return pd.concat(parts, ignore_index=True)


# --- iterations to zero error against d (Table 2, iteration column) ---

def iterations_configs(ds: Sequence[int], seeds: int = 3, feature_steps: int = 12, kernel_steps: int = 150,
                       kernel_m: int = 512, n_test: int = 1000, seed: int = 0) -> list[tuple[dict, Config]]:
    """Both regimes on the same online stream (batches of 6d, same seeds), every step logged."""
    out = []
    for d in ds:
        common = dict(d=d, n=6 * d, online=True, every=1, seeds=seeds, seed=seed, n_test=n_test)
        out.append(({"regime": "feature"}, preset("feature", steps=feature_steps, **common)))
        out.append(({"regime": "kernel"}, preset("kernel", m=kernel_m, steps=kernel_steps, **common)))
    return out


def iterations(ds: Sequence[int], sweep_kw: dict | None = None, **kw: Any) -> pd.DataFrame:
    """The tidy frame of `iterations_configs` with a `regime` column."""
    return _run(iterations_configs(ds, **kw), **(sweep_kw or {}))


def iteration_summary(df: pd.DataFrame, threshold: float = 0.0) -> pd.DataFrame:
    """Per regime and d: the first step with test error <= threshold over seeds (`sharp.experiments.fig1.hit_summary`).

    Returns:
        Columns regime, d, median, median_text, lo, hi, reached (seeds that got there), seeds, cap (the step
        budget), ceil_ln_d. A seed that never got there is censored at the cap: it counts in the median as
        later than the cap, so when half or more seeds never got there the median is unknown (inf, "> cap"),
        and lo and hi count it at the cap.
    Example:
        >>> iteration_summary(iterations([25], seeds=3)).median_text.tolist()  # feature, kernel
        ['3', '23']
    """
    s = hit_summary(df, by=("regime", "d"), threshold=threshold).rename(columns={"horizon": "cap"})
    s["ceil_ln_d"] = [math.ceil(math.log(d)) for d in s.d]
    return s[["regime", "d", "median", "median_text", "lo", "hi", "reached", "seeds", "cap", "ceil_ln_d"]]


# --- sample complexity: final test error over (d, n) with a fixed training set (Table 2, sample column) ---

def samples_configs(ds: Sequence[int], ns: Sequence[int], seeds: int = 2, feature_steps: int = 200,
                    kernel_steps: int = 300, kernel_m: int = 512, n_test: int = 1000,
                    seed: int = 0) -> list[tuple[dict, Config]]:
    """Each (d, n) in both regimes, full-batch on a fixed set of n, only the start and end logged."""
    out = []
    for d in ds:
        for n in ns:
            common = dict(d=d, n=n, seeds=seeds, seed=seed, n_test=n_test)
            out.append(({"regime": "feature"}, preset("feature", steps=feature_steps, every=feature_steps,
                                                      **common)))
            out.append(({"regime": "kernel"}, preset("kernel", m=kernel_m, steps=kernel_steps,
                                                     every=kernel_steps, **common)))
    return out


def samples(ds: Sequence[int], ns: Sequence[int], sweep_kw: dict | None = None, **kw: Any) -> pd.DataFrame:
    """The tidy frame of `samples_configs` with a `regime` column."""
    return _run(samples_configs(ds, ns, **kw), **(sweep_kw or {}))


def final_table(df: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean over seeds of the last logged step's metrics, per group (e.g. regime, d, n).

    A seed that diverged has nan metrics (see sharp.engine.train) and is left out of the means; the column
    `diverged` is the share of such seeds, so a page can flag the cell.
    """
    last = df[df.step == df.groupby(["run", "seed"]).step.transform("max")]
    last = last.assign(diverged=last.test_error.isna().astype(float))
    cols = ["test_error", "test_loss", "train_loss", "distance", "diverged"]
    return last.groupby(list(by), as_index=False)[cols].mean()


# --- deep nets in the kernel regime (Table 1) ---

DEEP_TASK = dict(d=8, k=2, activation="softplus", eta=2.0)


def deep_configs(depths: Sequence[int], ms: Sequence[int], ns: Sequence[int], m0: int = 128, n0: int = 200,
                 steps_per_n: float = 1.0, seeds: int = 2, n_test: int = 1000, seed: int = 0,
                 **task: Any) -> list[tuple[dict, Config]]:
    """Kernel regime (NTK scale) on XOR with a smooth activation: an n-sweep at width m0 and an m-sweep at n0.

    Training runs full batch for steps = steps_per_n * n (the theory's horizon grows with n: eta*T ~ n),
    so the training loss is driven down as n grows rather than frozen by a fixed step budget.
    """
    task = {**DEEP_TASK, **task}
    out = []
    for L in depths:
        for n in ns:
            out.append(({"axis": "n", "L": L}, _deep(L, m0, n, steps_per_n, seeds, n_test, seed, task)))
        for m in ms:
            out.append(({"axis": "m", "L": L}, _deep(L, m, n0, steps_per_n, seeds, n_test, seed, task)))
    return out


def _deep(L, m, n, steps_per_n, seeds, n_test, seed, task) -> Config:
    steps = max(1, round(steps_per_n * n))
    return preset("kernel", depth=L, m=m, n=n, steps=steps, every=steps, seeds=seeds, n_test=n_test, seed=seed,
                  **task)


def deep(depths: Sequence[int], ms: Sequence[int], ns: Sequence[int], sweep_kw: dict | None = None,
         **kw: Any) -> pd.DataFrame:
    """The tidy frame of `deep_configs` with columns axis ("n" or "m") and L."""
    return _run(deep_configs(depths, ms, ns, **kw), **(sweep_kw or {}))


def deep_slopes(table: pd.DataFrame) -> pd.DataFrame:
    """Per depth L, the fitted log-log slopes of final test loss against n (n-sweep) and against m (m-sweep)."""
    rows = []
    for L, g in table.groupby("L"):
        gn, gm = g[g.axis == "n"], g[g.axis == "m"]
        rows.append({"L": int(L),
                     "slope vs n": fit_slope(gn.n, gn.test_loss).slope,
                     "slope vs m": fit_slope(gm.m, gm.test_loss).slope})
    return pd.DataFrame(rows)


def kernel_ball(table: pd.DataFrame) -> pd.DataFrame:
    """One plain reading of the poster's kernel-regime condition ||W - W0|| <= m^{O(1/L)}, per row of a deep-net
    table: the absolute distance from init and the radius m^(1/L) (the O(1/L)'s constant is not given).

    The frame's distance is relative to ||W0|| over the effective weights (sharp.engine.metrics), whose norm is
    about sqrt(L m): every layer's entries have variance 1 / fan-in, so each layer's squared norm is about m.

    Returns:
        The table with columns absolute (distance * sqrt(L m)), radius (m^(1/L)) and inside (absolute <= radius).
    Example:
        >>> kernel_ball(pd.DataFrame({"L": [2], "m": [64], "distance": [0.5]})).absolute.item()
        5.656...
    """
    t = table.copy()
    t["absolute"] = t.distance * np.sqrt(t.L * t.m)
    t["radius"] = t.m ** (1.0 / t.L)
    t["inside"] = t.absolute <= t.radius
    return t


# --- the theory's numbers for given settings ---

def table2_at(d: int) -> pd.DataFrame:
    """Table 2 evaluated at dimension d, constants dropped (orders of magnitude of upper bounds, not predictions)."""
    kernel, feature = "kernel regime (earlier analyses, upper bounds)", "feature learning (this paper, upper bounds)"
    return pd.DataFrame([
        {"": "width", kernel: f"poly(d), e.g. d^2 = {d * d:,}", feature: "constant (m = 20 here)"},
        {"": "iterations", kernel: f"~ d^2 = {d * d:,}", feature: f"ceil(ln d) = {math.ceil(math.log(d))}"},
        {"": "samples", kernel: f"~ d^2 = {d * d:,}", feature: f"~ d = {d}"},
    ])


def table1_at(m: int, n: int, L: int) -> pd.DataFrame:
    """Table 1's test-loss bound shapes at (m, n), constants e^O(L) / gamma^2 dropped."""
    return pd.DataFrame([
        {"": "Chen et al. 2021 (earlier analysis, upper bound)", "test-loss bound shape": "sqrt(m / n)",
         "value": math.sqrt(m / n)},
        {"": "this paper (upper bound)", "test-loss bound shape": "1 / n", "value": 1 / n},
        {"": f"kernel-ball radius at depth L = {L}", "test-loss bound shape": "m^(1/L)", "value": m ** (1 / L)},
    ])


def sample_edges(table: pd.DataFrame, target: float = 0.02) -> pd.DataFrame:
    """Per d: the smallest n whose mean final test error is <= target, per regime, beside d and d^2."""
    rows = []
    for d, g in table.groupby("d"):
        row = {"d": int(d), "d^2": int(d) ** 2}
        for regime, gr in g.groupby("regime"):
            ok = gr[gr.test_error <= target].n
            row[f"{regime}: smallest n"] = int(ok.min()) if len(ok) else None
            power = 2 if regime == "kernel" else 1  # compare each regime with its own predicted growth
            row[f"{regime}: n / d^{power}"] = round(ok.min() / d ** power, 2) if len(ok) else None
        rows.append(row)
    return pd.DataFrame(rows)


# --- the theory page's live measurements ---

def theory_configs(d: int, m: int, n: int, L: int, seeds: int = 3, seed: int = 0) -> list[tuple[dict, Config]]:
    """Four runs behind the theory page: Fig 1's online run at d, both regimes on a fixed set of n at d,
    and the deep kernel-regime run of the Table 1 page at (m, n, L)."""
    fixed = dict(d=d, n=n, seeds=seeds, seed=seed, n_test=1000)
    return [
        ({"exp": "online"}, preset("feature", d=d, n=6 * d, online=True, steps=12, every=1, seeds=seeds, seed=seed,
                                   n_test=2000)),
        ({"exp": "fixed-feature"}, preset("feature", steps=200, every=200, **fixed)),
        ({"exp": "fixed-kernel"}, preset("kernel", m=512, steps=300, every=300, **fixed)),
        ({"exp": "deep"}, deep_configs([L], [], [n], m0=m, seeds=seeds, seed=seed)[0][1]),
    ]


def theory(d: int, m: int, n: int, L: int, sweep_kw: dict | None = None, **kw: Any) -> pd.DataFrame:
    """The tidy frame of `theory_configs` with a column `exp`."""
    return _run(theory_configs(d, m, n, L, **kw), **(sweep_kw or {}))


def theory_measured(df: pd.DataFrame, d: int, m: int, n: int, L: int) -> pd.DataFrame:
    """Theory beside measurement at (d, m, n, L): one row per claim."""
    online = df[df.exp == "online"]
    hits = hit_summary(online, by=()).iloc[0]
    fin = final_table(df, ["exp"]).set_index("exp")
    deep_row = fin.loc["deep"]
    ball = kernel_ball(pd.DataFrame({"L": [L], "m": [m], "distance": [deep_row.distance]})).iloc[0]
    ln_d = math.ceil(math.log(d))
    rate = "the paper's rate here (upper bound, constants dropped)"
    return pd.DataFrame([
        {"claim": "iterations to zero test error, feature learning (online batches of 6d)",
         rate: f"about ceil(ln d) = {ln_d}",
         "measured": f"median {hits.median_text} ({reach_text(hits.reached, hits.seeds, hits.horizon)})"},
        {"claim": f"test error with a fixed set of n = {n} samples",
         rate: f"feature learning ~ d = {d}; the kernel regime's earlier analyses ~ d^2 = {d * d:,}",
         "measured": (f"feature {fin.loc['fixed-feature', 'test_error']:.3f}, "
                      f"kernel {fin.loc['fixed-kernel', 'test_error']:.3f}")},
        {"claim": f"deep kernel regime: test loss at L = {L}, m = {m}, n = {n}",
         rate: f"~ 1/n = {1 / n:.3g} (Chen et al.: sqrt(m/n) = {math.sqrt(m / n):.3g}), "
                                     "times e^O(L)/gamma^2",
         "measured": f"{deep_row.test_loss:.4f} (test error {deep_row.test_error:.3f})"},
        {"claim": "deep kernel regime: distance from init (Q3)",
         rate: f"radius up to m^O(1/L); m^(1/L) = {m ** (1 / L):.3g}",
         "measured": (f"relative {deep_row.distance:.3f}; absolute about {ball.absolute:.2f} (||W0|| is about "
                      f"sqrt(L m)): {'inside' if ball.inside else 'beyond'} m^(1/L)")},
    ])
