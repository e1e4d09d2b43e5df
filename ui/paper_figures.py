"""The paper pages' figures (Fig 1, iterations vs d, sample complexity, deep nets) and the tour's: pure Plotly
builders, a tidy or summary DataFrame in and a figure out, testable without a browser.

The live page and the kiosk, which redraw several times a second, draw SVG instead (ui.figures).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sharp.experiments.fit import fit_slope
from ui.palette import NEUTRAL, QUADRATIC, REGIME, rgba, series
from ui.ticks import log_ticks_around

REGIME_NAME = {"feature": "feature learning (c = 1/m, m = 20, eta = 20)", "kernel": "kernel regime (NTK scale)"}


def layout(fig: go.Figure, title: str, height: int = 460) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01), height=height, template="plotly_white",
                      margin=dict(l=60, r=20, t=60, b=50), legend=dict(bgcolor="rgba(255,255,255,0.7)"))
    return fig


def figure1_figure(df: pd.DataFrame) -> go.Figure:
    """Poster Fig 1: test error vs SGD step per d (median line, min-max band over seeds), ceil(ln d) markers.

    Args:
        df: tidy frame of `sharp.experiments.fig1.figure1` (columns d, seed, step, test_error).
    """
    fig = go.Figure()
    colors = series(sorted(df.d.unique()))
    for d, g in df.groupby("d"):
        s = g.groupby("step").test_error
        med, lo, hi = s.median(), s.min(), s.max()
        c = colors[d]
        fig.add_trace(go.Scatter(x=list(hi.index) + list(lo.index[::-1]), y=list(hi) + list(lo[::-1]),
                                 fill="toself", fillcolor=rgba(c, 0.18), line=dict(width=0), hoverinfo="skip",
                                 showlegend=False, legendgroup=str(d)))
        fig.add_trace(go.Scatter(x=med.index, y=med, mode="lines+markers", name=f"d = {d}", line=dict(color=c),
                                 legendgroup=str(d),
                                 hovertemplate=f"d = {d}<br>step %{{x}}<br>median error %{{y:.3f}}"))
        fig.add_vline(x=math.ceil(math.log(d)), line=dict(color=c, dash="dot", width=1.5))
    fig.update_xaxes(title="SGD iteration", dtick=1)
    fig.update_yaxes(title="test error", rangemode="tozero")
    return layout(fig, "Test error vs iteration (median over seeds, band = min to max); dotted: ceil(ln d)")


def iterations_figure(summary: pd.DataFrame, threshold: float = 0.0) -> go.Figure:
    """First step with test error <= threshold against d (log-log), both regimes, with ln d and a ~d reference.

    Censored seeds (never reached within the step budget) are shown as open triangles at the budget.
    """
    fig = go.Figure()
    for regime, g in summary.groupby("regime"):
        c = REGIME.get(regime, NEUTRAL)
        done = g[g.reached == g.seeds]
        part = g[g.reached < g.seeds]
        fig.add_trace(go.Scatter(
            x=done.d, y=done["median"], mode="lines+markers", name=f"{regime}: median over seeds",
            line=dict(color=c), marker=dict(size=9),
            error_y=dict(type="data", symmetric=False, array=done.hi - done["median"],
                         arrayminus=done["median"] - done.lo, color=c)))
        if len(part):
            fig.add_trace(go.Scatter(
                x=part.d, y=part.cap, mode="markers", marker=dict(symbol="triangle-up-open", size=13, color=c),
                name=f"{regime}: not reached by every seed within the budget",
                text=[f"{r} of {s} seeds reached it" for r, s in zip(part.reached, part.seeds)],
                hovertemplate="d = %{x}<br>budget %{y} steps<br>%{text}"))
    ds = np.geomspace(summary.d.min(), summary.d.max(), 60)
    fig.add_trace(go.Scatter(x=ds, y=[math.ceil(math.log(d)) for d in ds], mode="lines", name="ceil(ln d)",
                             line=dict(color="black", dash="dot", shape="hv")))
    k = summary[(summary.regime == "kernel") & (summary.reached == summary.seeds)]
    if len(k):
        d0, t0 = float(k.d.iloc[0]), float(k["median"].iloc[0])
        fig.add_trace(go.Scatter(x=ds, y=t0 * ds / d0, mode="lines",
                                 name="~ d through the first kernel point (d^2 samples at 6d a step)",
                                 line=dict(color=REGIME["kernel"], dash="dash", width=1.5)))
    fig.update_xaxes(type="log", title="input dimension d", tickvals=sorted(summary.d.unique()))
    ys = [v for v in summary[["lo", "hi", "cap"]].to_numpy().ravel() if v > 0] + [1, 2]
    ticks = log_ticks_around([min(ys), max(ys) * 2])
    target = "= 0" if threshold == 0 else f"<= {threshold:g}"
    fig.update_yaxes(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks],
                     title=f"first iteration with test error {target}")
    return layout(fig, "Iterations to reach the target, feature learning vs kernel regime (same data stream)")


def samples_figure(table: pd.DataFrame, c_lin: float = 4.0, c_quad: float = 1.0) -> go.Figure:
    """Heat maps of final test error over (n, d), one per regime, with the lines n = c_lin d and n = c_quad d^2.

    Args:
        table: `sharp.experiments.paper.final_table(df, ["regime", "d", "n"])`.
    """
    regimes = [r for r in ("feature", "kernel") if r in set(table.regime)]
    fig = make_subplots(rows=1, cols=len(regimes), shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=[REGIME_NAME[r] for r in regimes])
    ds, ns = sorted(table.d.unique()), sorted(table.n.unique())
    lx, ly = np.log10(ns), np.log10(ds)
    dline = np.geomspace(min(ds) / 1.3, max(ds) * 1.3, 50)
    for col, regime in enumerate(regimes, start=1):
        t = table[table.regime == regime]
        z = t.pivot(index="d", columns="n", values="test_error").reindex(index=ds, columns=ns)
        bad = t.pivot(index="d", columns="n", values="diverged").reindex(index=ds, columns=ns).fillna(0).values
        text = [[("diverged" if np.isnan(v) else f"{v:.2f}" + ("*" if b > 0 else "")) for v, b in zip(zr, br)]
                for zr, br in zip(z.values, bad)]
        fig.add_trace(go.Heatmap(x=lx, y=ly, z=z.values, zmin=0, zmax=0.5, colorscale="Viridis", reversescale=True,
                                 text=text, texttemplate="%{text}",
                                 colorbar=dict(title="test error"), showscale=col == 1,
                                 hovertemplate="n = %{customdata[0]}<br>d = %{customdata[1]}<br>error %{z:.3f}",
                                 customdata=np.dstack(np.meshgrid(ns, ds))), row=1, col=col)
        for c, power, dash, name in ((c_lin, 1, "dash", f"n = {c_lin:g} d"), (c_quad, 2, "dot", f"n = {c_quad:g} d^2")):
            fig.add_trace(go.Scatter(x=np.log10(c * dline ** power), y=np.log10(dline), mode="lines", name=name,
                                     line=dict(color="black" if power == 1 else QUADRATIC, dash=dash, width=3),
                                     showlegend=col == 1, legendgroup=name), row=1, col=col)
        fig.update_xaxes(title="training-set size n", tickvals=lx, ticktext=[str(n) for n in ns],
                         range=[lx[0] - 0.2, lx[-1] + 0.2], row=1, col=col)
    fig.update_yaxes(title="input dimension d", tickvals=ly, ticktext=[str(d) for d in ds],
                     range=[ly[0] - 0.2, ly[-1] + 0.2], row=1, col=1)
    fig.update_layout(legend=dict(orientation="h", y=-0.18))
    return layout(fig, "Final test error with a fixed training set of n samples (yellow = no test errors)", 480)


def _log_axes(fig: go.Figure, xtitle: str, ytitle: str, xvals: Sequence[float], yvals: Sequence[float]) -> None:
    fig.update_xaxes(type="log", title=xtitle, tickvals=list(xvals), ticktext=[f"{v:g}" for v in xvals])
    y = [v for v in yvals if v > 0 and math.isfinite(v)]
    if y:
        ticks = log_ticks_around(y)
        fig.update_yaxes(tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    fig.update_yaxes(type="log", title=ytitle)


def deep_loss_vs_n(table: pd.DataFrame) -> go.Figure:
    """Final test loss against n (log-log) per depth L, with each fitted line and the slope -1 reference.

    Args:
        table: `sharp.experiments.paper.final_table(df, ["axis", "L", "n", "m"])`; uses the rows with axis == "n".
    """
    fig, gn = go.Figure(), table[table.axis == "n"]
    colors = series(sorted(table.L.unique()))
    for L, g in gn.groupby("L"):
        c, g = colors[L], g.sort_values("n")
        label = f"L = {L}"
        if len(g) >= 2:
            fit, xs = fit_slope(g.n, g.test_loss), np.geomspace(g.n.min(), g.n.max(), 20)
            label += f": fitted slope {fit.slope:.2f}"
            fig.add_trace(go.Scatter(x=xs, y=fit.at(xs), mode="lines", line=dict(color=c, width=2), legendgroup=str(L),
                                     showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=g.n, y=g.test_loss, mode="markers", marker=dict(size=10, color=c), name=label,
                                 legendgroup=str(L), hovertemplate="n = %{x}<br>test loss %{y:.4f}"))
    if gn.n.nunique() >= 2:
        n0 = gn.n.min()
        xs = np.geomspace(n0, gn.n.max(), 20)
        fig.add_trace(go.Scatter(x=xs, y=gn[gn.n == n0].test_loss.max() * n0 / xs, mode="lines",
                                 line=dict(color="gray", dash="dash"),
                                 name="slope -1 (the shape of this paper's bound, 1/n)"))
    _log_axes(fig, "training-set size n", "final test loss", sorted(gn.n.unique()), gn.test_loss)
    return layout(fig, f"Test loss vs n at width m = {', '.join(str(m) for m in sorted(gn.m.unique()))}", 440)


def deep_vs_m(table: pd.DataFrame, metric: str) -> go.Figure:
    """Final test loss (metric="test_loss") or relative distance from init (metric="distance") against m.

    The loss gets the two bound shapes through the narrowest point: flat (this paper) and ~sqrt(m) (Chen et
    al.); the distance gets ~1/sqrt(m), the kernel regime's scaling.
    """
    fig, gm = go.Figure(), table[table.axis == "m"]
    colors = series(sorted(table.L.unique()))  # as in deep_loss_vs_n: a depth has one colour on the page
    for L, g in gm.groupby("L"):
        g = g.sort_values("m")
        fig.add_trace(go.Scatter(x=g.m, y=g[metric], mode="markers+lines", name=f"L = {L}",
                                 marker=dict(size=10), line=dict(color=colors[L])))
    if gm.m.nunique() >= 2:
        m0 = gm.m.min()
        xs, y0 = np.geomspace(m0, gm.m.max(), 20), gm[gm.m == m0][metric].mean()
        if metric == "test_loss":
            fig.add_trace(go.Scatter(x=xs, y=np.full_like(xs, y0), mode="lines", line=dict(color="gray", dash="dash"),
                                     name="flat in m (the shape of this paper's bound)"))
            fig.add_trace(go.Scatter(x=xs, y=y0 * np.sqrt(xs / m0), mode="lines", line=dict(color="black", dash="dot"),
                                     name="~ sqrt(m) (the shape of Chen et al.'s bound)"))
        else:
            fig.add_trace(go.Scatter(x=xs, y=y0 * np.sqrt(m0 / xs), mode="lines", line=dict(color="gray", dash="dash"),
                                     name="~ 1/sqrt(m)"))
    ytitle = "final test loss" if metric == "test_loss" else "||W - W0|| / ||W0||"
    _log_axes(fig, "width m", ytitle, sorted(gm.m.unique()), list(gm[metric]) + [float(v) for t in fig.data
                                                                               for v in t.y])
    n0 = ", ".join(str(n) for n in sorted(gm.n.unique()))
    what = "Test loss" if metric == "test_loss" else "Relative distance from init"
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    return layout(fig, f"{what} vs width m (n = {n0})", 440)


def warm_figures() -> list[str]:
    """Build and serialize one small figure of each kind the paper pages draw, so that a server's first
    paper-page visitor does not wait for Plotly's first-use imports (several seconds on a busy machine).
    Plain Python, no Streamlit: the router runs it once per server in a thread of its own.

    Returns:
        The figures' JSON (Fig 1's, then the sample maps').
    Example:
        >>> len(warm_figures())
        2
    """
    import plotly.io as pio

    d = pd.DataFrame({"d": [25] * 4, "seed": [0, 0, 1, 1], "step": [0, 1, 0, 1], "test_error": [0.5, 0.0, 0.5, 0.1]})
    table = pd.DataFrame([{"regime": r, "d": 8, "n": n, "test_error": 0.1, "diverged": 0.0}
                          for r in ("feature", "kernel") for n in (32, 64)])
    return [pio.to_json(fig, validate=True) for fig in (figure1_figure(d), samples_figure(table))]
