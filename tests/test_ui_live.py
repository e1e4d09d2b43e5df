"""The live page's pure helpers: URL <-> settings, the compared configs, the run's history, export, panels."""
from __future__ import annotations

import dataclasses
import io
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sharp.engine.sweep import tidy
from sharp.engine.train import PAIRED
from sharp.experiments import curves, params, race
from sharp.serve import live_run
from ui import figures, live

SMALL = race.Settings(d=12, n=72, steps=20, seeds=2, kernel_m=32, feature_m=8, feature_eta=8.0)


def test_defaults_round_trip_through_the_url():
    q = race.to_query(race.DEFAULTS)
    assert set(q) >= {"d", "n", "depth", "seeds", "steps", "k", "kernel_m", "kernel_eta", "feature_m", "feature_eta"}
    assert q["kernel_eta"] == "1" and q["online"] == "false"
    assert race.parse_query(q) == (race.DEFAULTS, {})


@settings(max_examples=60, deadline=None)
@given(d=st.integers(4, 400), eta=st.floats(1e-3, 1e5, allow_nan=False), m=st.integers(1, 256), online=st.booleans(),
       act=st.sampled_from(race.RANGES["activation"]))
def test_any_valid_settings_round_trip(d, eta, m, online, act):
    s = dataclasses.replace(race.DEFAULTS, d=d, kernel_eta=eta, feature_m=2 * m, online=online, activation=act)
    assert race.parse_query(race.to_query(s)) == (s, {})


@pytest.mark.parametrize("name, text", [
    ("d", "abc"), ("d", "3"), ("d", "401"), ("d", "50.5"), ("kernel_m", "3"), ("feature_m", "0"),
    ("kernel_eta", "-1"), ("feature_eta", "nan"), ("feature_eta", "inf"), ("steps", ""), ("online", "maybe"),
    ("activation", "tanh"), ("seeds", "1e9"),
])
def test_a_bad_url_value_is_named_and_falls_back_to_its_default(name, text):
    s, problems = race.parse_query({name: text, "depth": "2"})
    assert list(problems) == [name]
    assert problems[name].startswith(f"URL parameter {name}=") and "not allowed" in problems[name]
    assert race.allowed(name) in problems[name]
    assert getattr(s, name) == getattr(race.DEFAULTS, name)
    assert s.depth == 2  # the good parameter next to it still applies


def test_url_edge_cases():
    s, problems = race.parse_query({"d": ["40", "60"], "online": "1", "kernel_eta": "2.5", "depth": ["2", "2"]})
    assert (s.d, s.online, s.kernel_eta, s.depth) == (60, True, 2.5, 2)
    assert list(problems) == ["d"] and "given 2 times; using the last value, `'60'`" in problems["d"]
    s, problems = race.parse_query({"unknown": "1", "embed": "true"})  # Streamlit's own parameter is not ours
    assert s == race.DEFAULTS and "`'unknown'` is not a setting of this page, ignored" in problems[params.UNKNOWN]
    s, problems = race.parse_query({"d": "4", "k": "6"})
    assert (s.d, s.k) == (4, race.DEFAULTS.k) and "at most d = 4" in problems["k"]


def test_presets():
    poster = race.preset_settings("Poster Fig 1 setting", seed=3)
    assert (poster.online, poster.n, poster.d, poster.feature_eta, poster.feature_m, poster.seed) == (
        True, 6 * poster.d, 100, 20.0, 20, 3)
    assert race.preset_settings("Deep (L = 3)").depth == 3
    assert race.preset_settings("Kernel vs feature (default)") == race.DEFAULTS


def test_configs_share_the_data_and_differ_in_regime():
    cfgs = race.build_configs(dataclasses.replace(SMALL, overlay=True))
    assert set(cfgs) == {"kernel", "feature", "linearized"}
    for f in PAIRED:
        assert len({getattr(c, f) for c in cfgs.values()}) == 1, f
    k, f, lin = cfgs["kernel"], cfgs["feature"], cfgs["linearized"]
    assert (k.scale, k.m, k.eta, k.linearized) == ("ntk", 32, 1.0, False)
    assert (f.scale, f.m, f.eta) == ("mf", 8, 8.0)
    assert (lin.scale, lin.m, lin.linearized) == ("ntk", 32, True)
    assert race.every(300) == 2 and race.every(15) == 1 and race.every(2000) == 14


