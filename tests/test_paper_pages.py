"""Each paper page under AppTest on a tiny grid: it computes, draws, explains, and refuses a grid too large."""
import re

import pytest
from apptest_support import page, tmp_cache  # noqa: F401

from sharp.engine import store as cache

TINY = {
    "figure1": {"fig1_d": [25], "fig1_seeds": 1, "fig1_steps": 6, "readings_d": [25], "readings_seeds": 1,
                "readings_steps": 6},
    "iterations": {"iters_d": [25], "iters_seeds": 1, "iters_kernel_steps": 10, "iters_kernel_m": 256},
    "samples": {"samples_d": [8], "samples_n": [32, 64], "samples_seeds": 1},
    "deep": {"deep_L": [1], "deep_m": [32, 64], "deep_n": [25, 50], "deep_m0": 32, "deep_n0": 50, "deep_seeds": 1},
    "theory": {"theory_d": 10, "theory_m": 32, "theory_n": 40, "theory_L": 1},
    "regime": {"regime_d": 20, "regime_steps": 50, "regime_seeds": 1},  # the smallest the page's form allows
}
CHARTS = {"figure1": 2, "iterations": 1, "samples": 1, "deep": 3, "theory": 0, "regime": 1}
SAYS = {"figure1": "ceil(ln d)", "iterations": "Measured growth", "samples": "Smallest n",
        "deep": "Fitted log-log slopes", "theory": "Measured here", "regime": "What this map shows"}


@pytest.mark.parametrize("name", list(TINY))
def test_page_computes_and_draws_on_a_tiny_grid(name):
    at = page(name, TINY[name])
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == CHARTS[name]
    text = " ".join(m.value for m in at.markdown) + " ".join(str(t.value) for t in at.get("table"))
    assert SAYS[name] in text
    assert at.title[0].value
    assert at.get("download_button"), "the page offers its data"
    # every chart carries its values in words, right under it
    alts = [e for e in at.expander if e.label == "This chart's values as text"]
    assert len(alts) == CHARTS[name]
    for e in alts:
        words = " ".join(m.value for m in e.markdown)
        assert words.startswith("**") and "→" in words and re.search(r"\d", words), words
    # a rerun with the same settings comes from the session, not a recomputation
    again = at.run()
    assert not again.exception and len(again.get("plotly_chart")) == CHARTS[name]


def test_samples_page_refuses_a_grid_too_large():
    at = page("samples", {"samples_d": [8, 16, 32, 64], "samples_n": [512, 1024, 2048, 4096], "samples_seeds": 6})
    assert not at.exception
    assert "Narrow it" in at.error[0].value
    assert not at.get("plotly_chart")


@pytest.mark.parametrize("name, empty, says", [
    ("figure1", {"fig1_d": []}, "Pick at least one d above"),
    ("iterations", {"iters_d": []}, "Pick at least one d above"),
    ("samples", {**TINY["samples"], "samples_n": []}, "Pick at least one d and one n above"),
    ("deep", {**TINY["deep"], "deep_L": []}, "Pick at least one depth, one width and one n above"),
])
def test_empty_selection_says_what_to_pick_and_computes_nothing(name, empty, says):
    at = page(name, empty)
    assert not at.exception
    assert [i.value for i in at.info] == [says + "."]
    assert not at.get("plotly_chart") and not at.get("download_button")


def frame_of(at, prefix: str, exp):
    """The frame the page computed: its job's result in this process's pool, keyed by the page's settings."""
    from sharp.serve.pool import shared

    values = {**exp.defaults, **{k: at.session_state[f"{prefix}_{k}"] for k in exp.defaults
                                 if f"{prefix}_{k}" in at.session_state}}
    entry = shared().peek(exp.key(values))
    assert entry is not None and entry.state == "done", exp.key(values)
    return entry.job.result


