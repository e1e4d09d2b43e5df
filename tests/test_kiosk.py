"""The kiosk's controller (ui/kiosk.py) without a browser: the clock, the reveal, the URL knobs, the links, the
QR code, the frames, and the colours of its series."""
from __future__ import annotations

import math
import threading
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sharp.experiments import race, scenes
from sharp.experiments.scenes import SCENES, Options
from sharp.serve import scene_store
from ui import kiosk

NS = "{http://www.w3.org/2000/svg}"


def played(t: float, scene_s: float, n: int, start: int) -> tuple[int, float]:
    """An oracle for the loop's clock: play it scene after scene from the start, as a wall clock would."""
    at, index = 0.0, start % n
    while at + scene_s <= t:
        at += scene_s
        index = (index + 1) % n
    return index, t - at


# Times in eighths of a second and whole-second scenes: exact in binary, so the oracle's sums are exact too.
@given(st.integers(0, 8 * 2000).map(lambda k: k / 8), st.integers(3, 600), st.integers(1, 4), st.integers(0, 3))
def test_position_walks_the_scenes_in_order_and_wraps(t, scene_s, n, start):
    assert scenes.position(t, scene_s, n, start) == played(t, scene_s, n, start)


def test_position_examples():
    assert scenes.position(0, 20, 4) == (0, 0.0)
    assert scenes.position(45, 20, 4) == (2, 5.0)
    assert scenes.position(80, 20, 4) == (0, 0.0)
    assert scenes.position(5, 20, 3, start=2) == (2, 5.0)


@given(st.integers(1, 500), st.floats(3, 600), st.floats(0, 1), st.floats(0, 1))
def test_reveal_grows_then_holds_everything(total, scene_s, a, b):
    early, late = sorted([a, b])
    n0, n1 = scenes.revealed(total, early * scene_s, scene_s), scenes.revealed(total, late * scene_s, scene_s)
    assert 1 <= n0 <= n1 <= total
    assert scenes.revealed(total, scenes.REVEAL * scene_s, scene_s) == total  # the last part holds the full runs


def test_reveal_has_few_distinct_frames():
    counts = {scenes.revealed(151, t / 10, 20) for t in range(0, 200)}
    assert len(counts) == scenes.FRAMES and min(counts) == 13 and max(counts) == 151
    assert scenes.revealed(0, 5, 20) == 0


@pytest.mark.parametrize("query, expected", [
    ({}, Options()),
    ({"scene_s": "8", "idle_s": "30", "start": "c"}, Options(8.0, 30.0, "c")),
    ({"scene_s": ["99", "12"]}, Options(scene_s=12.0)),  # the last value counts (and the repeat is noted)
])
def test_options_from_the_url(query, expected):
    opts, problems = kiosk.parse_options(query)
    assert opts == expected and list(problems) == (["scene_s"] if "scene_s" in query and len(query["scene_s"]) == 2
                                                   else [])


@pytest.mark.parametrize("name, text, needle", [
    ("scene_s", "2", "URL parameter scene_s=`'2'` is not allowed: a number of seconds from 3 to 600; using the "
                     "default 20"),
    ("scene_s", "abc", "URL parameter scene_s=`'abc'` is not allowed"),
    ("scene_s", "1_000", "URL parameter scene_s=`'1_000'` is not allowed"),  # the kiosk's own parser took it
    ("idle_s", "inf", "URL parameter idle_s=`'inf'` is not allowed: a number of seconds from 5 to 3600; using the "
                      "default 120"),
    ("start", "e", "URL parameter start=`'e'` is not allowed: one of a, b, c, d; using the default a"),
])
def test_bad_options_name_the_setting_and_its_range(name, text, needle):
    opts, problems = kiosk.parse_options({name: text})
    assert opts == Options() and problems[name].startswith(needle)


@pytest.mark.parametrize("text, wanted", [("1", True), ("true", True), ("0", False), ("", False), ("x", False)])
def test_wants_kiosk(text, wanted):
    assert kiosk.wants_kiosk({"kiosk": text}) is wanted
    assert kiosk.wants_kiosk({}) is False


