"""Pure Plotly builders for the live page: snapshots in, figure out. Nothing here trains or touches streamlit."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from sharp import Snapshot

COLORS = {"kernel": "#4C78A8", "feature": "#E45756", "linearized": "#72B7B2"}
LABELS = {"kernel": "kernel regime", "feature": "feature learning", "linearized": "linearized (NTK) net"}
# An empty template: building a figure with the default one costs ~40 ms (the page draws six figures
# several times a second), and Streamlit's chart theme styles the figure in the browser anyway.
_BLANK = go.layout.Template()
METRIC_TITLES = {"test_error": "test error", "distance": "relative distance from init ‖W−W₀‖/‖W₀‖"}


@dataclass(frozen=True)
class Curve:
    """One run's metric over logged steps: the mean over seeds and a min-max band over seeds."""

    name: str  # a key of COLORS / LABELS
    step: np.ndarray  # (T,)
    mean: np.ndarray  # (T,)
    lo: np.ndarray  # (T,)
    hi: np.ndarray  # (T,)


def curve(name: str, snaps: Sequence[Snapshot], metric: str) -> Curve:
    """Mean and band of `metric` ("test_error", "distance", ...) over seeds. Diverged seeds (nan) are left out.

    Example: curve("kernel", run.history["kernel"], "test_error").mean[-1]
    """
    per_seed = np.array([getattr(s, f"{metric}_seeds") for s in snaps], dtype=float).reshape(len(snaps), -1)
    finite = np.isfinite(per_seed).any(1)  # (T,): a step where every seed diverged has no band to draw
    safe = np.where(np.isfinite(per_seed), per_seed, 0.0)
    n = np.isfinite(per_seed).sum(1).clip(min=1)
    mean = np.where(finite, safe.sum(1) / n, np.nan)
    lo = np.where(finite, np.where(np.isfinite(per_seed), per_seed, np.inf).min(1, initial=np.inf), np.nan)
    hi = np.where(finite, np.where(np.isfinite(per_seed), per_seed, -np.inf).max(1, initial=-np.inf), np.nan)
    return Curve(name, np.array([s.step for s in snaps], dtype=float), mean, lo, hi)


def shared_range(curves: Sequence[Curve], floor: float = 0.0, at_least: float = 0.0, pad: float = 1.08) -> list[float]:
    """A y-range [floor, top] holding every curve's band, so side-by-side charts compare at a glance.

    Example: shared_range([c1, c2], at_least=0.55) -> [0.0, 0.594]
    """
    tops = [float(np.nanmax(c.hi)) for c in curves if c.hi.size and np.isfinite(c.hi).any()]
    return [floor, max([at_least, *tops]) * pad if tops or at_least else 1.0]


def _title(text: str) -> dict:
    return dict(text=text, x=0, xanchor="left", y=0.98, yanchor="top", font=dict(size=15))


def _list(a: np.ndarray) -> list:
    """Floats as a list, nan as None (a gap in a Plotly line)."""
    return [None if isinstance(v, float) and not math.isfinite(v) else v for v in a.tolist()]


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def curves_figure(curves: Sequence[Curve], *, y_title: str, y_range: Sequence[float], x_max: int,
                  log_x: bool = False, marker: int | None = None, marker_label: str = "", title: str = "",
                  height: int = 250) -> go.Figure:
    """Line per run (mean over seeds) with a shaded min-max band, on a fixed x-range 0..x_max.

    Args:
        curves: the runs to draw (one column usually shows one, plus an overlay).
        y_title: the axis title.
        y_range: [lo, hi], shared between the two columns.
        x_max: the last step of the run, so lines grow left to right on a fixed axis.
        log_x: logarithmic step axis (step 0 is then off the axis).
        marker: a step to mark with a dashed vertical line (e.g. ceil(ln d)), labelled marker_label.
        title: a short title above the plot.
    Returns:
        The figure.
    Example:
        >>> curves_figure([curve("feature", snaps, "test_error")], y_title="test error", y_range=[0, .6], x_max=300)
    """
    traces = []
    for c in curves:
        color = COLORS.get(c.name, "#888888")
        # Plain lists rather than numpy arrays: the browser then holds ordinary arrays (plotly would send
        # numpy as base64 typed-array specs), which the end-to-end test can count.
        traces.append(dict(type="scatter", x=_list(np.concatenate([c.step, c.step[::-1]])),
                           y=_list(np.concatenate([c.hi, c.lo[::-1]])), mode="lines", fill="toself",
                           fillcolor=_rgba(color, 0.18),
                           line=dict(width=0), hoverinfo="skip", showlegend=False,
                           name=f"{LABELS.get(c.name, c.name)} band"))
        traces.append(dict(type="scatter", x=_list(c.step), y=_list(c.mean), mode="lines",
                           name=LABELS.get(c.name, c.name),
                           line=dict(color=color, width=2.5, dash="dot" if c.name == "linearized" else "solid")))
    shapes, notes = [], []
    if marker is not None:
        shapes.append(dict(type="line", x0=marker, x1=marker, y0=0, y1=1, yref="paper",
                           line=dict(color="#555", dash="dash", width=1.5)))
        notes.append(dict(x=math.log10(marker) if log_x else marker, y=1, yref="paper", text=marker_label,
                          showarrow=False, xanchor="left", yanchor="top", font=dict(size=12)))
    x_range = [0, math.log10(max(x_max, 2))] if log_x else [0, max(x_max, 1)]
    layout = dict(
        template=_BLANK, height=height, margin=dict(l=10, r=10, t=34 if title else 10, b=10), shapes=shapes,
        annotations=notes, title=_title(title),
        showlegend=len(curves) > 1, legend=dict(orientation="h", y=1.02, x=0, yanchor="bottom"),
        uirevision="keep", xaxis=dict(title=dict(text="SGD step"), type="log" if log_x else "linear", range=x_range),
        yaxis=dict(title=dict(text=y_title), range=list(y_range)))
    return go.Figure(data=traces, layout=layout)


