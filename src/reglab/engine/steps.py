r"""The mini-batch steps of one epoch, in one of two forms that compute the same thing.

:func:`reglab.engine.loop.fit` holds one loop over epochs; inside an epoch it
hands the mini-batch orders to one of these:

* :class:`TensorSteps` — a tensor program per mini-batch (forward, hand-written
  backward, every regularizer's ``add_grad``, the optimizer's ``step``, every
  ``prox``). It runs on any device and trains any regularizer, optimizer and
  cost, including your own.
* :class:`CompiledSteps` — the whole epoch as one compiled call
  (:mod:`reglab.engine.kernel`, through :mod:`reglab.engine.compiled`), on
  the CPU, for the activations, costs and optimizers the kernel has a code for
  and every regularizer with an elementwise form. A step on a
  mini-batch of 10 costs microseconds instead of ~25 framework calls.

``engine="auto"`` takes the compiled form where it applies, else the tensor
form; the tests train every combination both ways and compare. Both count the
steps they take and draw dropout's masks for step ``t`` from the same stream
(:mod:`reglab.engine.dropout`), so they drop the same units.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor

from reglab.engine.compiled import KernelProgram, unsupported
from reglab.engine.compiling import KernelCompiler
from reglab.engine.data import TensorSplit
from reglab.engine.dropout import Dropout
from reglab.engine.model import MLP
from reglab.engine.optim import CompiledOptimizer, Optimizer
from reglab.engine.regularizers import Param, Regularizer
from reglab.engine.threads import auto_threads, torch_threads
from reglab.errors import ReglabError
from reglab.provenance import usable_cores

#: How an epoch's steps run (``make_steps``): compiled where it applies, compiled, or tensor operations.
ENGINES = ("auto", "compiled", "tensor")


@dataclass(frozen=True)
class Saved:
    """The state of the steps between two epochs: copies of the parameters and of the optimizer's state."""

    weights: list[Tensor]  # weights[l] (M, n_out, n_in)
    biases: list[Tensor]  # biases[l] (M, n_out)
    optimizer: Any

    def model(self, like: MLP) -> MLP:
        """The saved parameters as a model shaped like ``like`` (no copy: do not train it)."""
        return MLP(self.weights, self.biases, like.activation, like.cost)


class _Steps:
    """What both forms share: saving and restoring their state, and whether they leave a core idle."""

    model: MLP
    threads: int | None

    def _save_optimizer(self) -> Any:
        raise NotImplementedError

    def _restore_optimizer(self, state: Any) -> None:
        raise NotImplementedError

    def save(self) -> Saved:
        """Copies of the parameters and of the optimizer's state, for :meth:`restore`."""
        return Saved([W.clone() for W in self.model.weights], [b.clone() for b in self.model.biases],
                     self._save_optimizer())

    def restore(self, saved: Saved) -> None:
        """Put the parameters and the optimizer's state back as :meth:`save` found them (in place)."""
        for p, q in zip((*self.model.weights, *self.model.biases), (*saved.weights, *saved.biases)):
            p.copy_(q)
        self._restore_optimizer(saved.optimizer)

    def regularizer_changed(self) -> None:
        """Called after the regularizer's ``λ`` changed between epochs (a λ schedule): the tensor steps read
        it at every step; the compiled steps pack its elementwise form again."""

    def leaves_core_idle(self) -> bool:
        """Whether the steps run on one CPU thread and this process has another core.

        There, measuring a record on one thread beside them (a fifth of a model's epoch of arithmetic
        for validation and test) ends before the next epoch does; beside steps on several threads,
        one thread measuring all their models could take longer than the epoch.
        """
        if self.model.device.type != "cpu" or self.threads != 1:
            return False
        return usable_cores() > 1


def orders(N: int, gens: Sequence[torch.Generator]) -> Tensor:
    """Mini-batch orders of one epoch: ``(P, N)`` int64, one row per generator (P = 1: shared by all models)."""
    return torch.stack([torch.randperm(N, generator=g) for g in gens])


