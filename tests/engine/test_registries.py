"""Adding an activation or a regularizer takes its definition (plus, to compile, the kernel's branch): nothing else.

A toy of each is registered here and then named in a configuration, listed by the CLI, and trained.
"""

import argparse

import numpy as np
import pytest
import torch

import reglab
from reglab.config import TrainConfig, add_arguments
from reglab.engine import nn, regularizers
from reglab.engine.model import INITIALIZERS, init_layer
from reglab.engine.nn import Activation
from reglab.engine.optim import OPTIMIZERS, make_optimizer
from reglab.engine.regularizers import L2, Param, Regularizer


def test_every_registered_name_builds_what_it_names():
    for name in OPTIMIZERS:
        make_optimizer(name)
    for name in INITIALIZERS:
        W, b = init_layer(name, 3, 2, torch.Generator().manual_seed(0))
        assert W.shape == (2, 3) and b.shape == (2,)
    for name, cls in regularizers.KINDS.items():
        assert isinstance(regularizers.make_regularizer(name, [1.0, 2.0], {"l1_ratio": 0.3}), cls)


@pytest.fixture
def softsign():
    """``f(z) = z / (1 + |z|)``, ``f'(z) = 1 / (1 + |z|)²``: defined and registered in one place."""
    yield nn.register_activation(Activation(
        "softsign", lambda z: z / (1 + z.abs()), lambda g, z, a: g / (1 + z.abs()) ** 2, None))
    del nn.ACTIVATIONS["softsign"]


def test_a_registered_activation_is_a_config_choice_a_cli_choice_and_trains(softsign):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--activation", "softsign"]).activation == "softsign"
    config = TrainConfig(data="digits", activation="softsign", epochs=2, lmbda=(1.0,), hidden=(8,))
    result = reglab.train(config)
    assert result.fit.meta["engine"] == "TensorSteps"  # the kernel has no branch for it: the tensor steps train it
    z = torch.linspace(-3, 3, 7, dtype=torch.float64, requires_grad=True)
    (softsign.forward(z).sum()).backward()
    torch.testing.assert_close(softsign.prime(z.detach()), z.grad)
    assert np.isfinite(result.fit.history.get("validation_accuracy")).all()


class HalfL2(Regularizer):
    """``(λ/4n) Σ w²``: half of L2, by its elementwise form only (gradient ``λ/(2n)·w``)."""

    def penalty(self, w, p):
        c = self.coef(w, p, 0.25)
        return w.new_zeros(w.shape[0]) if c is None else (c * w * w).reshape(w.shape[0], -1).sum(dim=1)

    def elementwise(self, p):
        return self._form(p, 0, 0.5)


@pytest.fixture
def half_l2():
    yield regularizers.register_regularizer("half-l2")(HalfL2)
    del regularizers.KINDS["half-l2"]


def test_a_registered_regularizer_is_a_config_choice_and_trains_on_the_compiled_steps(half_l2):
    base = dict(data="digits", epochs=2, hidden=(8,), dtype="float64", monitor=())
    half = reglab.train(TrainConfig(reg="half-l2", lmbda=(4.0,), **base))
    full = reglab.train(TrainConfig(reg="l2", lmbda=(2.0,), **base))
    assert half.fit.meta["engine"] == "CompiledSteps"  # its elementwise form is all the kernel needs
    for a, b in zip(half.fit.model.weights, full.fit.model.weights):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    w = torch.ones(1, 2, 3, dtype=torch.float64)
    p = Param(0, "weight", 10)
    torch.testing.assert_close(HalfL2(4.0).penalty(w, p), L2(2.0).penalty(w, p))
