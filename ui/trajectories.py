"""Neuron trajectories with one step scrubber: figures (pure SVG builders) and the scrubber's page glue.

Each first-layer neuron is a point on the XOR plane: x = its weight on u = (e1 + e2)/sqrt(2), y = its weight on
v = (e1 - e2)/sqrt(2), colour = the norm of its weights on x_3..x_d. One step slider (and a Play button that
moves it) drives every chart of the run: the neuron planes of both regimes, and a cursor on the test-error and
distance curves. The builders are pure (Trajectory in, SVG text out); `scrubber` is the Streamlit glue.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape

import numpy as np

from sharp.experiments.curves import Curve
from sharp.experiments.trajectory import Trajectory
from ui import figures
from ui.palette import NEUTRAL, REST_SCALE

SIZE = 360  # the plane's viewBox side
PAD = 34  # room for the axis labels
MAX_NEURONS = 64  # drawn per regime (half with a_j = +1, half with a_j = -1); more only clutter the plane
REST_COLORS = REST_SCALE  # rest norm 0 -> light, the largest on the page -> dark (ui.palette)
PLAY_S = 0.35  # seconds per frame while playing


def shown(m: int) -> np.ndarray:
    """The neurons drawn of a width-m layer: all up to MAX_NEURONS, else evenly spaced ones from each half.

    Example: shown(1024)[:3] -> [0, 16, 32]
    """
    if m <= MAX_NEURONS:
        return np.arange(m)
    half = MAX_NEURONS // 2
    return np.concatenate([np.linspace(0, m // 2 - 1, half).round(), np.linspace(m // 2, m - 1, half).round()]
                          ).astype(int)


def rest_color(value: float, top: float) -> str:
    """The colour of a rest norm on the scale 0..top (a straight blend of REST_COLORS)."""
    t = min(max(value / top, 0.0), 1.0) if top > 0 else 0.0
    a, b = ([int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in REST_COLORS)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))


def plane_limit(traj: Trajectory, seed: int = 0) -> float:
    """Half-width of the plane that holds every drawn neuron at every step (a fixed frame while scrubbing)."""
    pts = traj.planes[:, seed][:, shown(traj.cfg.m), :2]
    top = float(np.nanmax(np.abs(pts))) if np.isfinite(pts).any() else 1.0
    return _round_up(max(top, 1e-6) * 1.05)


def _round_up(v: float) -> float:
    """The next value 1, 2 or 5 times a power of ten at or above v."""
    e = 10 ** math.floor(math.log10(v))
    return next(f * e for f in (1, 2, 5, 10) if f * e >= v)


def plane_svg(traj: Trajectory, index: int, *, name: str, title: str, limit: float, rest_top: float,
              seed: int = 0) -> str:
    """One regime's neurons on the XOR plane at logged step `index`, each with its path from step 0.

    Args:
        traj: the run.
        index: position in traj.steps.
        name: a key of figures.COLORS ("kernel" or "feature"): names the chart (data-chart="plane-<name>").
        title: drawn above the plane.
        limit: the axes run from -limit to +limit (fixed over the steps, see plane_limit).
        rest_top: the top of the colour scale (shared by the regimes on a page).
        seed: the ensemble member drawn.
    Returns:
        The `<svg>` text; data-step holds the step drawn.
    """
    idx = shown(traj.cfg.m)
    pts = traj.planes[: index + 1, seed][:, idx]  # (t + 1, n, 3)
    top, side = 24.0, SIZE - 2 * PAD
    x0, y0 = PAD, top  # the plot square's corner

    def sx(v):
        return x0 + side * (np.asarray(v) + limit) / (2 * limit)

    def sy(v):
        return y0 + side * (limit - np.asarray(v)) / (2 * limit)

    body = [figures._text(4, 16, title, figures.TITLE_FONT, extra='font-weight="600"')]
    cx, cy = float(sx(0.0)), float(sy(0.0))
    body.append(f'<rect x="{x0}" y="{y0}" width="{side}" height="{side}" fill="none" stroke="currentColor" '
                f'stroke-opacity="0.25"/>')
    body.append(f'<path d="M{x0} {cy:.1f}H{x0 + side}M{cx:.1f} {y0}V{y0 + side}" stroke="currentColor" '
                f'stroke-opacity="0.3"/>')
    for v in (-limit, limit):
        body.append(figures._text(float(sx(v)), y0 + side + 14, figures._num(v), 11, "middle",
                                  'fill-opacity="0.7"'))
        body.append(figures._text(x0 - 4, float(sy(v)) + 4, figures._num(v), 11, "end", 'fill-opacity="0.7"'))
    body.append(figures._text(x0 + side / 2, y0 + side + 28, "weight on (e₁+e₂)/√2  →", 12, "middle"))
    body.append(figures._text(12, y0 + side / 2, "weight on (e₁−e₂)/√2  →", 12, "middle",
                              f'transform="rotate(-90 12 {y0 + side / 2:.0f})"'))
    color = figures.COLORS.get(name, NEUTRAL)
    for j in range(pts.shape[1]):
        xs, ys = sx(pts[:, j, 0]), sy(pts[:, j, 1])
        if len(xs) > 1:
            body.append(f'<path d="{figures._path(xs, ys)}" fill="none" stroke="{color}" stroke-opacity="0.35" '
                        f'stroke-width="1.2"/>')
    for j in range(pts.shape[1]):
        u, v, r = (float(t) for t in pts[-1, j])
        if not (math.isfinite(u) and math.isfinite(v)):
            continue
        sign = "+1" if idx[j] < traj.cfg.m // 2 else "−1"
        body.append(f'<circle cx="{float(sx(u)):.1f}" cy="{float(sy(v)):.1f}" r="4.5" fill="{rest_color(r, rest_top)}" '
                    f'stroke="{color}" stroke-width="1.3"><title>neuron {idx[j]} (a = {sign}): '
                    f'{u:.3g} on (e1+e2)/√2, {v:.3g} on (e1−e2)/√2, norm {r:.3g} on the rest</title></circle>')
    height, step = y0 + side + 36, int(traj.steps[index])
    label = f"{title}: {len(idx)} neurons on the plane of x1 and x2 at step {step}"
    # the root as figures._svg writes it, on this chart's square viewBox; data-step says the step drawn
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {height:.0f}" width="100%" role="img" '
            f'aria-label="{escape(label)}" data-chart="plane-{escape(name)}" data-points="{len(idx)}" '
            f'data-step="{step}" style="display:block;height:auto;overflow:visible;max-width:{SIZE * 1.5:.0f}px">\n'
            f'{"".join(body)}</svg>')


def legend_svg(rest_top: float) -> str:
    """The colour scale of the rest norm, as a small horizontal bar."""
    stops = "".join(f'<stop offset="{t:.2f}" stop-color="{rest_color(t * rest_top, rest_top)}"/>' for t in (0, 0.5, 1))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 420 34" width="420" role="img" '
            'style="max-width:100%;height:auto" '  # narrower on a phone's screen, never wider than it
            f'aria-label="colour scale of the norm on x3..xd">'
            f'<defs><linearGradient id="restscale">{stops}</linearGradient></defs>'
            f'<rect x="170" y="4" width="200" height="12" fill="url(#restscale)"/>'
            + figures._text(0, 14, "norm on x₃…x_d (colour):", 12)
            + figures._text(170, 30, "0", 11, "middle") + figures._text(370, 30, figures._num(round(rest_top, 2)), 11,
                                                                          "middle")
            + "</svg>")


def curves_svg(trajs: Mapping[str, Trajectory], index: int, metric: str = "test_error") -> str:
    """One metric ("test_error" or "distance") of every run on one step axis, with a cursor at traj.steps[index].

    The cursor is the panel's marker (a dashed vertical line labelled with the step); the root element says the
    step in data-cursor, so a browser test can read where the cursor is (data-chart="traj-<metric>").
    """
    first = next(iter(trajs.values()))
    step = int(first.steps[min(index, len(first.steps) - 1)])
    title, at_least = {"test_error": ("Test error", 0.5), "distance": ("Distance from init ‖W−W₀‖/‖W₀‖", 0.0)}[metric]
    curves = [_curve(name, t, metric) for name, t in trajs.items()]
    panel = figures.Panel(curves, title, figures.shared_range(curves, at_least=at_least), marker=step,
                          marker_label=f"step {step}")
    x_max = int(max(t.cfg.steps for t in trajs.values()))
    svg = figures.curves_svg([panel], x_max=x_max, chart=f"traj-{metric.replace('_', '-')}", plot_height=150)
    return svg.replace("<svg ", f'<svg data-cursor="{step}" ', 1)


def _curve(name: str, t: Trajectory, metric: str) -> Curve:
    per_seed = getattr(t, metric)  # (T, R)
    with np.errstate(all="ignore"):
        return Curve(name, t.steps.astype(float), np.nanmean(per_seed, 1), np.nanmin(per_seed, 1),
                             np.nanmax(per_seed, 1))


def frame_text(trajs: Mapping[str, Trajectory], index: int) -> str:
    """One line per run saying where it is at this step (means over seeds), for the text under the slider."""
    out = []
    for name, t in trajs.items():
        i = min(index, len(t.steps) - 1)
        out.append(f"**{figures.LABELS.get(name, name)}** at step {int(t.steps[i])}: test error "
                   f"{np.nanmean(t.test_error[i]):.3f}, distance from init {np.nanmean(t.distance[i]):.3f}")
    return "  \n".join(out)


def next_index(index: int, count: int) -> int:
    """The frame after `index` while playing; the last frame stays put. Example: next_index(3, 4) -> 3"""
    return min(index + 1, count - 1)


# --- Streamlit glue ---------------------------------------------------------------------------------------------

def scrubber(key: str, trajs: Mapping[str, Trajectory], titles: Mapping[str, str] | None = None) -> None:
    """A step slider and a Play button driving every chart of the runs: the neuron planes side by side, then the
    curves with a cursor at the slider's step. The runs must share their logged steps.

    Args:
        key: prefix of the session keys (`<key>_step` holds the slider's value, `<key>_playing` the Play state).
        trajs: {"kernel": ..., "feature": ...}, drawn left to right.
        titles: a title per run for its plane (default its label).
    """
    import streamlit as st

    ss = st.session_state
    steps = [int(s) for s in next(iter(trajs.values())).steps]
    step_key, play_key = f"{key}_step", f"{key}_playing"
    if ss.get(step_key) not in steps:
        ss[step_key] = steps[-1]
    ss.setdefault(play_key, False)
    playing = bool(ss[play_key])

    def toggle() -> None:
        if not ss[play_key] and ss[step_key] == steps[-1]:
            ss[step_key] = steps[0]  # Play from the end starts over
        ss[play_key] = not ss[play_key]

    @st.fragment(run_every=PLAY_S if playing else None)
    def view() -> None:
        if ss[play_key] != playing:
            st.rerun(scope="app")  # Play or Pause was pressed: redefine the fragment with (or without) its timer
        if ss[play_key]:
            i = steps.index(ss[step_key])
            ss[step_key] = steps[next_index(i, len(steps))]
            if ss[step_key] == steps[-1]:
                ss[play_key] = False
        a, b = st.columns([1, 9], vertical_alignment="bottom")
        a.button("⏸ Pause" if ss[play_key] else "▶ Play", key=f"{key}_play", on_click=toggle,
                 use_container_width=True)
        b.select_slider("SGD step (drives every chart below)", options=steps, key=step_key)
        i = steps.index(ss[step_key])
        st.markdown(frame_text(trajs, i))
        top = max(float(np.nanmax(t.planes[..., 2])) for t in trajs.values())
        cols = st.columns(len(trajs))
        for col, (name, t) in zip(cols, trajs.items()):
            title = (titles or {}).get(name, figures.LABELS.get(name, name))
            col.markdown(plane_svg(t, min(i, len(t.steps) - 1), name=name, title=title, limit=plane_limit(t),
                                   rest_top=top), unsafe_allow_html=True)
        st.markdown(legend_svg(top), unsafe_allow_html=True)
        for col, metric in zip(st.columns(2), ("test_error", "distance")):
            col.markdown(curves_svg(trajs, i, metric), unsafe_allow_html=True)

    view()