class TensorSteps(_Steps):
    """One epoch of mini-batch steps as tensor operations (any device, any regularizer and optimizer)."""

    def __init__(self, model: MLP, regularizer: Regularizer, optimizer: Optimizer, eta: Tensor, n: int,
                 batch_size: int, threads: int | None, dropout: Dropout | None = None):
        M = model.M
        self.model, self.regularizer, self.optimizer, self.batch_size = model, regularizer, optimizer, batch_size
        self.params = [p for pair in zip(model.weights, model.biases) for p in pair]  # W0, b0, W1, b1, …
        self.infos = [Param(l, kind, n) for l in range(len(model.weights)) for kind in ("weight", "bias")]
        self.etas = [eta.view((M,) + (1,) * (p.dim() - 1)) for p in self.params]  # views: callbacks' changes show
        self.state = optimizer.init(self.params)
        self.grads = [torch.empty_like(p) for p in self.params]  # reused every step
        self.threads = auto_threads(model.device) if threads == 0 else threads
        if dropout is not None:
            dropout.check(M, len(model.weights))
        self.dropout = dropout if dropout is not None and dropout.active else None
        self.t = 0  # the steps so far (the dropout stream's counter)

    def epoch(self, train: TensorSplit, perms: Tensor, running: bool = False) -> tuple[Tensor, Tensor] | None:
        """Steps over ``train`` in the orders ``perms`` (P, N).

        With ``running``, returns each model's data cost summed over the epoch's mini-batches and its
        count of correct predictions, each mini-batch measured just before its step: two (M,) tensors.
        """
        model, reg, params, grads = self.model, self.regularizer, self.params, self.grads
        perms = perms.to(train.X.device)
        batches: Iterable[tuple[Tensor, Tensor]]
        if perms.shape[0] == 1:  # every model sees the same mini-batch: x (m, d)
            order = perms[0]
            batches = zip(torch.split(train.X[order], self.batch_size), torch.split(train.Y[order], self.batch_size))
        else:  # x (M, m, d)
            batches = ((train.X[idx], train.Y[idx]) for idx in torch.split(perms, self.batch_size, dim=1))
        seen = (torch.zeros(model.M, dtype=torch.float64, device=train.X.device),
                torch.zeros(model.M, dtype=torch.int64, device=train.X.device)) if running else None
        widths = model.sizes[:-1]
        with torch_threads(self.threads):
            for x, y in batches:
                self.t += 1
                masks = None if self.dropout is None else self.dropout.masks(self.t, x.shape[-2], widths, x.device, x.dtype)
                zs, acts = model.forward(x, masks)
                if seen is not None:
                    seen[0].add_(model.cost.fn(zs[-1], acts[-1], y))
                    seen[1].add_((acts[-1].argmax(dim=-1) == y.argmax(dim=-1)).sum(dim=-1))
                model.backward(y, zs, acts, grads[0::2], grads[1::2], masks)
                for p, info, g in zip(params, self.infos, grads):
                    reg.add_grad(p, info, g)
                self.optimizer.step(params, grads, self.etas, self.state)
                for p, info, e in zip(params, self.infos, self.etas):
                    new = reg.prox(p, e, info)
                    if new is not p:
                        p.copy_(new)
        return seen

    def _save_optimizer(self) -> Any:
        return copy.deepcopy(self.state), self.t

    def _restore_optimizer(self, state: Any) -> None:
        self.state, self.t = copy.deepcopy(state[0]), state[1]


class CompiledSteps(_Steps):
    """One epoch of mini-batch steps as one compiled call (:class:`~reglab.engine.compiled.KernelProgram`).

    The parameters and the optimizer's state are numpy views of the model's tensors and are updated
    in place. Models train in groups that fit in a core's cache, the groups spread over ``threads``
    cores (0: every core numba sees; never more than there are groups). The threads meet once per
    epoch, not per step (but a lone model's steps split over them, which meet at barriers within each step),
    and each model's numbers are the same whatever the thread count.
    """

    def __init__(self, model: MLP, regularizer: Regularizer, optimizer: CompiledOptimizer, eta: Tensor, n: int,
                 batch_size: int, threads: int | None, dropout: Dropout | None = None,
                 compiler: KernelCompiler | None = None, inputs: np.dtype | None = None):
        self.model = model
        # eta.numpy() is a view: the callbacks' changes to η show in the kernel's arguments
        self.program = KernelProgram(model, regularizer, optimizer, eta.numpy(), n, batch_size, threads, dropout, compiler,
                                     inputs)
        self.regularizer, self.n = regularizer, n
        self.threads = self.program.threads
        self._data: tuple[TensorSplit, np.ndarray, np.ndarray] | None = None

    def epoch(self, train: TensorSplit, perms: Tensor, running: bool = False) -> tuple[Tensor, Tensor] | None:
        """Steps over ``train`` in the orders ``perms`` (P, N); ``running`` as in :meth:`TensorSteps.epoch`."""
        if self._data is None or self._data[0] is not train:
            self._data = (train, train.X.numpy(), train.Y.numpy())
        _, X, Y = self._data
        seen = np.zeros((self.model.M, 2)) if running else None
        self.program.train_epoch(X, Y, perms.numpy(), seen)
        return (torch.from_numpy(seen[:, 0].copy()), torch.from_numpy(seen[:, 1].copy())) if seen is not None else None

    def regularizer_changed(self) -> None:
        self.program.pack_regularizer(self.regularizer, self.n)

    def _save_optimizer(self) -> Any:
        return self.program.save_state()

    def _restore_optimizer(self, state: Any) -> None:
        self.program.restore_state(state)


def make_steps(engine: str, model: MLP, regularizer: Regularizer, optimizer: Optimizer, eta: Tensor, n: int,
               batch_size: int, threads: int | None, dropout: Dropout | None = None,
               compiler: KernelCompiler | None = None, inputs: np.dtype | None = None) -> TensorSteps | CompiledSteps:
    """The steps of ``engine`` (``auto``: compiled where it applies, else tensor); ``dropout`` while training
    (:mod:`reglab.engine.dropout`), or ``None``; ``compiler``: a process for a first run's compilation of the
    kernel (:mod:`reglab.engine.compiling`), handed to the compiled steps (the tensor steps leave it unused);
    ``inputs``: the training inputs' dtype where the compiled steps may read them narrower than the model
    (:class:`~reglab.engine.compiled.KernelProgram`; the tensor steps need the model's)."""
    if engine not in ENGINES:
        raise ReglabError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    reason = unsupported(model, regularizer, optimizer) if engine != "tensor" else "tensor asked for"
    if engine == "compiled" and reason is not None:
        raise ReglabError(f"--engine compiled cannot train this: {reason}")
    if reason is None:  # unsupported() found its kernel_form
        return CompiledSteps(model, regularizer, cast(CompiledOptimizer, optimizer), eta, n, batch_size, threads, dropout,
                             compiler, inputs)
    return TensorSteps(model, regularizer, optimizer, eta, n, batch_size, threads, dropout)
