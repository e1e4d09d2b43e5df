"""The one palette (ui/palette.py): every colour readable on both themes, the regimes told apart with colour
blindness, the same regime in the same colour on every page, and no colour written anywhere else."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ui import palette
from ui.palette import REGIME, SERIES

ROOT = Path(__file__).resolve().parents[1]


def lin(hex_color: str) -> np.ndarray:
    c = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def luminance(hex_color: str) -> float:
    return float(lin(hex_color) @ [0.2126, 0.7152, 0.0722])


def contrast(a: str, b: str) -> float:
    la, lb = sorted([luminance(a), luminance(b)])
    return (lb + 0.05) / (la + 0.05)


# Machado, Oliveira and Fernandes (2009), full severity, on linear RGB.
CVD = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def lab(rgb_linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb_linear
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def worst_cvd_difference(a: str, b: str) -> float:
    """The smallest CIELAB distance between two colours as seen with each full dichromacy."""
    return min(float(np.linalg.norm(lab(np.clip(m @ lin(a), 0, 1)) - lab(np.clip(m @ lin(b), 0, 1))))
               for m in CVD.values())


LIGHT_BG, DARK_BG = "#ffffff", "#0e1117"  # Streamlit's two default backgrounds


def test_the_check_rejects_red_against_green():
    assert worst_cvd_difference("#d62728", "#2ca02c") < 20  # the pair the issue rules out fails the check


def test_regime_colours_are_told_apart_with_colour_blindness():
    assert worst_cvd_difference(REGIME["kernel"], REGIME["feature"]) > 35
    assert len(set(REGIME.values())) == len(REGIME)


@pytest.mark.parametrize("color", sorted({*REGIME.values(), *SERIES, palette.NEUTRAL, palette.QUADRATIC}))
def test_every_line_colour_is_readable_on_both_themes(color):
    assert contrast(color, LIGHT_BG) >= 3 and contrast(color, DARK_BG) >= 3, color


def test_series_colours_are_distinct_and_assigned_in_order():
    assert len(set(SERIES)) == len(SERIES)
    assert palette.series([25, 50, 100]) == {25: SERIES[0], 50: SERIES[1], 100: SERIES[2]}


def colors_of(fig) -> dict[str, str]:
    """Each named trace's line or marker colour in a Plotly figure."""
    out = {}
    for t in fig.data:
        c = (getattr(t, "line", None) and t.line.color) or (getattr(t, "marker", None) and t.marker.color)
        if t.name and isinstance(c, str):
            out[t.name] = c
    return out


def test_a_regime_has_the_same_colour_on_every_page():
    """Live (SVG), kiosk, iterations, sample complexity n*, the regime map: kernel and feature drawn alike."""
    from sharp.experiments import paper
    from sharp.experiments.scenes import SCENES
    from ui import figures, kiosk
    from ui.paper_figures import iterations_figure
    from ui.regime import PRESET_STYLE
    from ui.science import nstar_figure

    assert figures.COLORS == REGIME  # the live page's SVG and its browser script (client config)
    keys, colors, _ = kiosk.series(SCENES[0])
    assert {k: colors[k] for k in keys} == {k: REGIME[k] for k in ("kernel", "feature")}
    assert {k: v["color"] for k, v in PRESET_STYLE.items()} == {k: REGIME[k] for k in PRESET_STYLE}
    rows = [dict(regime=r, d=d, seed=s, step=t, test_error=0.0 if t >= first else 0.3)
            for r, first in (("feature", 3), ("kernel", 20)) for d in (25, 50) for s in range(2) for t in range(30)]
    fig = iterations_figure(paper.iteration_summary(pd.DataFrame(rows)), 0.0)
    drawn = colors_of(fig)
    for regime in ("kernel", "feature"):
        assert any(name.startswith("kernel" if regime == "kernel" else "feature") and c == REGIME[regime]
                   for name, c in drawn.items()), (regime, drawn)
    nstar = pd.DataFrame([dict(regime=r, d=d, seed=s, n_star=k * d ** p, censored=False, n_max=10 ** 6)
                          for r, k, p in (("feature", 3, 1), ("kernel", 1, 2), ("linearized", 1, 2))
                          for d in (8, 16, 32) for s in range(2)])
    drawn = colors_of(nstar_figure(nstar, {"feature": "feature", "kernel": "kernel", "linearized": "linearized"}))
    for regime in ("feature", "kernel", "linearized"):
        assert drawn[f"{regime}: median; fitted slopes " + drawn_slopes(drawn, regime)] == REGIME[regime]


def drawn_slopes(drawn: dict[str, str], regime: str) -> str:
    return next(n for n in drawn if n.startswith(f"{regime}: median")).split("fitted slopes ", 1)[1]


def test_no_colour_is_written_outside_the_palette():
    """A hex colour in a figure module, a page or the web layer is a second palette (the QR code's black on white
    is the scanner's, not the app's)."""
    hexes = re.compile(r"#[0-9A-Fa-f]{6}\b|#[0-9A-Fa-f]{3}\b(?=[\"'])")
    found = []
    for top in ("ui", "web", "views"):
        for p in (ROOT / top).rglob("*.py"):
            if p.name == "palette.py":
                continue
            for line in p.read_text().splitlines():
                if hexes.search(line) and 'dark="#000000", light="#ffffff"' not in line:
                    found.append(f"{p.relative_to(ROOT)}: {line.strip()}")
    assert not found, "\n".join(found)
