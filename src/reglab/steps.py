r"""The mini-batch steps of one epoch, in one of two forms that compute the same thing.

:func:`reglab.train.fit` holds one loop over epochs; inside an epoch it hands
the mini-batch orders to one of these:

* :class:`TensorSteps` — a tensor program per mini-batch (forward, hand-written
  backward, every regularizer's ``add_grad``, the optimizer's ``step``, every
  ``prox``). It runs on any device and trains any regularizer, optimizer and
  cost, including your own.
* :class:`CompiledSteps` — the whole epoch as one compiled call
  (:mod:`reglab.kernel`), on the CPU, for the built-in activations, costs and
  optimizers and every regularizer with an elementwise form. A step on a
  mini-batch of 10 costs microseconds instead of ~25 framework calls.

``engine="auto"`` takes the compiled form where it applies, else the tensor
form; the tests train every combination both ways and compare.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor

from reglab.choices import ENGINES
from reglab.errors import ReglabError
from reglab.model import MLP
from reglab.nn import ACTIVATIONS, COSTS
from reglab.regularizers import Param, Regularizer


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

    def save(self) -> Saved:
        """Copies of the parameters and of the optimizer's state, for :meth:`restore`."""
        return Saved([W.clone() for W in self.model.weights], [b.clone() for b in self.model.biases],
                     self._save_optimizer())

    def restore(self, saved: Saved) -> None:
        """Put the parameters and the optimizer's state back as :meth:`save` found them (in place)."""
        for p, q in zip((*self.model.weights, *self.model.biases), (*saved.weights, *saved.biases)):
            p.copy_(q)
        self._restore_optimizer(saved.optimizer)

    def leaves_core_idle(self) -> bool:
        """Whether the steps run on one CPU thread and this process has another core.

        There, measuring a record on one thread beside them (a fifth of a model's epoch of arithmetic
        for validation and test) ends before the next epoch does; beside steps on several threads,
        one thread measuring all their models could take longer than the epoch.
        """
        if self.model.device.type != "cpu" or self.threads != 1:
            return False
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return cores > 1


def orders(N: int, gens: Sequence[torch.Generator]) -> Tensor:
    """Mini-batch orders of one epoch: ``(P, N)`` int64, one row per generator (P = 1: shared by all models)."""
    return torch.stack([torch.randperm(N, generator=g) for g in gens])


class TensorSteps(_Steps):
    """One epoch of mini-batch steps as tensor operations (any device, any regularizer and optimizer)."""

    def __init__(self, model: MLP, regularizer: Regularizer, optimizer, eta: Tensor, n: int, batch_size: int, threads):
        M = model.M
        self.model, self.regularizer, self.optimizer, self.batch_size = model, regularizer, optimizer, batch_size
        self.params = [p for pair in zip(model.weights, model.biases) for p in pair]  # W0, b0, W1, b1, …
        self.infos = [Param(l, kind, n) for l in range(len(model.weights)) for kind in ("weight", "bias")]
        self.etas = [eta.view((M,) + (1,) * (p.dim() - 1)) for p in self.params]  # views: callbacks' changes show
        self.state = optimizer.init(self.params)
        self.grads = [torch.empty_like(p) for p in self.params]  # reused every step
        self.threads = auto_threads(model) if threads == 0 else threads

    def epoch(self, train, perms: Tensor, running: bool = False) -> tuple[Tensor, Tensor] | None:
        """Steps over ``train`` (a :class:`~reglab.train.TensorSplit`) in the orders ``perms`` (P, N).

        With ``running``, returns each model's data cost summed over the epoch's mini-batches and its
        count of correct predictions, each mini-batch measured just before its step: two (M,) tensors.
        """
        from reglab.train import torch_threads

        model, reg, params, grads = self.model, self.regularizer, self.params, self.grads
        perms = perms.to(train.X.device)
        if perms.shape[0] == 1:  # every model sees the same mini-batch: x (m, d)
            batches = zip(train.X[perms[0]].split(self.batch_size), train.Y[perms[0]].split(self.batch_size))
        else:  # x (M, m, d)
            batches = ((train.X[idx], train.Y[idx]) for idx in perms.split(self.batch_size, dim=1))
        seen = (torch.zeros(model.M, dtype=torch.float64, device=train.X.device),
                torch.zeros(model.M, dtype=torch.int64, device=train.X.device)) if running else None
        with torch_threads(self.threads):
            for x, y in batches:
                zs, acts = model.forward(x)
                if seen is not None:
                    seen[0].add_(model.cost.fn(zs[-1], acts[-1], y))
                    seen[1].add_((acts[-1].argmax(dim=-1) == y.argmax(dim=-1)).sum(dim=-1))
                model.backward(y, zs, acts, grads[0::2], grads[1::2])
                for p, info, g in zip(params, self.infos, grads):
                    reg.add_grad(p, info, g)
                self.optimizer.step(params, grads, self.etas, self.state)
                for p, info, e in zip(params, self.infos, self.etas):
                    new = reg.prox(p, e, info)
                    if new is not p:
                        p.copy_(new)
        return seen

    def _save_optimizer(self):
        return copy.deepcopy(self.state)

    def _restore_optimizer(self, state) -> None:
        self.state = copy.deepcopy(state)


