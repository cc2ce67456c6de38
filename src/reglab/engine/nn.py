"""Activations and costs of the batched MLP, each with its derivative beside it.

Shapes use the same letters everywhere: ``M`` models trained together, ``B``
examples in a mini-batch, ``K`` output units.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
from torch import Tensor

from reglab.errors import ReglabError


@dataclass(frozen=True)
class Activation:
    """A hidden-layer activation ``a = f(z)`` and its backward pass.

    ``backward(grad, z, a)`` returns ``grad · f'(z)`` (one fused kernel where
    torch has one). ``saturation_z`` is the ``|z|`` beyond which
    ``f'(z) < 1%`` of its maximum (``None`` where ``f`` never saturates).
    """

    name: str
    forward: Callable[[Tensor], Tensor]
    backward: Callable[[Tensor, Tensor, Tensor], Tensor]
    saturation_z: float | None

    def prime(self, z: Tensor) -> Tensor:
        """``f'(z)`` itself (used by monitors and tests, not by the hot loop)."""
        return self.backward(torch.ones_like(z), z, self.forward(z))


# σ'(z) = σ(1−σ) ≤ 1/4; σ'(z) < 0.0025 ⇔ |z| > 2·acosh(√(1/0.01)) = 5.9869...
_SIGMOID_SAT = 2.0 * math.acosh(10.0)
# tanh'(z) = 1 − tanh² ≤ 1; tanh'(z) < 0.01 ⇔ |z| > acosh(10) = 2.9932...
_TANH_SAT = math.acosh(10.0)

#: Activations by name (``--activation``), filled by :func:`register_activation`.
ACTIVATIONS: dict[str, Activation] = {}


def register_activation(activation: Activation) -> Activation:
    """Make ``activation`` available by its name (``--activation``, ``TrainConfig(activation=…)``); it trains
    on the tensor steps, and on the compiled ones once the kernel has a code and a branch for its name."""
    ACTIVATIONS[activation.name] = activation
    return activation


for _activation in (
    Activation("sigmoid", torch.sigmoid, lambda g, z, a: torch.ops.aten.sigmoid_backward(g, a), _SIGMOID_SAT),
    Activation("tanh", torch.tanh, lambda g, z, a: torch.ops.aten.tanh_backward(g, a), _TANH_SAT),
    Activation("relu", torch.relu, lambda g, z, a: torch.ops.aten.threshold_backward(g, a, 0), None),
    Activation("linear", lambda z: z, lambda g, z, a: g, None),
):
    register_activation(_activation)


class Cost:
    """Output layer and cost ``C0 = (1/B) Σ_x fn(a_x, y_x)``.

    ``output(z)`` is the output non-linearity, ``fn(z, a, y)`` the summed cost
    per model ``(M,)`` over the examples given, ``delta(z, a, y)`` the error
    ``∂fn/∂z`` of the output layer, per example.
    """

    name: str
    output_activation: str

    def output(self, z: Tensor) -> Tensor:  # (M, B, K)
        raise NotImplementedError

    def fn(self, z: Tensor, a: Tensor, y: Tensor) -> Tensor:  # → (M,)
        raise NotImplementedError

    def delta(self, z: Tensor, a: Tensor, y: Tensor) -> Tensor:  # (M, B, K)
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CrossEntropyCost(Cost):
    """Sigmoid outputs, ``fn = Σ_k −y ln a − (1−y) ln(1−a)``, ``delta = a − y``.

    The book's network2 evaluates the logarithms of ``a`` with ``nan_to_num``;
    here the same quantity is computed from ``z`` (``softplus``), which is
    finite where the book's would overflow and equal elsewhere.
    """

    name = "cross-entropy"
    output_activation = "sigmoid"

    def output(self, z: Tensor) -> Tensor:
        return torch.sigmoid(z)

    def fn(self, z: Tensor, a: Tensor, y: Tensor) -> Tensor:
        # −y ln σ(z) − (1−y) ln(1−σ(z)) = softplus(z) − y z
        return (torch.nn.functional.softplus(z) - y * z).sum(dim=(-2, -1))

    def delta(self, z: Tensor, a: Tensor, y: Tensor) -> Tensor:
        return a - y


class QuadraticCost(Cost):
    """Sigmoid outputs, ``fn = ½‖a − y‖²``, ``delta = (a − y) σ'(z)``."""

    name = "quadratic"
    output_activation = "sigmoid"

    def output(self, z: Tensor) -> Tensor:
        return torch.sigmoid(z)

    def fn(self, z: Tensor, a: Tensor, y: Tensor) -> Tensor:
        return 0.5 * ((a - y) ** 2).sum(dim=(-2, -1))

    def delta(self, z: Tensor, a: Tensor, y: Tensor) -> Tensor:
        out: Tensor = torch.ops.aten.sigmoid_backward(a - y, a)
        return out


class LogLikelihoodCost(Cost):
    """Softmax outputs, ``fn = −ln a_y``, ``delta = a − y`` (y one-hot)."""

    name = "log-likelihood"
    output_activation = "softmax"

    def output(self, z: Tensor) -> Tensor:
        return torch.softmax(z, dim=-1)

    def fn(self, z: Tensor, a: Tensor, y: Tensor) -> Tensor:
        return -(torch.log_softmax(z, dim=-1) * y).sum(dim=(-2, -1))

    def delta(self, z: Tensor, a: Tensor, y: Tensor) -> Tensor:
        return a - y


C = TypeVar("C", bound=Cost)

#: Costs by name (``--cost``), filled by :func:`register_cost`.
COSTS: dict[str, type[Cost]] = {}


def register_cost(cls: type[C]) -> type[C]:
    """Class decorator: make a cost available by its ``name`` (``--cost``, ``TrainConfig(cost=…)``)."""
    COSTS[cls.name] = cls
    return cls


for _cost in (CrossEntropyCost, QuadraticCost, LogLikelihoodCost):
    register_cost(_cost)


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ReglabError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None


def get_cost(name: str | Cost) -> Cost:
    if isinstance(name, Cost):
        return name
    try:
        return COSTS[name]()
    except KeyError:
        raise ReglabError(f"unknown cost {name!r}; choose one of {', '.join(COSTS)}") from None
