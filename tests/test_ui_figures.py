"""The live page's SVG charts (ui/figures.py): ticks, where the curves land, bands, gaps, legends, tooltips.

The charts are parsed as XML and checked against their own axes: a point's height is read back through the
y tick labels the chart prints, so a wrong scale, a flipped axis or a mislabelled tick fails.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pytest

from sharp.experiments.curves import Curve
from ui import figures
from ui.figures import Panel

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[ET.Element]:
    return root.findall(f".//{NS}text")


def points(d: str) -> list[list[tuple[float, float]]]:
    """An SVG path of M/L commands as its segments of (x, y) points."""
    segs: list[list[tuple[float, float]]] = []
    for cmd, x, y in re.findall(r"([ML])(-?[\d.]+) (-?[\d.]+)", d):
        if cmd == "M":
            segs.append([])
        segs[-1].append((float(x), float(y)))
    return segs


def mean_paths(root: ET.Element) -> list[str]:
    return [p.get("d") for p in root.findall(f"{NS}path") if p.get("fill") == "none" and p.get("stroke-width") == "2.5"]


def y_axis(root: ET.Element) -> tuple[np.ndarray, np.ndarray]:
    """The y tick labels' values and the heights of their gridlines (a label sits 4 px below its line)."""
    labels = [t for t in texts(root) if t.get("text-anchor") == "end"]
    return (np.array([float(t.text) for t in labels]), np.array([float(t.get("y")) - 4 for t in labels]))


def flat(name: str, steps, values, spread: float = 0.0) -> Curve:
    s, v = np.asarray(steps, float), np.asarray(values, float)
    return Curve(name, s, v, v - spread, v + spread)


def test_a_curve_lands_at_its_values_on_the_printed_axis():
    steps, values = np.arange(0, 101, 10), np.linspace(0.5, 0.05, 11)
    svg = figures.curves_svg([Panel([flat("feature", steps, values, 0.02)], "Test error", [0, 0.6])], x_max=100)
    root = parse(svg)
    ticks, heights = y_axis(root)
    assert list(ticks) == pytest.approx([0, 0.2, 0.4, 0.6])
    assert np.all(np.diff(heights) < 0)  # larger values higher up
    (seg,) = points(mean_paths(root)[0])
    ys = np.array([y for _, y in seg])
    read = np.interp(ys, heights[::-1], ticks[::-1])  # pixel height back to a value through the labels
    assert read == pytest.approx(values, abs=0.003)
    xs = np.array([x for x, _ in seg])
    assert np.allclose(np.diff(xs), np.diff(xs)[0], atol=0.15) and xs[0] < xs[-1]  # a linear step axis
    x_labels = {t.text: float(t.get("x")) for t in texts(root) if t.get("text-anchor") == "middle"}
    assert x_labels["0"] == pytest.approx(xs[0], abs=0.1) and x_labels["100"] == pytest.approx(xs[-1], abs=0.1)
    assert root.get("data-chart") == "curves" and root.get("data-points") == "11"
    band = [p for p in root.findall(f"{NS}path") if (p.get("fill") or "").startswith("rgba")]
    assert len(band) == 1 and band[0].get("d").endswith("Z")


def test_values_outside_the_range_are_clipped_to_its_edge():
    svg = figures.curves_svg([Panel([flat("kernel", [0, 1, 2], [0.3, 9.0, -1.0])], "x", [0, 0.6])], x_max=2)
    root = parse(svg)
    ticks, heights = y_axis(root)
    ys = [y for _, y in points(mean_paths(root)[0])[0]]
    assert ys[1] == pytest.approx(heights[ticks.argmax()], abs=0.2)  # the top of the plot area at 0.6
    assert ys[2] == pytest.approx(heights[ticks.argmin()], abs=0.2)