def test_work_per_update_and_the_heavy_guard():
    assert race.gflop_per_update(race.DEFAULTS) == pytest.approx(
        (4 * (50 * 512 + 50 * 20) * (6 * 300 * 2 + 2 * race.N_TEST)) / 1e9)
    deep = dataclasses.replace(race.DEFAULTS, depth=2)
    assert race.gflop_per_update(deep) > race.gflop_per_update(race.DEFAULTS) + 4 * 512 * 512 * 6 * 600 / 1e9
    assert race.too_heavy(race.DEFAULTS) is None
    for name in race.PRESETS:
        assert race.too_heavy(race.preset_settings(name)) is None
    msg = race.too_heavy(dataclasses.replace(race.DEFAULTS, d=400, n=5000, kernel_m=2048, seeds=8, depth=4))
    assert msg and "kernel_m = 2048" in msg and "depth = 4" in msg


def test_a_run_streams_to_the_end_and_exports():
    run = live_run.LiveRun.start(SMALL, stored=False)  # trained here, whatever an earlier test stored
    assert run.advance(max_snaps=1) == 1 and run.latest("kernel").step == 0 and not run.done
    run.advance(budget_s=60)
    assert run.done and run.count == 21 and run.nbytes() > 0
    steps = [s.step for s in run.history["feature"]]
    assert steps == list(range(0, 21))  # every = 1 below 150 steps, and no snapshot twice
    frame = race.tidy(run.history, run.configs)
    assert len(frame) == 2 * 21 * SMALL.seeds
    back = pd.read_csv(io.StringIO(race.curves_csv(run.history, run.configs)))
    # the one tidy schema: a sweep's columns (sharp.engine.sweep.tidy), the regime first
    swept = tidy(run.configs["feature"], run.history["feature"])
    assert back.columns[0] == "regime" and list(back.columns[1:]) == list(swept.columns)
    assert (back[back.regime == "kernel"].m == 32).all() and (back[back.regime == "feature"].eta == 8.0).all()
    last = back[(back.regime == "feature") & (back.step == 20)].sort_values("seed")
    assert np.allclose(last.test_error, run.latest("feature").test_error_seeds)
    cfg = json.loads(live_run.config_json(run))
    assert cfg["settings"]["d"] == 12 and cfg["runs"]["kernel"]["scale"] == "ntk" and cfg["query"]["n"] == "72"
    assert live_run.summary(run)["feature"]["step"] == 20


def test_a_diverging_run_stops_while_the_other_goes_on():
    run = live_run.LiveRun.start(dataclasses.replace(SMALL, feature_eta=5000.0, feature_m=20, d=50, n=300, steps=30))
    run.advance(budget_s=60)
    f, k = run.latest("feature"), run.latest("kernel")
    assert f.diverged and f.diverged_step < 30 and run.history["feature"][-1].step == f.diverged_step
    assert not k.diverged and k.step == 30 and run.done
    error, distance = live.charts(run.settings)
    assert error.runs == distance.runs == ("kernel", "feature")  # the race: both regimes in each chart
    assert error.marker == math.ceil(math.log(50)) and distance.marker is None
    top = max(float(np.nanmax(run.history["kernel"][i].distance_seeds)) for i in range(len(run.history["kernel"])))
    svg = distance.svg(run.history)
    y_ticks = [float(t) for t in re.findall(r'text-anchor="end" fill="currentColor" fill-opacity="0.7">([^<]+)<', svg)]
    assert 'data-chart="live-distance"' in svg and y_ticks and max(y_ticks) < max(10 * top, 10)  # not stretched
    assert "feature learning" in svg and 'data-chart="live-error"' in error.svg(run.history)


