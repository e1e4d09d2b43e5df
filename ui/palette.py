"""The app's one palette: a regime, a series (a d, a step size, a depth, a reading) or a neutral line has the same
colour on every page, live or paper, light theme or dark.

Blue against orange for the two regimes: told apart with any colour-vision deficiency (not red against green).
Every colour here has at least 3:1 contrast on both of Streamlit's backgrounds, white and #0e1117
(tests/test_palette.py checks each), since the live page and the kiosk draw on either theme.
"""
from __future__ import annotations

from collections.abc import Sequence

REGIME = {"kernel": "#4C78A8", "feature": "#D95F02", "linearized": "#9467BD"}  # the linearized (NTK) network
# Several series of one kind (Fig 1's d, the digits' step sizes, the deep page's depths, the readings), in order.
SERIES = ("#0072B2", "#009E73", "#CC6699", "#D55E00", "#7570B3", "#B8860B", "#7F7F7F", "#E7298A")
NEUTRAL = "#7F7F7F"  # a line that is no regime nor series: a reference, the rest of a neuron's weights
MUTED = "#9AA5B1"  # the many bars that are not the point (the tour's single coordinates)
QUADRATIC = "#E7298A"  # the n = c d^2 reference line (the linear one, n = c d, is black)
REST_SCALE = ("#f2c14e", "#5b2a86")  # a neuron's weight off x1, x2: none -> light, the most on the page -> dark


def series(keys: Sequence) -> dict:
    """A colour per key, in order (SERIES repeats after eight). Example: series([25, 50])[50] -> '#009E73'"""
    return {k: SERIES[i % len(SERIES)] for i, k in enumerate(keys)}


def rgba(color: str, alpha: float) -> str:
    """'#rrggbb' or 'rgb(r, g, b)' with transparency alpha. Example: rgba("#ff0000", 0.5) -> 'rgba(255,0,0,0.5)'"""
    if color.startswith("#"):
        r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    else:
        r, g, b = (int(float(v)) for v in color[color.index("(") + 1:-1].split(",")[:3])
    return f"rgba({r},{g},{b},{alpha})"
