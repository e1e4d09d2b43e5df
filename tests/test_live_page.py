"""The live page headless (AppTest): it renders, its controls exist and drive the run, the URL holds the view.

AppTest runs no JavaScript: the page's live area (web.stream.area) is checked as the HTML the script sends, with
its metrics and messages, and the stream the browser would read is checked through `web.stream.payload`
(the browser's drawing is tests/test_e2e_browser.py's). `page` waits for the run's first points (computed by
the server's workers, shared through sharp.serve.pool.shared()) and reruns, as a visitor's first look would
find them.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.parse
from pathlib import Path

import pytest
from starlette.requests import Request
from streamlit.testing.v1 import AppTest

from sharp.experiments import race
from sharp.serve import live_run
from sharp.serve.pool import shared as pool
from web import stream

APP = str(Path(__file__).resolve().parents[1] / "app.py")
FAST = {"d": "12", "n": "72", "steps": "20", "seeds": "2", "kernel_m": "32", "feature_m": "8", "feature_eta": "8"}


def page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if "live_watch" in at.session_state and (entry := pool().peek(watch(at).key)) is not None:
        live_run.wait_first(entry, 30)  # the first points, which the browser's script would fetch
        at.run()
    return at


def area(at: AppTest) -> str:
    """The live area's HTML (web.stream.area), or "" when the page drew none."""
    return next((h.value for h in at.get("html") if "data-sharp-live" in h.value), "")


def metrics(at: AppTest) -> dict[str, str]:
    """The numbers over the live area's charts, by name (data-metric): step, kernel, kernel-distance, feature, ..."""
    return dict(re.findall(r'data-metric="([^"]*)">([^<]*)<', area(at)))


def boxes(at: AppTest, kind: str) -> list[str]:
    """The live area's messages of a kind ("error", "info"), as HTML."""
    return re.findall(rf'<div class="sharp-box sharp-{kind}"[^>]*>(.*?)</div>', area(at))


def test_opens_at_defaults_and_shows_both_regimes():
    at = page()
    assert not at.exception
    assert {w.key for w in at.slider} >= {"d", "k", "n", "depth", "steps", "seeds", "kernel_m", "feature_m"}
    assert {w.key for w in at.number_input} == {"kernel_eta", "feature_eta"}
    assert {w.key for w in at.toggle} >= {"online", "overlay", "log_x"}
    assert at.selectbox(key="activation").value == "quadratic"
    assert {b.key for b in at.button} >= {"play", "step", "reset", "eta_m", "n_6d", "preset_posterfig1setting",
                                          "preset_kernelvsfeaturedefault", "preset_deepl3"}
    assert len(at.get("download_button")) == 2
    assert [h.value for h in at.subheader][:2] == ["Kernel regime", "Feature learning"]
    assert list(metrics(at)) == ["step", "kernel", "kernel-distance", "feature", "feature-distance"]
    assert charts(at) == ["live-error", "live-distance"]  # places; the neuron views go under each regime's settings
    assert [h.value for h in at.get("html") if 'data-part="neurons-' in h.value] == [
        stream.neurons_place("kernel"), stream.neurons_place("feature")]
    assert watch(at).playing and shared(at).latest("kernel") is not None  # started without a click
    cfg = json.loads(area(at).split("window.__sharpLiveCfg = ")[1].split(";</script>")[0])
    assert cfg["mode"] == "play" and cfg["viewer"] == at.session_state["live_id"]
    assert [c["chart"] for c in cfg["charts"]] == charts(at) and [x["run"] for x in cfg["charts"][0]["lines"]] == [
        "kernel", "feature"]  # the race: both regimes in one chart
    assert not cfg["api"].startswith("/") and not cfg["uplot_js"].startswith("/")  # relative: works under a prefix
    entry = pool().peek(watch(at).key)  # what the browser's script reads: rows from where it is
    body = stream.payload(entry, 0, None, True, neurons=True)
    assert len(body["rows"]["kernel"]) == body["upto"] >= 1 and body["rows"]["kernel"][0][0] == 0
    view = body["neurons"]["feature"]
    assert view.startswith("<svg") and 'data-chart="neurons-feature"' in view
    assert at.query_params["kernel_m"] == ["512"] or at.query_params["kernel_m"] == "512"


def test_the_script_computes_a_new_runs_first_points_and_no_more():
    at = page({**FAST, "seed": "4242"})  # a run nobody has: the script run starts it
    entry = pool().peek(watch(at).key)
    assert entry.job.count >= 1  # its first points, computed at once (page() waited for them)
    assert entry.wanted_until == 0.0  # not asked to go on: the browser's stream asks, once it drew them


