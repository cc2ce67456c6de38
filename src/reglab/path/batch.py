"""One batch of models of several regularizer kinds, built once from a configuration and trained in steps.

A path's models — every regularizer kind × seed × fold — share the data and the architecture, so they
train as one batch (:func:`reglab.engine.loop.fit`), each with its own λ: the regularizer of a step is
the sum over the kinds of that kind's regularizer, with λ where a model has that kind and 0 elsewhere.
A warm path calls :meth:`Batch.train` once per λ step on the same model tensors: the weights carry over,
the optimizer's state starts afresh, the regularizer is rebuilt with the step's λ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from reglab.config import TrainConfig
from reglab.engine.data import Folds, TensorData
from reglab.engine.loop import Callback, FitResult, fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.optim import make_optimizer
from reglab.engine.regularizers import Param, Regularizer, Sum, make_regularizer
from reglab.errors import ReglabError
from reglab.runs.assemble import TrainResult, check, resolve_device


@dataclass(frozen=True)
class Run:
    """One model of a batch: its regularizer kind, the seed of its initial weights, its fold (or ``None``)."""

    kind: str
    seed: int
    fold: int | None = None


def runs_of(base: TrainConfig, kinds: Sequence[str]) -> list[Run]:
    """Every kind × seed × fold of ``base`` (kind slowest), one model each."""
    one = base.replace(lmbda=(0.0,), eta=base.eta[:1])
    return [Run(kind, int(m["seed"]), None if "fold" not in m else int(m["fold"])) for kind in kinds for m in one.models()]


def _decays_first(r: Regularizer) -> int:
    """0 for a regularizer that decays (its elementwise ``d``), 1 otherwise: decays go first in a sum, so that
    the sum keeps an elementwise form (a threshold then a decay do not commute)."""
    form = r.elementwise(Param(0, "weight", 1))
    return 0 if form is not None and (form[:, 2] != 0).any() else 1


def mixed(kinds: Sequence[str], lmbda: Sequence[float], options: dict) -> Regularizer:
    """The regularizer of a batch whose model ``m`` has kind ``kinds[m]`` at strength ``lmbda[m]``."""
    parts = [make_regularizer(kind, [lam if k == kind else 0.0 for k, lam in zip(kinds, lmbda)], options)
             for kind in dict.fromkeys(kinds)]
    parts.sort(key=_decays_first)
    return parts[0] if len(parts) == 1 else Sum(parts)


def check_batch(base: TrainConfig, ds, kinds: Sequence[str]) -> list[int]:
    """Check ``base`` with every kind against the data set before anything trains; return the layer sizes."""
    if len(base.eta) != 1:
        raise ReglabError(f"a path trains one learning rate; got --eta {' '.join(map(str, base.eta))} "
                          "(reglab sweep covers a grid of η × λ)")
    sizes: list[int] = []
    for kind in dict.fromkeys(kinds):
        if kind == "none":
            raise ReglabError("--reg none has no λ to follow along a path")
        sizes = check(base.replace(reg=kind), ds)
    return sizes


class Batch:
    """The models ``runs`` of ``base`` on the data set ``ds``: data on the device, folds and model built once."""

    def __init__(self, base: TrainConfig, ds, runs: Sequence[Run]):
        self.sizes = check_batch(base, ds, [r.kind for r in runs])
        self.base, self.runs, self.dataset_name = base, list(runs), ds.name
        device = resolve_device(base.device)
        dtype = torch.float64 if base.dtype == "float64" else torch.float32
        self.data = TensorData.from_dataset(ds, device, dtype, base.train_size)
        self.folds = (Folds.split(len(self.data.train), base.folds, base.seed, [r.fold or 0 for r in runs])
                      if base.folds else None)
        self.model = MLP.initialize(self.sizes, seeds=[r.seed for r in runs], init=base.init, activation=base.activation,
                                    cost=base.cost, device=device, dtype=dtype)
        self.kinds = [r.kind for r in runs]

    def regularizer(self, lmbda: Sequence[float]) -> Regularizer:
        return mixed(self.kinds, lmbda, self.base.to_dict())

    def train(self, lmbda: Sequence[float], epochs: int, order_seed: int, monitor: Monitor,
              callbacks: Sequence[Callback] = ()) -> FitResult:
        """Train every model ``epochs`` epochs from its current weights at strengths ``lmbda`` (one per model)."""
        b = self.base
        seeds = [order_seed + r.seed - b.seed for r in self.runs] if b.per_model_order else [order_seed]
        result = fit(self.model, self.data, epochs=epochs, batch_size=b.batch_size, eta=b.eta[0],
                     regularizer=self.regularizer(lmbda), optimizer=make_optimizer(b.optimizer, momentum=b.momentum),
                     order_seeds=seeds, monitor=monitor, callbacks=callbacks, threads=b.threads, engine=b.engine,
                     folds=self.folds)
        result.meta["regularizer"] = repr(self.regularizer(lmbda))
        return result

    def as_run(self, result: FitResult, lmbda: Sequence[float], epochs: int) -> TrainResult:
        """``result`` as a :class:`~reglab.runs.assemble.TrainResult` (what the sweep's summaries read)."""
        models = [{"lmbda": float(lam), "eta": float(self.base.eta[0]), "seed": r.seed, "reg": r.kind,
                   **({} if r.fold is None else {"fold": r.fold})} for r, lam in zip(self.runs, lmbda)]
        return TrainResult(self.base.replace(epochs=epochs), self.dataset_name, self.sizes, models, result)
