r"""The one training loop.

:func:`fit` trains the ``M`` models of an :class:`~reglab.model.MLP` at once.
One step on a mini-batch of size ``m`` (the last of an epoch may be smaller):

1. forward and hand-written backward give the mean data gradient
   ``(1/m) Σ_x ∂C_x/∂θ`` (in buffers reused every step), to which every
   regularizer's ``grad`` is added (coupled: L2, L1 by subgradient, the
   smooth part of elastic net);
2. the optimizer steps with ``η`` per model;
3. every regularizer's ``prox`` is applied with ``step = η`` (decoupled:
   weight decay, soft-thresholding).

The steps of an epoch run as a tensor program or as one compiled call on the
CPU (:mod:`reglab.steps`); both compute the above and are tested equal.

After each epoch the monitor measures (the training split, if it asks for the
running measure, from the cost and accuracy the steps saw just before each step;
see :class:`~reglab.monitors.Monitor`), and callbacks may change ``η`` or stop
models (a stopped model is frozen by ``η = 0`` and keeps its place in the
batch). Where the steps run on one CPU thread and another core is free, the
monitor measures a copy of the weights there while the next epoch trains, and
an epoch trained on a state the callbacks then changed is undone and trained
again (``beside`` of :func:`fit`). A model whose weights or cost become
non-finite is stopped and marked diverged with its epoch; the others go on.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, Sequence

import numpy as np
import torch
from torch import Tensor

from reglab.errors import ReglabError
from reglab.model import MLP
from reglab.monitors import History, Monitor
from reglab.regularizers import NoRegularizer, Regularizer
from reglab.rng import generator
from reglab.steps import make_steps, orders


@dataclass(frozen=True)
class TensorSplit:
    """One split on the training device: ``X`` (N, d), ``y`` (N,) int64 labels, ``Y`` (N, K) one-hot."""

    X: Tensor
    y: Tensor
    Y: Tensor

    @classmethod
    def from_arrays(cls, X, y, n_classes: int, device, dtype) -> "TensorSplit":
        X = torch.as_tensor(np.asarray(X), dtype=dtype, device=device)
        y = torch.as_tensor(np.asarray(y), dtype=torch.int64, device=device)
        Y = torch.nn.functional.one_hot(y, n_classes).to(dtype)
        return cls(X, y, Y)

    def __len__(self) -> int:
        return self.X.shape[0]


def check_train_size(train_size: int, ds) -> None:
    """``train_size`` must pick between 1 and all of the training examples of ``ds``."""
    if not 1 <= train_size <= len(ds.train.y):
        raise ReglabError(f"--train-size {train_size} does not fit the {len(ds.train.y)} training examples of {ds.name}")


@dataclass(frozen=True)
class TensorData:
    """Training, validation and test splits held once on the device, shared by every model."""

    train: TensorSplit
    validation: TensorSplit | None
    test: TensorSplit | None
    n_classes: int

    @classmethod
    def from_dataset(cls, ds, device="cpu", dtype=torch.float32, train_size: int | None = None) -> "TensorData":
        """From a :class:`reglab.data.Dataset`; ``train_size`` keeps the first examples of its training split."""
        X, y = ds.train.X, ds.train.y
        if train_size is not None:
            check_train_size(train_size, ds)
            X, y = X[:train_size], y[:train_size]

        def split(s):
            return None if s is None or len(s.y) == 0 else TensorSplit.from_arrays(s.X, s.y, ds.n_classes, device, dtype)

        return cls(TensorSplit.from_arrays(X, y, ds.n_classes, device, dtype), split(ds.validation), split(ds.test), ds.n_classes)


class RunState:
    """What callbacks may read and change: per-model ``eta`` (M,), who is still training, and why not."""

    def __init__(self, eta: Tensor):
        self.eta = eta  # (M,), views of it feed the optimizer
        self.eta0 = eta.clone()
        M = eta.shape[0]
        self.active = np.ones(M, dtype=bool)
        self.stopped_epoch: list[int | None] = [None] * M
        self.diverged_epoch: list[int | None] = [None] * M

    def stop(self, model: int, epoch: int, diverged: bool = False) -> None:
        if not self.active[model]:
            return
        self.active[model] = False
        self.eta[model] = 0.0
        self.stopped_epoch[model] = epoch
        if diverged:
            self.diverged_epoch[model] = epoch


class Callback(Protocol):
    def __call__(self, epoch: int, record: dict[str, np.ndarray], run: RunState) -> None: ...


def _watched_for_divergence(key: str | tuple) -> bool:
    """The penalty, the training cost and every layer's weight norm ``("l2", layer)``."""
    return key in ("penalty", "train_cost") or (isinstance(key, tuple) and key[0] == "l2")


def stop_diverged(epoch: int, record: dict, run: RunState) -> None:
    """Stop a model whose weights or penalty or cost are no longer finite (always on)."""
    finite = np.ones_like(run.active)
    for key, values in record.items():
        if _watched_for_divergence(key):
            finite &= np.isfinite(values)
    for m in np.flatnonzero(~finite):
        run.stop(int(m), epoch, diverged=True)


