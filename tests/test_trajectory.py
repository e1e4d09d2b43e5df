"""Neuron trajectories: the probe leaves the run unchanged, the plane projection matches the weights, and the
power-iteration summary reads the right numbers off a trajectory built by hand."""
import math

import numpy as np
import pytest
import torch

from sharp import ConfigError, preset, train
from sharp.experiments.trajectory import Trajectory, own_component, plane, power_iteration, trajectory


def small(**kw):
    return preset("feature", d=12, n=72, steps=6, every=2, seeds=3, n_test=200, **kw)


def test_probe_reads_the_weights_without_changing_the_run():
    cfg = small()
    plain = list(train(cfg))
    weights = list(train(cfg, probe=lambda p: p["W1"].clone()))
    assert [s.test_error_seeds for s in plain] == [s.test_error_seeds for s in weights]
    assert [s.distance_seeds for s in plain] == [s.distance_seeds for s in weights]
    assert plain[0].probe is None and weights[0].probe.shape == (3, 20, 12)
    assert not torch.equal(weights[0].probe, weights[-1].probe)  # a copy per logged step, not one live tensor
    assert "probe" not in weights[-1].record()


def test_plane_matches_projections_computed_from_the_weights():
    cfg = small()
    snaps = list(train(cfg, probe=lambda p: (p["W1"].clone(), plane(p))))
    u = np.zeros(cfg.d)
    u[:2] = 1 / math.sqrt(2)
    v = u.copy()
    v[1] = -v[1]
    for s in snaps:
        w, got = s.probe[0].double().numpy(), s.probe[1]  # (R, m, d), (R, m, 3)
        assert np.allclose(got[..., 0], w @ u, atol=1e-6)
        assert np.allclose(got[..., 1], w @ v, atol=1e-6)
        assert np.allclose(got[..., 2], np.linalg.norm(w[..., 2:], axis=-1), atol=1e-6)
        # u, v and the rest are orthogonal: together they hold the whole norm
        assert np.allclose((got ** 2).sum(-1), (w ** 2).sum(-1), rtol=1e-5)


def test_trajectory_keeps_every_logged_step_and_the_curves():
    cfg = small()
    tr = trajectory(cfg)
    snaps = list(train(cfg))
    assert tr.steps.tolist() == [0, 2, 4, 6]
    assert tr.planes.shape == (4, 3, 20, 3)
    assert np.allclose(tr.test_error, [s.test_error_seeds for s in snaps])
    assert np.allclose(tr.distance, [s.distance_seeds for s in snaps])


def test_trajectory_refuses_a_parity_other_than_xor():
    with pytest.raises(ConfigError, match="k=3 is not allowed: 2"):
        trajectory(small(k=3))


def test_own_component_takes_u_for_the_first_half_and_v_for_the_second():
    planes = np.array([[[1.0, -5.0, 0.0], [2.0, 7.0, 0.0], [-3.0, -4.0, 0.0], [9.0, 0.5, 0.0]]])  # (1, m=4, 3)
    assert own_component(planes).tolist() == [[1.0, 2.0, 4.0, 0.5]]


def synthetic(growth: float, start: float, rest: float, steps: int = 8, d: int = 100) -> Trajectory:
    """A trajectory whose own components grow by exactly `growth` per step while the rest stays put."""
    m, r = 4, 2
    t = np.arange(steps + 1)
    own = start * growth ** t  # (T,)
    planes = np.zeros((len(t), r, m, 3))
    planes[:, :, : m // 2, 0] = own[:, None, None]  # a = +1 neurons: on u
    planes[:, :, m // 2:, 1] = -own[:, None, None]  # a = -1 neurons: on v (the sign does not matter)
    planes[:, :, :, 2] = rest
    cfg = preset("feature", d=d, n=6 * d, online=True, steps=steps, every=1, seeds=r, m=m)
    return Trajectory(cfg, t, planes, np.zeros((len(t), r)), np.zeros((len(t), r)), False)


def test_power_iteration_reads_growth_and_crossing():
    p = power_iteration(synthetic(2.0, 0.0625, 1.0))
    assert p.growth == pytest.approx(2.0)
    assert np.allclose(p.growth_steps, 2.0)
    assert p.crossing == 5  # 0.0625 * 2^4 = 1 is not above 1; 2^5 is
    assert p.aligned[0] == pytest.approx(0.0625) and p.rest[0] == pytest.approx(1.0)
    assert power_iteration(synthetic(1.5, 0.01, 1.0)).crossing is None


def test_power_iteration_needs_every_step_logged():
    tr = synthetic(2.0, 0.1, 1.0)
    import dataclasses

    bad = dataclasses.replace(tr, cfg=dataclasses.replace(tr.cfg, every=2))
    with pytest.raises(ConfigError, match="every"):
        power_iteration(bad)