def neuron_share(relevant: Sequence[float], rest: Sequence[float]) -> np.ndarray:
    """Each neuron's share of first-layer weight energy on x_1..x_k, in [0, 1]. Example: neuron_share([1], [3])"""
    rel, oth = np.asarray(relevant, dtype=float), np.asarray(rest, dtype=float)
    tot = rel + oth
    return np.divide(rel, tot, out=np.full_like(tot, np.nan), where=tot > 0)


def neurons_figure(now: Snapshot, init: Snapshot, name: str, k: int, d: int, title: str = "",
                   height: int = 220) -> go.Figure:
    """Per-neuron share of first-layer weight energy on x_1..x_k now and at init, seed 0.

    Neurons are sorted by their current share; the dashed line is k/d, a neuron that ignores the task.
    Up to 64 neurons: a bar each, with a dot at its share at init. More: the sorted profile now (filled)
    against the sorted profile at init (dotted). A learned feature shows as shares near 1; a kernel-regime
    network stays on its profile at init.
    Example: neurons_figure(run.latest("feature"), run.history["feature"][0], "feature", k=2, d=50)
    """
    share, share0 = neuron_share(now.neuron_relevant, now.neuron_rest), neuron_share(init.neuron_relevant,
                                                                                     init.neuron_rest)
    order = np.argsort(-np.nan_to_num(share, nan=-1.0), kind="stable")
    x = np.arange(1, len(order) + 1)
    if len(x) <= 64:  # one bar per neuron, its share at init as a dot on it
        traces = [dict(type="bar", x=_list(x), y=_list(share[order]), name="now",
                       marker=dict(color=COLORS.get(name, "#888"), line=dict(width=0))),
                  dict(type="scatter", x=_list(x), y=_list(share0[order]), mode="markers", name="at init",
                       marker=dict(color="#333", size=5))]
    else:  # hundreds of neurons: two filled profiles (sorted shares now and at init) draw as two SVG paths
        traces = [dict(type="scatter", x=_list(x), y=_list(share[order]), name="now", mode="lines",
                       fill="tozeroy", line=dict(color=COLORS.get(name, "#888"), width=1.5, shape="hv")),
                  dict(type="scatter", x=_list(x), y=_list(np.sort(np.nan_to_num(share0))[::-1]), mode="lines",
                       name="at init", line=dict(color="#333", width=1.5, dash="dot", shape="hv"))]
    layout = dict(
        template=_BLANK, height=height, margin=dict(l=10, r=10, t=34 if title else 10, b=10), bargap=0.1,
        uirevision="keep", title=_title(title),
        legend=dict(orientation="h", y=1.02, x=0, yanchor="bottom"),
        shapes=[dict(type="line", x0=0, x1=1, xref="paper", y0=k / d, y1=k / d,
                     line=dict(color="#555", dash="dash", width=1))],
        xaxis=dict(title=dict(text=f"neuron (sorted), seed 0, {len(x)} neurons"), showticklabels=len(x) <= 64),
        yaxis=dict(title=dict(text=f"energy share on x₁..x_{k}"), range=[0, 1.02]))
    return go.Figure(data=traces, layout=layout)
