r"""Optimizers over the batched parameters, with a learning rate per model.

Each optimizer is a frozen dataclass (its hyper-parameters) with
``init(params) -> state`` and ``step(params, grads, eta, state)``, which
updates the parameters in place (the :class:`Optimizer` protocol); one that
the compiled kernel can run also has ``kernel_form() -> (name, hyper)``. ``eta`` is a list with one tensor per
parameter, shaped ``(M, 1, …)`` to broadcast over it; a model whose ``η`` is
0 does not move (early-stopped and diverged models are frozen this way).

Gradients are means over the mini-batch (the book's ``(η/m) Σ_x``), plus the
coupled regularizers' ``grad``; decoupled decay and proximal steps come after
``step``, in the trainer (see :mod:`reglab.engine.regularizers`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import Tensor

from reglab.errors import ReglabError


class Optimizer(Protocol):
    """What the training steps call: ``init`` once, then ``step`` after every mini-batch's gradient."""

    def init(self, params: list[Tensor]) -> Any:
        """The optimizer's state for ``params`` (anything ``step`` understands)."""
        ...

    def step(self, params: Sequence[Tensor], grads: Sequence[Tensor], eta: Sequence[Tensor], state: Any) -> None:
        """Update ``params`` in place from ``grads``; ``eta[i]`` is ``(M, 1, …)``, broadcast over ``params[i]``."""
        ...


class CompiledOptimizer(Optimizer, Protocol):
    """An optimizer the compiled kernel can run: it names its step and hyper-parameters."""

    def kernel_form(self) -> tuple[str, tuple[float, float, float]]:
        """``(name, hyper)``: a name of ``kernel.OPTIMIZER_CODES`` and ``(μ or β₁, β₂, ε)``."""
        ...


@dataclass(frozen=True)
class SGD:
    r"""Stochastic gradient descent, optionally with momentum ``μ``.

    ``μ = 0``: ``w ← w − η g``. ``μ > 0`` (PyTorch's form): ``v ← μ v + g``,
    ``w ← w − η v``; with ``nesterov``: ``w ← w − η (g + μ v)``.
    """

    momentum: float = 0.0
    nesterov: bool = False

    def init(self, params: list[Tensor]) -> list[Tensor | None]:
        return [torch.zeros_like(p) if self.momentum else None for p in params]

    def kernel_form(self) -> tuple[str, tuple[float, float, float]]:
        """``(name, hyper)`` of the compiled step (:mod:`reglab.engine.kernel`): sgd, momentum or nesterov."""
        name = "sgd" if not self.momentum else ("nesterov" if self.nesterov else "momentum")
        return name, (self.momentum, 0.0, 0.0)

    def step(self, params: Sequence[Tensor], grads: Sequence[Tensor], eta: Sequence[Tensor],
             state: list[Tensor | None]) -> None:
        for p, g, e, v in zip(params, grads, eta, state):
            if v is not None:
                v.mul_(self.momentum).add_(g)
                g = g.add(v, alpha=self.momentum) if self.nesterov else v
            p.addcmul_(g, e, value=-1.0)


@dataclass(frozen=True)
class Adam:
    r"""Adam (Kingma & Ba): ``m ← β₁m + (1−β₁)g``, ``v ← β₂v + (1−β₂)g²``,
    ``w ← w − η m̂ / (√v̂ + ε)`` with bias-corrected ``m̂, v̂``.

    An :class:`~reglab.engine.regularizers.L2` regularizer's gradient passes through
    this scaling (Adam with ``weight_decay``); AdamW is Adam followed by
    :class:`~reglab.engine.regularizers.DecoupledDecay`.
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def kernel_form(self) -> tuple[str, tuple[float, float, float]]:
        """``("adam", (β₁, β₂, ε))`` for the compiled step (:mod:`reglab.engine.kernel`)."""
        return "adam", (self.beta1, self.beta2, self.eps)

    def init(self, params: list[Tensor]) -> dict[str, Any]:
        return {"t": 0, "m": [torch.zeros_like(p) for p in params], "v": [torch.zeros_like(p) for p in params]}

    def step(self, params: Sequence[Tensor], grads: Sequence[Tensor], eta: Sequence[Tensor],
             state: dict[str, Any]) -> None:
        state["t"] += 1
        t = state["t"]
        bc1 = 1.0 - self.beta1**t
        bc2 = 1.0 - self.beta2**t
        for p, g, e, m, v in zip(params, grads, eta, state["m"], state["v"]):
            m.lerp_(g, 1.0 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1.0 - self.beta2)
            denom = (v / bc2).sqrt_().add_(self.eps)
            p.addcmul_(m / denom, e, value=-1.0 / bc1)


OptimizerFactory = Callable[[float, tuple[float, float], float], Optimizer]  # (momentum, betas, eps) → optimizer

#: Optimizers by name (``--optimizer``), filled by :func:`register_optimizer`.
OPTIMIZERS: dict[str, OptimizerFactory] = {}


def register_optimizer(name: str) -> Callable[[OptimizerFactory], OptimizerFactory]:
    """Decorator: make ``factory(momentum, betas, eps) -> Optimizer`` available by ``name`` (``--optimizer``)."""

    def add(factory: OptimizerFactory) -> OptimizerFactory:
        OPTIMIZERS[name] = factory
        return factory

    return add


@register_optimizer("sgd")
def _sgd(momentum: float, betas: tuple[float, float], eps: float) -> Optimizer:
    return SGD()


@register_optimizer("momentum")
def _momentum(momentum: float, betas: tuple[float, float], eps: float) -> Optimizer:
    if not 0.0 <= momentum < 1.0 or math.isnan(momentum):
        raise ReglabError(f"momentum must lie in [0, 1), got {momentum}")
    return SGD(momentum=momentum)


@register_optimizer("adamw")  # Adam: AdamW's decay is the ``decay`` regularizer, after the step
@register_optimizer("adam")
def _adam(momentum: float, betas: tuple[float, float], eps: float) -> Optimizer:
    return Adam(betas[0], betas[1], eps)


def make_optimizer(name: str, momentum: float = 0.9, betas: tuple[float, float] = (0.9, 0.999),
                   eps: float = 1e-8) -> Optimizer:
    """The optimizer of a CLI name. ``adamw`` is :class:`Adam`: its decay is the ``decay`` regularizer."""
    try:
        factory = OPTIMIZERS[name]
    except KeyError:
        raise ReglabError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}") from None
    return factory(momentum, betas, eps)
