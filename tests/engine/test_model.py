"""The batched MLP's hand-written backward against autograd, finite differences and per-model inputs."""

import itertools

import pytest
import torch

from reglab.engine.model import MLP
from reglab.engine.regularizers import L2, ElasticNet, NoRegularizer, Param
from tests.engine.helpers import F64, objective, small_data

SMOOTH = [NoRegularizer(), L2([0.0, 3.0]), ElasticNet([1.0, 3.0], 0.0)]


@pytest.mark.parametrize(
    "activation,cost,reg",
    list(itertools.product(["sigmoid", "tanh", "relu", "linear"], ["cross-entropy", "quadratic", "log-likelihood"], SMOOTH)),
    ids=str,
)
def test_fused_backward_matches_autograd(activation, cost, reg):
    torch.manual_seed(0)
    model = MLP.initialize([5, 4, 3, 3], seeds=[1, 2], init="default", activation=activation, cost=cost, dtype=F64)
    data = small_data()
    x, Y = data.train.X[:7], data.train.Y[:7]
    n = 40
    for p in [*model.weights, *model.biases]:
        p.requires_grad_()
    total = objective(model, x, Y, reg, n).sum()
    auto = torch.autograd.grad(total, [*model.weights, *model.biases])
    with torch.no_grad():
        zs, acts = model.forward(x)
        gw, gb = model.backward(Y, zs, acts)
        for l, (W, b) in enumerate(zip(model.weights, model.biases)):
            reg.add_grad(W, Param(l, "weight", n), gw[l])
            reg.add_grad(b, Param(l, "bias", n), gb[l])
    for a, f in zip(auto, [*gw, *gb]):
        assert torch.allclose(a, f, rtol=1e-9, atol=1e-12)


def test_fused_backward_matches_finite_differences():
    model = MLP.initialize([3, 4, 2], seeds=[5], init="large", dtype=F64)
    data = small_data(d=3, k=2)
    x, Y = data.train.X[:6], data.train.Y[:6]
    reg = L2(2.0)
    with torch.no_grad():
        zs, acts = model.forward(x)
        gw, _ = model.backward(Y, zs, acts)
        for l, W in enumerate(model.weights):
            reg.add_grad(W, Param(l, "weight", 40), gw[l])
        h = 1e-6
        for idx in [(0, 0, 0), (0, 3, 2)]:
            W = model.weights[0]
            W[idx] += h
            up = objective(model, x, Y, reg, 40).item()
            W[idx] -= 2 * h
            down = objective(model, x, Y, reg, 40).item()
            W[idx] += h
            assert abs((up - down) / (2 * h) - gw[0][idx].item()) < 1e-6


def test_per_model_inputs_give_the_same_gradients_as_shared():
    model = MLP.initialize([5, 4, 3], seeds=[1, 2], dtype=F64)
    data = small_data()
    x, Y = data.train.X[:7], data.train.Y[:7]
    zs, acts = model.forward(x)
    g1 = model.backward(Y, zs, acts)
    xm, Ym = x.expand(2, 7, 5), Y.expand(2, 7, 3)
    zs, acts = model.forward(xm)
    g2 = model.backward(Ym, zs, acts)
    for a, b in zip([*g1[0], *g1[1]], [*g2[0], *g2[1]]):
        assert torch.allclose(a, b, atol=1e-12)