@dataclass
class EarlyStopping:
    """Stop a model after ``patience`` epochs without a better ``metric`` (validation accuracy by default)."""

    patience: int
    metric: str = "validation_accuracy"
    best: np.ndarray | None = None
    since: np.ndarray | None = None

    def plateau(self, record: dict) -> np.ndarray:
        """Advance the counters; ``True`` for models that just reached ``patience`` epochs without progress."""
        value = record[self.metric]
        if self.best is None:
            self.best, self.since = value.copy(), np.zeros(len(value), dtype=int)
            return np.zeros(len(value), dtype=bool)
        better = value > self.best
        self.best = np.where(better, value, self.best)
        self.since = np.where(better, 0, self.since + 1)
        return self.since >= self.patience

    def __call__(self, epoch, record, run):
        for m in np.flatnonzero(self.plateau(record)):
            run.stop(int(m), epoch)


@dataclass
class HalvingSchedule(EarlyStopping):
    """The book's schedule: halve ``η`` at each plateau of ``patience`` epochs; stop once ``η < η₀/floor``."""

    floor: float = 128.0

    def __call__(self, epoch, record, run):
        for m in np.flatnonzero(self.plateau(record)):
            run.eta[m] *= 0.5
            self.since[m] = 0
            if run.eta[m] < run.eta0[m] / self.floor:
                run.stop(int(m), epoch)


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run the block with ``n`` torch intra-op threads (``None``: as they are); the setting is restored after."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained models, their history and how each run ended."""

    model: MLP
    history: History
    initial: dict[str, np.ndarray]
    run: RunState
    train_seconds: float
    n: int
    meta: dict = field(default_factory=dict)


def fit(
    model: MLP,
    data: TensorData,
    *,
    epochs: int,
    batch_size: int,
    eta: float | Sequence[float],
    regularizer: Regularizer | None = None,
    optimizer=None,
    order_seeds: Sequence[int] = (0,),
    monitor: Monitor = Monitor(),
    callbacks: Sequence[Callback] = (),
    threads: int | None = 0,
    engine: str = "auto",
    beside: bool | None = None,
) -> FitResult:
    """Train every model of ``model`` in place for up to ``epochs`` epochs and return its history.

    ``eta`` is one value or one per model. ``order_seeds``: one seed (all models share the mini-batch
    order) or one per model. ``n`` of the regularizers is the size of ``data.train``. ``engine``:
    ``auto`` (compiled on the CPU where it applies), ``compiled`` or ``tensor`` (see
    :mod:`reglab.steps`). ``threads``: CPU threads of the steps (0: automatic; ``None``: torch's
    setting).

    ``beside``: measure each epoch's record on another thread while the next epoch trains (``None``:
    where the steps run on one CPU thread and another core is free, as for one model). The callbacks
    then see the record of epoch ``e`` once epoch ``e + 1`` has trained; if they change what trains
    (stop a model, change its ``η``), epoch ``e + 1`` is undone and trained again in the same order.
    The records, the callbacks' calls and the trained weights are those of measuring in turn, bit
    for bit; only the wall-clock time changes. The last epoch is measured in turn.
    """
    from reglab.optim import SGD

    regularizer = regularizer or NoRegularizer()
    optimizer = optimizer or SGD()
    M, n = model.M, len(data.train)
    eta_t = torch.as_tensor(eta, dtype=model.dtype).reshape(-1).to(model.device).expand(M).clone()  # (M,)
    run = RunState(eta_t)
    steps = make_steps(engine, model, regularizer, optimizer, eta_t, n, batch_size, threads)
    beside = steps.leaves_core_idle() if beside is None else beside and model.device.type == "cpu"
    gens = [generator(int(s), "order") for s in order_seeds]
    history, initial = History(), model.numpy_params()
    history.append(0, monitor(model, data, regularizer, n))
    train_seconds = 0.0

    def train(perms: Tensor):
        nonlocal train_seconds
        t0 = time.perf_counter()
        seen = steps.epoch(data.train, perms, running=monitor.running)
        if model.device.type == "cuda":
            torch.cuda.synchronize()
        train_seconds += time.perf_counter() - t0
        return seen

    def settle(epoch: int, record: dict) -> bool:
        """Keep the record of ``epoch`` and call the callbacks; whether they changed what trains."""
        numbers = history.append(epoch, record)
        before = run.active.copy(), run.eta.clone()
        for callback in (stop_diverged, *callbacks):
            callback(epoch, numbers, run)
        return not (np.array_equal(before[0], run.active) and torch.equal(before[1], run.eta))

    pending = None  # (the steps' state after the previous epoch, its record being measured)
    t_loop = time.perf_counter()
    # leaving the block (also by an exception) waits for a record still being measured
    with torch.no_grad(), ThreadPoolExecutor(1, thread_name_prefix="reglab-monitor") as pool:
        for epoch in range(1, epochs + 1):
            perms = orders(n, gens)
            seen = train(perms)
            if pending is not None:
                saved, measuring = pending
                pending = None
                if settle(epoch - 1, measuring.result()):
                    steps.restore(saved)  # this epoch trained on a state the callbacks then changed
                    if not run.active.any():
                        break
                    seen = train(perms)
            if beside and epoch < epochs:
                saved = steps.save()
                pending = saved, pool.submit(monitor, saved.model(model), data, regularizer, n, seen, True)
                continue
            settle(epoch, monitor(model, data, regularizer, n, seen))
            if not run.active.any():
                break
    meta = {"engine": type(steps).__name__, "monitor_beside": beside, "epochs_seconds": time.perf_counter() - t_loop}
    return FitResult(model, history, initial, run, train_seconds, n, meta)
