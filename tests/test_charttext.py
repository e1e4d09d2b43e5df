"""The paper pages' and the tour's Plotly charts in words (ui.charttext): their text alternative."""
import math

import pandas as pd
import plotly.graph_objects as go

from ui.charttext import figure_text
from ui.paper_figures import deep_loss_vs_n, figure1_figure, iterations_figure, samples_figure


def test_curves_list_each_named_trace_with_its_values_and_skip_the_bands():
    df = pd.DataFrame({"d": [25] * 4 + [100] * 4, "seed": [0, 0, 1, 1] * 2, "step": [0, 1] * 4,
                       "test_error": [0.5, 0.0, 0.5, 0.1, 0.4, 0.2, 0.6, 0.2]})
    text = figure_text(figure1_figure(df))
    lines = text.splitlines()
    assert lines[0].startswith("**Test error vs iteration")
    assert "Across: SGD iteration; up: test error." in lines
    assert "- d = 25: 0 → 0.5; 1 → 0.05" in lines  # medians over the two seeds
    assert "- d = 100: 0 → 0.5; 1 → 0.2" in lines
    assert "- Vertical markers at x = 4, 5" in lines  # ceil(ln 25), ceil(ln 100)
    assert len(lines) == 5  # the min-max bands (unnamed) are not read out


def test_error_bars_reference_lines_and_single_points():
    summary = pd.DataFrame({"regime": ["feature", "feature", "kernel", "kernel"], "d": [25, 100, 25, 100],
                            "median": [4.0, 5.0, 22.0, 40.0], "lo": [4.0, 5.0, 20.0, 40.0],
                            "hi": [4.0, 6.0, 23.0, 40.0], "reached": [3, 3, 3, 1], "seeds": 3,
                            "cap": [12, 12, 40, 40], "ceil_ln_d": [4, 5, 4, 5]})
    lines = figure_text(iterations_figure(summary)).splitlines()
    assert "- feature: median over seeds: 25 → 4 (range 4 to 4); 100 → 5 (range 5 to 6)" in lines
    assert "- kernel: median over seeds: 25 → 22 (range 20 to 23)" in lines
    assert "- kernel: not reached by every seed within the budget: 100 → 40" in lines
    assert "- ceil(ln d): a line from 25 → 4 to 100 → 5" in lines  # 60 points, said by its ends


def test_heat_maps_read_row_by_row_with_the_tick_labels_not_the_log_positions():
    rows = [{"regime": r, "d": d, "n": n, "test_error": e + (0.3 if r == "kernel" else 0), "diverged": 0.0}
            for r in ("feature", "kernel") for d in (8, 16) for n, e in ((32, 0.1), (64, 0.0))]
    lines = figure_text(samples_figure(pd.DataFrame(rows), c_lin=4, c_quad=1)).splitlines()
    feature = lines.index(next(ln for ln in lines if ln.startswith("- feature learning")))
    kernel = lines.index(next(ln for ln in lines if ln.startswith("- kernel regime")))
    assert lines[feature + 1] == "  - input dimension d = 8; training-set size n = 32 → 0.10, 64 → 0.00"
    # the kernel map shares its y axis (no title of its own): it is still named
    assert lines[kernel + 1] == "  - input dimension d = 8; training-set size n = 32 → 0.40, 64 → 0.30"
    assert lines.count("- n = 4 d: reference line") == 1  # drawn in both panels, said once


def test_long_curves_are_sampled_and_say_so():
    fig = go.Figure(go.Scatter(x=list(range(100)), y=[i / 100 for i in range(100)], mode="lines+markers",
                               name="loss"))
    line = figure_text(fig, most=10).splitlines()[-1]
    assert line.startswith("- loss: 0 → 0; ") and line.endswith("99 → 0.99 (10 of 100 points)")


def test_markdown_is_escaped_and_odd_values_are_words():
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[math.nan, math.inf, 2.5], mode="markers", name="a_b *c*"))
    fig.update_layout(title="t<br>x")
    text = figure_text(fig)
    assert text.splitlines()[0] == "**t; x**"
    assert "- a\\_b \\*c\\*: 1 → none; 2 → inf; 3 → 2.5" in text


def test_deep_fit_lines_are_in_the_named_trace():
    t = pd.DataFrame({"axis": ["n"] * 4, "L": [2, 2, 3, 3], "n": [100, 200, 100, 200], "m": [32] * 4,
                      "test_loss": [0.1, 0.05, 0.2, 0.1], "distance": [1.0] * 4})
    lines = figure_text(deep_loss_vs_n(t)).splitlines()
    assert "- L = 2: fitted slope -1.00: 100 → 0.1; 200 → 0.05" in lines
    assert not any(ln.startswith("- :") or "None" in ln for ln in lines)


def test_bars_and_horizontal_markers():
    fig = go.Figure(go.Bar(x=["x1", "x2", "x1·x2"], y=[0.02, -0.01, 0.97]))
    fig.add_hline(y=0.3)
    fig.add_hline(y=-0.3)
    lines = figure_text(fig).splitlines()
    assert "- bars: x1 → 0.02; x2 → -0.01; x1·x2 → 0.97" in lines
    assert "- Horizontal markers at y = 0.3, -0.3" in lines