def auto_threads(model: MLP) -> int | None:
    """Torch threads of the tensor path when none are asked for: 1 on the CPU, else ``None``.

    A mini-batch of 10 through ``[784, 30, 10]`` is 2·10⁵ multiply-adds per model: too little to
    share between cores. Even 64 models' products gain at most about 1.5× from a second thread on
    a quiet machine, while on a busy one the threads' spin-waiting made steps 10–180× slower
    (measured here). ``--threads N`` asks for more.
    """
    return 1 if model.device.type == "cpu" else None


def uncompiled(model: MLP) -> str | None:
    """Why the compiled kernel cannot run ``model`` (device, type, activation, cost, numba), or ``None``."""
    if model.device.type != "cpu":
        return f"it runs on the CPU, not on {model.device.type}"
    if model.dtype not in (torch.float32, torch.float64):
        return f"it computes in float32 or float64, not {model.dtype}"
    if ACTIVATIONS.get(model.activation.name) is not model.activation:
        return f"activation {model.activation.name!r} is not a built-in one"
    if type(model.cost) is not COSTS.get(model.cost.name):
        return f"cost {model.cost!r} is not a built-in one"
    if any(not p.is_contiguous() for p in (*model.weights, *model.biases)):
        return "its parameters are not contiguous tensors"
    try:
        import numba  # noqa: F401
    except ImportError:
        return "numba is not installed"
    return None


def check_shapes(model: MLP, X: Tensor, Y: Tensor, what: str) -> None:
    """The compiled kernel reads without bounds checks: ``X`` (N, sizes[0]) and ``Y`` (N, sizes[-1]) in
    the model's dtype, or a one-line error naming what does not fit."""
    sizes = model.sizes
    if X.dim() != 2 or X.shape[1] != sizes[0] or Y.shape != (X.shape[0], sizes[-1]):
        raise ReglabError(f"{what} have shape {tuple(X.shape)} with targets {tuple(Y.shape)}, "
                          f"but the network {sizes} needs (N, {sizes[0]}) and (N, {sizes[-1]})")
    if X.dtype != model.dtype or Y.dtype != model.dtype:
        raise ReglabError(f"{what} are {X.dtype} but the network computes in {model.dtype}")


