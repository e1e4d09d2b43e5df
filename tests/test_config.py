import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sharp.engine.config import Config, ConfigError, allowed_range, fields, parse_field, preset


def test_presets_follow_science_defaults():
    f, k = preset("feature"), preset("kernel")
    assert (f.scale, f.m, f.eta, f.c) == ("mf", 20, 20.0, 1 / 20)
    assert k.scale == "ntk" and 512 <= k.m <= 2048 and k.eta == 1.0
    assert k.c == pytest.approx(k.m ** -0.5)


def test_overrides_win_over_preset_and_config_is_frozen():
    cfg = preset("kernel", m=512, d=30)
    assert (cfg.m, cfg.d, cfg.scale) == (512, 30, "ntk")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.m = 4  # type: ignore[misc]


@pytest.mark.parametrize("name, value, words", [
    ("d", 1, "d=1"), ("d", 10**6, "from 2 to 4096"), ("eta", float("nan"), "eta=nan"), ("eta", -1.0, "eta=-1.0"),
    ("activation", "tanh", "one of quadratic"), ("m", 7, "even"), ("k", 9, "k=9"), ("seeds", 0, "from 1 to 128"),
    ("noise", 0.5, "noise=0.5"), ("every", 0, "every=0"), ("steps", -1, "steps=-1"), ("d", 2.5, "d=2.5"),
    ("online", "yes", "true or false"), ("scale", "big", "mf, ntk"),
])
def test_bad_values_name_field_value_and_range(name, value, words):
    with pytest.raises(ConfigError) as err:
        Config(**{name: value})
    assert err.value.name == name and words in str(err.value)


def test_cross_field_rules():
    with pytest.raises(ConfigError, match="k=5 is not allowed: at most d = 4"):
        Config(d=4, k=5)
    with pytest.raises(ConfigError, match="batch"):
        Config(n=10, batch=20)
    with pytest.raises(ConfigError, match="every"):
        Config(steps=10, every=20)
    with pytest.raises(ConfigError, match="GiB"):  # 128 seeds x 1e6 samples x 4096 dims would not fit
        Config(seeds=128, n=1_000_000, d=4096)


def test_unknown_preset_and_field():
    with pytest.raises(ConfigError, match="regime"):
        preset("lazy")
    with pytest.raises(ConfigError, match="wdth"):
        preset("kernel", wdth=3)


@given(st.sampled_from([f for f in fields() if f.metadata["param"].lo is not None]),
       st.floats(allow_nan=True, allow_infinity=True))
def test_any_numeric_value_is_accepted_only_inside_its_range(f, x):
    t = int if "int" in str(f.type) else float
    value = int(x) if t is int and x == x and abs(x) < 1e18 else x
    p = f.metadata["param"]
    inside = value == value and abs(value) != float("inf") and p.lo <= value <= p.hi and not (p.even and value % 2)
    try:
        Config(**{f.name: value})
        accepted = True
    except ConfigError as e:
        accepted = False
        if not inside:  # its own range is named; inside it, a cross-field rule may name another field
            assert str(e).startswith(f"{f.name}=") and allowed_range(f) in str(e)
        assert " is not allowed: " in str(e)
    if not inside:
        assert not accepted


def test_text_parsing_for_url_parameters():
    assert parse_field("d", "50") == 50 and parse_field("online", "true") is True
    for name, text in (("eta", "abc"), ("foo", "1")):
        with pytest.raises(ConfigError, match=name):
            parse_field(name, text)
    with pytest.raises(ConfigError, match="from 2 to 16384"):
        Config(m=parse_field("m", "-4"))
    assert parse_field("steps", "12") == 12
    with pytest.raises(ConfigError):
        parse_field("steps", "1.5")
