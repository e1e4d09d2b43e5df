"""The readings of the setup: each reading's run, and the sentence saying which reproduce ceil(ln d)."""
import math

import pandas as pd
import pytest
import torch

from sharp.engine import store as cache
from sharp.engine.nets import init_params
from sharp.experiments import sensitivity as sv


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))


def test_each_reading_is_the_run_it_says():
    on, fx, mb, raw = (sv.reading_config(r, 100) for r in ("online", "fixed", "minibatch", "raw-init"))
    assert on.online and on.batch_size == 600 and on.init_var == "1/d" and on.eta == on.m == 20 and on.scale == "mf"
    assert not fx.online and fx.n == 600 and fx.batch_size == 600
    assert not mb.online and mb.n == 600 and mb.batch_size == 2 * 100
    assert raw.online and raw.init_var == "1"
    with pytest.raises(ValueError, match="reading='lazy'"):
        sv.reading_config("lazy", 100)


def test_raw_init_is_standard_gaussian_on_raw_inputs_and_the_default_is_unchanged():
    a, b = (init_params(sv.reading_config(r, 400, seeds=2))["W1"] for r in ("online", "raw-init"))
    assert torch.allclose(b / math.sqrt(400), a)  # the same draw, scaled: N(0, 1) against N(0, 1/d)
    assert abs(float(b.var()) - 1) < 0.05 and abs(float(a.var()) * 400 - 1) < 0.05


def table(rows):
    return pd.DataFrame([{"reading": r, "d": d, "ceil_ln_d": math.ceil(math.log(d)), "median": m,
                          "median_text": "> 24" if math.isinf(m) else f"{m:g}", "horizon": 24, "final_error": e}
                         for r, d, m, e in rows])


def test_the_sentence_says_which_readings_reproduce_ceil_ln_d():
    t = table([("online", 25, 4, 0.0), ("online", 100, 6, 0.0), ("fixed", 25, math.inf, 0.003),
               ("fixed", 100, math.inf, 0.14), ("raw-init", 25, 4, 0.0), ("raw-init", 100, 9, 0.0)])
    s = sv.sensitivity_sentence(t)
    assert s.startswith("Reproduces ceil(ln d) (median first zero-error step within 1 step of it at every d = 25, "
                        "100): online batches of 6d, W0 ~ N(0, 1/d) (the app's default).")
    assert ("one fixed set of n = 6d, full batch (half or more seeds never reach zero within 24 steps at d = 25, "
            "median test error 0.003 at the end)") in s
    assert "online batches of 6d, W0 ~ N(0, 1) on raw inputs (median 9 at d = 100, where ceil(ln d) = 5)" in s
    assert "Reproduces" not in sv.sensitivity_sentence(t[t.reading != "online"])


def test_the_default_reading_reproduces_and_the_fixed_set_does_not_at_small_d():
    df = sv.sensitivity([25, 50], readings=("online", "fixed"), seeds=2, steps=12)
    t = sv.sensitivity_table(df)
    assert t.reading.tolist() == ["online", "online", "fixed", "fixed"]
    ok, _ = sv.reproduces(t[t.reading == "online"])
    bad, why = sv.reproduces(t[t.reading == "fixed"])
    assert ok and not bad and "never reach zero within 12 steps at d = 25" in why
    assert (t[t.reading == "fixed"].final_error > 0).all()
