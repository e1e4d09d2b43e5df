"""The pure figure builders of ui/science.py: what each figure draws from a hand-made frame."""
import math

import pandas as pd

from ui.charttext import figure_text
from ui.science import digits_gap_figure, digits_iterations_figure, nstar_figure, readings_figure


def test_readings_figure_marks_censored_readings_at_the_budget():
    t = pd.DataFrame([{"reading": r, "d": d, "median": m, "horizon": 24, "reached": 3 if math.isfinite(m) else 0,
                       "seeds": 3, "final_error": 0.0 if math.isfinite(m) else 0.1}
                      for r, ms in (("online", (4, 5)), ("fixed", (math.inf, math.inf))) for d, m in zip((25, 50), ms)])
    fig = readings_figure(t, {"online": "online", "fixed": "fixed set"})
    names = [tr.name for tr in fig.data]
    assert names == ["online", "fixed set: half or more seeds never at zero within the budget", "ceil(ln d)"]
    assert list(fig.data[1].y) == [24, 24] and list(fig.data[0].y) == [4, 5]
    assert "online: 25 → 4; 50 → 5" in figure_text(fig)


def test_nstar_figure_draws_both_ratios_with_the_fitted_slopes():
    df = pd.DataFrame([{"regime": "feature", "d": d, "seed": s, "n_star": 6 * d, "censored": False, "n_max": 10**6}
                       for d in (16, 64) for s in range(2)]
                      + [{"regime": "kernel", "d": 16, "seed": 0, "n_star": 4096, "censored": True, "n_max": 4096}])
    fig = nstar_figure(df, {"feature": "feature", "kernel": "kernel"})
    medians = [tr for tr in fig.data if tr.name and tr.name.startswith("feature: median")]
    assert len(medians) == 2 and "fitted slopes 0.00 (n*/d), -1.00 (n*/d^2)" in medians[0].name
    assert list(medians[0].y) == [6, 6] and list(medians[1].y) == [6 / 16, 6 / 64]
    censored = [tr for tr in fig.data if tr.name and "censored" in tr.name]
    assert len(censored) == 2 and list(censored[0].y) == [4096 / 16]


def frame():
    rows = []
    for eta in (1.0, 8.0):
        for n in (50, 100, 200):
            for step in (0, 10):
                g = 10 / n if step else 0.01
                rows.append({"eta": eta, "n": n, "seed": 0, "step": step, "train_loss": 0.5, "test_loss": 0.5 + g,
                             "gap": g, "distance": eta * step, "test_error": 0.1})
    return pd.DataFrame(rows)


def test_digits_figures_show_the_curves_and_the_one_over_n_line():
    it = digits_iterations_figure(frame())
    assert it.layout.yaxis.type == "log" and it.layout.yaxis3.type != "log"  # losses log, the gap linear
    assert "n = 200" in it.layout.title.text and {tr.name for tr in it.data} == {"eta = 1", "eta = 8"}
    gap = digits_gap_figure(frame())
    names = [tr.name for tr in gap.data if tr.name]
    assert names == ["eta = 1: fitted slope -1.00", "eta = 8: fitted slope -1.00", "slope -1 (the paper's 1/n)"]
    assert gap.layout.xaxis.type == "log" and gap.layout.yaxis.type == "log"