def watch(at: AppTest) -> live_run.Watch:
    return at.session_state["live_watch"]


def ask(at: AppTest, **extra) -> dict:
    """What the page's browser script does: GET /api/live for its settings (waits up to WAIT_S for a new row)."""
    qs = urllib.parse.urlencode({**race.to_query(watch(at).key), **{k: str(v) for k, v in extra.items()}})
    req = Request({"type": "http", "method": "GET", "path": "/api/live", "query_string": qs.encode(), "headers": []})
    return json.loads(asyncio.run(stream.endpoint(req)).body)


def shared(at: AppTest) -> live_run.LiveRun:
    """The server-wide run this session watches."""
    return pool().peek(watch(at).key).job


def finish(at: AppTest, timeout: float = 60) -> live_run.LiveRun:
    """Keep the session's run wanted until the workers finish it (what a playing browser does), then rerun."""
    entry = pool().peek(watch(at).key)
    for _ in range(int(timeout / 0.5)):  # bounded: renew the demand twice a second, woken by each slice
        pool().want(entry)
        if entry.wait(0.5, until=lambda: entry.job.done):
            break
    assert entry.job.done, "the run did not finish in time"
    at.run()
    return entry.job


def charts(at: AppTest) -> list[str]:
    """The live area's places for charts, which the browser's script draws: test error, distance from init."""
    return re.findall(r'<figure class="sharp-chart" data-chart="([^"]+)"', area(at))


def _q(at: AppTest, name: str) -> str:
    v = at.query_params[name]
    return v[-1] if isinstance(v, list) else v


@pytest.mark.parametrize("key, value", [("d", 20), ("steps", 30), ("kernel_m", 64), ("seeds", 1)])
def test_a_changed_slider_restarts_the_run_and_updates_the_url(key, value):
    at = page(FAST)
    first = shared(at)
    at.slider(key=key).set_value(value).run()
    assert not at.exception
    run = shared(at)
    assert run is not first and getattr(run.settings, key) == value and _q(at, key) == str(value)
    assert live_run.wait_first(pool().peek(watch(at).key), 30) and run.latest("feature").step >= 0  # it computes


def test_eta_inputs_and_the_eta_equals_m_button():
    at = page(FAST)
    at.number_input(key="kernel_eta").set_value(2.5).run()
    assert shared(at).configs["kernel"].eta == 2.5 and _q(at, "kernel_eta") == "2.5"
    at.slider(key="feature_m").set_value(40).run()
    at.button(key="eta_m").click().run()
    assert at.number_input(key="feature_eta").value == 40.0
    assert shared(at).configs["feature"].eta == 40.0 and not at.exception


def test_bad_url_parameters_warn_and_fall_back():
    at = page({"d": "abc", "kernel_m": "3", "feature_eta": "-1", "steps": "20"})
    assert not at.exception and not at.error
    text = " ".join(w.value for w in at.warning)
    for name in ("d=`'abc'`", "kernel_m=`'3'`", "feature_eta=`'-1'`"):  # Markdown code: shown literally
        assert name in text
    assert "from 4 to 400" in text
    s = shared(at).settings
    assert (s.d, s.kernel_m, s.feature_eta, s.steps) == (50, 512, 20.0, 20)
    at.slider(key="seeds").set_value(2).run()  # any change by the visitor retires the URL's warnings
    assert not at.warning


def test_impossible_combination_names_the_setting():
    at = page({**FAST, "d": "4", "k": "4"})
    at.slider(key="k").set_value(6).run()
    assert not at.exception
    assert any("k=6" in e.value and "at most d = 4" in e.value for e in at.error)


def test_presets_set_every_control():
    at = page(FAST)
    at.button(key="preset_posterfig1setting").click().run()
    s = shared(at).settings
    assert (s.d, s.n, s.online, s.steps, s.feature_eta) == (100, 600, True, 15, 20.0)
    assert at.toggle(key="online").value and _q(at, "online") == "true"
    at.button(key="preset_deepl3").click().run()
    assert shared(at).settings.depth == 3 and not at.exception


def test_pause_step_reset():
    at = page({**FAST, "steps": "2000"})  # long enough not to finish on its own here
    at.button(key="play").click().run()
    assert not watch(at).playing and at.button(key="play").label == "Play"
    n = watch(at).shown
    at.button(key="step").click().run()
    for _ in range(30):  # bounded: the browser asks for the step's row (the workers compute it), the page shows it
        if watch(at).step_to is None:
            break
        ask(at, have=watch(at).shown, until=watch(at).step_to)
        at.run()
    assert watch(at).shown == n + 1 and not watch(at).playing  # exactly one logging interval
    assert metrics(at)["step"] == f"{shared(at).history['kernel'][n].step} / 2000"
    seed = shared(at).settings.seed
    at.button(key="reset").click().run()
    assert shared(at).settings.seed == seed + 1 and _q(at, "seed") == str(seed + 1)