def test_the_live_charts_follow_the_settings():
    s = dataclasses.replace(SMALL, overlay=True, log_x=True, d=12)
    error, distance = live.charts(s)
    spec = error.spec()
    assert [x["run"] for x in spec["lines"]] == ["kernel", "linearized", "feature"]  # the overlay with its regime
    assert spec["log_x"] and spec["x_ticks"][0] == 1 and spec["x_label"] == "SGD step (log scale)"
    assert spec["marker"] == {"x": 3, "label": "⌈ln d⌉ = 3"} and spec["x_max"] == s.steps
    assert spec["lines"][1]["dash"] and not spec["lines"][0]["dash"]  # the overlay dashed, told apart without colour
    assert (spec["y_at_least"], distance.spec()["y_at_least"]) == (0.55, 0.5)
    assert spec["lines"][2]["color"] == figures.COLORS["feature"] and spec["lines"][2]["band"].startswith("rgba(")


def _snaps(values):  # (T, R) per-seed test errors -> a list of snapshots (only the fields curve() reads)
    run = live_run.LiveRun.start(dataclasses.replace(SMALL, seeds=len(values[0]), steps=len(values) - 1))
    run.advance(budget_s=60)
    return [dataclasses.replace(s, test_error_seeds=tuple(v)) for s, v in zip(run.history["kernel"], values)]


def test_curve_is_the_mean_and_the_min_max_band_over_seeds():
    vals = [[0.5, 0.3], [0.2, float("nan")], [0.1, 0.0]]
    c = curves.curve("kernel", _snaps(vals), "test_error")
    assert np.allclose(c.mean, [0.4, 0.2, 0.05]) and np.allclose(c.lo, [0.3, 0.2, 0.0])
    assert np.allclose(c.hi, [0.5, 0.2, 0.1]) and list(c.step) == [0, 1, 2]
    assert figures.shared_range([c], at_least=0.55) == pytest.approx([0, 0.55 * 1.08])


def test_settle_takes_the_url_once_then_only_the_visitors_own_changes():
    state: dict = {}
    s = live.settle(state, {"d": "30", "steps": "40"})
    assert (s.d, s.steps) == (30, 40) and state["d"] == 30 and state["kernel_m"] == 512
    state["d"] = 31  # the visitor moves the d slider: Streamlit stores the value, the callback notes it
    live.note_change(state, "d")
    assert live.settle(state, {"d": "99"}).d == 31  # the URL only counts at session start
    for key in ("d", "n", "steps", "seeds", "k"):  # a rerun in which every widget fell to its minimum
        state[key] = race.RANGES[key][0]
        live.note_change(state, key)
    s = live.settle(state, {})
    assert (s.d, s.n, s.steps, s.seeds, s.k) == (31, 300, 40, 4, 2)  # not a gesture: dropped
    assert (state["d"], state["steps"]) == (31, 40)  # and the widgets are told the visitor's values again
    del state["n"]  # a widget value dropped by the framework comes back from the settings
    assert live.settle(state, {}).n == 300 and state["n"] == 300


def test_finished_runs_are_stored_on_disk_and_replayed_without_training(tmp_path, monkeypatch):
    monkeypatch.setenv("SHARP_CACHE_DIR", str(tmp_path))
    s = dataclasses.replace(SMALL, feature_eta=5000.0, steps=12)  # the feature run diverges: uneven histories
    run = live_run.LiveRun.start(s)
    run.advance(budget_s=60)
    assert run.done and len(list(tmp_path.glob("live/*.json.gz"))) == 1
    again = live_run.LiveRun.start(s)
    assert again.done and again.count == run.count and next(again.stream, None) is None  # nothing to train
    for name in run.history:
        def text(snaps):  # compared as text: a diverged snapshot holds NaNs
            return json.dumps([x.record() for x in snaps])
        assert text(again.history[name]) == text(run.history[name])
        assert np.array_equal(again.history[name][-1].neuron_relevant, run.history[name][-1].neuron_relevant)
    assert live_run.LiveRun.start(dataclasses.replace(s, seed=1)).count == 0  # other settings: a fresh run
    next(tmp_path.glob("live/*.json.gz")).write_bytes(b"garbage")
    assert live_run.LiveRun.start(s).count == 0 and not list(tmp_path.glob("live/*.json.gz"))  # unreadable: recomputed
