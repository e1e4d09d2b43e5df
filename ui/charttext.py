"""A Plotly figure's text alternative: what it shows and its current values, in words (pure; no Streamlit).

The paper pages and the tour draw Plotly charts; under each one the page shows `figure_text(fig)` (in an
expander), so a visitor who cannot see the chart, or a screen reader, gets the same numbers. Decorative traces
(unnamed bands and fitted curves, which carry no values of their own) are left out; long curves are sampled.
"""
from __future__ import annotations

import math
import re
from typing import Any

import plotly.graph_objects as go

MOST = 24  # points listed per curve; a longer one is sampled evenly (first and last kept)


def _fmt(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, str):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return "none" if math.isnan(f) else ("inf" if f > 0 else "-inf")
    if f == int(f) and abs(f) < 1e15:
        return str(int(f))
    return f"{f:.3g}"


def _md(text: str) -> str:
    """Plain text for Markdown: no HTML tags, and the characters Markdown would read as emphasis escaped."""
    text = re.sub(r"<br\s*/?>", "; ", str(text))
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"([*_`\\[\]])", r"\\\1", text)


def _sample(n: int, most: int) -> list[int]:
    if n <= most:
        return list(range(n))
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


class _Axis:
    """One axis: its title, and its tick labels where they stand for the plotted values (log-encoded axes)."""

    def __init__(self, axis: Any):
        title = getattr(getattr(axis, "title", None), "text", None) if axis is not None else None
        self.title = _md(title) if title else ""
        vals = getattr(axis, "tickvals", None) if axis is not None else None
        text = getattr(axis, "ticktext", None) if axis is not None else None
        self.labels = dict(zip((float(v) for v in vals), text)) if vals is not None and text is not None else {}

    def label(self, v: Any) -> str:
        try:
            f = float(v)
        except (TypeError, ValueError):
            return _md(_fmt(v))
        for tick, text in self.labels.items():
            if abs(tick - f) <= 1e-9 * max(1.0, abs(f)):
                return _md(str(text))
        return _fmt(f)

    def encoded(self) -> bool:
        """True when the tick labels are not the plotted numbers (say log10 n plotted, n written)."""
        for tick, text in self.labels.items():
            try:
                if abs(float(str(text)) - tick) > 1e-9 * max(1.0, abs(tick)):
                    return True
            except ValueError:
                return True
        return False


def _axis(fig: go.Figure, ref: str | None, kind: str) -> _Axis:
    """The axis a trace is drawn on; a shared axis without a title of its own borrows that of the axis it
    matches, or of another axis with the same ticks (subplots titled only on the outer row or column)."""
    def layout_axis(r: str | None) -> Any:
        name = kind + "axis" + ((r or kind)[1:])
        return getattr(fig.layout, name, None) if name in fig.layout else None

    raw = layout_axis(ref)
    axis = _Axis(raw)
    if not axis.title and raw is not None and raw.matches:
        axis = _Axis(layout_axis(raw.matches))
    if not axis.title:
        for key in fig.layout:
            if re.fullmatch(kind + r"axis\d*", key):
                other = _Axis(fig.layout[key])
                if other.title and (other.labels == axis.labels or not axis.labels):
                    axis.title, axis.labels = other.title, axis.labels or other.labels
                    break
    return axis


def _subplot_titles(fig: go.Figure) -> dict[str, str]:
    """x-axis reference ("x", "x2", ...) -> its subplot's title, for figures made with make_subplots."""
    axes = sorted((k for k in fig.layout if re.fullmatch(r"xaxis\d*", k)), key=lambda k: int(k[5:] or 1))
    notes = [a.text for a in (fig.layout.annotations or ()) if a.xref == "paper" and a.yref == "paper" and a.text]
    if len(axes) < 2 or len(notes) < len(axes):
        return {}
    return {"x" + k[5:]: _md(t) for k, t in zip(axes, notes)}


