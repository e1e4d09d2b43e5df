"""Hostile URLs (issue 10, item 6): every parameter of every page fuzzed.

Each bad value keeps its default and gets one warning that names the parameter and its range and shows the
text literally; repeated and unknown parameters are noted; the page still works. The parser is fuzzed
directly (hundreds of cases, fast), every page of app.py under AppTest (a few dozen), and
test_url_fuzz_browser.py sends hostile links to the real server.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest
from test_paper_pages import CHARTS, TINY
from url_fuzz_support import HOSTILE, ROOT, UNKNOWN_KEYS, fuzzed, link, pages, reads

import sharp
from sharp.engine import store as cache
from sharp.experiments import params, race
from sharp.experiments.pages import PAGES
from sharp.experiments.params import Bool, Choice, Float, Int, Subset

# Every kind of Param, as the pages use them.
SPEC = {"d": Int(4, 400), "m": Int(2, 200, even=True), "eta": Float(1e-3, 1e5), "threshold": Float(0.0, 0.4),
        "online": Bool(), "activation": Choice(["softplus", "gelu"]), "kernel_m": Choice([256, 512, 1024]),
        "ds": Subset([25, 50, 100, 200])}
DEFAULTS = {"d": 50, "m": 20, "eta": 20.0, "threshold": 0.0, "online": False, "activation": "softplus",
            "kernel_m": 512, "ds": [25, 50]}
CODE = re.compile(r"(`+)(.*?)\1", re.S)  # a Markdown code span (the fence is as long as needed)
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def valid_text(p: params.Param) -> st.SearchStrategy[str]:
    """Text a Param accepts, written the ways a person might."""
    if p.kind is bool:
        return st.sampled_from(["true", "false", "1", "0", "On", " yes ", "NO"])
    if p.many:
        return st.lists(st.sampled_from(p.choices), min_size=1, unique=True).map(lambda v: ",".join(map(str, v)))
    if p.choices:
        return st.sampled_from(p.choices).map(str)
    if p.kind is int:
        return st.integers(p.lo, p.hi).filter(lambda v: not (p.even and v % 2)).flatmap(
            lambda v: st.sampled_from([str(v), f"{v}.0", f" {v} ", f"{v:e}"]))
    return st.floats(p.lo, p.hi).flatmap(lambda v: st.sampled_from([repr(v), f"{v:e}", f"{v:g}"]))


def texts(p: params.Param) -> st.SearchStrategy[str]:
    """Anything: valid text, the hostile corpus, random unicode, numbers of every size and sign."""
    return st.one_of(valid_text(p), st.sampled_from(HOSTILE), st.text(max_size=60),
                     st.floats(allow_nan=True, allow_infinity=True).map(str), st.integers().map(str),
                     st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "So"]), max_size=8))


def query(spec: dict[str, params.Param]) -> st.SearchStrategy[dict]:
    """A query string's parameters: some of the spec's (a value or a list of them) and unknown ones."""
    def one(name):
        return st.one_of(texts(spec[name]), st.lists(texts(spec[name]), min_size=1, max_size=3))
    known = st.fixed_dictionaries({}, optional={name: one(name) for name in spec})
    unknown = st.dictionaries(st.sampled_from(UNKNOWN_KEYS) | st.text(max_size=20), st.text(max_size=20),
                              max_size=7).map(lambda d: {k: v for k, v in d.items() if k not in spec})
    return st.tuples(known, unknown).map(lambda t: {**t[1], **t[0]})


def outside_code(message: str) -> str:
    return CODE.sub("", message)


def check_message(message: str) -> None:
    """One line, bounded, and every echoed text inside a code span (Markdown renders none of it)."""
    assert not any(c in message for c in LINE_BREAKS), message
    assert len(message) < 900, len(message)
    rest = outside_code(message)
    for mark in "<>*$[]`\\&~":
        assert mark not in rest, (mark, message)
    assert ":material/" not in message  # Streamlit rewrites it even inside code


@settings(max_examples=500, deadline=None)
@given(query(SPEC))
def test_parse_takes_every_good_value_and_names_every_bad_one(q):
    values, problems = params.parse(q, SPEC, DEFAULTS)
    for message in problems.values():
        check_message(message)
    for name, p in SPEC.items():
        if name not in q:
            assert name not in values and name not in problems
            continue
        given_ = q[name] if isinstance(q[name], list) else [q[name]]
        last = given_[-1]
        try:
            expected = p.parse(last)
        except ValueError:
            assert name not in values
            msg = problems[name]
            assert msg.startswith(f"URL parameter {name}=") and p.describe() in msg
            default = DEFAULTS[name]
            shown = ", ".join(map(str, default)) if isinstance(default, list) else params.to_text(default)
            assert msg.endswith(f"; using the default {shown}")
            echoed = CODE.search(msg).group(2).replace("\u2060", "")
            assert echoed.strip() == params.echo(last)  # the text itself, escaped and cut, nothing else
            continue
        assert values[name] == expected and p.parse(params.to_text(expected)) == expected  # round trip
        assert (name in problems) == (len(set(given_)) > 1)  # a repeat with different values is noted
    unknown = [k for k in q if k not in SPEC and k.lower() not in params.RESERVED]
    assert (params.UNKNOWN in problems) == bool(unknown)
    if unknown:
        note = problems[params.UNKNOWN]
        assert all(params.literal(k).replace("\u2060", "") in note.replace("\u2060", "")
                   for k in unknown[:params.LIST_UNKNOWN])
        assert note.endswith(f"(it reads {', '.join(SPEC)})")


@settings(max_examples=300, deadline=None)
@given(query(race.SPEC))
def test_live_settings_from_any_url_are_valid(q):
    s, problems = race.parse_query(q)
    for message in problems.values():
        check_message(message)
    for name, p in race.SPEC.items():  # every setting within its page range, whatever the URL said
        assert p.parse(params.to_text(getattr(s, name))) == getattr(s, name)
    assert s.k <= s.d
    try:
        race.build_configs(s)
    except sharp.ConfigError:  # a combination the engine refuses, with a message the page shows; nothing else
        pass


def test_echo_and_code_show_any_text_literally():
    assert params.echo("x" * 100) == repr("x" * params.ECHO_CHARS + "…")
    assert params.echo("a\nb\x00\u202e") == "'a\\nb\\x00\\u202e'"
    assert params.code("a`b``c") == "```a`b``c```"
    assert params.code("`x") == "`` `x ``"
    assert "\u2060" in params.code(":material/home:")
    values, problems = params.parse({"d": "<b>x</b>"}, {"d": Int(1, 2)}, {"d": 1})
    assert problems["d"] == "URL parameter d=`'<b>x</b>'` is not allowed: an integer from 1 to 2; using the default 1"


@pytest.mark.parametrize("text, value", [("50", 50), ("5e1", 50), ("50.0", 50), (" 50 ", 50), ("+50", 50)])
def test_plain_numbers_are_accepted(text, value):
    assert Int(4, 400).parse(text) == value


@pytest.mark.parametrize("text", ["nan", "inf", "1_000", "５０", "0x10", "1e999", "50.5", "", "5" * 70])
def test_anything_else_is_not_a_number(text):
    with pytest.raises(ValueError):
        Int(0, 10**80).parse(text)


# --- every page of app.py under AppTest ---

@pytest.fixture
def no_compute(monkeypatch):
    """Paper pages skip their sweep (these tests check the URL handling; the last one and test_paper_pages the
    computing). Set up once per test function, not per hypothesis example: the stub keeps no state."""
    import ui.paper

    def stub(page, settings_, fn):
        return None

    monkeypatch.setattr(ui.paper, "compute", stub)


def run_page(path: str, q: dict, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=180)
    for k, v in q.items():
        at.query_params[k] = v
    for k, v in (state or {}).items():  # settings of a second section, which the link does not carry
        at.session_state[k] = v
    return at.run()


def test_every_page_has_a_link_and_reads_it_through_the_registry(no_compute):
    """Every page of app.py is in sharp.experiments.pages.PAGES (the fuzz below reads it), reads exactly those
    parameters (its note on an unknown one lists them), and its defaults are values its spec accepts."""
    found = pages()
    assert {"views/live.py", "views/figure1.py", "views/iterations.py", "views/nstar.py", "views/samples.py",
            "views/deep.py", "views/digits.py", "views/theory.py", "views/tour.py", "views/trajectories.py",
            "views/regime.py", "views/kiosk.py"} <= {p.path for p in found}
    for page in found:
        lk = link(page)
        for name, p in lk.spec.items():
            assert p.parse(params.to_text(lk.defaults[name])) == lk.defaults[name], (page.path, name)
        at = run_page(page.path, {**lk.fixed, "zz": "1"})
        assert not at.exception, (page.path, at.exception)
        assert reads([w.value for w in at.warning]) == list(lk.spec), page.path


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.path)
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_page_survives_a_hostile_url(no_compute, page, data):
    keys = fuzzed(page)
    q = {k: data.draw(st.sampled_from(HOSTILE) | st.text(min_size=1, max_size=30).map(lambda t: "§" + t)
                      | st.lists(st.sampled_from(HOSTILE), min_size=2, max_size=3), label=k) for k in keys}
    unknown = data.draw(st.lists(st.sampled_from(UNKNOWN_KEYS), min_size=1, max_size=3, unique=True))
    q.update({k: "1" for k in unknown})
    at = run_page(page.path, {**q, **link(page).fixed})
    assert not at.exception, at.exception
    assert at.title or at.get("html"), "the page still draws"  # the kiosk draws its headline as HTML
    warnings = [w.value for w in at.warning]
    for w in warnings:
        if w.startswith("URL parameter"):
            check_message(w)
    for k in keys:
        assert any(w.startswith(f"URL parameter {k}=") for w in warnings), (k, q[k], warnings)
    note = next(w for w in warnings if "(it reads" in w)
    assert all(params.literal(k) in note for k in unknown)


@pytest.mark.parametrize("text", ["inf", "-inf", "1e999", "nan", "1_000"])
def test_trajectories_refuses_a_width_that_is_no_number_without_crashing(text):
    """/trajectories?m=inf once reached int(float("inf")) and raised OverflowError: the one parser refuses it
    with a message naming the setting and its choices, and the page keeps its default."""
    values, problems = PAGES["trajectories"].parse({"m": text})
    assert values == {} and problems["m"].startswith(f"URL parameter m=`'{text}'` is not allowed: one of 256, 512, "
                                                     "1024, 2048; using the default 1024")


def test_trajectories_page_opened_with_an_infinite_width_warns_and_draws():
    at = run_page("views/trajectories.py", {"m": "inf"})
    assert not at.exception, at.exception
    assert at.session_state["traj_m"] == 1024 and any(w.value.startswith("URL parameter m=") for w in at.warning)


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))


FILES = {"figure1": "fig1", "iterations": "iters", "samples": "samples", "deep": "deep", "theory": "theory",
         "regime": "regime"}


@pytest.mark.parametrize("name", list(TINY))
def test_a_link_sets_the_form_computes_and_run_writes_it_back(tmp_cache, name):
    """A paper page opened from a link: its settings from the URL (a repeated one noted, an unknown one
    ignored), the figure computed at them; Run puts every setting in the URL and retires the warnings."""
    prefix = FILES[name] + "_"
    q = {k.removeprefix(prefix): params.to_text(v) for k, v in TINY[name].items() if k.startswith(prefix)}
    first = next(iter(q))
    q[first], q["zz"] = [q[first], q[first] + "0", q[first]], "1"
    at = run_page(f"views/{name}.py", q, {k: v for k, v in TINY[name].items() if not k.startswith(prefix)})
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    for k, v in TINY[name].items():
        assert at.session_state[k] == v, k
    assert len(at.get("plotly_chart")) == CHARTS[name]
    warnings = [w.value for w in at.warning]
    assert any(f"URL parameter {first} was given 3 times" in w for w in warnings)
    assert any("`'zz'` is not a setting of this page" in w for w in warnings)
    at.button(key=f"FormSubmitter:{FILES[name]}_form-" + ("Measure" if name == "theory" else "Run")).click().run()
    assert not at.exception and not any(w.value.startswith("URL parameter") for w in at.warning)
    written = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert "zz" not in written and {k: v[-1] if isinstance(v, list) else v for k, v in q.items() if k != "zz"}.items() \
        <= written.items()