@pytest.mark.parametrize("scene", SCENES, ids=lambda s: s.key)
def test_handoff_opens_the_scenes_settings_and_comes_back(scene):
    url = kiosk.handoff_url(scene, Options(scene_s=7, idle_s=30))
    q = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
    settings, problems = race.parse_query(q)
    assert settings == scene.settings and not problems  # the live page opens exactly the scene's settings
    back, idle = kiosk.return_url(q)
    assert idle == 30.0
    bq = {k: v[-1] for k, v in parse_qs(urlsplit(back).query).items()}
    assert kiosk.wants_kiosk(bq) and kiosk.parse_options(bq) == (Options(scene_s=7, idle_s=30), {})


def test_return_url_only_when_entered_from_the_kiosk():
    assert kiosk.return_url({"d": "50"}) is None
    assert kiosk.return_url({"from_kiosk": "1"}) == ("./?kiosk=1&idle_s=120&scene_s=20", 120.0)


@pytest.mark.parametrize("scene", SCENES, ids=lambda s: s.key)
def test_public_link_carries_the_scene(scene):
    link = kiosk.public_link(scene, "https://booth.example.org")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "booth.example.org", "/")
    assert race.parse_query({k: v[-1] for k, v in parse_qs(parts.query).items()}) == (scene.settings, {})
    assert len(link) < 120  # a small QR code, scannable from a step away


def test_qr_code_decodes_to_its_link():
    segno = pytest.importorskip("segno")
    link = kiosk.public_link(SCENES[2], "https://booth.example.org")
    svg = kiosk.qr_svg(link)
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and link in root.get("aria-label")
    # The same payload gives the same matrix: the SVG is segno's rendering of exactly this link.
    ref = segno.make(link, error="m").svg_inline(dark="#000000", light="#ffffff", border=4, omitsize=True,
                                                  svgclass="kiosk-qr")
    assert svg.split(">", 1)[1] == ref.split(">", 1)[1]
    assert segno.make(link, error="m").version <= 6


def fake_frame(kind: str) -> pd.DataFrame:
    """A tidy frame like sharp.engine.sweep's for a scene: per run, seeds x steps with a falling error."""
    scene = next(s for s in SCENES if s.kind == kind)
    names = kiosk.series(scene)[0]
    rows = []
    for run, _ in enumerate(names):
        for seed in range(3):
            for step in range(0, 13 if kind == "fig1" else 31):
                err = max(0.0, 0.5 - 0.1 * step / (run + 1) - 0.01 * seed)
                rows.append(dict(run=run, seed=seed, step=step, d=kiosk.FIG1_DS[run] if kind == "fig1" else 50,
                                 test_error=err, distance=step * 0.1 * (run + 1) + 0.01 * seed))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("kind", ["race", "eta", "fig1"])
