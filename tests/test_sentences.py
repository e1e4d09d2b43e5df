"""The pages' computed sentences on small synthetic frames: each number and verdict follows from the frame."""
import numpy as np
import pandas as pd
import pytest

from sharp.experiments import sentences


def sample_table(edges: dict[str, dict[int, int]], ns=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096)) -> pd.DataFrame:
    """A final table of the sample map whose cells reach zero test error from the given edge n on, per regime, d."""
    return pd.DataFrame([{"regime": r, "d": d, "n": n, "test_error": 0.0 if e is not None and n >= e else 0.3,
                          "distance": 1.0, "diverged": 0.0}
                         for r, per_d in edges.items() for d, e in per_d.items() for n in ns])


def test_edges_sentence_cannot_tell_d_from_d2_on_the_issues_grid():
    """The Samples page's defaults as the issue measured them: d = 8, 16, 32, n doubling."""
    edges = {"feature": {8: 32, 16: 64, 32: 256}, "kernel": {8: 64, 16: 256, 32: 512}}
    s = sentences.edges_sentence(sample_table(edges))
    assert s == ("Smallest n with mean test error <= 0.02: feature learning 32 at d = 8 to 256 at d = 32, slope 1.50, "
                 "which the n grid pins only to 1.00 to 2.00: **cannot tell n ~ d from n ~ d^2**; kernel regime 64 at "
                 "d = 8 to 512 at d = 32, slope 1.50, which the n grid pins only to 1.00 to 2.00: **cannot tell n ~ d "
                 "from n ~ d^2**.")


@pytest.mark.parametrize("edges, verdict", [
    ({8: 32, 16: 64, 32: 128, 64: 256}, "**n ~ d**"),  # 4d over a factor 8 in d: the grid's factor 2 is enough
    ({8: 64, 16: 256, 32: 1024, 64: 4096}, "**n ~ d^2**"),
    ({8: 64, 64: 1024}, "pins only to 1.00 to 1.67: **n ~ d**"),  # slope 4/3, but the grid allows 1
])
def test_edges_sentence_tells_a_law_when_the_range_of_d_allows(edges, verdict):
    assert verdict in sentences.edges_sentence(sample_table({"feature": edges}))


def test_edges_sentence_on_a_fine_grid_names_growth_between_the_laws():
    s = sentences.edges_sentence(sample_table({"feature": {8: 64, 64: 1448}}, ns=(60, 64, 1400, 1448, 4096)))
    assert "slope 1.50, which the n grid pins only to 1.48 to 1.53: **none of n ~ d or n ~ d^2 (slope 1.50)**" in s


def test_edges_sentence_names_what_it_cannot_bound():
    # an edge at the smallest n tried has no n below it: the slope is unbounded on that side
    s = sentences.edges_sentence(sample_table({"feature": {8: 16, 32: 64}}))
    assert "slope 1.00, which the n grid pins only to 0.50 to any value: **cannot tell n ~ d from n ~ d^2**" in s
    s = sentences.edges_sentence(sample_table({"kernel": {8: 64, 16: None, 32: None}}))
    assert s == ("Smallest n with mean test error <= 0.02: kernel regime: an edge at fewer than two d, no slope; "
                 "no n tried reaches it at d = 16, 32.")
    assert "<= 0.1:" in sentences.edges_sentence(sample_table({"feature": {8: 32, 16: 64}}), target=0.1)


def deep_table(loss_n, loss_m, train_share=0.8, dist=lambda L, m, n: 2 / m ** 0.5, ms=(64, 128, 256),
               ns=(50, 100, 200, 400), m0=128, n0=200) -> pd.DataFrame:
    """A final table of the Deep nets page: per depth L, test loss loss_n[L](n) along the n sweep at width m0 and
    loss_m[L](m) along the m sweep at n0; the training loss is train_share of it."""
    rows = []
    for L in loss_n:
        for n in ns:
            rows.append({"axis": "n", "L": L, "n": n, "m": m0, "test_loss": loss_n[L](n)})
        for m in ms:
            rows.append({"axis": "m", "L": L, "n": n0, "m": m, "test_loss": loss_m[L](m)})
    t = pd.DataFrame(rows)
    t["train_loss"] = train_share * t.test_loss
    t["distance"] = [dist(L, m, n) for L, m, n in zip(t.L, t.m, t.n)]
    t["test_error"], t["diverged"] = 0.0, 0.0
    return t


