"""The race of the live page in a script: the kernel regime against feature learning on XOR, with `import sharp`.

    python examples/race.py                     # d = 50, a fresh batch of n = 6d every step (Fig 1's sampling)
    python examples/race.py --d 100 --html race.html
    python examples/race.py --fixed --steps 300 # the live page's: one fixed training set of n = 6d

Both networks train on the same data (`sharp.lockstep`); the script prints each regime's first zero-error step
per seed (`sharp.first_zero_step`) and the samples seen by then, draws the test error against the step in the
terminal, and with --html writes the same chart as an interactive Plotly page (Plotly comes with
requirements.txt; after `pip install .` alone, `pip install plotly`). In a notebook:
`history = race(d=50)`, then `print(chart(history))` or `figure(history)`.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Sequence

import sharp

# The two regimes as the live page sets them: the kernel regime wide (m = 512) at eta = 1 on the NTK scale,
# feature learning narrow (m = 20) at eta = m on the mean-field scale (sharp.PRESETS; docs/science.md, "The model").
REGIMES = {"kernel": dict(m=512), "feature": dict()}
COLORS = {"kernel": "#4C78A8", "feature": "#D95F02"}  # the app's colours for the two regimes (ui/figures.py)
MARKS = {"kernel": "k", "feature": "f"}


def race(d: int = 50, n: int | None = None, steps: int = 100, seeds: int = 4, seed: int = 0,
         online: bool = True) -> dict[str, list[sharp.Snapshot]]:
    """Train both regimes on the same data; each regime's snapshots, one per step.

    n defaults to 6d; online: a fresh batch of n every step (else one fixed set of n, the live page's).
    Example: `race(d=20, steps=50)["feature"][-1].test_error`
    """
    common = dict(d=d, n=n or 6 * d, steps=steps, seeds=seeds, seed=seed, online=online)
    configs = {name: sharp.preset(name, **extra, **common) for name, extra in REGIMES.items()}
    history: dict[str, list[sharp.Snapshot]] = {name: [] for name in configs}
    for latest in sharp.lockstep(configs):
        for name, snap in latest.items():
            if not history[name] or history[name][-1].step != snap.step:  # a diverged run repeats its last
                history[name].append(snap)
    return history


def first_zero(snaps: list[sharp.Snapshot]) -> tuple[list[float], float, bool]:
    """Per seed, the first step at zero test error (nan: never); their median over every seed, one that never
    got there counted at the run's length; and whether that median is such a count (then a lower bound)."""
    firsts = sharp.first_zero_step(snaps)
    last = snaps[-1].step
    median = statistics.median(last if math.isnan(s) else s for s in firsts)
    return firsts, median, median >= last and any(math.isnan(s) for s in firsts)


def summary(history: dict[str, list[sharp.Snapshot]]) -> list[str]:
    """One line per regime: its final test error, its first zero-error step per seed and their median, and
    the training samples seen per seed by that median step."""
    lines = []
    for name, snaps in history.items():
        firsts, median, censored = first_zero(snaps)
        per_step = snaps[-1].samples / max(1, snaps[-1].step)
        shown = ", ".join("never" if math.isnan(s) else str(int(s)) for s in firsts)
        lines.append(f"{name:8s} final test error {snaps[-1].test_error:.3f}; first zero-error step per seed: "
                     f"{shown}; median {'>= ' if censored else ''}{median:g} "
                     f"({'>= ' if censored else ''}{median * per_step:,.0f} samples)")
    return lines


def chart(history: dict[str, list[sharp.Snapshot]], width: int = 64, height: int = 12) -> str:
    """The mean test error against the step as text: one column per slice of steps, `k` the kernel regime,
    `f` feature learning, `*` both in the same cell."""
    last = max(s[-1].step for s in history.values()) or 1
    top = max(max(s.test_error for s in snaps) for snaps in history.values()) or 1.0
    grid = [[" "] * width for _ in range(height)]
    for name, snaps in history.items():
        for s in snaps:
            col = min(width - 1, round(s.step / last * (width - 1)))
            row = height - 1 - min(height - 1, round(s.test_error / top * (height - 1)))
            grid[row][col] = "*" if grid[row][col] not in (" ", MARKS[name]) else MARKS[name]
    lines = [f"{top:5.2f} |" + "".join(grid[0])]
    lines += ["      |" + "".join(row) for row in grid[1:-1]]
    lines += [f"{0:5.2f} |" + "".join(grid[-1]), "      +" + "-" * width,
              f"       0{'step':^{width - len(str(last)) - 1}}{last}",
              "       k: kernel regime (m = 512, eta = 1)   f: feature learning (m = 20, eta = 20)   test error, "
              "mean over seeds"]
    return "\n".join(lines)


def figure(history: dict[str, list[sharp.Snapshot]], title: str = "Test error on XOR"):
    """The same chart as a Plotly figure: each regime's mean test error, and its seeds' range as a band."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, snaps in history.items():
        steps = [s.step for s in snaps]
        lo = [min(s.test_error_seeds) for s in snaps]
        hi = [max(s.test_error_seeds) for s in snaps]
        fig.add_scatter(x=steps + steps[::-1], y=hi + lo[::-1], fill="toself", fillcolor=COLORS[name],
                        opacity=0.2, line=dict(width=0), hoverinfo="skip", showlegend=False)
        fig.add_scatter(x=steps, y=[s.test_error for s in snaps], name=name, line=dict(color=COLORS[name]))
    fig.update_layout(title=title, xaxis_title="SGD step", yaxis_title="test error (mean; band: seeds)",
                      template="plotly_white")
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=50, help="input dimension (default 50)")
    p.add_argument("--n", type=int, default=None, help="training-set size (default 6d)")
    p.add_argument("--steps", type=int, default=100, help="SGD steps (default 100)")
    p.add_argument("--seeds", type=int, default=4, help="seeds per regime (default 4)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--fixed", action="store_true", help="one fixed training set of n (the live page's), not a "
                   "fresh batch every step")
    p.add_argument("--html", help="also write the chart to this HTML file (needs plotly)")
    ns = p.parse_args(argv)
    try:
        history = race(d=ns.d, n=ns.n, steps=ns.steps, seeds=ns.seeds, seed=ns.seed, online=not ns.fixed)
    except sharp.ConfigError as e:
        print(f"race.py: error: {e}", file=sys.stderr)
        return 2
    sampling = "one fixed set of" if ns.fixed else "a fresh batch every step of"
    setting = f"d = {ns.d}, {sampling} n = {ns.n or 6 * ns.d}, {ns.steps} steps, {ns.seeds} seeds"
    print(f"{setting} (sharp {sharp.__version__})")
    print("\n".join(summary(history)))
    print(chart(history))
    if ns.html:
        figure(history, f"Test error on XOR, {setting}").write_html(ns.html, include_plotlyjs=True)
        print(f"wrote {ns.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
