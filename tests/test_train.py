import math

import pytest
import torch

from sharp import ConfigError, lockstep, preset, train
from sharp.engine import snapshot as snapshot_module
from sharp.engine import train as train_module
from sharp.engine.config import Config
from sharp.engine.nets import forward, init_params
from sharp.engine.train import _autograd_step, _fast_step, first_zero_step


@pytest.mark.parametrize("act", ["quadratic", "relu", "softplus", "gelu"])
@pytest.mark.parametrize("scale", ["mf", "ntk"])
def test_fast_two_layer_gradient_equals_autograd(act, scale):
    cfg = Config(d=13, m=10, seeds=3, activation=act, scale=scale)
    p = {k: v.double() for k, v in init_params(cfg).items()}
    x = torch.randint(0, 2, (3, 17, 13)).double() * 2 - 1
    y = x[..., 0] * x[..., 1]
    f_a, g_a = _fast_step(cfg)(p, x, y)
    f_b, g_b = _autograd_step(lambda q, x: forward(q, x, cfg))(p, x, y)
    assert torch.allclose(f_a, f_b, atol=1e-12)
    assert torch.allclose(g_a["W1"], g_b["W1"], atol=1e-12)


def test_same_seed_gives_the_identical_stream_twice():
    cfg = preset("feature", d=20, n=60, steps=15, every=5, seeds=3, batch=20)
    a, b = list(train(cfg)), list(train(cfg))
    assert [s.record() | {"elapsed": 0} for s in a] == [s.record() | {"elapsed": 0} for s in b]
    c = list(train(preset("feature", d=20, n=60, steps=15, every=5, seeds=3, batch=20, seed=1)))
    assert c[-1].test_loss != a[-1].test_loss


def test_logged_steps_and_final_snapshot():
    snaps = list(train(preset("feature", d=10, n=30, steps=7, every=3, seeds=2)))
    assert [s.step for s in snaps] == [0, 3, 6, 7]
    assert [s.final for s in snaps] == [False, False, False, True]
    assert snaps[0].distance == 0 and snaps[-1].distance > 0
    assert snaps[-1].samples == 7 * 30
    assert len(snaps[-1].test_error_seeds) == 2 and len(snaps[-1].neuron_relevant) == 20
    s = snaps[-1]
    assert s.test_error == pytest.approx(sum(s.test_error_seeds) / 2)
    assert s.feature_share == pytest.approx(sum(s.feature_share_seeds) / 2)


def flat(record: dict) -> dict:
    """A Snapshot record with every tuple spread out into numbered keys (pytest.approx compares flat dicts)."""
    out = {}
    for key, value in record.items():
        if isinstance(value, tuple):
            for i, v in enumerate(value):
                out.update(flat({f"{key}.{i}": v}))
        else:
            out[key] = value
    return out


@pytest.mark.parametrize("kw", [dict(regime="feature"), dict(regime="kernel", m=64),
                                dict(regime="kernel", m=32, depth=3, activation="relu"),
                                dict(regime="kernel", m=32, linearized=True), dict(regime="feature", eta=1e5)])
def test_logged_steps_evaluated_in_batches_give_the_numbers_of_one_at_a_time(monkeypatch, kw):
    cfg = preset(kw.pop("regime"), d=16, n=48, steps=23, every=2, seeds=3, **kw)
    probe = lambda p: float(p["W1"].sum())  # noqa: E731  (read off the weights kept for that step)
    batched = list(train(cfg, probe))
    monkeypatch.setattr(snapshot_module, "LOG_BATCH", 1)  # one logged step at a time
    single = list(train(cfg, probe))
    assert [s.step for s in batched] == [s.step for s in single]
    for a, b in zip(batched, single):
        ra, rb = flat(a.record()), flat(b.record())
        assert ra.pop("elapsed") >= 0 and rb.pop("elapsed") >= 0
        exact = [k for k, v in rb.items() if not isinstance(v, float)]  # step, flags, diverged_step, ...
        assert {k: ra.pop(k) for k in exact} == {k: rb.pop(k) for k in exact}
        assert ra == pytest.approx(rb, rel=1e-6, abs=1e-6, nan_ok=True)
        assert a.probe == pytest.approx(b.probe, rel=1e-6) and a.neuron_relevant == pytest.approx(b.neuron_relevant)