def test_deep_sentences_place_each_slope_against_both_bounds_shapes():
    t = deep_table({1: lambda n: 30 / n ** 1.5, 2: lambda n: 3 / n ** 0.7, 3: lambda n: 1 / n ** 0.2},
                   {1: lambda m: 0.1, 2: lambda m: 0.01 * m ** 0.3, 3: lambda m: 0.001 * m})
    on_n, on_m, split, dist = sentences.deep_sentences(t)
    assert on_n.startswith("**Against n** (width m = 128): fitted slopes L = 1: -1.50, L = 2: -0.70, L = 3: -0.20.")
    assert "at L = 1 the loss falls at least as fast as both shapes" in on_n
    assert "these slopes cannot tell the two bounds apart" in on_n
    assert "at L = 2 it falls faster than sqrt(m/n) but slower than 1/n" in on_n
    assert "at L = 3 it falls slower than both shapes" in on_n
    assert on_m.startswith("**Against m** (n = 200, T = n steps): fitted slopes L = 1: +0.00, L = 2: +0.30, "
                           "L = 3: +1.00.")
    assert "at L = 1 the loss does not rise with m" in on_m and "at L = 2 it rises, less than sqrt(m)" in on_m
    assert "at L = 3 it rises faster than sqrt(m), above both shapes" in on_m
    assert "whether these widths meet it is not checked" in on_m
    # L = 3 along m: test loss 0.064 -> 0.256, training loss 80% of it, so the gap takes the other 20%
    assert "L = 3, m = 64 to 256: test loss +0.1920 = training loss +0.1536 + gap (test minus training) +0.0384, " \
           "mostly the training loss" in split
    assert "mostly the gap" in sentences.deep_sentences(deep_table({1: lambda n: 1 / n}, {1: lambda m: m / 100},
                                                                  train_share=0.2))[2]
    assert "slopes L = 1: -0.50, L = 2: -0.50, L = 3: -0.50 (an absolute distance" in dist


def test_deep_sentences_check_the_distance_against_m_to_the_one_over_L():
    # absolute distance = relative * sqrt(L m): relative 1.2 at L = 2 is 1.2 * sqrt(2 m) > sqrt(m) at every width
    t = deep_table({1: lambda n: 1 / n, 2: lambda n: 1 / n}, {1: lambda m: 0.1, 2: lambda m: 0.1},
                   dist=lambda L, m, n: 1.2 if (L, m, n) == (2, 64, 200) else 0.1)
    dist = sentences.deep_sentences(t)[-1]
    # 2 depths, 4 + 3 runs each, the run at (m0, n0) in both sweeps counted once: 12 runs, 11 of them inside
    assert "beyond it: L = 2, m = 64, n = 200 (13.6 > 8.0); the other 11 runs are inside." in dist
    inside = sentences.deep_sentences(deep_table({1: lambda n: 1 / n}, {1: lambda m: 0.1}))[-1]
    assert inside.endswith("every run is inside it.")


def snaps(errors: list[list[float]], dist: float = 0.5, diverged: tuple[int, ...] = (), at: int | None = None):
    """Snapshots every 10 steps whose seeds have these test errors (errors[t][seed]); seeds in `diverged` are nan
    from the last snapshot on, as the engine reports them."""
    from sharp.engine.snapshot import Snapshot

    out = []
    for t, errs in enumerate(errors):
        last = t == len(errors) - 1
        e = tuple(float("nan") if last and r in diverged else x for r, x in enumerate(errs))
        d = tuple(float("nan") if last and r in diverged else dist for r in range(len(errs)))
        out.append(Snapshot(step=10 * t, samples=0, train_loss=0.0, test_loss=0.0, test_error=float(np.mean(errs)),
                            distance=dist, feature_share=0.0, train_loss_seeds=e, test_loss_seeds=e,
                            test_error_seeds=e, distance_seeds=d, feature_share_seeds=e, distance_layers=(dist,),
                            distance_layers_seeds=(d,), neuron_relevant=(), neuron_rest=(),
                            diverged=last and len(diverged) == len(errs),
                            diverged_step=at if last and diverged else None, diverged_seeds=diverged if last else ()))
    return out