def test_a_diverging_column_says_so_while_the_other_finishes():
    at = page({**FAST, "d": "50", "n": "300", "feature_m": "20", "feature_eta": "5000", "steps": "30"})
    finish(at)
    assert not at.exception
    assert any("Feature learning diverged at step" in e for e in boxes(at, "error"))
    values = metrics(at)
    assert values["step"] == "30 / 30" and values["feature"] == values["feature-distance"] == "—"
    assert float(values["kernel"]) < 0.6
    assert at.button(key="play").label == "Replay"  # the run is over: the buttons say so


def test_overlay_and_log_axis():
    at = page(FAST)
    at.toggle(key="overlay").set_value(True).run()
    assert "linearized" in shared(at).configs
    run = shared(at)
    at.toggle(key="log_x").set_value(True).run()
    assert not at.exception and len(charts(at)) == 2
    cfg = json.loads(area(at).split("window.__sharpLiveCfg = ")[1].split(";</script>")[0])
    assert all(c["log_x"] for c in cfg["charts"]) and [x["run"] for x in cfg["charts"][0]["lines"]] == [
        "kernel", "linearized", "feature"]
    assert shared(at) is run and _q(at, "log_x") == "true"  # a view setting: same run
    assert page({**FAST, "log_x": "true"}).toggle(key="log_x").value


def test_online_toggle_keeps_n_and_relabels_it():
    at = page(FAST)
    at.toggle(key="online").set_value(True).run()
    assert not at.exception and at.slider(key="n").value == 72
    assert at.slider(key="n").label.startswith("n: fresh samples per step")
    assert shared(at).configs["feature"].online


def test_settings_too_heavy_for_a_live_page_are_refused_with_a_message():
    at = page({"d": "400", "n": "5000", "kernel_m": "2048", "seeds": "8", "depth": "4"})
    assert not at.exception and not charts(at)
    assert any("too heavy for a live page" in e.value and "kernel_m = 2048" in e.value for e in at.error)
    at.slider(key="depth").set_value(1).run()
    at.slider(key="kernel_m").set_value(64).run()
    at.slider(key="n").set_value(600).run()
    assert not at.error and len(charts(at)) == 2


class Busy:
    """A stand-in for another visitor's long run: one 20 ms unit per slice, until told to stop."""

    def __init__(self):
        self.count, self.done = 0, False

    def advance(self, budget_s: float) -> int:
        end = time.perf_counter() + 0.02
        while time.perf_counter() < end:  # computes
            sum(range(1000))
        self.count += 1
        return 1

    def nbytes(self) -> int:
        return 0


def test_a_saturated_server_says_how_many_runs_are_ahead():
    reg = pool()
    blockers = [reg.get(("busy", i), Busy) for i in range(reg.max_active + 1)]  # every place taken, one in line
    try:
        for b in blockers:
            reg.want(b, 120)
        at = page({**FAST, "seed": "4242", "steps": "2000"})  # settings nobody ran yet, too long for one slice
        assert not at.exception and len(charts(at)) == 2  # its first points came at once (a newcomer's slice)
        body = ask(at, have=shared(at).count, want=1, play=1)  # the browser, having drawn them, asks for more
        assert "ahead of this one" in body["top"], body["top"]  # the route says so over the charts ...
        at.run()
        waiting = [i for i in boxes(at, "info") if "ahead of this one" in i]  # ... and so does the page
        # at least the one blocker in line (earlier tests' runs may still be in line or active too)
        assert waiting and re.match(r"Waiting: ([2-9]|\d\d+) runs ahead", waiting[0]), boxes(at, "info")
    finally:
        for b in blockers:
            b.job.done = True


def test_the_end_of_a_run_is_stated_from_the_run_shown():
    from sharp.experiments.sentences import race_sentence

    playing = page({**FAST, "steps": "2000", "seed": "78"})  # long enough not to finish on its own here
    assert "The run is playing; what it measured is stated here when it ends or is paused." in markdown(playing)
    at = page({**FAST, "seed": "77"})
    run = finish(at)
    said = race_sentence(run.history, run.settings.steps)
    assert said in markdown(at) and said.startswith("After 20 steps (mean of 2 seeds): the kernel regime ")
    err = run.history["feature"][-1].test_error
    assert (f"feature learning ends at test error {err:.2g}" in said) if err > 0 else "feature learning reaches" in said
    assert "drops to zero" not in " ".join(markdown(at))


def markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]
