"""The scrubber's pure SVG builders: what they draw at a step, read back from the SVG text."""
import re

import numpy as np

from sharp import preset
from sharp.experiments.trajectory import Trajectory
from ui import trajectories as tj


def fake(m: int, steps: int = 4, grow: float = 2.0) -> Trajectory:
    t = np.arange(steps + 1)
    planes = np.zeros((len(t), 2, m, 3))
    planes[..., 0] = 0.1 * grow ** t[:, None, None]
    planes[..., 2] = 1.0
    err = np.linspace(0.5, 0.0, len(t))[:, None].repeat(2, 1)
    cfg = preset("feature", d=20, n=120, m=m, steps=steps, every=1, seeds=2)
    return Trajectory(cfg, t, planes, err, err[::-1].copy(), False)


def test_shown_keeps_both_halves_of_a_wide_layer():
    idx = tj.shown(1024)
    assert len(idx) == tj.MAX_NEURONS and (idx < 512).sum() == (idx >= 512).sum() == tj.MAX_NEURONS // 2
    assert tj.shown(20).tolist() == list(range(20))


def test_plane_draws_every_shown_neuron_at_the_step_with_its_path():
    tr = fake(20)
    svg = tj.plane_svg(tr, 2, name="feature", title="Feature", limit=tj.plane_limit(tr), rest_top=1.0)
    assert 'data-step="2"' in svg and 'data-chart="plane-feature"' in svg
    assert svg.count("<circle") == 20
    cx = {float(v) for v in re.findall(r'<circle cx="([\d.]+)"', svg)}
    assert len(cx) == 1  # every neuron sits at 0.1 * 2^2 = 0.4 on u at step 2
    assert tj.plane_limit(tr) == 2.0  # 0.1 * 2^4 = 1.6, padded and rounded up to 2
    wide = fake(1024)
    assert tj.plane_svg(wide, 0, name="kernel", title="K", limit=1, rest_top=1).count("<circle") == tj.MAX_NEURONS


def test_curves_put_the_cursor_at_the_slider_step():
    trs = {"kernel": fake(20), "feature": fake(20, grow=3.0)}
    a, b = (tj.curves_svg(trs, i, "test_error") for i in (1, 3))
    assert 'data-cursor="1"' in a and 'data-cursor="3"' in b
    cursor = re.compile(r'<path d="M([\d.]+) [\d.]+V[\d.]+"[^>]*stroke-dasharray="5 4"')
    (xa,), (xb,) = (cursor.findall(s) for s in (a, b))
    assert float(xb) > float(xa)


def test_play_stops_at_the_last_frame_and_colours_span_the_scale():
    assert tj.next_index(0, 5) == 1 and tj.next_index(4, 5) == 4
    assert tj.rest_color(0, 2) == tj.REST_COLORS[0] and tj.rest_color(5, 2) == tj.REST_COLORS[1]