# 4 steps (the form's least) at d = 800 (ceil(ln d) = 7): no seed reaches zero; 8 steps at d <= 100: every seed does
@pytest.mark.parametrize("ds, steps, seeds", [([25, 100], 8, 2), ([25, 800], 4, 3)])
def test_figure1_banner_and_table_state_the_frame(ds, steps, seeds):
    from sharp.experiments import FIG1
    from sharp.experiments.fig1 import zero_step_table, zero_step_verdict

    at = page("figure1", {"fig1_d": ds, "fig1_seeds": seeds, "fig1_steps": steps, "readings_d": [25],
                          "readings_seeds": 1, "readings_steps": 6})
    assert not at.exception and not at.error
    df = frame_of(at, "fig1", FIG1)
    assert df.step.max() == steps and df.seed.nunique() == seeds
    every_seed, verdict = zero_step_verdict(df)
    shown = [e.value for e in (at.success if every_seed else at.warning)]
    assert shown == [verdict] and not (at.warning if every_seed else at.success)
    table = at.dataframe[0].value
    expected = zero_step_table(df)
    assert table["median first zero-error step"].tolist() == expected["median first zero-error step"].tolist()
    assert table["seeds at zero"].tolist() == expected["seeds at zero"].tolist()
    if steps == 4:  # nobody reaches zero in 4 steps at d = 800: the page says how many did, and "> 4"
        assert not every_seed and f"at d = 800, 0 of {seeds} seeds reached zero test error within 4 steps" in verdict
        assert table.set_index("d").loc[800, "median first zero-error step"] == "> 4"
    else:
        assert every_seed and verdict.startswith("Every seed reached zero test error within 8 steps")


def test_iterations_remark_and_table_state_the_frame():
    from sharp.experiments import ITERATIONS, paper, sentences

    at = page("iterations", {"iters_d": [25, 50], "iters_seeds": 2, "iters_kernel_steps": 10, "iters_kernel_m": 256})
    assert not at.exception and not at.error
    df = frame_of(at, "iters", ITERATIONS)
    summary = paper.iteration_summary(df, 0.0)
    remark = sentences.growth_sentence(df, 0.0)
    assert remark in [m.value for m in at.markdown]
    assert "The laws' slopes over d = 25 to 50: ln d 0.28;" in remark  # ln(ln 50 / ln 25) / ln 2
    assert "kernel regime: not measured" in remark and "(> 10 steps)" in remark  # 10 kernel steps: never at zero
    assert "about d" not in at.title[0].value and "ln d" not in at.title[0].value  # the title states no trend
    table = at.dataframe[0].value
    assert table["median first step"].tolist() == summary.median_text.tolist()


def test_samples_page_states_what_its_edges_can_tell():
    from sharp.experiments import SAMPLES, paper, sentences

    at = page("samples", {"samples_d": [8, 16], "samples_n": [16, 32, 64, 128], "samples_seeds": 1})
    assert not at.exception and not at.error
    table = paper.final_table(frame_of(at, "samples", SAMPLES), ["regime", "d", "n"])
    md = [m.value for m in at.markdown]
    assert sentences.edges_sentence(table) in md
    assert "**Measured here**, at the settings above:" in md and any(m.startswith("**The paper says**") for m in md)
    assert "about d" not in at.title[0].value and "[Sample complexity: n\\* against d](/nstar)" in " ".join(md)


def test_deep_page_states_what_its_slopes_can_and_cannot_tell():
    from sharp.experiments import DEEP, paper, sentences

    at = page("deep", TINY["deep"])
    assert not at.exception and not at.error
    table = paper.final_table(frame_of(at, "deep", DEEP), ["axis", "L", "n", "m"])
    md = [m.value for m in at.markdown]
    said = sentences.deep_sentences(table)
    assert len(said) == 4 and all(x in md for x in said)
    assert "predicts at most" not in " ".join(md)  # an upper bound predicts no slope


def test_regime_page_states_the_frame():
    from sharp.experiments import REGIME, regime
    from ui.regime import preset_cells, presets_sentence, summary

    at = page("regime", TINY["regime"])
    assert not at.exception and not at.error
    t = regime.table(frame_of(at, "regime", REGIME))
    assert len(t) == 2 * 7 * 6  # two scales, the default grid of widths and step sizes
    md = [m.value for m in at.markdown]
    assert "**What this map shows.**  \n" + "  \n".join(summary(t)) in md
    assert at.dataframe[0].value.equals(preset_cells(t))
    assert presets_sentence(preset_cells(t)) in md and "a smaller η still learns" not in " ".join(md)


def test_theory_page_shows_rates_at_the_settings():
    at = page("theory", TINY["theory"])
    tables = " ".join(str(t.value) for t in at.get("table"))
    assert "ceil(ln d) = 3" in tables  # d = 10
    assert "d^2 = 100" in tables


# --- the pure figure builders ---

