"""Figures for the reconstruction's readings (Poster Fig 1 page), the measured sample complexity (Sample
complexity page) and the real-data experiment (Digits page). Pure builders: a frame in, a Plotly figure out.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sharp.experiments.sensitivity import READINGS
from ui.palette import NEUTRAL, REGIME, series
from ui.ticks import log_ticks_around

READING_COLOR = series(READINGS)  # one colour per reading of the setup (sharp.experiments.sensitivity)


def _layout(fig: go.Figure, title: str, height: int = 440) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01), height=height, template="plotly_white",
                      margin=dict(l=60, r=20, t=70, b=50), legend=dict(bgcolor="rgba(255,255,255,0.7)"))
    return fig


def readings_figure(table: pd.DataFrame, names: dict[str, str]) -> go.Figure:
    """Median first zero-error step against d per reading (seeds' range as error bars), ceil(ln d) as a staircase;
    where half or more seeds never got there, an open triangle at the step budget.

    Args:
        table: `sharp.experiments.sensitivity.sensitivity_table`.
        names: reading -> its label.
    """
    fig = go.Figure()
    symbols = ["triangle-up-open", "square-open", "diamond-open", "circle-open"]
    for i, (reading, g) in enumerate(table.groupby("reading", sort=False)):
        c = READING_COLOR.get(reading, NEUTRAL)
        known = g[np.isfinite(g["median"])]
        if len(known):
            fig.add_trace(go.Scatter(x=known.d, y=known["median"], mode="lines+markers",
                                     name=names.get(reading, reading),
                                     line=dict(color=c), marker=dict(size=9), legendgroup=reading,
                                     hovertemplate="d = %{x}<br>median first zero-error step %{y}"))
        never = g[~np.isfinite(g["median"])]
        if len(never):
            fig.add_trace(go.Scatter(  # open symbols growing per reading: readings censored alike nest, visibly
                x=never.d, y=never.horizon, mode="markers", legendgroup=reading,
                marker=dict(symbol=symbols[i % len(symbols)], size=10 + 6 * i, color=c, line=dict(width=2)),
                name=f"{names.get(reading, reading)}: half or more seeds never at zero within the budget",
                text=[f"{r} of {s} seeds reached zero; median test error at the end {e:.3g}"
                      for r, s, e in zip(never.reached, never.seeds, never.final_error)],
                hovertemplate="d = %{x}<br>budget %{y} steps<br>%{text}"))
    ds = sorted(table.d.unique())
    xs = np.geomspace(min(ds), max(ds), 80)
    fig.add_trace(go.Scatter(x=xs, y=[math.ceil(math.log(d)) for d in xs], mode="lines", name="ceil(ln d)",
                             line=dict(color="black", dash="dot", shape="hv")))
    fig.update_xaxes(type="log", title="input dimension d", tickvals=ds, ticktext=[str(d) for d in ds])
    fig.update_yaxes(title="first iteration with zero test error", rangemode="tozero")
    fig.update_layout(legend=dict(orientation="h", y=-0.2))
    return _layout(fig, "Poster Fig 1's measurement under each reading of the setup (median over seeds)", 480)


def nstar_figure(df: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """n*/d (left) and n*/d^2 (right) against d, log-log: each seed a small dot (an open triangle when censored at
    n_max), the median over seeds a line, and the least-squares fit of the median with its slope in the legend.

    Args:
        df: `sharp.experiments.complexity.sample_complexity` rows (regime, d, seed, n_star, censored, n_max).
        labels: regime -> its name.
    """
    from sharp.experiments.complexity import fit_slopes, median_nstar, slope_text

    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=["n* / d (flat: n* grows like d)", "n* / d^2 (flat: n* grows like d^2)"])
    med = median_nstar(df)
    yvals: dict[int, list[float]] = {1: [], 2: []}
    for regime in [r for r in labels if r in set(df.regime)]:
        c, g, m = REGIME.get(regime, NEUTRAL), df[df.regime == regime], med[med.regime == regime]
        known, slope = m[np.isfinite(m["median"])], fit_slopes(df, regime).slope
        for col, power in ((1, 1), (2, 2)):
            first = col == 1
            ok, cen = g[~g.censored.astype(bool)], g[g.censored.astype(bool)]
            fig.add_trace(go.Scatter(x=ok.d, y=ok.n_star / ok.d ** power, mode="markers", showlegend=False,
                                     marker=dict(size=6, color=c, opacity=0.5), legendgroup=regime,
                                     name=f"{labels[regime]}: seeds", hovertemplate="d = %{x}<br>seed: %{y:.3g}"),
                          row=1, col=col)
            if len(cen):
                fig.add_trace(go.Scatter(x=cen.d, y=cen.n_star / cen.d ** power, mode="markers", legendgroup=regime,
                                         marker=dict(symbol="triangle-up-open", size=11, color=c), showlegend=first,
                                         name=f"{labels[regime]}: censored (no zero up to n_max)",
                                         hovertemplate="d = %{x}<br>above %{y:.3g}"), row=1, col=col)
            name = labels[regime] + (f": median; fitted slopes {slope_text(slope - 1)} (n*/d), "
                                     f"{slope_text(slope - 2)} (n*/d^2)"
                                     if math.isfinite(slope) else ": median")
            fig.add_trace(go.Scatter(x=known.d, y=known["median"] / known.d ** power, mode="lines+markers",
                                     line=dict(color=c), marker=dict(size=9), legendgroup=regime, showlegend=first,
                                     name=name, hovertemplate="d = %{x}<br>median %{y:.3g}"), row=1, col=col)
            yvals[col] += list(g.n_star / g.d ** power)
    ds = sorted(df.d.unique())
    for col in (1, 2):
        ticks = log_ticks_around(yvals[col])
        fig.update_xaxes(type="log", title="input dimension d", tickvals=ds, ticktext=[str(d) for d in ds],
                         row=1, col=col)
        fig.update_yaxes(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks], row=1, col=col)
    fig.update_layout(legend=dict(orientation="h", y=-0.22))
    return _layout(fig, "Smallest training-set size n* with zero test error, per seed", 500)


def digits_iterations_figure(df: pd.DataFrame) -> go.Figure:
    """Training loss, test loss, gap (test minus training) and distance from initialization against the iteration,
    at the largest n, one colour per step size (median over seeds)."""
    n = int(df.n.max())
    g = df[df.n == n]
    panels = [("train_loss", "training loss"), ("test_loss", "test loss"), ("gap", "gap: test minus training loss"),
              ("distance", "distance from initialization ||W_t - W_0||")]
    fig = make_subplots(rows=2, cols=2, subplot_titles=[t for _, t in panels], vertical_spacing=0.14)
    eta_colors = series(sorted(df.eta.unique()))  # a step size has one colour on the page
    for eta, ge in g.groupby("eta"):
        c = eta_colors[eta]
        med = ge.groupby("step")[[k for k, _ in panels]].median()
        for j, (key, title) in enumerate(panels):
            fig.add_trace(go.Scatter(x=med.index, y=med[key], mode="lines", line=dict(color=c, width=2.5),
                                     name=f"eta = {eta:g}", showlegend=j == 0, legendgroup=str(eta),
                                     hovertemplate=f"eta = {eta:g}<br>step %{{x}}<br>{title} %{{y:.4g}}"),
                          row=j // 2 + 1, col=j % 2 + 1)
    for j in range(4):
        fig.update_xaxes(title="gradient step" if j >= 2 else None, row=j // 2 + 1, col=j % 2 + 1)
    fig.update_yaxes(type="log", row=1)  # the losses span decades (a large step's first spike, then fitting)
    return _layout(fig, f"Against iterations, n = {n} training images (full-batch gradient descent)", 560)


def digits_gap_figure(df: pd.DataFrame) -> go.Figure:
    """The final gap against n, log-log, per step size, with its fitted line (slope in the legend) and a 1/n line
    through the first step size's smallest n (the paper's rate)."""
    from sharp.experiments.digits import final, gap_fits

    fin, fits = final(df), {f.eta: f for f in gap_fits(df)}
    fig = go.Figure()
    eta_colors = series(sorted(df.eta.unique()))
    for eta, g in fin.groupby("eta"):
        c, fit = eta_colors[eta], fits[float(eta)]
        pos = g[g.gap > 0].sort_values("n")
        label = f"eta = {eta:g}" + (f": fitted slope {fit.slope:.2f}" if math.isfinite(fit.slope) else "")
        fig.add_trace(go.Scatter(x=pos.n, y=pos.gap, mode="markers", marker=dict(size=10, color=c), name=label,
                                 legendgroup=str(eta), hovertemplate="n = %{x}<br>gap %{y:.4g}"))
        if math.isfinite(fit.slope):
            xs = np.geomspace(pos.n.min(), pos.n.max(), 20)
            fig.add_trace(go.Scatter(x=xs, y=fit.fit.at(xs), mode="lines", line=dict(color=c),
                                     showlegend=False, legendgroup=str(eta), hoverinfo="skip"))
    pos = fin[fin.gap > 0]
    if pos.n.nunique() >= 2:
        first = pos[pos.eta == pos.eta.min()].sort_values("n")
        n0, g0 = float(first.n.iloc[0]), float(first.gap.iloc[0])
        xs = np.geomspace(fin.n.min(), fin.n.max(), 20)
        fig.add_trace(go.Scatter(x=xs, y=g0 * n0 / xs, mode="lines", line=dict(color="gray", dash="dash"),
                                 name="slope -1 (the paper's 1/n)"))
    ns = sorted(fin.n.unique())
    ticks = log_ticks_around(list(pos.gap) + [float(v) for t in fig.data for v in t.y])
    fig.update_xaxes(type="log", title="training-set size n", tickvals=ns, ticktext=[str(n) for n in ns])
    fig.update_yaxes(type="log", title="final gap: test minus training loss", tickvals=ticks,
                     ticktext=[f"{t:g}" for t in ticks])
    step = int(fin.step.max())
    return _layout(fig, f"Generalization gap after {step} steps against n (log-log)", 440)
