"""Pure SVG builders for the kiosk, the learning pages and the live page's files: data in, an `<svg>` string out;
and the runs' colours and labels every live chart uses. Nothing here trains or touches streamlit.

`curves_svg` draws panels of curves (the kiosk, the neuron-trajectory charts, a live chart saved as a file:
ui/live_chart.py), `neurons_svg` a run's neurons. Text and axes use `currentColor`, so the charts follow
Streamlit's light or dark theme. The live page's streamed charts are drawn in the browser (ui/live_chart.py); the
paper pages, which draw once, use Plotly (ui/paper_figures.py).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from sharp import Snapshot
from sharp.experiments.curves import Curve
from ui.palette import NEUTRAL, REGIME, rgba
from ui.ticks import log_ticks, nice_ticks

COLORS = REGIME  # the one palette's regime colours (ui.palette)
LABELS = {"kernel": "kernel regime", "feature": "feature learning", "linearized": "linearized (NTK) net"}
WIDTH = 560  # the viewBox width, about a column's on a laptop; the chart scales to its column, text with it
LEFT, RIGHT = 46, 14  # room for the y tick labels; a little air on the right
TICK_FONT, TITLE_FONT = 13, 15
PROFILE_POINTS = 128  # a neuron profile's resolution: the chart is sent several times a second
PAD = 1.08  # a y axis reaches this much above the highest band
BAND_ALPHA = 0.18  # a band's opacity: the min-max over seeds, behind its line
DASHED = {"linearized": (2, 4)}  # runs drawn dashed (on, off pixels): the overlay, told apart without colour


def shared_range(curves: Sequence[Curve], floor: float = 0.0, at_least: float = 0.0, pad: float = PAD) -> list[float]:
    """A y-range [floor, top] holding every curve's band, so side-by-side charts compare at a glance.

    Example: shared_range([c1, c2], at_least=0.55) -> [0.0, 0.594]
    """
    tops = [float(np.nanmax(c.hi)) for c in curves if c.hi.size and np.isfinite(c.hi).any()]
    return [floor, max([at_least, *tops]) * pad if tops or at_least else 1.0]


def _num(v: float) -> str:
    """A tick label: 0.1 rather than 0.1000000001, 1000 rather than 1e+03."""
    return f"{v:.10g}" if abs(v) < 1e5 else f"{v:.0e}"


def _path(xs: np.ndarray, ys: np.ndarray) -> str:
    """An SVG path through the finite points, broken where a value is missing."""
    out, pen = [], "M"
    for x, y in zip(xs.tolist(), ys.tolist()):
        if math.isfinite(x) and math.isfinite(y):
            out.append(f"{pen}{x:.1f} {y:.1f}")
            pen = "L"
        else:
            pen = "M"
    return "".join(out)


def _band(xs: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> str:
    """Closed polygons between lo and hi, one per run of finite points."""
    ok = np.isfinite(xs) & np.isfinite(lo) & np.isfinite(hi)
    out, i = [], 0
    while i < len(ok):
        if not ok[i]:
            i += 1
            continue
        j = i
        while j < len(ok) and ok[j]:
            j += 1
        seg = slice(i, j)
        out.append(_path(np.concatenate([xs[seg], xs[seg][::-1]]), np.concatenate([hi[seg], lo[seg][::-1]])) + "Z")
        i = j
    return "".join(out)


def _text(x: float, y: float, text: str, size: int = TICK_FONT, anchor: str = "start", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="currentColor" '
            f'{extra}>{escape(text)}</text>')


def _y_grid(values: Sequence[float], sy) -> str:
    """Faint horizontal gridlines across the plot area at `values`, each labelled on the left."""
    out = []
    for v in values:
        y = float(sy(np.array(float(v))))
        out.append(f'<path d="M{LEFT} {y:.1f}H{WIDTH - RIGHT}" stroke="currentColor" stroke-opacity="0.12"/>')
        out.append(_text(LEFT - 6, y + 4, _num(v), anchor="end", extra='fill-opacity="0.7"'))
    return "".join(out)


def _baseline(y: float) -> str:
    """The x axis line at the bottom of a plot area."""
    return f'<path d="M{LEFT} {y}H{WIDTH - RIGHT}" stroke="currentColor" stroke-opacity="0.45"/>'


def _svg(body: list[str], height: float, chart: str, points: int, label: str, desc: str = "") -> str:
    """The root element; data-chart / data-points let a browser test find the chart and count its points.

    Its text alternative: aria-label holds what the chart shows and `desc` its current values (also kept in a
    <desc> element, so a downloaded file carries them). Two small SVG / PNG buttons in the bottom right corner
    are handled by the page's download script (web/static/downloads.js); they are left out of the downloaded
    file.
    The opening tag ends its own line, so a Markdown renderer takes the whole chart as one raw HTML block."""
    alt = f"{label}. {desc}" if desc else label
    buttons = "".join(
        f'<text x="{WIDTH - RIGHT - dx}" y="{height - 4:.0f}" font-size="11" fill="currentColor" '
        f'fill-opacity="0.6" class="sharp-dl" data-download="{kind}" role="button" tabindex="0" '
        f'aria-label="Download this chart as {kind.upper()}" style="cursor:pointer">{kind.upper()}</text>'
        for dx, kind in ((52, "svg"), (24, "png")))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" role="img" '
            f'aria-label="{escape(alt)}" data-chart="{escape(chart)}" data-points="{points}" '
            f'style="display:block;height:auto;overflow:visible">\n<desc>{escape(alt)}</desc>{"".join(body)}'
            f'{buttons}</svg>')


def describe(panels: Sequence[Panel], labels: Mapping[str, str] | None = None) -> str:
    """The current values of each curve in words: the chart's text alternative.

    Example: describe([Panel([c], "Test error", [0, 1])]) -> 'Test error: feature learning 0.02 at step 300
    (seeds 0.01 to 0.03).'
    """
    labels = labels or LABELS
    out = []
    for p in panels:
        parts = []
        for c in p.curves:
            ok = np.flatnonzero(np.isfinite(c.mean))
            if not ok.size:
                parts.append(f"{labels.get(c.name, c.name)} no value yet")
                continue
            j = ok[-1]
            band = f" (seeds {c.lo[j]:.3g} to {c.hi[j]:.3g})" if c.hi[j] > c.lo[j] else ""
            parts.append(f"{labels.get(c.name, c.name)} {c.mean[j]:.3g} at step {c.step[j]:.0f}{band}")
        out.append(f"{p.title.split('  ')[0]}: {'; '.join(parts)}.")
    return " ".join(out)


@dataclass(frozen=True)
class Panel:
    """One metric's chart inside a figure: its curves, title, y-range and an optional marked step."""

    curves: Sequence[Curve]
    title: str
    y_range: Sequence[float]  # shared between the two columns
    marker: int | None = None  # a step to mark with a dashed vertical line, e.g. ceil(ln d)
    marker_label: str = ""
    markers: Sequence[tuple[float, str, str]] = ()  # more marked steps: (step, label, colour), e.g. one per d