def test_a_logged_step_waits_for_at_most_one_batch(monkeypatch):
    """Snapshots come while the run trains: the first at once, then a batch at a time; a batch holds no more
    logged steps than about 20 ms of training (LOG_FLOPS), so slow runs report every logged step at once."""
    trained = []
    real = train_module.batches

    def counting(*args, **kw):
        for xy in real(*args, **kw):
            trained.append(1)
            yield xy

    monkeypatch.setattr(train_module, "batches", counting)
    cfg = preset("feature", d=10, n=30, steps=200, every=1, seeds=2)
    cap = snapshot_module.batch_cap(cfg, init_params(cfg))
    assert cap == snapshot_module.LOG_BATCH  # a cheap run: full batches
    live_kernel = preset("kernel", d=50, n=300, m=512, seeds=4, every=1)  # the live page's kernel default
    assert 1 < snapshot_module.batch_cap(live_kernel, init_params(live_kernel)) < snapshot_module.LOG_BATCH
    run = train(cfg)
    assert next(run).step == 0 and len(trained) == 1  # the first points at once
    assert next(run).step == 1 and len(trained) == 1 + cap  # then a full batch
    monkeypatch.setattr(snapshot_module, "LOG_FLOPS", 1.0)  # every logged step is "costly": reported at once
    assert snapshot_module.batch_cap(cfg, init_params(cfg)) == 1
    trained.clear()
    run = train(cfg)
    next(run), next(run)
    assert len(trained) == 2


def test_a_run_is_the_same_bit_for_bit_however_fast_the_machine(monkeypatch):
    """Where batches of logged steps fall must not depend on timing: their size changes the test pass's rounding."""
    cfg = preset("kernel", d=30, n=180, steps=40, every=1, seeds=3)  # the quadratic-form evaluator
    quick = [s.record() | {"elapsed": 0} for s in train(cfg)]
    clock = iter(range(10**6))
    monkeypatch.setattr(snapshot_module.time, "perf_counter", lambda: float(next(clock)))  # 1 s between reads
    slow = [s.record() | {"elapsed": 0} for s in train(cfg)]
    assert quick == slow


def test_sgd_step_decreases_the_loss_in_the_kernel_regime():
    snaps = list(train(preset("kernel", d=10, n=40, m=64, steps=20, every=20, seeds=2)))
    assert snaps[-1].train_loss < snaps[0].train_loss


def test_per_layer_distances_for_deep_nets():
    s = list(train(preset("feature", d=12, n=40, m=16, eta=16.0, depth=3, activation="relu", steps=5,
                          every=5, seeds=2)))[-1]
    assert len(s.distance_layers) == 3 and len(s.distance_layers_seeds) == 3
    assert all(v > 0 for v in s.distance_layers)
    assert min(s.distance_layers) <= s.distance <= max(s.distance_layers)  # a weighted mean of the layers


def test_a_huge_step_size_ends_in_a_diverged_snapshot_not_an_exception():
    snaps = list(train(preset("feature", d=20, n=60, eta=1e5, steps=100, every=10)))
    last = snaps[-1]
    assert last.diverged and last.final and last.diverged_step == last.step < 100
    assert last.diverged_seeds and math.isnan(last.test_error)
    assert not any(s.diverged for s in snaps[:-1])


def test_lockstep_keeps_stepping_the_healthy_run_after_the_other_diverges():
    common = dict(d=20, n=60, steps=30, every=5, seeds=2)
    out = list(lockstep({"kernel": preset("kernel", m=64, **common),
                         "feature": preset("feature", eta=1e5, **common)}))
    assert out[-1]["feature"].diverged and out[-1]["kernel"].step == 30 and out[-1]["kernel"].final
    assert [o["kernel"].step for o in out] == [0, 5, 10, 15, 20, 25, 30]


def test_lockstep_refuses_runs_on_different_data():
    with pytest.raises(ConfigError, match="d=30"):
        next(lockstep({"kernel": preset("kernel", d=20), "feature": preset("feature", d=30)}))


def test_linearized_run_trains_and_stays_close_to_the_network_in_the_kernel_regime():
    common = dict(d=15, n=90, m=256, steps=40, every=40, seeds=2)
    net = list(train(preset("kernel", **common)))[-1]
    lin = list(train(preset("kernel", linearized=True, **common)))[-1]
    assert lin.train_loss < 0.69  # it learned something on the training set
    assert abs(lin.test_loss - net.test_loss) < 0.05  # the wide NTK-scaled net tracks its linearization


def test_first_zero_step_per_seed():
    snaps = list(train(preset("feature", d=16, n=96, online=True, steps=10, seeds=3)))
    firsts = first_zero_step(snaps)
    assert len(firsts) == 3
    for r, f in enumerate(firsts):
        errs = [s.test_error_seeds[r] for s in snaps]
        assert (math.isnan(f) and 0 not in errs) or (errs[int(f)] == 0 and 0 not in errs[: int(f)])


def test_a_run_whose_outputs_explode_is_flagged_before_it_overflows():
    # mini-batches of 50 at eta = 20 blow up slowly: the loss stays finite for ~100 steps while the weights
    # grow to 1e15 times their init; the run must say it diverged as soon as its outputs pass BLOWUP
    snaps = list(train(preset("feature", d=50, n=300, batch=50, steps=300, every=10)))
    last = snaps[-1]
    assert last.diverged and last.diverged_step < 40, last.diverged_step
    assert all(s.train_loss < 1e6 for s in snaps[:-1])
