"""MaxNorm: the projection of each unit's incoming weights onto ‖w‖ ≤ c, against its definition and torch.renorm."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.regularizers import L2, MaxNorm, Param, all_parameters
from reglab.errors import ReglabError
from tests.engine.helpers import small_data

F64 = torch.float64
W0 = Param(0, "weight", 50)


def _unit_norms(w):
    """‖w_j‖ per model and unit: (M, U)."""
    return torch.linalg.vector_norm(w.reshape(w.shape[0], w.shape[1], -1), dim=2)


def test_rows_outside_the_ball_land_on_the_sphere_and_rows_inside_do_not_move_bit_for_bit():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(3, 20, 7, generator=g, dtype=F64)  # row norms about √7 ≈ 2.6
    c = [2.0, 3.0, 100.0]
    out = MaxNorm(c).prox(w, torch.ones(3, 1, 1, dtype=F64), W0)
    before, after = _unit_norms(w), _unit_norms(out)
    radius = torch.tensor(c, dtype=F64)[:, None]
    outside = before > radius
    assert 0 < int(outside.sum()) < outside.numel()  # both kinds of rows occur
    assert torch.allclose(after[outside], radius.expand_as(after)[outside], rtol=1e-15)
    inside = ~outside[..., None].expand_as(w)
    assert torch.equal(out[inside], w[inside])  # untouched, bit for bit
    # the projection keeps each row's direction
    assert torch.allclose(out, w * (radius / before.clamp(min=radius)).unsqueeze(-1), rtol=1e-15)


def test_inside_the_ball_prox_is_the_identity_bit_for_bit():
    w = torch.full((2, 4, 3), 0.1, dtype=torch.float32)
    assert torch.equal(MaxNorm(1.0).prox(w, torch.ones(2, 1, 1), W0), w)


def _branching_projection(w, c):
    """The definition with its branch: rows outside the ball scaled by c/‖w‖, the others left as they are."""
    units = w.reshape(w.shape[0], w.shape[1], -1)
    norm = torch.linalg.vector_norm(units, dim=2, keepdim=True)
    out = units.clone()
    outside = (norm > c).expand_as(units)
    out[outside] = (units * (c / norm))[outside]
    return out.view_as(w)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_the_branch_free_projection_equals_the_branching_one_bit_for_bit_and_never_asks_the_device(dtype, monkeypatch):
    g = torch.Generator().manual_seed(3)
    w = torch.randn(3, 40, 6, generator=g, dtype=dtype) * torch.rand(3, 40, 1, generator=g, dtype=dtype) * 3
    w[0, 0] = 0.0  # a zero row: c/0 = inf, clamped to 1
    c = torch.tensor([1.0, 2.5, math.inf], dtype=F64)
    expected = _branching_projection(w, c.to(dtype).view(-1, 1, 1))
    norms = _unit_norms(w)
    assert 0 < int((norms > 1.0).sum()) and int((norms[:2] <= 1.0).sum()) > 0  # rows of both kinds
    reg = MaxNorm(c)

    def no_sync(*args):  # a value read back to Python: on a GPU, the host waiting for the device
        raise AssertionError("prox read a tensor's value back")

    monkeypatch.setattr(torch.Tensor, "__bool__", no_sync)
    monkeypatch.setattr(torch.Tensor, "item", no_sync)
    out = reg.prox(w, torch.ones(3, 1, 1, dtype=dtype), W0)
    monkeypatch.undo()
    assert torch.equal(out, expected)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=6, max_size=6),
       st.lists(st.floats(-5, 5, allow_nan=False), min_size=6, max_size=6), st.floats(0.1, 4.0))
def test_the_result_is_the_nearest_point_of_the_ball(w, v, c):
    """Euclidean projection: no point v of the ball is closer to w than P(w) is."""
    wt = torch.tensor(w, dtype=F64).view(1, 2, 3)
    p = MaxNorm(c).prox(wt, torch.ones(1, 1, 1, dtype=F64), W0)
    assert bool((_unit_norms(p) <= c * (1 + 1e-12)).all())
    vt = torch.tensor(v, dtype=F64).view(1, 2, 3)
    vt = vt * (c / _unit_norms(vt).clamp(min=c)).unsqueeze(-1)  # a point of the ball (each row)
    for j in range(2):
        assert (wt[0, j] - p[0, j]).norm() <= (wt[0, j] - vt[0, j]).norm() + 1e-12


def test_a_convolution_kernel_is_projected_per_output_channel_as_torch_renorm_does():
    g = torch.Generator().manual_seed(1)
    w = torch.randn(2, 8, 3, 5, 5, generator=g, dtype=F64)  # (M, out_ch, in_ch, kh, kw); channel norms ≈ √75
    out = MaxNorm([6.0, 9.0]).prox(w, torch.ones(2, 1, 1, 1, 1, dtype=F64), W0)
    for m, c in enumerate((6.0, 9.0)):
        # PyTorch's renorm divides by norm + 1e-7: the same projection to about 1e-8 relative
        np.testing.assert_allclose(out[m].numpy(), torch.renorm(w[m], 2, 0, c).numpy(), rtol=1e-7, atol=1e-9)


def test_biases_are_left_alone_by_default_and_clamped_under_a_mask_that_admits_them():
    b = torch.tensor([[-3.0, 0.5, 2.0]], dtype=F64)
    bias = Param(0, "bias", 10)
    assert MaxNorm(1.0).prox(b, torch.ones(1, 1), bias) is b
    assert MaxNorm(1.0, mask=all_parameters).prox(b, torch.ones(1, 1), bias).tolist() == [[-1.0, 0.5, 1.0]]


def test_per_layer_scale_and_an_infinite_radius():
    w = torch.full((2, 1, 4), 1.0, dtype=F64)  # row norm 2
    reg = MaxNorm([1.0, math.inf], layer_scale={1: 0.5})
    assert _unit_norms(reg.prox(w, torch.ones(2, 1, 1), W0)).tolist() == [[1.0], [2.0]]
    assert _unit_norms(reg.prox(w, torch.ones(2, 1, 1), Param(1, "weight", 50))).tolist() == [[0.5], [2.0]]


def test_no_penalty_no_gradient_and_it_composes():
    w = torch.randn(2, 3, 4, dtype=F64)
    reg = L2(5.0) + MaxNorm(3.0)
    assert repr(reg) == "L2(5) + MaxNorm(3)"
    assert repr(MaxNorm([2.0, math.inf])) == "MaxNorm([2, inf])"
    assert torch.equal(MaxNorm(3.0).penalty(w, W0), torch.zeros(2, dtype=F64))
    assert MaxNorm(3.0).grad(w, W0) is None
    assert torch.equal(reg.penalty(w, W0), L2(5.0).penalty(w, W0))
    big = w * 10
    assert bool((_unit_norms(reg.prox(big, torch.ones(2, 1, 1), W0)) <= 3.0 * (1 + 1e-15)).all())


@pytest.mark.parametrize("c", [0.0, -1.0, math.nan])
def test_a_radius_that_is_not_positive_is_refused(c):
    with pytest.raises(ReglabError, match="max-norm radius c must be > 0"):
        MaxNorm(c)


@pytest.mark.parametrize("engine", ["compiled", "tensor"])
def test_after_training_every_unit_lies_in_its_ball(engine):
    data = small_data(n=60, dtype=F64)
    model = MLP.initialize([5, 8, 3], seeds=[0, 1], init="large", dtype=F64)
    radius = torch.tensor([0.5, 1.5], dtype=F64)[:, None]
    assert all(bool((_unit_norms(W) > radius).any()) for W in model.weights)  # N(0, 1) rows start outside
    fit(model, data, epochs=3, batch_size=5, eta=2.0, regularizer=L2(1.0) + MaxNorm([0.5, 1.5]), engine=engine)
    for W in model.weights:
        assert bool((_unit_norms(W) <= radius * (1 + 1e-12)).all())


def test_radii_in_a_row_are_one_projection_onto_the_smallest():
    reg = MaxNorm([2.0, 1.0]) + L2(1.0) + MaxNorm([1.5, math.inf], layer_scale={0: 2.0})
    assert reg.compiled_form(W0)[:, 4].tolist() == [2.0, 1.0]
    assert reg.compiled_form(Param(1, "weight", 50))[:, 4].tolist() == [1.5, 1.0]
    assert reg.compiled_form(Param(0, "bias", 50))[:, 4].tolist() == [math.inf, math.inf]


def test_a_projection_has_no_elementwise_form_but_a_compiled_one():
    """``elementwise`` describes a regularizer whole: a fused path that holds it calls no ``prox``; max-norm is a
    projection, so it has none and neither has a sum holding it, while the kernel's form carries its radius."""
    assert MaxNorm(2.0).elementwise(W0) is None
    assert (L2(5.0) + MaxNorm(2.0)).elementwise(W0) is None
    assert L2(5.0).compiled_form(W0).tolist() == [[5.0 / 50, 0.0, 0.0, 0.0, math.inf]]
    assert (L2(5.0) + MaxNorm(2.0)).compiled_form(W0).tolist() == [[5.0 / 50, 0.0, 0.0, 0.0, 2.0]]
