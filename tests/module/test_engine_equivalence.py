"""The nn.Module API trains exactly what the engine trains: an ``nn.Sequential`` [64, 30, 10] with sigmoid and the
book's cross-entropy, the same initial weights and mini-batch order, ``torch.optim`` + ``reglab.regularize``, gives the
weights of ``reglab train`` after an epoch on the 8×8 digits (float64), for every regularizer of the engine."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import reglab
from reglab.config import TrainConfig
from reglab.engine.data import TensorData
from reglab.engine.regularizers import make_regularizer
from reglab.rng import generator
from reglab.runs.assemble import load_data, train

BATCH = 10
CASES = [  # (reg, engine optimizer, λ, η)
    ("l2", "sgd", 5.0, 0.5),
    ("l1", "sgd", 5.0, 0.5),
    ("l1-prox", "sgd", 20.0, 0.5),
    ("elastic", "sgd", 20.0, 0.5),
    ("decay", "sgd", 5.0, 0.5),  # SGDW
    ("decay", "adamw", 50.0, 0.01),  # AdamW
]


def torch_optimizer(name: str, params, eta: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=eta)
    return torch.optim.Adam(params, lr=eta, betas=(0.9, 0.999), eps=1e-8)  # the engine's adamw: Adam + decay


@pytest.fixture(scope="module")
def digits():
    config = TrainConfig(data="digits")
    return load_data(config)


@pytest.mark.parametrize(("kind", "optimizer", "lmbda", "eta"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_one_epoch_equals_reglab_train(digits, kind, optimizer, lmbda, eta, one_thread):
    config = TrainConfig(data="digits", epochs=1, dtype="float64", reg=kind, optimizer=optimizer, lmbda=(lmbda,),
                         eta=(eta,), batch_size=BATCH, monitor=(), l1_ratio=0.5)
    engine = train(config, digits).fit
    data = TensorData.from_dataset(digits, "cpu", torch.float64)
    X, Y, n = data.train.X, data.train.Y, len(data.train)

    model = nn.Sequential(nn.Linear(64, 30), nn.Sigmoid(), nn.Linear(30, 10)).double()
    with torch.no_grad():
        for layer, l in ((model[0], 0), (model[2], 1)):
            layer.weight.copy_(torch.from_numpy(engine.initial[f"W{l}"][0]))
            layer.bias.copy_(torch.from_numpy(engine.initial[f"b{l}"][0]))
    opt = torch_optimizer(optimizer, model.parameters(), eta)
    reg = reglab.regularize(model, make_regularizer(kind, lmbda, {"l1_ratio": 0.5}), n=n)
    order = torch.randperm(n, generator=generator(config.seed, "order"))  # the engine's first epoch
    for idx in order.split(BATCH):
        opt.zero_grad()
        z = model(X[idx])  # the book's cross-entropy: Σ_k softplus(z) − y z, mean over the mini-batch
        loss = F.binary_cross_entropy_with_logits(z, Y[idx], reduction="sum") / len(idx) + reg.penalty()
        loss.backward()
        opt.step()
        reg.step(opt)

    for layer, l in ((model[0], 0), (model[2], 1)):
        W = engine.model.weights[l][0]
        assert torch.allclose(layer.weight.detach(), W, atol=1e-5, rtol=0), (kind, l, (layer.weight - W).abs().max())
        assert torch.allclose(layer.bias.detach(), engine.model.biases[l][0], atol=1e-5, rtol=0)
        assert (layer.weight.detach() - W).abs().max() < 1e-9  # in fact equal to rounding
        # exact zeros land on the same weights
        assert torch.equal(layer.weight.detach() == 0, W == 0)
    if kind in ("l1-prox", "elastic"):
        assert (model[0].weight == 0).sum() > 0  # the prox did set weights exactly to zero
    moved = (engine.model.weights[0][0] - torch.from_numpy(engine.initial["W0"][0])).abs().max()
    assert moved > 1e-3  # the epoch did train
