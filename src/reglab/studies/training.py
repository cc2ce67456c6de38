r"""What the chapter-3 studies (dropout-vs-l2, more-data-vs-regularization, random-labels) share: arms of
regularization trained side by side in one :func:`~reglab.engine.loop.fit` call, then scored.

An :class:`Arm` is one way to regularize a network: L2 and L1 strengths in the book's units
(``C = C_0 + (λ₂/2n)Σw² + (λ₁/n)Σ|w|``), a max-norm radius ``c`` (∞: none) and dropout rates for the input of each
layer. :func:`train_arms` trains every arm with every seed as one batch of ``A·S`` models (model ``a·S + s``: arm
``a``, seed ``s``): the arms of one seed share their initial weights, their mini-batch order and their dropout
masks (common random numbers), so that what differs between them is the regularization. Then it measures every
model on the splits it is given, with the whole network (no dropout), and returns ``(A, S)`` arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from reglab.engine.data import TensorData, TensorSplit
from reglab.engine.dropout import Dropout
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor, evaluate
from reglab.engine.optim import SGD
from reglab.engine.regularizers import L1, L2, MaxNorm, NoRegularizer, Regularizer
from reglab.engine.threads import torch_threads


@dataclass(frozen=True)
class Arm:
    """One way to regularize: ``l2``, ``l1`` (book units), ``max_norm`` (∞: none), ``dropout`` (a rate per layer
    input, the network's input first; ``()``: none)."""

    name: str
    l2: float = 0.0
    l1: float = 0.0
    max_norm: float = math.inf
    dropout: tuple[float, ...] = ()


@dataclass(frozen=True)
class Recipe:
    """How every arm of a study trains: the network, the optimizer and the budget."""

    sizes: tuple[int, ...]
    activation: str
    cost: str
    init: str
    eta: float
    momentum: float
    batch_size: int
    epochs: int


def regularizer(arms: Sequence[Arm], S: int) -> Regularizer:
    """``L2 + L1 + MaxNorm`` with one value per model (arm-major), keeping only the parts some arm uses."""
    per_model = [a for a in arms for _ in range(S)]
    parts: list[Regularizer] = []
    if any(a.l2 for a in arms):
        parts.append(L2([a.l2 for a in per_model]))
    if any(a.l1 for a in arms):
        parts.append(L1([a.l1 for a in per_model]))
    if any(math.isfinite(a.max_norm) for a in arms):
        parts.append(MaxNorm([a.max_norm for a in per_model]))
    if not parts:
        return NoRegularizer()
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def train_arms(train: TensorSplit, score: Mapping[str, TensorSplit], n_classes: int, recipe: Recipe,
               arms: Sequence[Arm], seeds: Sequence[int]) -> dict[str, np.ndarray]:
    """Train every arm with every seed together on ``train``; accuracies on each split of ``score``.

    Returns ``{split: (A, S) accuracy}`` and ``"max_unit_norm"`` ``(A, S)``: the largest norm of a unit's incoming
    weights over every layer after training (where max-norm holds, at most its ``c``).
    """
    S, L = len(seeds), len(recipe.sizes) - 1
    per_model_seeds = [int(s) for _ in arms for s in seeds]
    rates = [list(a.dropout) if a.dropout else [0.0] * L for a in arms for _ in seeds]
    with torch_threads(1):
        model = MLP.initialize(recipe.sizes, seeds=per_model_seeds, init=recipe.init, activation=recipe.activation,
                               cost=recipe.cost)
        result = fit(model, TensorData(train, None, None, n_classes), epochs=recipe.epochs,
                     batch_size=recipe.batch_size, eta=recipe.eta, regularizer=regularizer(arms, S),
                     optimizer=SGD(momentum=recipe.momentum) if recipe.momentum else SGD(),
                     order_seeds=per_model_seeds, monitor=Monitor(splits=(), weights=False, saturation_examples=0),
                     dropout=Dropout(rates, seeds=per_model_seeds) if any(a.dropout for a in arms) else None)
        out = {name: evaluate(result.model, s.X, s.y, s.Y)[1].numpy().reshape(len(arms), S) for name, s in score.items()}
    norms = torch.stack([torch.linalg.vector_norm(W, dim=2).amax(dim=1) for W in result.model.weights]).amax(dim=0)
    out["max_unit_norm"] = norms.double().numpy().reshape(len(arms), S)
    return out


def mean_sd(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0