def test_a_diverged_stretch_breaks_the_line_and_is_not_counted():
    svg = figures.curves_svg([Panel([flat("feature", range(6), [0.5, 0.4, np.nan, np.nan, 0.2, 0.1])], "x",
                                    [0, 0.6])], x_max=5)
    root = parse(svg)
    assert [len(s) for s in points(mean_paths(root)[0])] == [2, 2]
    assert root.get("data-points") == "4"


def test_legend_only_when_two_runs_share_a_chart():
    one = [Panel([flat("kernel", [0, 1], [0.5, 0.4])], "Test error", [0, 0.6])]
    two = [Panel([flat("kernel", [0, 1], [0.5, 0.4]), flat("linearized", [0, 1], [0.5, 0.45])], "Test error",
                 [0, 0.6])]
    words = lambda svg: {t.text for t in texts(parse(svg))}  # noqa: E731
    assert "kernel regime" not in words(figures.curves_svg(one, x_max=1))
    assert {"kernel regime", "linearized (NTK) net"} <= words(figures.curves_svg(two, x_max=1))
    dashed = [p for p in mean_paths(parse(figures.curves_svg(two, x_max=1))) if p]
    assert len(dashed) == 2


def test_marker_draws_a_dashed_line_at_its_step_with_its_label():
    p = Panel([flat("feature", range(0, 31, 3), np.linspace(0.5, 0.1, 11))], "Test error", [0, 0.6], marker=4,
              marker_label="ln d ≈ 4")
    root = parse(figures.curves_svg([p], x_max=30))
    dashed = [q for q in root.findall(f"{NS}path") if q.get("stroke-dasharray") == "5 4"]
    assert len(dashed) == 1
    x = float(re.match(r"M(-?[\d.]+)", dashed[0].get("d")).group(1))
    seg = points(mean_paths(root)[0])[0]
    x_at = dict(zip(range(0, 31, 3), [px for px, _ in seg]))
    assert x == pytest.approx(x_at[3] + (x_at[6] - x_at[3]) / 3, abs=0.15)  # step 4 of 0..30
    assert "ln d ≈ 4" in {t.text for t in texts(root)}


def test_log_axis_puts_decades_evenly_and_drops_step_zero():
    steps = np.array([0, 1, 10, 100, 300])
    root = parse(figures.curves_svg([Panel([flat("kernel", steps, [0.5, 0.5, 0.4, 0.3, 0.2])], "x", [0, 0.6])],
                                    x_max=300, log_x=True))
    x_labels = {t.text: float(t.get("x")) for t in texts(root) if t.get("text-anchor") == "middle"}
    assert {"1", "10", "100"} <= set(x_labels) and "0" not in x_labels
    assert x_labels["10"] - x_labels["1"] == pytest.approx(x_labels["100"] - x_labels["10"], abs=0.2)
    (seg,) = points(mean_paths(root)[0])
    assert len(seg) == 4 and seg[0][0] == pytest.approx(x_labels["1"], abs=0.1)
    assert "SGD step (log scale)" in {t.text for t in texts(root)}


def test_hover_adds_one_tooltip_per_logged_step_with_the_values():
    panels = [Panel([flat("feature", [0, 5, 10], [0.5, 0.25, 0.125], 0.05)], "Test error", [0, 0.6]),
              Panel([flat("feature", [0, 5, 10], [0.0, 3.0, 6.0])], "Distance from init", [0, 7])]
    plain = parse(figures.curves_svg(panels, x_max=10))
    assert not plain.findall(f".//{NS}title")
    tips = [t.text for t in parse(figures.curves_svg(panels, x_max=10, hover=True)).findall(f".//{NS}title")]
    assert len(tips) == 3
    assert tips[1].splitlines() == ["step 5", "feature learning, test error: 0.25 (seeds 0.2 to 0.3)",
                                    "feature learning, distance from init: 3 (seeds 3 to 3)"]


def test_titles_and_labels_are_escaped():
    svg = figures.curves_svg([Panel([flat("kernel", [0, 1], [0.5, 0.4])], "a < b & c", [0, 1])], x_max=1)
    assert "a &lt; b &amp; c" in svg and parse(svg) is not None


