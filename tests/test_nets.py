import pytest
import torch

from sharp.engine.config import Config
from sharp.engine.nets import ACT, act_grad, forward, init_params, linearize, readout


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
