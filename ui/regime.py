"""The regime map's figure (pure: table in, Plotly figure out) and its summary sentences.

The map's sweep is `sharp.experiments.REGIME` (`sharp.experiments.regime.regime_map` at the page's settings); the
page runs it through `ui.paper.experiment_frame`, and the server's warm-up runs the same experiment at its
defaults (`sharp.experiments.WARM`), under the same job key.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sharp.experiments import regime as R
from sharp.experiments.fit import fit_slope
from ui.palette import REGIME
from ui.paper_figures import layout

SCALE_NAME = {"mf": "mean-field scale c = 1/m", "ntk": "NTK scale c = 1/√m"}
PRESET_STYLE = {"feature": dict(symbol="star", color=REGIME["feature"]), "kernel": dict(symbol="diamond",
                                                                               color=REGIME["kernel"])}
DIST_TICKS = (0.03, 0.1, 0.3, 1, 3, 10, 30)


def _text(values: np.ndarray, fmt: str) -> list[list[str]]:
    return [["diverged" if not np.isfinite(v) else format(v, fmt) for v in row] for row in values]


def regime_figure(t: pd.DataFrame) -> go.Figure:
    """Per output scale (rows): final test error and distance from init (columns) over (m, eta) on log axes, the
    contour where the distance crosses 1 (white), and the regimes' presets marked.

    Args:
        t: `sharp.experiments.regime.table(df)`.
    """
    scales = [s for s in ("mf", "ntk") if s in set(t.scale)]
    fig = make_subplots(rows=len(scales), cols=2, horizontal_spacing=0.13, vertical_spacing=0.14,
                        subplot_titles=[f"{what}, {SCALE_NAME[s]}" for s in scales
                                        for what in ("Final test error", "Distance from init")])
    marks = R.presets()
    for row, scale in enumerate(scales, start=1):
        ms, etas, err = R.grid_of(t, scale, "test_error")
        _, _, dist = R.grid_of(t, scale, "distance")
        lx, ly = np.log10(ms), np.log10(etas)
        hover = "m = %{customdata[0]:g}<br>η = %{customdata[1]:g}<br>%{text}<extra></extra>"
        custom = np.dstack(np.meshgrid(ms, etas))
        fig.add_trace(go.Heatmap(x=lx, y=ly, z=err, zmin=0, zmax=0.5, colorscale="Viridis", reversescale=True,
                                 text=_text(err, ".2f"), texttemplate="%{text}", customdata=custom,
                                 hovertemplate=hover.replace("%{text}", "test error %{text}"), showscale=row == 1,
                                 colorbar=dict(title="test error", x=0.43, len=0.9)), row=row, col=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ldist = np.log10(dist)
        fig.add_trace(go.Heatmap(x=lx, y=ly, z=np.clip(ldist, -1.7, 1.7), zmin=-1.7, zmax=1.7, colorscale="RdBu",
                                 reversescale=True, text=_text(dist, ".2g"), texttemplate="%{text}",
                                 customdata=custom, hovertemplate=hover.replace("%{text}", "distance %{text}"),
                                 showscale=row == 1,
                                 colorbar=dict(title="distance", x=1.0, len=0.9, tickvals=np.log10(DIST_TICKS),
                                               ticktext=[f"{v:g}" for v in DIST_TICKS])), row=row, col=2)
        for col in (1, 2):
            fig.add_trace(go.Contour(x=lx, y=ly, z=ldist, contours=dict(start=0, end=0, size=1, coloring="none"),
                                     line=dict(color="white", width=4), showscale=False, hoverinfo="skip",
                                     name="distance = 1", showlegend=row == 1 and col == 1, legendgroup="boundary"),
                          row=row, col=col)
            for name, (s, m, eta) in marks.items():
                if s != scale:
                    continue
                style = PRESET_STYLE[name]
                fig.add_trace(go.Scatter(x=[math.log10(m)], y=[math.log10(eta)], mode="markers",
                                         marker=dict(size=18, line=dict(color="white", width=2), **style),
                                         name=f"{name} preset (m = {m}, η = {eta:g})", legendgroup=name,
                                         showlegend=col == 1, hovertemplate=f"{name} preset<extra></extra>"),
                              row=row, col=col)
            fig.update_xaxes(title="width m" if row == len(scales) else None, tickvals=lx,
                             ticktext=[f"{m:g}" for m in ms], range=[lx[0] - 0.2, lx[-1] + 0.2], row=row, col=col)
            fig.update_yaxes(title="step size η", tickvals=ly, ticktext=[f"{e:g}" for e in etas],
                             range=[ly[0] - 0.25, ly[-1] + 0.25], row=row, col=col)
    fig.update_layout(legend=dict(orientation="h", y=-0.08, x=0.0))
    return layout(fig, "Where does the kernel regime end? White line: distance from init = 1", 430 * len(scales) + 60)


def summary(t: pd.DataFrame) -> list[str]:
    """One sentence per scale: where the boundary runs, and the best test error on each side of it."""
    out = []
    for scale in [s for s in ("mf", "ntk") if s in set(t.scale)]:
        ms, etas, dist = R.grid_of(t, scale, "distance")
        edge = R.boundary(ms, etas, dist)
        sub = t[(t.scale == scale) & t.test_error.notna()]
        rich = sub[sub.distance >= 1]
        lazy = sub[sub.distance < 1]
        where = ", ".join(f"m = {m:g}: η ≈ {e:.2g}" for m, e in edge) or "nowhere on this grid"
        trend = ""
        if len(edge) >= 3:
            slope = fit_slope([m for m, _ in edge], [e for _, e in edge]).slope
            trend = f" (the crossing η grows about like m^{slope:.2f})"
        out.append(
            f"**{SCALE_NAME[scale]}.** The distance from init crosses 1 at {where}{trend}. Below the line (distance "
            f"< 1) the best final test error is **{_best(lazy)}**; above it **{_best(rich)}**. "
            + _diverged(t[(t.scale == scale) & (t.diverged == 1)]))
    return out


def _diverged(cells: pd.DataFrame) -> str:
    """The cells where every seed diverged, by step size. Example: '3 cells diverged, at η = 30 to 100.'"""
    if not len(cells):
        return ""
    lo, hi = cells.eta.min(), cells.eta.max()
    where = f"η = {lo:g}" if lo == hi else f"η = {lo:g} to {hi:g}"
    return f"{len(cells)} cell{'s' * (len(cells) != 1)} diverged, at {where}."


def _best(rows: pd.DataFrame) -> str:
    if not len(rows):
        return "none on this grid"
    r = rows.loc[rows.test_error.idxmin()]
    return f"{r.test_error:.3f} (m = {r.m:g}, η = {r.eta:g}, distance {r.distance:.2f})"


def presets_sentence(cells: pd.DataFrame) -> str:
    """Where each preset's nearest cell lies against the line (distance 1) and how well it learned, from
    `preset_cells`. Example: presets_sentence(preset_cells(t)).startswith("The feature preset's nearest cell")"""
    if not len(cells):
        return "Neither preset lies on this grid's scales."
    parts = []
    for name, cell, dist, err in zip(cells.preset, cells["nearest cell"], cells.distance, cells["test error"]):
        side = "beyond the line (distance ≥ 1)" if dist >= 1 else "inside the line (distance < 1)"
        parts.append(f"the {name} preset's nearest cell ({cell}) ends {side}, at distance {dist:.3g} and test "
                     f"error {err:.3g}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def preset_cells(t: pd.DataFrame) -> pd.DataFrame:
    """The grid cell nearest each preset (on log axes): its test error and distance."""
    rows = []
    for name, (scale, m, eta) in R.presets().items():
        sub = t[t.scale == scale]
        if not len(sub):
            continue
        cm, ce = R.nearest(sorted(sub.m.unique()), m), R.nearest(sorted(sub.eta.unique()), eta)
        cell = sub[(sub.m == cm) & (sub.eta == ce)].iloc[0]
        rows.append({"preset": name, "scale": scale, "m": m, "η": eta, "nearest cell": f"m = {cm:g}, η = {ce:g}",
                     "test error": round(float(cell.test_error), 3), "distance": round(float(cell.distance), 3)})
    return pd.DataFrame(rows)
