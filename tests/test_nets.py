import pytest
import torch

from sharp.engine.config import Config
from sharp.engine.nets import ACT, act_grad, evaluator, forward, init_params, linearize, readout


def test_init_scale_and_readout():
    cfg = Config(d=400, m=64, seeds=2, depth=2)
    p = init_params(cfg)
    assert p["W1"].shape == (2, 64, 400) and p["W2"].shape == (2, 64, 64)
    assert p["W1"].var().item() == pytest.approx(1 / 400, rel=0.05)  # <w_j, x> ~ N(0, 1)
    assert p["W2"].var().item() == pytest.approx(1.0, rel=0.05)
    a = readout(64)
    assert a.sum() == 0 and set(a.tolist()) == {-1.0, 1.0}


def test_two_layer_forward_matches_the_formula():
    cfg = Config(d=7, m=6, seeds=2, scale="ntk")
    p = init_params(cfg)
    x = torch.randn(2, 5, 7)
    want = torch.stack([(x[r] @ p["W1"][r].T).square() @ readout(6) / 6 ** 0.5 for r in range(2)])
    assert torch.allclose(forward(p, x, cfg), want, atol=1e-6)


@pytest.mark.parametrize("name", list(ACT))
def test_closed_form_activation_derivatives_match_autograd(name):
    h = torch.linspace(-4, 4, 101, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(ACT[name](h).sum(), h)
    assert torch.allclose(act_grad(name, h.detach()), g, atol=1e-10)


@pytest.mark.parametrize("depth, act", [(1, "quadratic"), (2, "softplus"), (3, "gelu")])
def test_linearized_network_equals_network_at_w0_with_equal_gradients(depth, act):
    cfg = Config(d=9, m=8, depth=depth, activation=act, seeds=3, scale="ntk")
    p0 = init_params(cfg)
    x = torch.randn(3, 11, 9)
    net = lambda p, x: forward(p, x, cfg)  # noqa: E731
    f_lin = linearize(net, p0)
    assert torch.allclose(f_lin(p0, x), net(p0, x), atol=1e-6)
    g_net = torch.func.grad(lambda p: net(p, x).sum())(p0)
    g_lin = torch.func.grad(lambda p: f_lin(p, x).sum())(p0)
    for k in p0:
        assert torch.allclose(g_net[k], g_lin[k], atol=1e-5), k


def test_linearized_network_is_affine_in_the_weights_and_first_order_accurate():
    cfg = Config(d=6, m=4, seeds=1, scale="ntk")
    p0 = init_params(cfg)
    x = torch.randn(1, 5, 6)
    f_lin = linearize(lambda p, x: forward(p, x, cfg), p0)
    dw = {"W1": torch.randn_like(p0["W1"])}
    at = lambda s: f_lin({"W1": p0["W1"] + s * dw["W1"]}, x)  # noqa: E731
    assert torch.allclose(at(2.0) - at(0.0), 2 * (at(1.0) - at(0.0)), atol=1e-5)
    # quadratic activation: the exact change minus the linear one is c * sum_j a_j (dw_j . x)^2
    eps = 1e-2
    exact = forward({"W1": p0["W1"] + eps * dw["W1"]}, x, cfg)
    second = cfg.c * ((x @ (eps * dw["W1"][0]).T).square() @ readout(4))
    assert torch.allclose(exact - at(eps), second, atol=1e-5)


@pytest.mark.parametrize("linearized", [False, True])
def test_quadratic_form_evaluator_equals_the_forward_pass_and_its_linearization(linearized):
    # the live page's kernel default (d = 50, m = 512, n_test = 1000), where the evaluator takes the shortcut
    cfg = Config(d=50, m=512, n_test=1000, seeds=3, scale="ntk", eta=1.0, linearized=linearized)
    p0 = init_params(cfg)
    p = {"W1": p0["W1"] + 0.1 * torch.randn(p0["W1"].shape, generator=torch.Generator().manual_seed(1))}
    x = torch.randint(0, 2, (1000, 50), generator=torch.Generator().manual_seed(2)).float() * 2 - 1
    net = lambda q, x: forward(q, x, cfg)  # noqa: E731
    want = (linearize(net, p0) if linearized else net)(p, x)  # (R, n), float32
    got = evaluator(cfg, p0)(p, x)
    assert got.shape == want.shape == (3, 1000)
    # float32 rounding of sums of ~512 terms of size ~1: 1e-4 absolute on outputs of size ~5
    assert torch.allclose(got, want, rtol=0, atol=1e-4), (got - want).abs().max()
    assert want.abs().max() > 1  # not a comparison of zeros
    if linearized:  # and it is the linearization, not the network: they differ away from W0
        assert (net(p, x) - want).abs().max() > 1e-2


def test_evaluator_takes_the_shortcut_only_where_it_is_cheaper_and_exact():
    p0 = init_params(Config(d=50, m=512, seeds=1))
    assert evaluator(Config(d=50, m=512, n_test=1000, scale="ntk"), p0) is not None
    assert evaluator(Config(d=1600, m=20, n_test=4000), p0) is None  # Fig 1: d > m, the plain pass is cheaper
    assert evaluator(Config(d=50, m=512, activation="relu"), p0) is None  # no quadratic form
    assert evaluator(Config(d=50, m=512, depth=2), p0) is None