def test_iterations_figure_shows_censored_seeds_and_references():
    import pandas as pd

    from ui.paper_figures import iterations_figure

    summary = pd.DataFrame({"regime": ["feature", "feature", "kernel", "kernel"], "d": [25, 100, 25, 100],
                            "median": [4.0, 5.0, 22.0, 40.0], "lo": [4.0, 5.0, 20.0, 40.0],
                            "hi": [4.0, 6.0, 23.0, 40.0], "reached": [3, 3, 3, 1], "seeds": 3,
                            "cap": [12, 12, 40, 40], "ceil_ln_d": [4, 5, 4, 5]})
    fig = iterations_figure(summary)
    names = [t.name for t in fig.data]
    assert any("not reached" in n for n in names)
    censored = next(t for t in fig.data if "not reached" in t.name)
    assert list(censored.x) == [100] and list(censored.y) == [40]  # drawn at the budget, not hidden
    assert "ceil(ln d)" in names and any(n.startswith("~ d") for n in names)
    assert fig.layout.xaxis.type == "log"


def test_samples_figure_has_one_map_per_regime_and_both_lines():
    import pandas as pd

    from ui.paper_figures import samples_figure

    rows = [{"regime": r, "d": d, "n": n, "test_error": 0.1, "diverged": 0.0}
            for r in ("feature", "kernel") for d in (8, 16) for n in (32, 64, 128)]
    fig = samples_figure(pd.DataFrame(rows), c_lin=4, c_quad=1)
    assert [t.type for t in fig.data].count("heatmap") == 2
    lines = {t.name for t in fig.data if t.type == "scatter"}
    assert lines == {"n = 4 d", "n = 1 d^2"}


def test_figure1_figure_marks_ceil_ln_d():
    import pandas as pd

    from ui.paper_figures import figure1_figure

    df = pd.DataFrame({"d": [25] * 4 + [100] * 4, "seed": [0, 0, 1, 1] * 2, "step": [0, 1] * 4,
                       "test_error": [0.5, 0.0, 0.5, 0.1] * 2})
    fig = figure1_figure(df)
    assert sorted(s.x0 for s in fig.layout.shapes) == [4, 5]
    assert {t.name for t in fig.data if t.showlegend is not False} == {"d = 25", "d = 100"}


# --- in a real browser: the Cancel button stops a computation and Run resumes it ---

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def server(tmp_path):
    """The app on a free local port, with its own empty cache (fails if it does not answer its health check)."""
    from browser_support import serve

    with serve(env={cache.ENV: str(tmp_path / "cache")}) as base:
        yield base


@pytest.mark.browser
@pytest.mark.server
def test_cancel_then_run_in_the_browser(server):
    import os

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: run scripts/ensure-chromium")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(server + "/samples")
        page.get_by_role("button", name="Cancel").wait_for(timeout=60_000)
        page.get_by_role("button", name="Cancel").click()
        page.get_by_text("Cancelled.").wait_for(timeout=30_000)
        assert page.locator(".js-plotly-plot").count() == 0
        page.get_by_role("button", name="Run").click()
        page.get_by_role("button", name="Cancel").wait_for(timeout=30_000)
        page.get_by_text(re.compile(r"\[\d+/42\]")).first.wait_for(timeout=30_000)  # progress of the 42 runs
        browser.close()


def test_progress_text_says_whose_computation_it_is():
    from sharp.serve.jobs import Status
    from ui.paper import progress_text

    line = "[3/42] d=8 n=64 m=20 depth=1 done"
    warm = Status("running", 0.1, line, 3, 42, 0, warm=True, watchers=2)
    assert progress_text(warm).startswith("Being computed for everyone, 3 of 42 runs")
    shared = Status("running", 0.1, line, 3, 42, 0, warm=False, watchers=3)
    assert progress_text(shared) == f"3 of 42 runs (shared with 2 other visitors): {line}"
    assert "shared" not in progress_text(Status("running", 0.1, line, 3, 42, 0, warm=False, watchers=1))
    assert progress_text(Status("queued", 0.0, "", 0, 0, 2, warm=False, watchers=1)).startswith("Waiting: 2 sweeps")


def test_warm_figures_builds_plotly_figures_without_streamlit(monkeypatch):
    import json
    import sys
    import threading

    from ui.paper_figures import warm_figures

    # The router runs it in a thread of its own, outside any script run: any use of streamlit there fails here.
    for name in [n for n in sys.modules if n == "streamlit" or n.startswith("streamlit.")]:
        monkeypatch.setitem(sys.modules, name, None)
    got: list = []
    thread = threading.Thread(target=lambda: got.append(warm_figures()))
    thread.start()
    thread.join(60)
    assert got, "warm_figures raised (see the thread's traceback above) or took over 60 s"
    fig1, samples = (json.loads(text) for text in got[0])
    assert {t["name"] for t in fig1["data"] if t.get("showlegend") is not False} == {"d = 25"}
    assert [t["type"] for t in samples["data"]].count("heatmap") == 2
