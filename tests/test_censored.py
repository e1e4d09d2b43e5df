"""First-hit statistics with censored seeds: a seed that never reached the target within the run counts as later
than the run's last step, never dropped (issue 17, item 6). Pure functions on hand-made frames."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sharp.experiments import fig1, paper, sentences
from sharp.experiments.fig1 import censored_median
from sharp.experiments.fit import fit_slope


@pytest.mark.parametrize("steps, reached, value, text", [
    ([4, 5, 6, 7, 5], [True] * 5, 5.0, "5"),  # all reached: the plain median
    ([4, 5, 6, 7], [True] * 4, 5.5, "5.5"),
    ([12] * 5, [False] * 5, math.inf, "> 12"),  # none reached
    ([4, 5, 12, 12], [True, True, False, False], math.inf, "> 12"),  # exactly half: unknown
    ([4, 12, 12, 12, 12], [True, False, False, False, False], math.inf, "> 12"),  # one of five: not 4
    ([4, 5, 6, 12, 12], [True, True, True, False, False], 6.0, "6"),  # two of five censored: still known
    ([4, 9, 5, 12], [True, True, True, False], 7.0, "7"),  # one of four censored: the middle two are 5 and 9
])
def test_censored_median_cases(steps, reached, value, text):
    assert censored_median(steps, reached, 12) == (value, text)


def test_censored_median_of_no_seeds():
    value, text = censored_median([], [], 12)
    assert math.isnan(value) and text == "no seeds"


@given(st.lists(st.tuples(st.integers(0, 12), st.booleans()), min_size=1, max_size=11),
       st.integers(13, 10_000))
def test_censored_median_is_the_median_whatever_the_censored_seeds_did_later(seeds, later):
    """Known exactly when fewer than half the seeds are censored, and then equal to the plain median for ANY later
    first hits of the censored seeds; otherwise "> horizon"."""
    steps, reached = [s for s, _ in seeds], [r for _, r in seeds]
    value, text = censored_median(steps, reached, 12)
    censored = reached.count(False)
    if 2 * censored >= len(seeds):
        assert value == math.inf and text == "> 12"
    else:
        for late in (13, later):
            assert value == np.median([s if r else late for s, r in seeds])
        assert text == f"{value:g}"


def frame(firsts: dict[int, list[int | None]], steps: int = 12) -> pd.DataFrame:
    """A Fig 1 frame: per d, per seed, test error 0.3 until its first zero step (None: never), 0 after."""
    rows = [{"d": d, "seed": seed, "step": t, "test_error": 0.0 if first is not None and t >= first else 0.3}
            for d, fs in firsts.items() for seed, first in enumerate(fs) for t in range(steps + 1)]
    return pd.DataFrame(rows)


def test_one_seed_of_five_is_no_success():
    df = frame({25: [4, 4, 5, 4, 4], 800: [6, None, None, None, None]})
    table = fig1.zero_step_table(df).set_index("d")
    assert table.loc[25].tolist() == [4, "4", "5 of 5", "4 4 5 4 4"]
    assert table.loc[800].tolist() == [7, "> 12", "1 of 5", "6 - - - -"]  # not "6": the median of the one that did
    ok, text = fig1.zero_step_verdict(df)
    assert not ok and "at d = 800, 1 of 5 seeds reached zero test error within 12 steps (median > 12)" in text
    assert "d = 25" not in text


def test_every_seed_at_zero_is_a_success_with_its_gaps():
    ok, text = fig1.zero_step_verdict(frame({25: [4, 5, 4], 100: [6, 6, 7]}, steps=8))
    assert ok and text == ("Every seed reached zero test error within 8 steps. Median first zero-error step minus "
                           "ceil(ln d), per d: +0 (d = 25), +1 (d = 100).")


def test_reach_text():
    assert fig1.reach_text(3, 5, 12) == "3 of 5 seeds reached zero test error within 12 steps"
    assert fig1.reach_text(5, 5, 12) == "all 5 seeds reached zero test error within 12 steps"
    assert fig1.reach_text(0, 1, 4) == "0 of 1 seed reached zero test error within 4 steps"


def iterations_frame(firsts: dict[tuple[str, int], list[int | None]], caps: dict[str, int]) -> pd.DataFrame:
    rows = [{"regime": regime, "d": d, "seed": seed, "step": t, "steps": caps[regime],
             "test_error": 0.0 if first is not None and t >= first else 0.3}
            for (regime, d), fs in firsts.items() for seed, first in enumerate(fs) for t in range(caps[regime] + 1)]
    return pd.DataFrame(rows)


def test_iteration_summary_and_growth_count_censored_seeds():
    df = iterations_frame({("feature", 25): [4, 4, 4], ("feature", 100): [5, 5, 6],
                           ("kernel", 25): [20, 22, 24], ("kernel", 100): [80, None, 90],
                           ("kernel", 200): [None, None, 100]}, {"feature": 12, "kernel": 100})
    s = paper.iteration_summary(df).set_index(["regime", "d"])
    assert s.loc[("kernel", 100), "median"] == 90 and s.loc[("kernel", 100), "reached"] == 2
    assert s.loc[("kernel", 200), "median_text"] == "> 100" and s.loc[("kernel", 200), "hi"] == 100
    # the growth fit uses the d whose median is known: kernel 22 -> 90 over d = 25 -> 100
    g = sentences.growth_slopes(df, "kernel")
    assert g.ds == (25, 100) and g.slope == pytest.approx(math.log(90 / 22) / math.log(4))
    # seed 1 never got there at d = 100: left out of the seeds' slopes, counted
    assert g.censored_seeds == 1 and g.seeds_fitted == 2
    assert g.seed_lo == pytest.approx(math.log(90 / 24) / math.log(4))  # seed 2
    assert g.seed_hi == pytest.approx(math.log(80 / 20) / math.log(4))  # seed 0


def growth(ds, kernel, feature=lambda d: math.ceil(math.log(d)), kernel_cap=150):
    """The Iterations page's sentence on a synthetic frame: two seeds per d, the second one step slower."""
    firsts = {("feature", d): [feature(d), feature(d) + 1] for d in ds}
    firsts |= {("kernel", d): [kernel(d), None if kernel(d) is None else kernel(d) + 1] for d in ds}
    return sentences.growth_sentence(iterations_frame(firsts, {"feature": 12, "kernel": kernel_cap}))


