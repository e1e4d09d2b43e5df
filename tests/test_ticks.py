"""The one tick algorithm (ui/ticks.py): round 1-2-5 values on linear and log axes."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ui.ticks import log_ticks, log_ticks_around, nice_ticks


@pytest.mark.parametrize("lo, hi, most, expected", [
    (0, 0.594, 5, [0.0, 0.2, 0.4]),
    (0, 0.6, 4, [0.0, 0.2, 0.4, 0.6]),
    (0, 1, 4, [0.0, 0.5, 1.0]),
    (0, 300, 6, [0, 50, 100, 150, 200, 250, 300]),
    (0, 12, 6, [0, 2, 4, 6, 8, 10, 12]),
    (2, 2, 5, [2]),
    (400001, 4400011, 2, [2e6, 4e6]),  # the round step, 5e6, would leave no tick inside
])
def test_nice_ticks_examples(lo, hi, most, expected):
    assert nice_ticks(lo, hi, most) == pytest.approx(expected)


@settings(max_examples=300, deadline=None)
@given(st.floats(-1e6, 1e6), st.floats(-6, 6), st.integers(2, 8))
def test_nice_ticks_are_round_evenly_spaced_and_inside(lo, log_width, most):
    width = 10 ** log_width * max(abs(lo), 1)  # wide enough that float spacing is not the limit
    hi = lo + width
    ticks = nice_ticks(lo, hi, most)
    assert 2 <= len(ticks) <= max(most + 1, 5)
    tol = 1e-9 * max(abs(lo), abs(hi), 1)
    assert all(lo - tol <= t <= hi + tol for t in ticks)
    if len(ticks) > 1:
        gaps = np.diff(ticks)
        assert np.allclose(gaps, gaps[0], rtol=1e-6)
        mantissa = gaps[0] / 10 ** math.floor(math.log10(gaps[0]))
        assert min(abs(mantissa - f) for f in (1, 2, 5, 10)) < 1e-4
        assert gaps[0] <= 2.5 * width / most + tol  # not too coarse: at least ~most/2.5 intervals of the span
        if len(ticks) > most + 1:  # a finer step than the round one, only to get two ticks in
            assert len(ticks) <= 5 and gaps[0] < width / most


@pytest.mark.parametrize("lo, hi, expected", [
    (1, 300, [1, 10, 100]), (1, 50, [1, 2, 5, 10, 20, 50]), (1, 12, [1, 2, 5, 10]), (1, 1000, [1, 10, 100, 1000]),
    (1, 1, [1]), (0.03, 0.5, [0.05, 0.1, 0.2, 0.5]), (0.003, 30, [0.01, 0.1, 1, 10]), (5, 4, [])])
def test_log_ticks(lo, hi, expected):
    assert log_ticks(lo, hi) == pytest.approx(expected)


@settings(max_examples=300, deadline=None)
@given(st.floats(-8, 8), st.floats(0, 6))
def test_log_ticks_are_round_inside_and_never_crowded(log_lo, log_width):
    lo, hi = 10 ** log_lo, 10 ** (log_lo + log_width)
    ticks = log_ticks(lo, hi)
    assert all(lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9) for t in ticks) and ticks == sorted(set(ticks))
    mantissas = {round(t / 10 ** math.floor(math.log10(t) + 1e-12), 6) for t in ticks}
    assert mantissas <= {1, 2, 5}
    assert len(ticks) <= 9 or mantissas == {1}  # wide spans get the decades alone
    if log_width >= 1:  # a decade or more always has a tick
        assert ticks


def test_log_ticks_around_data_has_two_ticks_at_least():
    assert log_ticks_around([0.012, 0.3]) == pytest.approx([0.02, 0.05, 0.1, 0.2])
    assert len(log_ticks_around([0.33, 0.34])) >= 2 and log_ticks_around([0.0, float("nan")]) == [1.0]
