"""The poster's claims as seeded statistical tests (docs/science.md, "What it reproduces"): online batches of
6d reach zero test error within ceil(ln d) + 2 steps; on a fixed training set of 6d the kernel regime stays near its
initialization with a high test error while the feature regime moves O(1) away, learns x_1, x_2 and generalizes;
the kernel regime's distance from init shrinks like 1/sqrt(m). Tolerances are stated inline."""
import math

from sharp import first_zero_step, preset, train


def _last(cfg):
    return list(train(cfg))[-1]


def test_feature_learning_reaches_zero_test_error_in_about_ln_d_steps():
    d = 100
    budget = math.ceil(math.log(d)) + 2  # 7 steps
    snaps = list(train(preset("feature", d=d, n=6 * d, online=True, steps=budget, seeds=10)))
    firsts = first_zero_step(snaps)
    assert sum(not math.isnan(f) for f in firsts) >= 9, firsts  # at least 9 of 10 seeds


def test_fixed_training_set_kernel_stays_near_init_and_fails_feature_moves_and_generalizes():
    d = 100
    common = dict(d=d, n=6 * d, steps=300, every=300)
    kernel = _last(preset("kernel", seeds=4, **common))
    feature = _last(preset("feature", seeds=10, **common))
    assert kernel.test_error > 0.25 and kernel.distance < 0.5, (kernel.test_error, kernel.distance)
    assert feature.test_error < 0.08 and feature.distance > 1.5, (feature.test_error, feature.distance)
    # the learned feature: the first layer's energy concentrates on x_1, x_2 only in the feature regime
    # (at init the share is k/d = 0.02)
    assert feature.feature_share > 0.3 and kernel.feature_share < 0.05, (feature.feature_share, kernel.feature_share)


def test_kernel_distance_from_init_shrinks_as_width_grows():
    common = dict(d=50, n=300, steps=100, every=100, seeds=3)
    narrow, wide = _last(preset("kernel", m=512, **common)), _last(preset("kernel", m=2048, **common))
    # theory: ~1/sqrt(m), so a 4x wider net should move about half as far; accept 0.35..0.7
    assert 0.35 < wide.distance / narrow.distance < 0.7, (narrow.distance, wide.distance)
