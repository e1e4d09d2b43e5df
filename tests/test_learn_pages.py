"""The Learn pages under AppTest (guided tour, neuron trajectories, regime map), on small settings: no exception,
the charts drawn, and the headline numbers of each page shown as computed from its run."""
import math

import pytest
from apptest_support import page as apptest_page
from apptest_support import tmp_cache  # noqa: F401
from streamlit.testing.v1 import AppTest

from sharp.experiments import tour as T


def page(name: str, state: dict) -> AppTest:
    return apptest_page(name, state, timeout=300)


def text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


SMALL = {"tour_m": 256, "tour_d4": 25, "tour_sample_ds": (8,), "tour_sample_ns": (16, 64), "tour_deep_ns": (25, 50)}


@pytest.mark.parametrize("step", range(1, 7))
def test_every_tour_step_draws_and_answers(step):
    at = page("tour", {**SMALL, "tour_step": step})
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.header[0].value.startswith(f"{step}.")
    assert "Question." in text(at)
    labels = [e.label for e in at.expander]
    assert "Show the answer" in labels
    # a step with a Plotly chart (1, 4, 5, 6) says its values in words under it
    assert labels.count("This chart's values as text") == len(at.get("plotly_chart"))
    charts = len(at.get("plotly_chart")) + text(at).count("<svg")
    assert charts >= 1


def test_tour_step1_states_the_correlations_of_its_samples():
    at = page("tour", {"tour_step": 1, "tour_d1": 50})
    t = T.task(50)
    assert f"at most **{abs(t.corr).max():.3f}**" in text(at)
    assert "exactly **1**" in text(at) and f"**{t.pairs:,}** pairs" in text(at)


def test_tour_step4_states_the_growth_of_its_run():
    at = page("tour", {**SMALL, "tour_step": 4})
    p = T.power(25)
    body = text(at)
    assert f"factor **{p.power.growth:.2f}** per step" in body
    assert f"ceil(ln d) = **{math.ceil(math.log(25))}**" in body
    assert f"at step **{p.power.crossing}**" in body


def test_tour_answers_state_what_their_runs_can_tell():
    from sharp.experiments import sentences

    five = page("tour", {**SMALL, "tour_step": 5, "tour_target": 0.02})
    assert sentences.edges_sentence(T.samples((8,), (16, 64)), 0.02) in text(five)
    six = page("tour", {**SMALL, "tour_step": 6})
    said = sentences.deep_sentences(T.deep(1, (25, 50)))
    assert said[0] in text(six) and said[-1] in text(six)
    three = page("tour", {**SMALL, "tour_step": 3})
    o = T.outcome(T.trajectory(T.feature_config(20.0)))
    assert f"At the end **{o.own_ahead:.0%}** of the neurons" in text(three)
    for at in (five, six, three):  # the paper's words, the app's choices, the measurement: apart
        assert "**Measured here**, at the settings above:" in [m.value for m in at.markdown]
        assert "about ln d" not in at.title[0].value and "why feature learning needs" not in at.title[0].value


def test_tour_next_and_back_walk_the_steps():
    at = page("tour", {"tour_step": 1})
    at = at.button(key="tour_next").click().run()
    assert at.session_state["tour_step"] == 2 and at.header[0].value.startswith("2.")
    at = at.button(key="tour_back").click().run()
    assert at.header[0].value.startswith("1.")


def test_trajectories_page_slider_moves_the_cursor():
    at = page("trajectories", {"traj_m": 256})
    assert not at.exception, at.exception
    body = text(at)
    assert 'data-chart="plane-kernel"' in body and 'data-chart="plane-feature"' in body
    assert body.count('data-cursor="300"') == 2 and 'data-step="300"' in body
    from sharp.experiments.sentences import trajectories_sentence

    runs = {"kernel": T.trajectory(T.kernel_config(256)), "feature": T.trajectory(T.feature_config(20.0))}
    assert trajectories_sentence(runs) in [m.value for m in at.markdown]
    at = at.select_slider(key="traj_step").set_value(50).run()
    body = text(at)
    assert body.count('data-cursor="50"') == 2 and 'data-step="50"' in body and "at step 50" in body


REGIME_SMALL = {"regime_d": 20, "regime_steps": 50, "regime_seeds": 1}


def test_regime_map_draws_and_states_the_boundary():
    at = page("regime", REGIME_SMALL)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 1
    body = text(at)
    assert "The distance from init crosses 1" in body
    assert "mean-field scale" in body and "NTK scale" in body
    presets = at.dataframe[0].value
    assert set(presets.preset) == {"feature", "kernel"}
    assert at.get("download_button")
