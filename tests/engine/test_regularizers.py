"""Shared checks over every regularizer: gradient vs autograd and finite differences, prox, monotonicity."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reglab.engine.regularizers import (
    L1,
    L2,
    DecoupledDecay,
    ElasticNet,
    L1Prox,
    NoRegularizer,
    Param,
    all_parameters,
    make_regularizer,
    soft_threshold,
)

W = Param(0, "weight", 50)
B = Param(0, "bias", 50)
ALL = [NoRegularizer(), L2([0.5, 5.0]), L1([0.5, 5.0]), L1Prox([0.5, 5.0]), ElasticNet([0.5, 5.0], 0.3),
       DecoupledDecay([0.5, 5.0])]


def _w(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 4, 3, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("reg", ALL, ids=repr)
def test_grad_matches_autograd_of_the_smooth_part(reg):
    """``grad`` is the gradient of the part of ``penalty`` not handled by ``prox``."""
    w = _w().requires_grad_()
    # The part the optimizer sees: penalty minus what prox handles (L1 of L1Prox/ElasticNet; all of decay).
    lam = reg.lmbda.view(-1, 1, 1) / W.n
    smooth = {
        "L2": 0.5 * lam * w**2,
        "L1": lam * w.abs(),
        "ElasticNet": 0.5 * (1 - getattr(reg, "l1_ratio", 0)) * lam * w**2,
    }.get(type(reg).__name__, 0 * w)
    (auto,) = torch.autograd.grad(smooth.sum(), w)
    g = reg.grad(w.detach(), W)
    assert torch.allclose(auto, torch.zeros_like(w) if g is None else g, atol=1e-12)


@pytest.mark.parametrize("reg", ALL + [L2(1.0) + L1(2.0)], ids=repr)
def test_add_grad_adds_grad_in_place(reg):
    w = _w(4)
    g = torch.ones_like(w)
    reg.add_grad(w, W, g)
    expected = reg.grad(w, W)
    assert torch.allclose(g, torch.ones_like(w) + (0 if expected is None else expected), atol=1e-14)


@pytest.mark.parametrize("reg", [L2([0.5, 5.0]), ElasticNet([0.5, 5.0], 0.0)], ids=repr)
def test_grad_matches_finite_differences(reg):
    w = _w(1)
    g = reg.grad(w, W)
    h = 1e-6
    for idx in [(0, 0, 0), (1, 2, 1), (1, 3, 2)]:
        e = torch.zeros_like(w)
        e[idx] = h
        fd = (reg.penalty(w + e, W) - reg.penalty(w - e, W))[idx[0]] / (2 * h)
        assert math.isclose(fd.item(), g[idx].item(), rel_tol=1e-6, abs_tol=1e-9)


def test_l1_subgradient_is_the_books_with_sgn0_0():
    w = torch.tensor([[[-2.0, 0.0, 3.0]]], dtype=torch.float64)
    g = L1(10.0).grad(w, Param(0, "weight", 5))
    assert g.tolist() == [[[-2.0, 0.0, 2.0]]]


@pytest.mark.parametrize("reg", ALL, ids=repr)
def test_biases_are_not_regularized_by_default(reg):
    b = torch.randn(2, 4, dtype=torch.float64)
    assert reg.grad(b, B) is None
    assert torch.equal(reg.prox(b, torch.ones(2, 1), B), b)
    assert torch.equal(reg.penalty(b, B), torch.zeros(2, dtype=torch.float64))


def test_mask_can_include_biases():
    b = torch.ones(1, 3, dtype=torch.float64)
    assert torch.allclose(L2(2.0, mask=all_parameters).grad(b, Param(0, "bias", 4)), b * 0.5)


def test_per_layer_scale():
    w = torch.ones(1, 2, 2, dtype=torch.float64)
    reg = L2(1.0, layer_scale={1: 3.0})
    assert torch.allclose(reg.grad(w, Param(1, "weight", 1)), 3 * w)
    assert torch.allclose(reg.grad(w, Param(0, "weight", 1)), w)


@given(
    w=st.lists(st.floats(-10, 10, allow_nan=False, width=64), min_size=1, max_size=30),
    t=st.floats(0, 5, allow_nan=False),
)
@settings(max_examples=200, deadline=None)
def test_soft_threshold_is_the_prox_of_l1(w, t):
    x = torch.tensor(w, dtype=torch.float64)
    tt = torch.tensor(t, dtype=torch.float64)
    out = soft_threshold(x, tt)
    expected = torch.sign(x) * torch.clamp(x.abs() - t, min=0)
    assert torch.allclose(out, expected, atol=1e-12)
    assert bool((out[x.abs() <= t] == 0).all())  # exactly zero


def test_l1_prox_gives_exact_zeros_where_l1_subgradient_does_not():
    w = _w(2)
    step = torch.full((2, 1, 1), 1.0, dtype=torch.float64)
    out = L1Prox(50.0).prox(w, step, W)  # threshold 1.0
    assert int((out == 0).sum()) == int((w.abs() <= 1.0).sum()) > 0
    sub = w - step * L1(50.0).grad(w, W)
    assert int((sub == 0).sum()) == 0


@pytest.mark.parametrize("kind", ["l2", "l1", "l1-prox", "elastic", "decay"])
def test_larger_lambda_gives_smaller_norm_after_one_regularizer_step(kind):
    lams = [0.0, 1.0, 5.0, 20.0]  # small enough that no step overshoots zero
    reg = make_regularizer(kind, lams)
    w = _w(3)[:1].expand(4, 4, 3).clone()
    step = torch.full((4, 1, 1), 0.5, dtype=torch.float64)
    g = reg.grad(w, W)
    w2 = reg.prox(w - step * (0 if g is None else g), step, W)
    norms = w2.reshape(4, -1).norm(dim=1)
    assert bool((norms[1:] < norms[:-1]).all())


def test_sum_composes_and_reads():
    reg = L2(5.0) + L1Prox(1e-4)
    assert repr(reg) == "L2(5) + L1Prox(0.0001)"
    w = _w()
    assert torch.allclose(reg.penalty(w, W), L2(5.0).penalty(w, W) + L1Prox(1e-4).penalty(w, W))


def test_bad_strength_is_refused():
    from reglab.errors import ReglabError

    with pytest.raises(ReglabError, match="λ must be finite and ≥ 0"):
        L2(-1.0)
    with pytest.raises(ReglabError, match="unknown regularizer"):
        make_regularizer("l3", 1.0)
