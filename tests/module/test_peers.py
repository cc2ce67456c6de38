"""The audit's units, checked numerically: training with each peer's own rule at the value the audit prints gives
reglab's result (PyTorch's SGD ``weight_decay`` and ``AdamW``, scikit-learn's ``MLPClassifier(alpha)``, Keras's
``L2(l2)``/``L1(l1)`` as Keras defines them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import reglab
from tests.module.helpers import batches, mlp, params

N = 200


def test_l2_penalty_with_sgd_is_torch_weight_decay_at_the_audited_value():
    data = batches(6)
    ours, theirs = mlp(), mlp()
    reg = reglab.regularize(ours, reglab.L2(30.0), n=N)
    wd = reg.audit().unit("0.weight", "L2", "torch").values["weight_decay"]
    assert wd == pytest.approx(30.0 / N)
    opt = torch.optim.SGD(ours.parameters(), lr=0.3, momentum=0.9)
    decayed = [p for name, p in theirs.named_parameters() if name.endswith("weight")]
    others = [p for name, p in theirs.named_parameters() if not name.endswith("weight")]
    peer = torch.optim.SGD([{"params": decayed, "weight_decay": wd}, {"params": others}], lr=0.3, momentum=0.9)
    for x, y in data:
        opt.zero_grad()
        (F.cross_entropy(ours(x), y) + reg.penalty()).backward()
        opt.step()
        reg.step(opt)
        peer.zero_grad()
        F.cross_entropy(theirs(x), y).backward()
        peer.step()
    for name, p in ours.named_parameters():
        assert torch.allclose(p, dict(theirs.named_parameters())[name], atol=1e-13), name
    assert not torch.allclose(ours[0].weight, mlp()[0].weight, atol=1e-2)  # it trained


def test_decoupled_decay_after_adam_is_adamw_at_the_audited_value():
    """reglab decays after the step (the engine's order), AdamW before it: per step they differ by lr²·wd·u, with
    Adam's update |u| ≤ (1 − β₁)/√(1 − β₂) ≈ 3.2 — a bound far below what the decay itself does, which a wrong
    conversion (λ instead of λ/n, or lr twice) would not keep."""
    data = batches(20)
    lr, lmbda = 3e-3, 400.0
    ours, theirs, plain = mlp(), mlp(), mlp()
    reg = reglab.regularize(ours, reglab.DecoupledDecay(lmbda), n=N)
    wd = reg.audit().unit("0.weight", "DecoupledDecay", "torch").values["weight_decay"]
    assert wd == pytest.approx(lmbda / N)
    opt = torch.optim.Adam(ours.parameters(), lr=lr)
    decayed = [p for name, p in theirs.named_parameters() if name.endswith("weight")]
    others = [p for name, p in theirs.named_parameters() if not name.endswith("weight")]
    peer = torch.optim.AdamW([{"params": decayed, "weight_decay": wd}, {"params": others, "weight_decay": 0.0}], lr=lr)
    undecayed = torch.optim.Adam(plain.parameters(), lr=lr)
    for x, y in data:
        for model, o in ((ours, opt), (theirs, peer), (plain, undecayed)):
            o.zero_grad()
            F.cross_entropy(model(x), y).backward()
            o.step()
        reg.step(opt)
    gap = max((p - q).abs().max().item() for p, q in zip(ours.parameters(), theirs.parameters()))
    effect = max((p - q).abs().max().item() for p, q in zip(theirs.parameters(), plain.parameters()))
    bound = len(data) * lr**2 * wd * (1 - 0.9) / (1 - 0.999) ** 0.5
    assert gap < bound, (gap, bound)
    assert effect > 20 * bound, (effect, bound)


def test_sklearn_mlp_alpha_at_the_audited_value_gives_the_same_epoch():
    from sklearn.neural_network import MLPClassifier

    B, lr, lmbda = 10, 0.2, 40.0
    g = np.random.default_rng(0)
    X = g.normal(size=(N, 12))
    y = g.integers(0, 5, size=N)
    model = mlp()
    reg = reglab.regularize(model, reglab.L2(lmbda), n=N)
    alpha = reg.audit(batch_size=B).unit("0.weight", "L2", "sklearn").values["alpha"]
    assert alpha == pytest.approx(lmbda * B / N)

    clf = MLPClassifier(hidden_layer_sizes=(8,), activation="logistic", solver="sgd", alpha=alpha, batch_size=B,
                        learning_rate_init=lr, momentum=0.0, nesterovs_momentum=False, shuffle=False, random_state=0)
    clf.partial_fit(X[:B], y[:B], classes=np.arange(5))  # builds its arrays; overwritten in place below
    for k, layer in enumerate((model[0], model[2])):
        clf.coefs_[k][...] = layer.weight.detach().numpy().T
        clf.intercepts_[k][...] = layer.bias.detach().numpy()
    clf.partial_fit(X, y)  # one epoch, mini-batches of B in order, plain SGD

    opt = torch.optim.SGD(model.parameters(), lr=lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for i in range(0, N, B):
        opt.zero_grad()
        (F.cross_entropy(model(Xt[i:i + B]), yt[i:i + B]) + reg.penalty()).backward()
        opt.step()
        reg.step(opt)
    for k, layer in enumerate((model[0], model[2])):
        np.testing.assert_allclose(layer.weight.detach().numpy().T, clf.coefs_[k], atol=1e-10)
        np.testing.assert_allclose(layer.bias.detach().numpy(), clf.intercepts_[k], atol=1e-10)


@pytest.mark.parametrize("kind", ["L2", "L1", "ElasticNet"])
def test_keras_penalties_at_the_audited_values_have_reglabs_gradient(kind):
    """Keras adds ``l2·Σw²`` (``L2``), ``l1·Σ|w|`` (``L1``), both (``L1L2``) to the loss, per weight tensor."""
    model = mlp()
    regularizer = {"L2": reglab.L2(7.0), "L1": reglab.L1(7.0), "ElasticNet": reglab.ElasticNet(7.0, l1_ratio=0.0)}[kind]
    reg = reglab.regularize(model, regularizer, n=N)
    reg.penalty().backward()
    ours = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    keras = reg.audit().unit("0.weight", kind, "keras").values
    total = sum(keras.get("l2", 0.0) * (p**2).sum() + keras.get("l1", 0.0) * p.abs().sum()
                for name, p in model.named_parameters() if name.endswith("weight"))
    total.backward()
    for name, g in ours.items():
        assert torch.allclose(g, model.get_parameter(name).grad, atol=1e-15), name
    assert set(ours) == {"0.weight", "2.weight"}
    assert params(model)  # untouched by either
