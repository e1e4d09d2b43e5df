"""The n* search (doubling then bisection, seeds probed together, censoring) and the sentence about its slopes."""
import math

import numpy as np
import pandas as pd
import pytest

from sharp.engine import store as cache
from sharp.experiments import complexity as cx


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))


def oracle(thresholds, calls):
    """A monotone synthetic reach: seed r succeeds exactly when n >= thresholds[r]; records every probe."""
    def reach(n):
        calls.append(n)
        assert len(calls) <= 64, "the search does not converge"  # doubling and bisection need far fewer
        return [n >= t for t in thresholds]
    return reach


@pytest.mark.parametrize("seed", range(5))
def test_search_brackets_every_seeds_threshold_within_the_tolerance(seed):
    rng = np.random.default_rng(seed)
    thresholds = [int(t) for t in rng.integers(20, 3000, size=4)]
    calls = []
    res, probed = cx.search(oracle(thresholds, calls), 4, n0=16, n_hi=4096, rel_tol=0.1)
    assert calls == probed and len(set(calls)) == len(calls)  # each n probed once, all seeds together
    for t, r in zip(thresholds, res):
        assert not r.censored
        assert r.lo < t <= r.n_star  # failed at lo, succeeded at n_star: the edge lies between
        assert r.n_star - r.lo <= max(1, 0.1 * r.n_star)
    # doubling first: 16, 32, ... up to the first n where every seed succeeds
    k = math.ceil(math.log2(max(thresholds) / 16))
    assert probed[:k + 1] == [16 * 2 ** i for i in range(k + 1)]


def test_a_seed_that_never_succeeds_is_censored_at_the_largest_n_not_dropped():
    calls = []
    res, probed = cx.search(oracle([100, 10**9, 300], calls), 3, n0=10, n_hi=1000)
    assert [r.censored for r in res] == [False, True, False]
    assert res[1].n_star == 1000 == max(probed)  # n_hi itself is tried, though not a power of two times n0
    assert 100 <= res[0].n_star <= 110 and 300 <= res[2].n_star <= 330
    med = cx.median_nstar(pd.DataFrame({"regime": "feature", "d": 10, "seed": range(3),
                                        "n_star": [r.n_star for r in res], "censored": [r.censored for r in res],
                                        "n_max": 1000}))
    assert med.median_text.item() == str(res[2].n_star) and med.censored.item() == 1  # 2 of 3 known: median known
    two_censored = cx.median_nstar(pd.DataFrame({"regime": "feature", "d": 10, "seed": range(3),
                                                 "n_star": [100, 1000, 1000], "censored": [False, True, True],
                                                 "n_max": 1000}))
    assert two_censored.median_text.item() == "> 1000"


def test_search_refuses_an_empty_range():
    with pytest.raises(ValueError, match="n0"):
        cx.search(lambda n: [True], 1, n0=50, n_hi=10)


def synthetic(law, ds=(16, 32, 64, 128, 256, 512), seeds=3, spread=0.05, seed=0):
    rng = np.random.default_rng(seed)
    rows = [{"regime": "feature", "d": d, "seed": r, "n_star": int(law(d) * (1 + spread * rng.uniform(-1, 1))),
             "censored": False, "n_max": 10**9} for d in ds for r in range(seeds)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("law, verdict", [
    (lambda d: 6 * d, "linear (n ~ d)"),
    (lambda d: 2 * d * math.log(d), "d log d"),
    (lambda d: 0.7 * d * d, "quadratic (n ~ d^2)"),
    (lambda d: d ** 1.5, "none of linear (n ~ d), d log d or quadratic (n ~ d^2) (slope 1.51)"),
])
def test_the_slopes_sentence_names_the_growth_law_the_numbers_allow(law, verdict):
    df = synthetic(law)
    s = cx.fit_slopes(df, "feature")
    sentence = cx.slopes_sentence(df)
    assert f"**{verdict}**" in sentence
    assert f"n*/d slope {s.slope - 1:.2f} (seeds {s.seed_lo - 1:.2f} to {s.seed_hi - 1:.2f})" in sentence
    assert f"n*/d^2 slope {s.slope - 2:.2f}" in sentence


def test_the_sentence_cannot_tell_over_a_short_range_or_with_censored_seeds():
    short = synthetic(lambda d: 6 * d, ds=(16, 20), spread=0.0)
    assert "cannot tell linear (n ~ d) from d log d" in cx.slopes_sentence(short)
    one = synthetic(lambda d: 6 * d, ds=(16,))
    assert "cannot tell (n* known at fewer than two d)" in cx.slopes_sentence(one)
    cen = synthetic(lambda d: 6 * d, seeds=3)
    cen.loc[cen.seed == 1, "censored"] = True  # one of three seeds censored everywhere: the median is still known
    cen.loc[cen.seed == 1, "n_star"] = 10**9
    s = cx.fit_slopes(cen, "feature")
    assert s.censored_seeds == 1 and s.seeds_fitted == 2 and len(s.ds) == 6
    assert "1 seed censored at some d: **linear (n ~ d)**" in cx.slopes_sentence(cen)
    cen.loc[cen.seed == 2, "censored"] = True  # two of three: the median is unknown at every d
    assert "cannot tell (n* known at fewer than two d)" in cx.slopes_sentence(cen)


def test_a_real_search_holds_at_its_edges():
    """The engine's own runs: each seed reaches zero at its n* and not at the n just below (lo)."""
    df = cx.sample_complexity("feature", [16], seeds=2)
    assert list(df.columns[:5]) == ["regime", "d", "seed", "n_star", "censored"]
    for _, row in df.iterrows():
        assert not row.censored
        at_star = cx.first_zero(cx.probe_config("feature", 16, int(row.n_star), seeds=2))
        below = cx.first_zero(cx.probe_config("feature", 16, int(row.lo), seeds=2))
        assert not math.isnan(at_star[row.seed]) and math.isnan(below[row.seed])
        assert at_star[row.seed] <= cx.REGIMES["feature"].steps


def test_a_probe_stops_once_every_seed_is_at_zero_and_is_read_back():
    from sharp.engine.train import first_zero_step, train

    cfg = cx.probe_config("feature", 16, 96, seeds=3)
    full = first_zero_step(list(train(cfg)))  # the whole run, to the budget
    assert not any(math.isnan(f) for f in full) and len(set(full)) > 1  # every seed gets there, not all at once
    first = cx.first_zero(cfg)
    assert first == full
    snaps = cache.load_history({cx.PROBE: cfg})[cx.PROBE]
    assert snaps[-1].step == max(full) < cfg.steps  # stopped early, at the slowest seed's first zero
    assert cx.first_zero(cfg) == first  # read back from the store


def test_progress_reaches_the_end_and_cancel_stops():
    from sharp.engine.sweep import Cancelled

    seen = []
    cx.sample_complexity("feature", [16], seeds=1, on_progress=lambda a, b, m: seen.append((a / b, m)))
    assert seen[-1][0] == pytest.approx(1.0) and seen[-1][1].endswith("done")
    assert all(x <= y + 1e-9 for (x, _), (y, _) in zip(seen, seen[1:]))
    with pytest.raises(Cancelled):
        cx.sample_complexity("feature", [24], seeds=1, cancel=lambda: True, use_cache=False)
