r"""What regularization does to the weights, measured every epoch, as data.

A monitor returns a *record*: ``{metric: Tensor (M,)}`` for per-model metrics
and ``{(metric, layer): Tensor (M,)}`` for per-layer ones. :class:`History`
collects records and gives them back as arrays ``(E, M)`` or tidy rows
``(epoch, model, layer, metric, value)``. Nothing here prints.

Per model: for each monitored split, the data cost ``C₀`` (mean over the
split), the penalty (its value, the same for every split), their sum, and the
accuracy (a fraction). Per layer (weight matrix ``W`` of layer ``l``, biases
excluded):

=============  =========================================================
``sum``        ``Σ w`` (signed: not a magnitude)
``mean``       ``Σ w / N_l``
``l1``         ``Σ |w|``
``l2``         ``√(Σ w²)``
``rms``        ``√(Σ w² / N_l)``
``var``        ``Σ (w − mean)² / N_l``
``max_abs``    ``max |w|``
``frac_small`` fraction with ``|w| < 10⁻³``
``zeros``      count of ``w == 0`` exactly
``saturation`` sigmoid/tanh layers: fraction of ``(example, unit)`` pairs
               with ``f'(z) < 1%`` of its maximum, on a fixed batch
=============  =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from reglab.engine import compiled
from reglab.engine.compiled import uncompiled
from reglab.engine.history import Key
from reglab.engine.model import MLP
from reglab.engine.nn import ACTIVATIONS
from reglab.engine.regularizers import Param, Regularizer

if TYPE_CHECKING:
    from reglab.engine.data import TensorData

Record = dict[Key, Tensor]  # what a monitor measures: each value (M,)

#: How the training split is measured (:attr:`Monitor.train`): a pass after the epoch, or during it;
#: the one default of :class:`Monitor` and of ``TrainConfig.monitor_train`` (``--monitor-train``).
TRAIN_MEASURES = ("exact", "running")
DEFAULT_TRAIN_MEASURE = "running"

WEIGHT_STATS = ("sum", "mean", "l1", "l2", "rms", "var", "max_abs", "frac_small", "zeros")
SMALL = 1e-3


def weight_stats(W: Tensor) -> dict[str, Tensor]:
    """The statistics of the table above for ``W`` shaped ``(M, n_out, n_in)``, each ``(M,)``."""
    w = W.reshape(W.shape[0], -1)  # (M, N_l)
    n = w.shape[1]
    total = w.sum(dim=1)
    sq = (w * w).sum(dim=1)
    absw = w.abs()
    return {
        "sum": total,
        "mean": total / n,
        "l1": absw.sum(dim=1),
        "l2": sq.sqrt(),
        "rms": (sq / n).sqrt(),
        "var": w.var(dim=1, unbiased=False),
        "max_abs": absw.amax(dim=1),
        "frac_small": (absw < SMALL).sum(dim=1).to(w.dtype) / n,
        "zeros": (w == 0).sum(dim=1).to(w.dtype),
    }


def _chunk_size(model: MLP, budget_bytes: int = 1 << 28) -> int:
    per_example = model.M * sum(model.sizes[1:]) * 2 * model.weights[0].element_size()
    return max(64, budget_bytes // max(per_example, 1))


@torch.no_grad()
def evaluate(model: MLP, X: Tensor, y: Tensor, Y: Tensor, one_thread: bool = False) -> tuple[Tensor, Tensor]:
    """``(cost, accuracy)`` per model ``(M,)`` on ``X`` (N, d): mean data cost ``C₀`` and fraction correct.

    On the CPU the compiled kernel does it (:func:`reglab.engine.compiled.evaluate`: chunks of examples
    spread over every core, or with ``one_thread`` on the calling thread alone, summed in a fixed
    order, the same numbers either way). Elsewhere, torch.
    """
    if uncompiled(model) is None:
        return compiled.evaluate(model, X, Y, one_thread)
    return evaluate_tensor(model, X, y, Y)


def evaluate_tensor(model: MLP, X: Tensor, y: Tensor, Y: Tensor) -> tuple[Tensor, Tensor]:
    """:func:`evaluate` with torch operations, in chunks (any device)."""
    cost = torch.zeros(model.M, dtype=torch.float64, device=X.device)
    correct = torch.zeros(model.M, dtype=torch.int64, device=X.device)
    step = _chunk_size(model)
    for i in range(0, X.shape[0], step):
        zs, acts = model.forward(X[i : i + step])
        cost += model.cost.fn(zs[-1], acts[-1], Y[i : i + step]).double()
        correct += (acts[-1].argmax(dim=-1) == y[i : i + step]).sum(dim=1)
    N = max(X.shape[0], 1)
    return cost / N, correct.double() / N


@torch.no_grad()
def saturation(model: MLP, x: Tensor) -> dict[int, Tensor]:
    """Fraction of saturated ``(example, unit)`` pairs per sigmoid/tanh layer, ``{layer: (M,)}``."""
    zs, _ = model.forward(x)
    out = {}
    for l, z in enumerate(zs):
        threshold = ACTIVATIONS.get(model.layer_activation(l))
        if threshold is not None and threshold.saturation_z is not None:
            out[l] = (z.abs() > threshold.saturation_z).double().mean(dim=(1, 2))
    return out


def penalty(model: MLP, regularizer: Regularizer, n: int) -> Tensor:
    """Total penalty per model ``(M,)`` over every parameter (masks decide which count)."""
    total = torch.zeros(model.M, dtype=torch.float64, device=model.device)
    for l, (W, b) in enumerate(zip(model.weights, model.biases)):
        total += regularizer.penalty(W, Param(l, "weight", n)).double()
        total += regularizer.penalty(b, Param(l, "bias", n)).double()
    return total


@dataclass(frozen=True)
class Monitor:
    """What to measure each epoch.

    Parameters
    ----------
    splits : tuple of str
        Which of ``train``, ``validation``, ``test`` to evaluate (cost and accuracy).
    weights : bool
        Per-layer weight statistics.
    saturation_examples : int
        Size of the fixed batch (the first examples of the validation split, else training) for saturation; 0 = off.
    train : {"exact", "running"}
        How the training split is measured. ``exact``: a pass over it after the epoch, with the
        epoch's final weights (as the book's ``monitor_training_*``). ``running``: the mean over the
        epoch's mini-batches of the cost and accuracy each had just before its step (as Keras and
        Lightning report training metrics), measured by the steps themselves at almost no cost. It
        lags the exact value while the weights still move much within an epoch. Epoch 0 is exact.
        The default is ``running``, here and in ``TrainConfig.monitor_train`` (one knob, one default).
    """

    splits: tuple[str, ...] = ("train", "validation", "test")
    weights: bool = True
    saturation_examples: int = 1000
    train: str = DEFAULT_TRAIN_MEASURE

    def __post_init__(self) -> None:
        if self.train not in TRAIN_MEASURES:
            raise ValueError(f"Monitor.train must be one of {', '.join(TRAIN_MEASURES)}, got {self.train!r}")

    @property
    def running(self) -> bool:
        """Whether the steps should measure the running training cost and accuracy."""
        return self.train == "running" and "train" in self.splits

    @torch.no_grad()
    def __call__(self, model: MLP, data: TensorData, regularizer: Regularizer, n: int,
                 seen: tuple[Tensor, Tensor] | None = None, one_thread: bool = False) -> Record:
        """The record of the models as they are; ``seen`` = (cost sum, correct count), each (M,), over the
        epoch's mini-batches: the running measure of the training split (used when :attr:`running`).
        ``one_thread``: evaluate the splits on the calling thread alone (beside training on another core)."""
        record: Record = {}
        pen = penalty(model, regularizer, n)
        record["penalty"] = pen
        for split in self.splits:
            s = getattr(data, split, None)
            if s is None:
                continue
            if split == "train" and self.running and seen is not None:
                cost, acc = (v.to(pen.device, torch.float64) / len(s) for v in seen)
            else:
                cost, acc = evaluate(model, s.X, s.y, s.Y, one_thread)
            record[f"{split}_cost"] = cost
            record[f"{split}_total_cost"] = cost + pen
            record[f"{split}_accuracy"] = acc
        if self.weights:
            for l, W in enumerate(model.weights):
                for name, value in weight_stats(W).items():
                    record[(name, l)] = value
        if self.saturation_examples:
            probe = data.validation if data.validation is not None else data.train
            for l, value in saturation(model, probe.X[: self.saturation_examples]).items():
                record[("saturation", l)] = value
        return record