def curves_svg(panels: Sequence[Panel], *, x_max: int, log_x: bool = False, chart: str = "curves",
               hover: bool = False, plot_height: int = 150, colors: Mapping[str, str] | None = None,
               labels: Mapping[str, str] | None = None) -> str:
    """Panels stacked on a shared step axis; a line per run (mean over seeds) with a shaded min-max band.

    Args:
        panels: top to bottom.
        x_max: the last step of the run, so lines grow left to right on a fixed axis.
        log_x: logarithmic step axis (step 0 is then off the axis).
        chart: a name for the chart (data-chart), e.g. "curves-kernel".
        hover: add a tooltip per logged step with every curve's values (left out while streaming: it adds
            a hundred elements to each redraw).
        plot_height: pixels of plot area per panel.
        colors, labels: per curve name, instead of COLORS / LABELS (e.g. one colour per step size).
    Returns:
        The `<svg>` text.
    Example:
        >>> curves_svg([Panel([curve("feature", snaps, "test_error")], "Test error", [0, .6])], x_max=300)
    """
    right = WIDTH - RIGHT
    hi_x = math.log10(max(x_max, 2)) if log_x else max(x_max, 1)
    colors, labels = {**COLORS, **(colors or {})}, {**LABELS, **(labels or {})}

    def sx(step: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(step > 0, np.log10(np.maximum(step, 1e-300)), np.nan) if log_x else step
        return LEFT + (right - LEFT) * u / hi_x

    names = list(dict.fromkeys(c.name for p in panels for c in p.curves))
    legend = len(names) > 1
    body, top, points = [], 22.0 if legend else 0.0, 0
    if legend:
        x = float(right)
        for name in reversed(names):
            label = labels.get(name, name)
            x -= 30 + 6.5 * len(label)
            dash = ' stroke-dasharray="2 3"' if name == "linearized" else ""
            body.append(f'<path d="M{x:.0f} 9H{x + 22:.0f}" stroke="{colors.get(name, NEUTRAL)}" stroke-width="2.5"'
                        f'{dash}/>' + _text(x + 26, 13, label))
    for i, p in enumerate(panels):
        y0 = top + 22  # the panel title above its plot area
        y1 = y0 + plot_height
        lo_y, hi_y = float(p.y_range[0]), float(p.y_range[1])

        def sy(v: np.ndarray, y0=y0, y1=y1, lo_y=lo_y, hi_y=hi_y) -> np.ndarray:
            return y1 - (y1 - y0) * (np.clip(v, lo_y, hi_y) - lo_y) / ((hi_y - lo_y) or 1.0)

        body.append(_text(4, top + 15, p.title, TITLE_FONT, extra='font-weight="600"'))
        body.append(_y_grid(nice_ticks(lo_y, hi_y, 4), sy))
        xt = log_ticks(1, max(x_max, 1)) if log_x else nice_ticks(0, max(x_max, 1), 6)
        for v in xt:
            x = float(sx(np.array(float(v))))
            body.append(f'<path d="M{x:.1f} {y0}V{y1}" stroke="currentColor" stroke-opacity="0.07"/>')
            if i == len(panels) - 1:
                body.append(_text(x, y1 + 16, _num(v), anchor="middle", extra='fill-opacity="0.7"'))
        body.append(_baseline(y1))
        for c in p.curves:
            color, xs = colors.get(c.name, NEUTRAL), sx(c.step)
            body.append(f'<path d="{_band(xs, sy(c.lo), sy(c.hi))}" fill="{rgba(color, BAND_ALPHA)}"/>')
            dash = f' stroke-dasharray="{" ".join(map(str, DASHED[c.name]))}"' if c.name in DASHED else ""
            body.append(f'<path d="{_path(xs, sy(c.mean))}" fill="none" stroke="{color}" stroke-width="2.5" '
                        f'stroke-linejoin="round"{dash}/>')
            points += int((np.isfinite(xs) & np.isfinite(c.mean)).sum())  # drawn points
        if p.marker is not None and (not log_x or p.marker > 0):
            x = float(sx(np.array(float(p.marker))))
            body.append(f'<path d="M{x:.1f} {y0}V{y1}" stroke="currentColor" stroke-opacity="0.6" '
                        f'stroke-dasharray="5 4"/>' + _text(x + 4, y0 + 13, p.marker_label))
        for j, (step, text, color) in enumerate(p.markers):
            if log_x and step <= 0:
                continue
            x = float(sx(np.array(float(step))))
            body.append(f'<path d="M{x:.1f} {y0}V{y1}" stroke="{color}" stroke-width="2" stroke-dasharray="5 4"/>')
            if text:  # stacked, so markers at the same step keep readable labels
                body.append(_text(x + 4, y0 + 13 + 15 * j, text))
        top = y1 + 12
    top += 16 + 20  # the last panel's tick labels and the axis title
    body.append(_text((LEFT + right) / 2, top - 4, "SGD step" + (" (log scale)" if log_x else ""), anchor="middle"))
    if hover:
        body.append(_hover_strips(panels, sx, 0, top - 36, labels))
    label = ", ".join(p.title for p in panels) + " against SGD step for " + ", ".join(labels.get(n, n) for n in names)
    return _svg(body, top, chart, points, label, describe(panels, labels))


def _hover_strips(panels: Sequence[Panel], sx, y0: float, y1: float, labels: Mapping[str, str]) -> str:
    """An invisible strip per logged step whose tooltip lists every curve's mean and band there."""
    steps = sorted({float(s) for p in panels for c in p.curves for s in c.step.tolist()})
    xs = sx(np.array(steps))
    out = []
    for j, step in enumerate(steps):
        if not math.isfinite(xs[j]):
            continue
        left = (xs[j] + xs[j - 1]) / 2 if j and math.isfinite(xs[j - 1]) else xs[j] - 2
        width = ((xs[j + 1] + xs[j]) / 2 if j + 1 < len(xs) else xs[j] + 2) - left
        lines = [f"step {step:.0f}"]
        for p in panels:
            for c in p.curves:
                k = np.flatnonzero(c.step == step)
                if k.size and math.isfinite(c.mean[k[0]]):
                    lines.append(f"{labels.get(c.name, c.name)}, {p.title.split('  ')[0].lower()}: "
                                 f"{c.mean[k[0]]:.3g} (seeds {c.lo[k[0]]:.3g} to {c.hi[k[0]]:.3g})")
        out.append(f'<rect x="{left:.1f}" y="{y0:.0f}" width="{max(width, 1):.1f}" height="{y1 - y0:.0f}" '
                   f'fill="transparent"><title>{escape(chr(10).join(lines))}</title></rect>')
    return "".join(out)


def relevant(k: int) -> str:
    """The last relevant coordinate with a subscript. Example: relevant(2) -> 'x₂'"""
    return "x" + str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def neuron_share(relevant: Sequence[float], rest: Sequence[float]) -> np.ndarray:
    """Each neuron's share of first-layer weight energy on x_1..x_k, in [0, 1]. Example: neuron_share([1], [3])"""
    rel, oth = np.asarray(relevant, dtype=float), np.asarray(rest, dtype=float)
    tot = rel + oth
    return np.divide(rel, tot, out=np.full_like(tot, np.nan), where=tot > 0)


def neurons_svg(now: Snapshot, init: Snapshot, name: str, k: int, d: int, title: str = "", chart: str = "neurons",
                plot_height: int = 120) -> str:
    """Per-neuron share of first-layer weight energy on x_1..x_k now and at init, seed 0.

    Neurons are sorted by their current share; the dashed line is k/d, a neuron that ignores the task.
    Up to 64 neurons: a bar each (its tooltip gives both shares), with a dot at its share at init. More: the
    sorted profile now (filled) against the sorted profile at init (dotted). A learned feature shows as
    shares near 1; a kernel-regime network stays on its profile at init.
    Example: neurons_svg(run.latest("feature"), run.history["feature"][0], "feature", k=2, d=50)
    """
    share = neuron_share(now.neuron_relevant, now.neuron_rest)
    share0 = neuron_share(init.neuron_relevant, init.neuron_rest)
    order = np.argsort(-np.nan_to_num(share, nan=-1.0), kind="stable")
    m, color, right = len(order), COLORS.get(name, NEUTRAL), WIDTH - RIGHT
    y0 = 44.0 if title else 24.0
    y1 = y0 + plot_height

    def sy(v):
        return y1 - (y1 - y0) * np.clip(np.nan_to_num(v), 0, 1)

    body = [_text(4, 15, title, TITLE_FONT, extra='font-weight="600"')] if title else []
    ly = y0 - 10
    body.append(f'<rect x="{LEFT}" y="{ly - 8}" width="10" height="10" fill="{color}"/>' + _text(LEFT + 14, ly, "now"))
    body.append(f'<circle cx="{LEFT + 55}" cy="{ly - 3}" r="3" fill="currentColor"/>' + _text(LEFT + 62, ly, "at init"))
    body.append(f'<path d="M{LEFT + 120} {ly - 3}h20" stroke="currentColor" stroke-dasharray="4 3"/>'
                + _text(LEFT + 144, ly, f"k/d = {k / d:.2g}: a neuron that ignores the task"))
    body.append(_y_grid([0, 0.5, 1], sy))
    slot = (right - LEFT) / max(m, 1)
    if m <= 64:
        for i, j in enumerate(order.tolist()):
            x, top = LEFT + i * slot, float(sy(share[j]))
            tip = f"neuron {j}: share {share[j]:.2f} now, {share0[j]:.2f} at init"
            body.append(f'<rect x="{x + 0.05 * slot:.1f}" y="{top:.1f}" width="{0.9 * slot:.1f}" '
                        f'height="{y1 - top:.1f}" fill="{color}"><title>{tip}</title></rect>')
            body.append(f'<circle cx="{x + slot / 2:.1f}" cy="{float(sy(share0[j])):.1f}" r="{min(3.0, slot / 4):.1f}" '
                        f'fill="currentColor"/>')
    else:  # hundreds of neurons: two sorted profiles, now (filled) and at init (dotted), at most ~1 point per 4 px
        idx = np.unique(np.linspace(0, m - 1, min(m, PROFILE_POINTS)).round().astype(int))
        xs = np.concatenate([[LEFT], LEFT + slot * (idx + 0.5), [right]])

        def profile(sorted_share: np.ndarray) -> np.ndarray:
            ys = sy(sorted_share[idx])
            return np.concatenate([ys[:1], ys, ys[-1:]])

        body.append(f'<path d="{_path(xs, profile(share[order]))}V{y1}H{LEFT}Z" fill="{rgba(color, 0.35)}" '
                    f'stroke="{color}" stroke-width="1.5"/>')
        body.append(f'<path d="{_path(xs, profile(np.sort(np.nan_to_num(share0))[::-1]))}" fill="none" '
                    f'stroke="currentColor" stroke-width="1.5" stroke-dasharray="2 3"/>')
    chance = float(sy(k / d))
    body.append(f'<path d="M{LEFT} {chance:.1f}H{right}" stroke="currentColor" stroke-opacity="0.7" '
                f'stroke-dasharray="4 3"/>')
    body.append(_baseline(y1))
    body.append(_text((LEFT + right) / 2, y1 + 18, f"neuron, sorted by its share now ({m} neurons, seed 0)",
                      anchor="middle"))
    now_ok, init_ok = share[np.isfinite(share)], share0[np.isfinite(share0)]
    desc = (f"{m} neurons, seed 0: median share on the relevant coordinates "
            f"{np.median(now_ok) if now_ok.size else float('nan'):.2f} now, "
            f"{np.median(init_ok) if init_ok.size else float('nan'):.2f} at init (k/d = {k / d:.2g}); "
            f"{int((now_ok > 0.5).sum())} of {m} above one half.")
    return _svg(body, y1 + 26, chart, m, f"{LABELS.get(name, name)}: {title}", desc)
