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


def rgba(color: str, alpha: float) -> str:
    """'#rrggbb' or 'rgb(r, g, b)' with transparency alpha. Example: rgba("#ff0000", 0.5) -> 'rgba(255,0,0,0.5)'"""
    if color.startswith("#"):
        r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    else:
        r, g, b = (int(float(v)) for v in color[color.index("(") + 1:-1].split(",")[:3])
    return f"rgba({r},{g},{b},{alpha})"


@dataclass(frozen=True)
class Panel:
    """One metric's chart inside a figure: its curves, title, y-range and an optional marked step."""

    curves: Sequence[Curve]
    title: str
    y_range: Sequence[float]  # shared between the two columns
    marker: int | None = None  # a step to mark with a dashed vertical line, e.g. ceil(ln d)
    marker_label: str = ""


def curves_figure(panels: Sequence[Panel], *, x_max: int, log_x: bool = False, panel_height: int = 230) -> go.Figure:
    """Panels stacked on a shared step axis; a line per run (mean over seeds) with a shaded min-max band.

    One figure holds both metrics of a column: the browser re-renders it several times a second, and each
    separate chart costs it a full layout pass.

    Args:
        panels: top to bottom.
        x_max: the last step of the run, so lines grow left to right on a fixed axis.
        log_x: logarithmic step axis (step 0 is then off the axis).
        panel_height: pixels per panel.
    Returns:
        The figure; panel i draws on axes x{i+1}, y{i+1}.
    Example:
        >>> curves_figure([Panel([curve("feature", snaps, "test_error")], "Test error", [0, .6])], x_max=300)
    """
    n, gap = len(panels), 0.14 if len(panels) > 1 else 0.0
    h = (1 - gap * (n - 1)) / n
    traces, shapes, notes, layout = [], [], [], {}
    x_range = [0, math.log10(max(x_max, 2))] if log_x else [0, max(x_max, 1)]
    for i, p in enumerate(panels):
        ax = "" if i == 0 else str(i + 1)
        top = round(1 - i * (h + gap), 6)  # rounded: plotly refuses a domain bound of -5e-17
        layout[f"xaxis{ax}"] = dict(type="log" if log_x else "linear", range=x_range, anchor=f"y{ax}",
                                    matches=None if i == 0 else "x",
                                    title=dict(text="SGD step") if i == n - 1 else None)
        layout[f"yaxis{ax}"] = dict(range=list(p.y_range), domain=[max(0.0, round(top - h, 6)), top], anchor=f"x{ax}")
        notes.append(dict(x=0, y=top, xref="paper", yref="paper", xanchor="left", yanchor="bottom", showarrow=False,
                          text=f"<b>{p.title}</b>", font=dict(size=14), yshift=4))
        for c in p.curves:
            color = COLORS.get(c.name, "#888888")
            # Plain lists rather than numpy arrays: the browser then holds ordinary arrays (plotly would send
            # numpy as base64 typed-array specs), which the end-to-end test can count.
            traces.append(dict(type="scatter", x=_list(np.concatenate([c.step, c.step[::-1]])),
                               y=_list(np.concatenate([c.hi, c.lo[::-1]])), mode="lines", fill="toself",
                               fillcolor=rgba(color, 0.18), line=dict(width=0), hoverinfo="skip",
                               showlegend=False, name=f"{LABELS.get(c.name, c.name)} band",
                               xaxis=f"x{ax}", yaxis=f"y{ax}"))
            traces.append(dict(type="scatter", x=_list(c.step), y=_list(c.mean), mode="lines",
                               name=LABELS.get(c.name, c.name), showlegend=i == 0, xaxis=f"x{ax}", yaxis=f"y{ax}",
                               line=dict(color=color, width=2.5, dash="dot" if c.name == "linearized" else "solid")))
        if p.marker is not None:
            shapes.append(dict(type="line", x0=p.marker, x1=p.marker, y0=top - h, y1=top, xref=f"x{ax}",
                               yref="paper", line=dict(color="#555", dash="dash", width=1.5)))
            notes.append(dict(x=math.log10(p.marker) if log_x else p.marker, y=top, xref=f"x{ax}", yref="paper",
                              text=p.marker_label, showarrow=False, xanchor="left", yanchor="top", xshift=3,
                              font=dict(size=12)))
    layout.update(template=_BLANK, height=panel_height * n, margin=dict(l=10, r=10, t=30, b=10), shapes=shapes,
                  annotations=notes, uirevision="keep", showlegend=any(len(p.curves) > 1 for p in panels),
                  legend=dict(orientation="h", y=1.0, x=1, xanchor="right", yanchor="bottom"))
    return go.Figure(data=traces, layout=layout)


def relevant(k: int) -> str:
    """The last relevant coordinate with a subscript. Example: relevant(2) -> 'x₂'"""
    return "x" + str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


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
        yaxis=dict(title=dict(text=f"share on x₁..{relevant(k)}"), range=[0, 1.02]))
    return go.Figure(data=traces, layout=layout)