def test_race_sentence_states_how_each_run_ends_at_the_drawn_step():
    kernel = snaps([[0.5, 0.5], [0.3, 0.3], [0.28, 0.28], [0.28, 0.28], [0.28, 0.28]], dist=0.05)
    feature = snaps([[0.5, 0.5], [0.2, 0.1], [0.03, 0.01], [0.02, 0.01], [0.02, 0.01]], dist=2.9)
    assert sentences.race_sentence({"kernel": kernel, "feature": feature}, 40) == (
        "After 40 steps (mean of 2 seeds): the kernel regime stalls at test error 0.28 (distance from init 0.05); "
        "feature learning ends at test error 0.015 (distance from init 2.9).")
    zero = snaps([[0.5, 0.5], [0.1, 0.0], [0.0, 0.0], [0.0, 0.0]])
    assert sentences.race_sentence({"feature": zero}, 300) == (
        "At step 30 of 300 (mean of 2 seeds): feature learning reaches zero test error at step 20 (distance from "
        "init 0.5).")


def test_race_sentence_names_diverged_seeds():
    some = snaps([[0.5, 0.5], [0.3, 0.4], [0.04, 0.4]], diverged=(1,), at=17)
    assert "feature learning ends at test error 0.04 (distance from init 0.5; 1 of 2 seeds diverged and are left " \
           "out)" in sentences.race_sentence({"feature": some}, 20)
    every = snaps([[0.5, 0.5], [0.2, 0.4]], diverged=(0, 1), at=7)
    assert "feature learning diverged at step 7 (every seed's outputs blew up)" in \
        sentences.race_sentence({"feature": every}, 10)
    assert sentences.race_sentence({"feature": []}, 10) == "Nothing measured yet."


def test_regime_sentences_place_the_presets_and_the_diverged_cells():
    from ui.regime import preset_cells, presets_sentence, summary

    t = pd.DataFrame([dict(scale=s, m=m, eta=eta, test_error=0.05 if eta / m > 0.5 else 0.4,
                           distance=3 * eta / m, diverged=1.0 if eta == 300 else 0.0)
                      for s in ("mf", "ntk") for m in (16, 32, 1024) for eta in (1.0, 30.0, 300.0)])
    assert presets_sentence(preset_cells(t)) == (
        "The feature preset's nearest cell (m = 16, η = 30) ends beyond the line (distance ≥ 1), at distance 5.62 "
        "and test error 0.05; the kernel preset's nearest cell (m = 1024, η = 1) ends inside the line (distance < 1), "
        "at distance 0.003 and test error 0.4.")  # the table rounds to 3 decimals
    assert summary(t)[0].endswith("3 cells diverged, at η = 300.")
    assert "diverged" not in summary(t.assign(diverged=0.0))[0]


def test_trajectories_sentence_counts_the_neurons_along_their_own_direction():
    from sharp.engine.config import preset
    from sharp.experiments.trajectory import Trajectory

    cfg = preset("feature", d=50, n=300, m=4, seeds=1, steps=10, every=10)
    start = [[0.1, 0.1, 1.0]] * 4
    end = [[3.0, 1.0, 0.5], [0.5, 2.0, 0.5], [0.1, -2.0, 0.5], [1.0, -1.0, 0.5]]  # a = +1, +1, -1, -1
    tr = Trajectory(cfg, np.array([0, 10]), np.array([[start], [end]]), np.array([[0.5], [0.04]]),
                    np.array([[0.0], [2.5]]), False)
    said = sentences.trajectories_sentence({"feature": tr})
    # neuron 0 is ahead along u, neuron 2 along v; neuron 1 leans on the other direction, neuron 3 is even
    assert said.startswith("At step 10 (mean of 1 seed; 2/d = 0.040 is the share of a neuron that ignores the task): "
                           "feature learning: test error 0.040, distance from init 2.5, weight share on x₁, x₂ from ")
    assert said.endswith("50% of its neurons larger along their own direction than the other.")
