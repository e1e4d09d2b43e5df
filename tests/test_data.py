import torch

from sharp.engine.config import Config, preset
from sharp.engine.data import batches, make_data, parity


def test_parity_labels_are_products_of_the_first_k_coordinates():
    x = torch.tensor([[1.0, -1, 1, -1], [-1, -1, 1, 1]])
    assert parity(x, 2).tolist() == [-1.0, 1.0]
    assert parity(x, 3).tolist() == [-1.0, 1.0]
    assert parity(x, 1).tolist() == [1.0, -1.0]


def test_data_is_uniform_signs_with_exact_labels():
    cfg = Config(d=20, n=3000, n_test=3000, seeds=2, k=3)
    data, _ = make_data(cfg)
    assert set(data.x_train.unique().tolist()) == {-1.0, 1.0}
    assert abs(data.x_train.mean().item()) < 0.02  # 120k fair signs: std of the mean ~0.003
    assert torch.equal(data.y_train, parity(data.x_train, 3))
    assert torch.equal(data.y_test, parity(data.x_test, 3))


def test_both_regimes_see_the_same_data_and_seed_r_ignores_ensemble_size():
    dk, _ = make_data(preset("kernel", d=15, n=40, seeds=3))
    df, _ = make_data(preset("feature", d=15, n=40, seeds=3))
    d5, _ = make_data(preset("feature", d=15, n=40, seeds=5))
    assert torch.equal(dk.x_train, df.x_train) and torch.equal(dk.x_test, df.x_test)
    assert torch.equal(d5.x_train[:3], df.x_train)
    assert not torch.equal(df.x_train[0], df.x_train[1])  # seeds differ from each other
    other, _ = make_data(preset("feature", d=15, n=40, seeds=3, seed=1))
    assert not torch.equal(other.x_train, df.x_train)


def test_label_noise_flips_about_p_of_training_labels_only():
    cfg = Config(d=10, n=20000, seeds=1, noise=0.2, n_test=5000)
    data, _ = make_data(cfg)
    flipped = (data.y_train != parity(data.x_train, 2)).float().mean().item()
    assert abs(flipped - 0.2) < 0.015  # binomial std 0.003
    assert torch.equal(data.y_test, parity(data.x_test, 2))


def test_online_batches_are_fresh_and_minibatches_come_from_the_set():
    cfg = Config(d=12, n=50, online=True, seeds=2)
    data, gens = make_data(cfg)
    it = batches(cfg, data, gens)
    (x1, y1), (x2, _) = next(it), next(it)
    assert x1.shape == (2, 50, 12) and y1.shape == (2, 50) and not torch.equal(x1, x2)
    cfg = Config(d=12, n=50, batch=10, seeds=2)
    data, gens = make_data(cfg)
    x, y = next(batches(cfg, data, gens))
    assert x.shape == (2, 10, 12)
    for r in range(2):  # every row of the batch is a row of that seed's training set
        assert all((data.x_train[r] == row).all(-1).any() for row in x[r])
        assert torch.equal(y[r], parity(x[r], 2))


def test_packed_signs_unpack_to_the_bits_in_stream_order_and_a_fixed_seed_repeats():
    from sharp.engine.data import fast_signs, sign_bits, unpack_signs

    words = sign_bits(torch.Generator().manual_seed(3), 1000)  # 16 int64 words
    assert words.shape == (16,)
    # oracle: bit e of the little-endian stream, read one bit at a time in Python
    raw = words.numpy().tobytes()
    bits = [(raw[e // 8] >> (e % 8)) & 1 for e in range(1000)]
    assert unpack_signs(words, 0, 1000).tolist() == [1.0 if b else -1.0 for b in bits]
    assert unpack_signs(words, 64, 1000).tolist() == [1.0 if b else -1.0 for b in bits[64:]]
    two = torch.stack([words, words.flip(0)])  # (R, W): every row its own stream
    assert torch.equal(unpack_signs(two, 32, 900)[0], unpack_signs(words, 32, 900))
    # a fixed seed gives the same stream twice, a different one another; about half the signs are +1
    a = fast_signs(torch.Generator().manual_seed(7), (300, 100))
    assert torch.equal(a, fast_signs(torch.Generator().manual_seed(7), (300, 100)))
    assert not torch.equal(a, fast_signs(torch.Generator().manual_seed(8), (300, 100)))
    assert abs(a.mean().item()) < 0.02  # 30k fair signs: std of the mean 0.006
    out = torch.empty(300, 100)
    assert fast_signs(torch.Generator().manual_seed(7), (300, 100), out=out) is out and torch.equal(out, a)


def test_shared_online_batches_are_one_stream_for_every_seed_and_refused_without_online():
    import pytest

    from sharp.engine.config import ConfigError

    cfg = preset("feature", d=12, n=40, seeds=3, online=True, shared=True)
    stream = batches(cfg, *make_data(cfg))
    x1, y1 = next(stream)
    x1 = x1.clone()  # the buffer is reused only with reuse=True; clone anyway
    x2, y2 = next(stream)
    assert x1.shape == (40, 12) and y1.shape == (3, 40)
    assert torch.equal(y1, parity(x1, 2).expand(3, -1))  # every seed the same labels
    assert not torch.equal(x1, x2)  # fresh every step
    # the stream depends on the base seed only, not on the ensemble size
    x_one, _ = next(batches(preset("feature", d=12, n=40, seeds=1, online=True, shared=True),
                            *make_data(preset("feature", d=12, n=40, seeds=1, online=True, shared=True))))
    assert torch.equal(x_one, x1)
    with pytest.raises(ConfigError, match="shared"):
        preset("feature", d=12, n=40, shared=True)  # a fixed training set stays each seed's own