def neurons(share_now, share_init):
    snap = lambda s: SimpleNamespace(neuron_relevant=np.asarray(s), neuron_rest=1 - np.asarray(s))  # noqa: E731
    return snap(share_now), snap(share_init)


def test_few_neurons_are_bars_sorted_by_share_with_the_chance_line_at_k_over_d():
    rng = np.random.default_rng(0)
    now, init = neurons(rng.uniform(size=20), rng.uniform(0, 0.1, size=20))
    root = parse(figures.neurons_svg(now, init, "feature", k=2, d=50, title="Neurons", chart="neurons-feature"))
    bars = [r for r in root.findall(f"{NS}rect") if r.find(f"{NS}title") is not None]
    assert len(bars) == 20 and root.get("data-points") == "20"
    heights = [float(r.get("height")) for r in bars]
    assert heights == sorted(heights, reverse=True) and heights[0] > heights[-1]
    ticks, levels = y_axis(root)
    chance = [p for p in root.findall(f"{NS}path") if p.get("stroke-dasharray") == "4 3" and "H" in p.get("d")]
    y = float(re.match(r"M[\d.]+ ([\d.]+)H", chance[-1].get("d")).group(1))
    assert np.interp(y, levels[::-1], ticks[::-1]) == pytest.approx(2 / 50, abs=0.005)
    top = max(range(20), key=lambda j: now.neuron_relevant[j])
    assert bars[0].find(f"{NS}title").text.startswith(f"neuron {top}: share {now.neuron_relevant[top]:.2f} now")


def test_many_neurons_are_two_profiles():
    rng = np.random.default_rng(1)
    now, init = neurons(rng.uniform(size=512), rng.uniform(0, 0.1, size=512))
    root = parse(figures.neurons_svg(now, init, "kernel", k=2, d=50))
    assert not root.findall(f"{NS}rect[title]") and root.get("data-points") == "512"
    profiles = [p for p in root.findall(f"{NS}path") if p.get("stroke-width") == "1.5"]
    assert len(profiles) == 2
    ys = [y for _, y in points(profiles[0].get("d").split("V")[0])[0]]
    assert ys == sorted(ys)  # sorted by share now: heights fall (SVG y grows) left to right


def test_every_chart_says_its_current_values():
    """The text alternative (aria-label and <desc>) holds the values now drawn, not only what is drawn."""
    panels = [Panel([flat("kernel", [0, 5, 10], [0.5, 0.4, 0.3], 0.05), flat("feature", [0, 5], [0.5, 0.02])],
                    "Test error", [0, 0.6])]
    root = parse(figures.curves_svg(panels, x_max=10))
    alt = root.get("aria-label")
    assert "kernel regime 0.3 at step 10 (seeds 0.25 to 0.35)" in alt and "feature learning 0.02 at step 5" in alt
    assert root.find(f"{NS}desc").text == alt
    assert {t.get("data-download") for t in texts(root) if t.get("data-download")} == {"svg", "png"}


def test_neuron_view_says_its_shares():
    from sharp import Snapshot
    snap = Snapshot(step=0, samples=0, train_loss=0, test_loss=0, test_error=0, distance=0, feature_share=0,
                    train_loss_seeds=(0,), test_loss_seeds=(0,), test_error_seeds=(0,), distance_seeds=(0,),
                    feature_share_seeds=(0,), distance_layers=(0,), distance_layers_seeds=((0,),),
                    neuron_relevant=(9.0, 1.0, 3.0), neuron_rest=(1.0, 9.0, 1.0))
    root = parse(figures.neurons_svg(snap, snap, "feature", k=2, d=50))
    assert "3 neurons, seed 0: median share on the relevant coordinates 0.75 now" in root.get("aria-label")
    assert "2 of 3 above one half" in root.get("aria-label")