def _curve(tr: Any, ax: _Axis, ay: _Axis, most: int) -> str:
    xs, ys = list(tr.x if tr.x is not None else range(len(tr.y))), list(tr.y if tr.y is not None else [])
    n = min(len(xs), len(ys))
    err = getattr(tr, "error_y", None)
    hi = list(err.array) if err is not None and err.array is not None else None
    lo = list(err.arrayminus) if err is not None and err.arrayminus is not None else hi
    mode = getattr(tr, "mode", None) or ""  # bars have none
    if "markers" not in mode and "lines" in mode and n > 8:  # a reference line: where it starts and ends
        if ax.encoded() or ay.encoded():
            return "reference line"
        return f"a line from {ax.label(xs[0])} → {ay.label(ys[0])} to {ax.label(xs[n - 1])} → {ay.label(ys[n - 1])}"
    points = []
    for i in _sample(n, most):
        s = f"{ax.label(xs[i])} → {ay.label(ys[i])}"
        if hi is not None and i < len(hi) and i < len(lo) and ys[i] is not None:
            s += f" (range {_fmt(float(ys[i]) - float(lo[i]))} to {_fmt(float(ys[i]) + float(hi[i]))})"
        points.append(s)
    shown = f" ({len(points)} of {n} points)" if len(points) < n else ""
    return "; ".join(points) + shown


def _grid(tr: Any, ax: _Axis, ay: _Axis) -> list[str]:
    z = [list(row) for row in tr.z]
    text = [list(row) for row in tr.text] if tr.text is not None and len(tr.text) == len(z) else None
    xs = list(tr.x) if tr.x is not None else list(range(len(z[0]) if z else 0))
    ys = list(tr.y) if tr.y is not None else list(range(len(z)))
    rows = []
    for r, y in enumerate(ys):
        cells = [f"{ax.label(x)} → " + (_md(text[r][c]) if text is not None and c < len(text[r]) else _fmt(z[r][c]))
                 for c, x in enumerate(xs) if c < len(z[r])]
        rows.append(f"  - {ay.title or 'y'} = {ay.label(y)}; {ax.title or 'x'} = " + ", ".join(cells))
    return rows


def figure_text(fig: go.Figure, most: int = MOST) -> str:
    """The figure's title, axes and, per named trace, its current values, as Markdown lines."""
    lines = []
    title = fig.layout.title.text if fig.layout.title is not None else None
    if title:
        lines.append(f"**{_md(title)}**")
    subplots, said = _subplot_titles(fig), set()

    def once(line: str) -> None:  # a legend entry drawn in each panel is said once
        if line not in said:
            said.add(line)
            lines.append(line)

    if not subplots:
        ax, ay = _axis(fig, "x", "x"), _axis(fig, "y", "y")
        if ax.title or ay.title:
            lines.append(f"Across: {ax.title or 'x'}; up: {ay.title or 'y'}.")
    for tr in fig.data:
        ax, ay = _axis(fig, getattr(tr, "xaxis", None), "x"), _axis(fig, getattr(tr, "yaxis", None), "y")
        where = subplots.get(getattr(tr, "xaxis", None) or "x")
        panel = f" ({where})" if where else ""
        if isinstance(tr, go.Heatmap):
            bar = getattr(getattr(getattr(tr, "colorbar", None), "title", None), "text", None)
            name = _md(tr.name or where or bar or "map")
            lines.append(f"- {name}: {_md(bar) if bar and bar not in name else 'value'} by {ay.title or 'y'} "
                         f"and {ax.title or 'x'}:")
            lines.extend(_grid(tr, ax, ay))
        elif isinstance(tr, go.Contour):
            if tr.name:
                once(f"- line: {_md(tr.name)}")
        elif isinstance(tr, go.Bar):
            lines.append(f"- {_md(tr.name or 'bars')}{panel}: " + _curve(tr, ax, ay, most=10 ** 6))
        elif isinstance(tr, go.Scatter):
            if not tr.name:  # bands and fitted curves: decoration, their numbers are in a named trace
                continue
            if len(tr.x if tr.x is not None else ()) == 1 and (ax.encoded() or ay.encoded()):
                once(f"- marked: {_md(tr.name)}")
                continue
            values = _curve(tr, ax, ay, most)
            once(f"- {_md(tr.name)}: {values}" if values == "reference line" else f"- {_md(tr.name)}{panel}: {values}")
    for kind, key in (("Vertical", "x0"), ("Horizontal", "y0")):
        at = [s[key] for s in fig.layout.shapes or () if s.type == "line"
              and (s.x0 == s.x1 if kind == "Vertical" else s.y0 == s.y1)]
        if at:
            lines.append(f"- {kind} markers at {'x' if kind == 'Vertical' else 'y'} = {', '.join(_fmt(v) for v in at)}")
    return "\n".join(lines)
