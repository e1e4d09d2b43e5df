"""The real-digit experiment against an oracle (a plain PyTorch loop on the same images and initial weights),
and the sentence it prints, every number from the frame."""
import math

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from sharp.engine.config import ConfigError
from sharp.engine.nets import init_params
from sharp.experiments import digits as dg


@pytest.fixture(scope="module")
def task():
    return dg.make_task((3, 5), seed=0)


def test_the_task_is_two_classes_scaled_to_norm_sqrt_d(task):
    assert set(task.y_pool.tolist()) == {1.0, -1.0} and len(task.y_pool) == 700 and len(task.y_test) == 300
    assert torch.allclose(task.x_pool.norm(dim=1), torch.full((700,), 28.0), rtol=1e-5)
    again = dg.make_task((3, 5), seed=0)
    assert torch.equal(again.x_pool, task.x_pool)  # a fixed shuffle: n images are the same for both step sizes


def plain_loop(task, s, n, eta):
    """The same network written out by hand, trained with torch.optim.SGD, one seed at a time."""
    cfg = dg._config(s, n, eta, len(task.y_test))
    p0 = init_params(cfg)
    m = s.m
    a = torch.cat([torch.ones(m // 2), -torch.ones(m - m // 2)])
    x, y = task.x_pool[:n], task.y_pool[:n]
    out = []
    for r in range(s.seeds):
        w1, w2 = p0["W1"][r].clone().requires_grad_(), p0["W2"][r].clone().requires_grad_()

        def f(z, w1=w1, w2=w2):
            return (F.softplus(F.softplus(z @ w1.T) @ w2.T / math.sqrt(m)) @ a) / math.sqrt(m)

        opt = torch.optim.SGD([w1, w2], lr=eta)
        for _ in range(s.steps):
            opt.zero_grad()
            F.softplus(-y * f(x)).mean().backward()
            opt.step()
        with torch.no_grad():
            train, test = F.softplus(-y * f(x)).mean(), F.softplus(-task.y_test * f(task.x_test)).mean()
            dist = ((w1 - p0["W1"][r]).square().sum() + (w2 - p0["W2"][r]).square().sum()).sqrt()
        out.append((float(train), float(test), float(test - train), float(dist)))
    return out


@pytest.mark.parametrize("eta", [0.5, 8.0])
def test_gap_and_distance_match_a_plain_pytorch_loop(task, eta):
    s = dg.DigitsSettings(m=32, steps=12, every=4, seeds=2, ns=(80,), etas=(eta,))
    df = dg.run_one(task, s, 80, eta)
    last = df[df.step == 12].sort_values("seed")
    for r, (train, test, gap, dist) in enumerate(plain_loop(task, s, 80, eta)):
        row = last.iloc[r]
        assert row.train_loss == pytest.approx(train, rel=1e-4)
        assert row.test_loss == pytest.approx(test, rel=1e-4)
        assert row.gap == pytest.approx(gap, rel=1e-3, abs=1e-5)
        assert row.distance == pytest.approx(dist, rel=1e-4) and dist > 0
    assert df[df.step == 0].distance.eq(0).all()


def test_the_run_has_the_columns_and_refuses_bad_settings():
    df = dg.digits(dg.DigitsSettings(m=16, steps=4, every=2, ns=(20, 40), etas=(1.0, 4.0)))
    assert ["eta", "n", "seed", "step", "train_loss", "test_loss", "gap", "distance"] == list(df.columns[:8])
    assert sorted(df.eta.unique()) == [1.0, 4.0] and sorted(df.n.unique()) == [20, 40]
    assert (df.gap == df.test_loss - df.train_loss).all()
    for bad, name in ((dict(classes=(3, 3)), "classes"), (dict(etas=(0.0,)), "etas"), (dict(ns=(1,)), "ns"),
                      (dict(ns=(5000,)), "ns"), (dict(m=7), "m")):
        with pytest.raises(ConfigError, match=name):
            dg.digits(dg.DigitsSettings(**{"steps": 10, **bad}))


def frame(gaps: dict[float, dict[int, float]], distance: float = 3.0) -> pd.DataFrame:
    return pd.DataFrame([{"eta": eta, "n": n, "seed": 0, "step": 50, "train_loss": 0.1, "test_loss": 0.1 + g,
                          "gap": g, "distance": distance * eta, "test_error": 0.0}
                         for eta, per_n in gaps.items() for n, g in per_n.items()])


def test_the_sentence_states_the_fitted_slopes_and_distances():
    df = frame({1.0: {50: 0.2, 100: 0.1, 200: 0.05}, 8.0: {50: 0.04, 100: 0.02 * 2 ** -0.5, 200: -0.01}})
    s = dg.digits_sentence(df)
    assert "eta = 1: gap slope against n -1.00 (over n = 50, 100, 200: falls at least as fast as 1/n); at n = 200 " \
           "after 50 steps, distance from initialization 3, gap 0.05" in s
    assert "eta = 8: gap slope against n -1.50 (over n = 50, 100: falls at least as fast as 1/n), gap <= 0 at " \
           "n = 200" in s
    assert "distance from initialization 24" in s and "has the shape 1/n (slope -1), its constant unknown" in s
    slow = dg.digits_sentence(frame({1.0: {50: 0.2, 200: 0.1}}))
    assert "gap slope against n -0.50 (over n = 50, 200: falls slower than 1/n)" in slow
    assert slow.endswith("only for a constant fitted to the largest n.") and s.endswith("its constant unknown.")
