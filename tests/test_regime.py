"""The regime map's grid, summary and figure: pure functions checked on hand-made tables and a tiny sweep."""
import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from sharp.engine import store as cache
from sharp.experiments import regime
from ui.regime import preset_cells, regime_figure, summary


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))


TINY = regime.MapSettings(d=10, ms=(16, 64), etas=(1.0, 10.0), steps=20, seeds=1, n_test=100)


def test_configs_cover_the_grid_at_n_6d():
    cfgs = regime.configs(TINY)
    assert len(cfgs) == 2 * 2 * 2
    assert {(c.scale, c.m, c.eta) for c in cfgs} == {(s, m, e) for s in ("mf", "ntk") for m in (16, 64)
                                                       for e in (1.0, 10.0)}
    assert all(c.n == 60 and not c.online and c.every == c.steps for c in cfgs)


def test_boundary_interpolates_the_crossing_on_log_axes():
    ms, etas = np.array([16.0, 64.0, 256.0]), np.array([1.0, 10.0, 100.0])
    dist = np.array([[0.1, 0.1, 0.01], [1.0, 0.5, 0.1], [10.0, 2.0, 0.5]])
    edge = regime.boundary(ms, etas, dist)
    assert edge[0] == (16.0, pytest.approx(10.0))  # from 0.1 to 1.0: the crossing sits at the upper point
    m, eta = edge[1]
    assert m == 64.0 and eta == pytest.approx(10 ** 1.5)  # 0.5 -> 2 on log axes: halfway
    assert len(edge) == 2  # the widest never reaches 1


def test_the_shared_experiment_runs_the_map_and_its_defaults_name_it():
    from sharp.experiments import REGIME

    settings = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(TINY).items()}
    assert REGIME.settings(settings)["d"] == 10 and REGIME.settings(settings)["ms"] == [16, 64]
    t = regime.table(REGIME.run(settings))
    assert len(t) == 8 and set(t.columns) >= {"test_error", "distance", "diverged"}
    assert REGIME.defaults["d"] == regime.MapSettings().d and REGIME.defaults["scales"] == ["mf", "ntk"]


def table_with_a_diverged_cell() -> pd.DataFrame:
    rows = []
    for scale in ("mf", "ntk"):
        for m in (16, 1024):
            for eta in (1.0, 20.0):
                dist = 0.1 * eta * (16 / m) if scale == "mf" else 0.05 * eta
                err = 0.4 if dist < 1 else 0.01
                bad = scale == "ntk" and m == 16 and eta == 20.0
                rows.append({"scale": scale, "m": m, "eta": eta, "test_error": math.nan if bad else err,
                             "distance": math.nan if bad else dist, "diverged": 1.0 if bad else 0.0})
    return pd.DataFrame(rows)


def test_figure_has_both_scales_the_boundary_and_the_presets():
    fig = regime_figure(table_with_a_diverged_cell())
    kinds = [t.type for t in fig.data]
    assert kinds.count("heatmap") == 4 and kinds.count("contour") == 4
    names = {t.name for t in fig.data if t.type == "scatter"}
    assert names == {"feature preset (m = 20, η = 20)", "kernel preset (m = 1024, η = 1)"}
    assert any("diverged" in row for t in fig.data if t.type == "heatmap" for row in t.text)


def test_summary_and_preset_cells_read_the_table():
    t = table_with_a_diverged_cell()
    words = summary(t)
    assert len(words) == 2 and "crosses 1 at m = 16" in words[0] and "1 cell diverged, at η = 20." in words[1]
    cells = preset_cells(t).set_index("preset")
    assert cells.loc["feature", "nearest cell"] == "m = 16, η = 20"
    assert cells.loc["kernel", "distance"] == pytest.approx(0.05)