class CompiledSteps(_Steps):
    """One epoch of mini-batch steps as one compiled call (:func:`reglab.kernel.train_epoch`).

    The parameters and the optimizer's state are numpy views of the model's tensors and are updated
    in place. Models train in groups that fit in a core's cache, the groups spread over ``threads``
    cores (0: every core numba sees; never more than there are groups). The threads meet once per
    epoch, not per step, and each model's numbers are the same whatever the thread count.
    """

    def __init__(self, model: MLP, regularizer: Regularizer, optimizer, eta: Tensor, n: int, batch_size: int, threads):
        from reglab import kernel

        self.kernel, self.model = kernel, model
        M, L = model.M, len(model.weights)
        self.Ws = tuple(W.numpy() for W in model.weights)
        self.bs = tuple(b.numpy() for b in model.biases)
        dt = self.Ws[0].dtype
        self.eta = eta.numpy()  # (M,), a view: the callbacks' changes to η show here
        forms = {kind: [regularizer.elementwise(Param(l, kind, n)) for l in range(L)] for kind in ("weight", "bias")}
        self.reg_w, self.reg_b = (
            np.ascontiguousarray(np.broadcast_to(np.stack(forms[k], axis=1), (M, L, 4)), dtype=dt) for k in ("weight", "bias")
        )
        self.opt, hyper = optimizer.kernel_form()
        self.hyper = np.asarray(hyper, dtype=dt)
        stateful = self.opt != kernel.SGD
        two = self.opt == kernel.ADAM

        def state(p: np.ndarray, used: bool) -> np.ndarray:
            return np.zeros_like(p) if used else np.zeros(p.shape[:-1] + (0,), dt)  # zero width: never read

        self.S1w = tuple(state(W, stateful) for W in self.Ws)
        self.S2w = tuple(state(W, two) for W in self.Ws)
        self.S1b = tuple(state(b, stateful) for b in self.bs)
        self.S2b = tuple(state(b, two) for b in self.bs)
        self.t = 0
        self.act = kernel.ACTIVATION_CODES[model.activation.name]
        self.cost = kernel.COST_CODES[model.cost.name]
        per_model = sum(W[0].nbytes + b[0].nbytes for W, b in zip(self.Ws, self.bs)) * (1 + stateful + two)
        wanted = max(1, kernel.nb.config.NUMBA_NUM_THREADS if threads == 0 else threads or 1)
        # as many models per group as fit GROUP_BYTES, but at least one group per thread
        self.group = int(max(1, min(M, kernel.GROUP_BYTES // max(per_model, 1), -(-M // wanted))))
        self.batch_size, self.threads = batch_size, min(wanted, -(-M // self.group))
        self._data = None

    @staticmethod
    def unsupported(model: MLP, regularizer: Regularizer, optimizer) -> str | None:
        """Why the compiled form cannot train this, or ``None`` when it can."""
        reason = uncompiled(model)
        if reason:
            return reason
        if not hasattr(optimizer, "kernel_form"):
            return f"optimizer {optimizer!r} has no compiled form"
        if any(regularizer.elementwise(Param(l, k, 1)) is None for l in range(len(model.weights)) for k in ("weight", "bias")):
            return f"regularizer {regularizer!r} has no elementwise form"
        return None

    def epoch(self, train, perms: Tensor, running: bool = False) -> tuple[Tensor, Tensor] | None:
        """Steps over ``train`` (a :class:`~reglab.train.TensorSplit`) in the orders ``perms`` (P, N);
        ``running`` as in :meth:`TensorSteps.epoch`."""
        if self._data is None or self._data[0] is not train:
            check_shapes(self.model, train.X, train.Y, "the training data")
            self._data = (train, train.X.numpy(), train.Y.numpy())
        _, X, Y = self._data
        seen = np.zeros((self.model.M if running else 0, 2))
        with self.kernel.threads(self.threads):
            self.t = self.kernel.call(
                self.kernel.train_epoch,
                X, Y, perms.numpy(), self.batch_size, self.Ws, self.bs, self.S1w, self.S2w, self.S1b, self.S2b,
                self.eta, self.reg_w, self.reg_b, self.opt, self.hyper, self.t, self.act, self.cost, self.group, seen,
            )
        return (torch.from_numpy(seen[:, 0].copy()), torch.from_numpy(seen[:, 1].copy())) if running else None

    def _save_optimizer(self):
        return tuple(a.copy() for a in (*self.S1w, *self.S2w, *self.S1b, *self.S2b)), self.t

    def _restore_optimizer(self, state) -> None:
        arrays, self.t = state
        for a, b in zip((*self.S1w, *self.S2w, *self.S1b, *self.S2b), arrays):
            np.copyto(a, b)


def make_steps(engine: str, model: MLP, regularizer: Regularizer, optimizer, eta: Tensor, n: int, batch_size: int,
               threads: int | None):
    """The steps of ``engine`` (``auto``: compiled where it applies, else tensor)."""
    if engine not in ENGINES:
        raise ReglabError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    reason = CompiledSteps.unsupported(model, regularizer, optimizer) if engine != "tensor" else "tensor asked for"
    if engine == "compiled" and reason is not None:
        raise ReglabError(f"--engine compiled cannot train this: {reason}")
    cls = CompiledSteps if reason is None else TensorSteps
    return cls(model, regularizer, optimizer, eta, n, batch_size, threads)