def test_growth_sentence_states_the_visitors_range_and_the_law_its_slopes_allow():
    small = growth([25, 50, 100], lambda d: d // 5)
    ln_small = fit_slope([25, 50, 100], np.log([25, 50, 100])).slope
    ln_large = fit_slope([100, 200, 400, 800], np.log([100, 200, 400, 800])).slope
    assert f"The laws' slopes over d = 25 to 100: ln d {ln_small:.2f};" in small
    assert f"ln d {ln_large:.2f};" in growth([100, 200, 400, 800], lambda d: d // 5, kernel_cap=400)
    assert f"{ln_small:.2f}" != f"{ln_large:.2f}"
    # feature learning at ceil(ln d) steps: its slopes allow ln d alone; the kernel regime at d / 5 steps: d alone
    feature, kernel = small.split("; kernel regime")
    assert "feature learning, d = 25, 50, 100: slope **" in feature and feature.endswith("**ln d**")
    median = fit_slope([25, 50, 100], [5.5, 10.5, 20.5]).slope  # the median of d / 5 and d / 5 + 1
    seed0, seed1 = fit_slope([25, 50, 100], [5, 10, 20]).slope, fit_slope([25, 50, 100], [6, 11, 21]).slope
    assert kernel.startswith(f", d = 25, 50, 100: slope **{median:.2f}** (seeds {seed1:.2f} to {seed0:.2f}): **d**.")
    # growth like d^2 and growth in between are named as such, not rounded to a law
    assert "**d^2**" in growth([10, 20, 40], lambda d: d * d // 10, kernel_cap=400)
    between = growth([25, 50, 100, 200], lambda d: round(4 * d ** 0.6), kernel_cap=400)
    assert "**none of ln d, d or d^2 (slope 0.59)**" in between  # the median of 4 d^0.6 and one step more
    # one step of resolution: a median of 2.5, then 4.5 steps when d doubles, cannot tell ln d from d
    assert "**cannot tell ln d from d**" in growth([25, 50], lambda d: d // 5, feature=lambda d: 2 if d < 40 else 4)


def test_growth_sentence_names_the_d_where_the_median_is_unknown():
    # d > 100: one of the two kernel seeds never gets there (half), so the median is unknown and left out of the fit
    large = growth([100, 200, 400, 800], lambda d: d // 5 if d <= 100 else None)
    assert "kernel regime: not measured (fewer than two d with a known median)" in large
    assert "its median is unknown at d = 200 (> 150 steps), 400 (> 150 steps), 800 (> 150 steps)" in large
    assert growth([25], lambda d: 5).startswith("**Measured growth**: only d = 25 is selected")


def test_the_first_zero_step_has_one_definition():
    """train.first_zero_step (snapshots), fig1.first_hits (a tidy frame) and scenes.fate (a curve's mean) agree on
    the same run: they are all sharp.engine.metrics.first_hit."""
    from sharp.engine.config import preset
    from sharp.engine.metrics import first_hit
    from sharp.engine.sweep import tidy
    from sharp.engine.train import first_zero_step, train
    from sharp.experiments.curves import curve
    from sharp.experiments.scenes import fate

    assert first_hit([0, 5, 10, 15], [0.5, 0.0, 0.1, 0.0]) == 5.0
    assert math.isnan(first_hit([0, 1], [float("nan"), 0.2])) and first_hit([3], [0.05], threshold=0.1) == 3.0
    cfg = preset("feature", d=12, n=72, online=True, steps=10, seeds=3, n_test=300, seed=5)
    snaps = list(train(cfg))
    per_seed = first_zero_step(snaps)
    assert all(math.isfinite(z) for z in per_seed)  # this run reaches zero: the comparison below means something
    hits = fig1.first_hits(tidy(cfg, snaps), by=())
    assert list(hits.step) == per_seed and hits.reached.all()
    mean = curve("feature", snaps, "test_error")
    assert fate(mean) == f"reaches zero test error at step {first_hit(mean.step, mean.mean):g}"
    assert first_hit(mean.step, mean.mean) >= max(per_seed)  # the mean is 0 only where every seed is
