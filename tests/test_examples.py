"""examples/race.py, the Python onramp (`import sharp`), run as a researcher would: its main, small settings."""
from __future__ import annotations

import importlib.util
import json
import math
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def race():
    spec = importlib.util.spec_from_file_location("race_example", ROOT / "examples" / "race.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_the_example_races_both_regimes_and_prints_their_first_zero_error_steps(race, tmp_path, capsys):
    html = tmp_path / "race.html"
    assert race.main(["--d", "20", "--steps", "40", "--seeds", "3", "--seed", "5", "--html", str(html)]) == 0
    out = capsys.readouterr().out
    # what it prints is what the engine gives for the same settings (fixed seeds: the same runs)
    history = race.race(d=20, steps=40, seeds=3, seed=5)
    for name in ("kernel", "feature"):
        line = next(line for line in out.splitlines() if line.startswith(name))
        firsts = race.sharp.first_zero_step(history[name])
        shown = ", ".join("never" if math.isnan(s) else str(int(s)) for s in firsts)
        assert f"first zero-error step per seed: {shown};" in line, line
        assert f"final test error {history[name][-1].test_error:.3f}" in line
    # the claim the example shows (3 seeds, seed 5, d = 20, fresh batches of 120): feature learning reaches
    # zero test error in fewer steps than the kernel regime, every seed within the 40 steps
    feature, kernel = (race.first_zero(history[n]) for n in ("feature", "kernel"))
    assert not any(math.isnan(s) for s in feature[0]) and feature[1] < kernel[1], (feature, kernel)
    # the chart in the terminal: 12 rows of the error axis, the step axis, the legend
    lines = out.splitlines()
    chart = lines[next(i for i, line in enumerate(lines) if re.match(r"\s*\d\.\d\d \|", line)):]
    assert chart[11].lstrip().startswith("0.00 |") and chart[12].lstrip().startswith("+---")
    # the last column (the last step): feature learning at zero error (the bottom row), nothing at the top
    assert chart[11][-1] in "f*" and chart[0][-1] == " " and len(chart[0]) == len(chart[11]) == 7 + 64
    # the Plotly page: each regime's mean curve with its seeds' band, values as computed
    text = html.read_text()
    assert f"wrote {html}" in out
    spec = json.loads(re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*\{", text, re.S).group(1))
    curves = {t["name"]: t for t in spec if t.get("name")}
    assert set(curves) == {"kernel", "feature"} and len(spec) == 4
    assert curves["feature"]["y"][-1] == pytest.approx(history["feature"][-1].test_error)


def test_a_bad_setting_is_one_line(race, capsys):
    assert race.main(["--d", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "d=1" in err and "Traceback" not in err