def test_frames_grow_and_say_their_values(kind):
    scene = next(s for s in SCENES if s.kind == kind)
    data = scenes.from_frame(scene, fake_frame(kind))
    n = scenes.total(data)
    drawn = []
    for shown in (1, max(1, n // 2), n):
        root = ET.fromstring(kiosk.frame_svg(data, shown, chart="kiosk-x"))
        assert root.get("data-chart") == "kiosk-x"
        drawn.append(int(root.get("data-points")))
        assert root.find(f"{NS}desc").text.startswith(root.get("aria-label")[:20])
    assert drawn[0] < drawn[-1] and drawn == sorted(drawn)
    if kind == "fig1":  # curves appear one by one, each with its ceil(ln d) marker
        assert [r.label for r in kiosk.readings(data, 2)] == ["d = 25", "d = 50"]
        assert data.first_zero["d25"].median == 5.0  # 0.5 - 0.1 step (seed 0) is first 0 at step 5; median of seeds
        svg = kiosk.frame_svg(data, 2)
        assert svg.count("stroke-dasharray=\"5 4\"") == 2  # a marker per drawn d
    else:
        last = kiosk.readings(data, n)
        assert len(last) == len(kiosk.series(scene)[0]) and "test error" in last[0].value


def test_store_computes_once_in_the_background_and_bounds_its_frames(own_pool):
    calls, gate = [], threading.Event()

    def compute(scene, **sweep_kw):
        gate.wait(10)
        calls.append(scene.key)
        kind = scene.kind
        return scenes.from_frame(scene, fake_frame(kind))

    store = scene_store.SceneStore(compute, max_frames=5, pool=own_pool)
    store.warm()
    store.warm()  # a second visitor: no second computation
    assert store.ready() == []
    gate.set()
    store.join(30)
    assert calls == ["a", "b", "c", "d"] and store.ready() == ["a", "b", "c", "d"]
    first = store.frame("a", 3, kiosk.frame_svg)
    assert store.frame("a", 3, kiosk.frame_svg) is first  # served from the cache
    for shown in range(1, 20):
        store.frame("b", shown, kiosk.frame_svg)
    assert len(store) == 5


def test_store_reports_a_failed_scene_and_keeps_the_others(own_pool):
    def compute(scene, **sweep_kw):
        if scene.key == "b":
            raise RuntimeError("boom")
        return scenes.from_frame(scene, fake_frame(scene.kind))

    store = scene_store.SceneStore(compute, pool=own_pool)
    store.warm()
    store.join(30)
    assert store.ready() == ["a", "c", "d"] and store.errors == {"b": "RuntimeError: boom"}


def test_loop_order_skips_scenes_not_ready():
    assert scenes.loop_order(["a", "b", "c", "d"], "a") == ["a", "b", "c", "d"]
    assert scenes.loop_order(["a", "b", "d"], "c") == ["d", "a", "b"]
    assert scenes.loop_order([], "a") == []


def test_countdown():
    assert scenes.seconds_left(0, 20) == 20 and scenes.seconds_left(5.2, 20) == 15 and scenes.seconds_left(20, 20) == 0
    assert scenes.progress_share(5, 20) == 0.25 and scenes.progress_share(30, 20) == 1.0


# ---- headlines and captions: the scene's own numbers --------------------------------------------------------
def curves_frame(kind: str, errors: list, distances: list | None = None, steps: int = 300) -> pd.DataFrame:
    """A scene's tidy frame whose run i has mean test error errors[i](step) (two seeds, +-0.001 around it) and
    distance distances[i](step)."""
    rows = []
    for run, err in enumerate(errors):
        dist = distances[run] if distances else (lambda t: 0.1 * t)
        for seed, jitter in enumerate((-0.001, 0.001)):
            for step in range(0, steps + 1, 10):
                e = err(step)
                rows.append(dict(run=run, seed=seed, step=step, d=50, test_error=e + jitter if e > 0 else 0.0,
                                 distance=dist(step)))
    return pd.DataFrame(rows)


def test_race_headline_words_each_curve_from_its_numbers():
    a = SCENES[0]
    ends = scenes.from_frame(a, curves_frame("race", [lambda t: 0.28, lambda t: max(0.016, 0.5 - t / 100)]))
    assert scenes.headline(ends) == ("Same data, two networks: the kernel regime stalls at test error 0.28, "
                                    "feature learning ends at test error 0.016")
    assert "zero" not in scenes.headline(ends)  # a run that ends at 0.016 does not "reach zero error"
    zero = scenes.from_frame(a, curves_frame("race", [lambda t: 0.5 - t / 1000, lambda t: max(0.0, 0.5 - t / 280)]))
    assert scenes.headline(zero) == ("Same data, two networks: the kernel regime ends at test error 0.2, "
                                    "feature learning reaches zero test error at step 140")
    d = scenes.from_frame(SCENES[3], curves_frame("race", [lambda t: 0.38, lambda t: 0.03 + 0.2 * (t < 150)]))
    assert scenes.headline(d).startswith("Deeper nets, same data: the kernel regime stalls at test error 0.38")


def test_step_size_headline_claims_the_trend_only_when_the_numbers_show_it():
    b = SCENES[1]
    grows = scenes.from_frame(b, curves_frame("eta", [lambda t: 0.34, lambda t: 0.05, lambda t: 0.03],
                                             [lambda t: 0.64, lambda t: 1.9, lambda t: 2.5], steps=30))
    assert scenes.headline(grows) == ("One network, three step sizes: the larger the step, the farther the network "
                                     "moves from its start and the lower its test error. η = 1, 5, 20: distance "
                                     "0.64, 1.9, 2.5; test error 0.34, 0.05, 0.03")
    flat = scenes.from_frame(b, curves_frame("eta", [lambda t: 0.3, lambda t: 0.3, lambda t: 0.4],
                                            [lambda t: 0.5, lambda t: 0.4, lambda t: 0.6], steps=30))
    assert scenes.headline(flat).startswith("One network, three step sizes: distance and test error. η = 1, 5, 20: "
                                           "distance 0.5, 0.4, 0.6")


def fig1_frame(firsts: list[list[int | None]]) -> pd.DataFrame:
    """Scene (c)'s frame: per d (run), per seed, error 0.3 until its first zero step (None: never)."""
    return pd.DataFrame([dict(run=run, seed=seed, step=t, d=kiosk.FIG1_DS[run], distance=0.1 * t,
                              test_error=0.0 if first is not None and t >= first else 0.3)
                         for run, fs in enumerate(firsts) for seed, first in enumerate(fs) for t in range(13)])


def test_fig1_headline_and_readings_count_the_seeds_that_never_got_there():
    c = SCENES[2]
    every = scenes.from_frame(c, fig1_frame([[4, 4, 5], [4, 5, 5], [5, 5, 6], [6, 6, 6], [6, 7, 6], [7, 7, 8]]))
    assert scenes.headline(every) == ("Poster Fig 1: every seed reaches zero test error within 12 steps, d = 25 to "
                                     "800; median 4 steps at d = 25, 7 at d = 800 (⌈ln d⌉ = 4, 7)")
    short = scenes.from_frame(c, fig1_frame([[4, 4, 5], [4, 5, 5], [5, 5, 6], [6, 6, 6], [6, None, 6],
                                            [9, None, None]]))
    assert scenes.headline(short) == ("Poster Fig 1: not every seed reaches zero test error within 12 steps: "
                                     "2 of 3 seeds at d = 400; 1 of 3 seeds at d = 800; every seed at d = 25, 50, "
                                     "100, 200")
    z = short.first_zero["d800"]
    assert (z.median, z.text, z.reached, z.seeds) == (math.inf, "> 12", 1, 3)  # not 9: two seeds never got there
    last = kiosk.readings(short, 6)
    assert last[0].value == "⌈ln d⌉ = 4, median zero-error step 4"
    assert last[5].value == "⌈ln d⌉ = 7, 1 of 3 seeds at zero within 12 steps (median > 12)"
    assert last[4].value == "⌈ln d⌉ = 6, 2 of 3 seeds at zero within 12 steps (median 6)"


@pytest.mark.parametrize("scene", SCENES, ids=lambda s: s.key)
def test_captions_read_the_scenes_configurations(scene):
    cfgs = scenes.configs(scene)
    text = scenes.caption(scene)
    assert f"m = {cfgs[-1].m}" in text and f"{cfgs[0].seeds} seeds" in text and f"{cfgs[0].n_test} new points" in text
    if scene.kind == "race":
        assert f"d = {cfgs[0].d}" in text and f"kernel regime m = {cfgs[0].m}, η = {cfgs[0].eta:g}" in text
    if scene.kind == "eta":
        assert f"{cfgs[0].steps} steps at η = 1, 5, 20" in text
    if scene is SCENES[3]:
        assert "depth L = 3, ReLU" in text


@pytest.mark.parametrize("scene", SCENES, ids=lambda s: s.key)
def test_each_scene_quotes_the_paper_or_says_it_is_the_apps_own(scene):
    from sharp.experiments.claims import QUOTES

    line = scenes.paper_line(scene)
    if scene.paper:
        assert line == f"The paper: “{QUOTES[scene.paper].text}” ({QUOTES[scene.paper].source})"
    else:
        assert line.endswith("this scene is this app's own experiment.")
    assert not any(w in scene.title for w in ("log d", "ln d", "d²"))  # a scene's name states no trend
