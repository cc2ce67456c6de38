r"""The one training loop.

:func:`fit` trains the ``M`` models of an :class:`~reglab.engine.model.MLP` at once.
One step on a mini-batch of size ``m`` (the last of an epoch may be smaller):

1. forward and hand-written backward give the mean data gradient
   ``(1/m) Σ_x ∂C_x/∂θ`` (in buffers reused every step), to which every
   regularizer's ``grad`` is added (coupled: L2, L1 by subgradient, the
   smooth part of elastic net);
2. the optimizer steps with ``η`` per model;
3. every regularizer's ``prox`` is applied with ``step = η`` (decoupled:
   weight decay, soft-thresholding).

The steps of an epoch run as a tensor program or as one compiled call on the
CPU (:mod:`reglab.engine.steps`); both compute the above and are tested equal.

After each epoch the monitor measures (the training split, if it asks for the
running measure, from the cost and accuracy the steps saw just before each step;
see :class:`~reglab.engine.monitors.Monitor`), and callbacks may change ``η``
or stop models (a stopped model is frozen by ``η = 0`` and keeps its place in
the batch). When the record is measured is the job of a small schedule:
:class:`InTurn` measures after each epoch; :class:`Beside`, where the steps run
on one CPU thread and another core is free, measures a copy of the weights
there while the next epoch trains, and undoes and trains again an epoch
trained on a state the callbacks then changed (``beside`` of :func:`fit`). A model whose weights or cost become
non-finite is stopped and marked diverged with its epoch; the others go on.

With :class:`~reglab.engine.data.Folds` (k-fold cross-validation), each model trains in its own order over its
own fold's training rows, and its training and validation splits in the record are its fold's: validation is
measured on the rows it never trained on (:func:`fold_record`); the test split is measured as usual.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from reglab.data.augment import Augment
from reglab.engine.compiling import KernelCompiler
from reglab.engine.data import Folds, TensorData, TensorSplit
from reglab.engine.dropout import Dropout
from reglab.engine.history import History, Numbers
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor, Record, evaluate
from reglab.engine.optim import SGD, Optimizer
from reglab.engine.regularizers import NoRegularizer, Regularizer
from reglab.engine.schedules import Schedule, ScheduledLmbda
from reglab.engine.steps import CompiledSteps, Saved, TensorSteps, make_steps, orders
from reglab.errors import ReglabError
from reglab.rng import generator


class TrainingState:
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
    """Called after every epoch with its record (numbers, each (M,)); may stop models or change their ``η``."""

    def __call__(self, epoch: int, record: Numbers, state: TrainingState, /) -> None: ...


def _watched_for_divergence(key: str | tuple[str, int]) -> bool:
    """The penalty, the training cost and every layer's weight norm ``("l2", layer)``."""
    return key in ("penalty", "train_cost") or (isinstance(key, tuple) and key[0] == "l2")


def stop_diverged(epoch: int, record: Numbers, state: TrainingState) -> None:
    """Stop a model whose weights or penalty or cost are no longer finite (always on)."""
    finite = np.ones_like(state.active)
    for key, values in record.items():
        if _watched_for_divergence(key):
            finite &= np.isfinite(values)
    for m in np.flatnonzero(~finite):
        state.stop(int(m), epoch, diverged=True)


@dataclass
class EarlyStopping:
    """Stop a model after ``patience`` epochs without a better ``metric`` (validation accuracy by default)."""

    patience: int
    metric: str = "validation_accuracy"
    best: np.ndarray | None = None
    since: np.ndarray | None = None

    def plateau(self, record: Numbers) -> np.ndarray:
        """Advance the counters; ``True`` for models that just reached ``patience`` epochs without progress."""
        value = record[self.metric]
        if self.best is None or self.since is None:
            self.best, self.since = value.copy(), np.zeros(len(value), dtype=int)
            return np.zeros(len(value), dtype=bool)
        better = value > self.best
        self.best = np.where(better, value, self.best)
        self.since = np.where(better, 0, self.since + 1)
        return self.since >= self.patience

    def __call__(self, epoch: int, record: Numbers, state: TrainingState) -> None:
        for m in np.flatnonzero(self.plateau(record)):
            state.stop(int(m), epoch)


@dataclass
class HalvingSchedule(EarlyStopping):
    """The book's schedule: halve ``η`` at each plateau of ``patience`` epochs; stop once ``η < η₀/floor``."""

    floor: float = 128.0

    def __call__(self, epoch: int, record: Numbers, state: TrainingState) -> None:
        for m in np.flatnonzero(self.plateau(record)):
            state.eta[m] *= 0.5
            assert self.since is not None
            self.since[m] = 0
            if state.eta[m] < state.eta0[m] / self.floor:
                state.stop(int(m), epoch)


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained models, their history and how each model's training ended."""

    model: MLP
    history: History
    initial: dict[str, np.ndarray]
    state: TrainingState
    train_seconds: float
    n: int
    meta: dict[str, Any] = field(default_factory=dict)


Seen = tuple[Tensor, Tensor] | None  # the running measure of an epoch: (cost sum, correct count), each (M,)
Measure = Callable[[MLP, Seen, bool], Record]  # (model, seen, on one thread) → the record
Settle = Callable[[int, Record], bool]  # keep an epoch's record, call the callbacks: did they change what trains?


class InTurn:
    """Measure each epoch's record after it, then call back: the plain schedule."""

    def __init__(self, model: MLP, measure: Measure, settle: Settle):
        self.model, self.measure, self.settle = model, measure, settle

    def __enter__(self) -> InTurn:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def epoch(self, epoch: int, train: Callable[[], Seen], last: bool) -> None:
        """Train epoch ``epoch``, measure it and settle its record."""
        self.settle(epoch, self.measure(self.model, train(), False))


class Beside(InTurn):
    """Measure epoch ``e``'s record on another thread while epoch ``e + 1`` trains.

    At the end of epoch ``e`` the steps save their state (copies of the parameters and of the
    optimizer's state) and a worker thread measures the copy on one thread (the compiled evaluation
    does not hold Python's lock). The record is settled once epoch ``e + 1`` has trained; if the
    callbacks then changed what trains (stopped a model, changed its ``η``), epoch ``e + 1`` is undone
    and trained again in the same order. So the records, the callbacks' calls and the weights are
    those of :class:`InTurn`, bit for bit; only the wall-clock time changes. The last epoch is
    measured in turn. Leaving the ``with`` block (also by an exception) waits for a record still
    being measured: a one-worker pool cannot cancel one it has started.
    """

    def __init__(self, model: MLP, measure: Measure, settle: Settle, steps: TensorSteps | CompiledSteps,
                 active: np.ndarray):
        super().__init__(model, measure, settle)
        self.steps, self.active = steps, active
        self.pending: tuple[Saved, Future[Record]] | None = None
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="reglab-monitor")

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True)

    def epoch(self, epoch: int, train: Callable[[], Seen], last: bool) -> None:
        seen = train()
        if self.pending is not None:
            saved, measuring = self.pending
            self.pending = None
            if self.settle(epoch - 1, measuring.result()):
                self.steps.restore(saved)  # this epoch trained on a state the callbacks then changed
                if not self.active.any():
                    return
                seen = train()
        if last:
            self.settle(epoch, self.measure(self.model, seen, False))
            return
        saved = self.steps.save()
        self.pending = saved, self.pool.submit(self.measure, saved.model(self.model), seen, True)


def fold_record(monitor: Monitor, model: MLP, data: TensorData, folds: Folds, held_out: Sequence[TensorSplit],
                regularizer: Regularizer, seen: Seen, one_thread: bool) -> Record:
    """``monitor``'s record of ``model`` where each model's training and validation splits are its fold's:
    validation on ``held_out[f]`` (the rows of fold ``f``, gathered once), training on the other rows
    (the running measure over its ``L`` rows per epoch, or a pass over them with ``exact``)."""
    shared = dataclasses.replace(monitor, splits=tuple(s for s in monitor.splits if s not in ("train", "validation")))
    record = shared(model, data, regularizer, folds.size, None, one_thread)
    pen = record["penalty"]
    for split in ("train", "validation"):
        if split not in monitor.splits:
            continue
        if split == "train" and monitor.running and seen is not None:
            cost, acc = (v.to(pen.device, torch.float64) / folds.size for v in seen)
        else:
            cost, acc = torch.zeros_like(pen), torch.zeros_like(pen)
            for f in range(folds.k):
                ms = folds.models(f).to(model.device)
                if len(ms) == 0:
                    continue
                if split == "validation":
                    rows = held_out[f]
                else:
                    idx = folds.train_rows(f).to(model.device)
                    rows = TensorSplit(data.train.X[idx], data.train.y[idx], data.train.Y[idx])
                sub = MLP([W[ms] for W in model.weights], [b[ms] for b in model.biases], model.activation, model.cost)
                cost[ms], acc[ms] = (v.to(pen.device, torch.float64) for v in evaluate(sub, rows.X, rows.y, rows.Y, one_thread))
        record[f"{split}_cost"], record[f"{split}_total_cost"], record[f"{split}_accuracy"] = cost, cost + pen, acc
    return record


def fit(
    model: MLP,
    data: TensorData,
    *,
    epochs: int,
    batch_size: int,
    eta: float | Sequence[float],
    regularizer: Regularizer | None = None,
    optimizer: Optimizer | None = None,
    order_seeds: Sequence[int] = (0,),
    monitor: Monitor | None = None,
    callbacks: Sequence[Callback] = (),
    threads: int | None = 0,
    engine: str = "auto",
    beside: bool | None = None,
    dropout: Dropout | None = None,
    augment: Augment | None = None,
    lmbda_schedule: Schedule | None = None,
    folds: Folds | None = None,
    compiler: KernelCompiler | None = None,
) -> FitResult:
    """Train every model of ``model`` in place for up to ``epochs`` epochs and return its history.

    ``eta`` is one value or one per model. ``order_seeds``: one seed (all models share the mini-batch
    order) or one per model. ``n`` of the regularizers is the size of ``data.train``. ``monitor``:
    what each epoch's record holds (default :class:`Monitor`). ``engine``: ``auto`` (compiled on the
    CPU where it applies), ``compiled`` or ``tensor`` (see :mod:`reglab.engine.steps`). ``threads``:
    CPU threads of the steps (0: automatic; ``None``: torch's setting). ``dropout``: the rates of each layer's
    input and the models' seeds (:class:`~reglab.engine.dropout.Dropout`), applied while training only.
    ``augment``: before every epoch the training images are transformed afresh
    (:class:`~reglab.data.augment.Augment`) into one buffer the steps train on, drawn from the stream
    ``(order_seeds[0], "augment")`` shared by the models, as their mini-batch order is (one order seed only);
    the monitor measures the training split as it is.

    ``beside``: measure each epoch's record on another thread while the next epoch trains
    (:class:`Beside`; ``None``: where the steps run on one CPU thread and another core is free, as for
    one model). The records, the callbacks' calls and the trained weights are those of measuring in
    turn, bit for bit; only the wall-clock time changes.

    ``lmbda_schedule``: λ of epoch ``e`` is ``s(e − 1, η/η₀)·λ`` (:mod:`reglab.engine.schedules`), set before
    the epoch trains (and before the record of epoch 0); records are then measured in turn, and the
    regularizer has its own λ again when ``fit`` returns.

    ``folds``: k-fold cross-validation (:class:`~reglab.engine.data.Folds`, one fold per model): each model
    trains in its own order (from ``order_seeds``, one seed or one per model) over its fold's training rows,
    ``n`` is their number ``L``, and the record's training and validation splits are the model's fold's.

    ``compiler``: a process for a first run's compilation of the kernel, started early by the caller
    (:class:`~reglab.engine.compiling.KernelCompiler`; ``None``: the compiled steps start one when needed).
    """
    regularizer, optimizer, monitor = regularizer or NoRegularizer(), optimizer or SGD(), monitor or Monitor()
    M, n = model.M, len(data.train) if folds is None else folds.size
    if folds is not None and (len(folds.fold) != M or folds.rows != len(data.train)):
        raise ReglabError(f"the folds name {len(folds.fold)} models over {folds.rows} rows; "
                          f"training has {M} models and {len(data.train)} rows")
    eta_t = torch.as_tensor(eta, dtype=model.dtype).reshape(-1).to(model.device).expand(M).clone()  # (M,)
    state = TrainingState(eta_t)
    scheduled = ScheduledLmbda(regularizer, lmbda_schedule) if lmbda_schedule is not None else None

    def lr_ratio() -> np.ndarray:
        eta, eta0 = state.eta.double().cpu().numpy(), state.eta0.double().cpu().numpy()
        ratio: np.ndarray = np.divide(eta, eta0, out=np.ones_like(eta), where=eta0 != 0)
        return ratio

    if scheduled is not None:
        scheduled.apply(0, lr_ratio())
    steps = make_steps(engine, model, regularizer, optimizer, eta_t, n, batch_size, threads, dropout, compiler)
    beside = steps.leaves_core_idle() if beside is None else beside and model.device.type == "cpu"
    beside = beside and scheduled is None  # the records' penalty is measured with the λ of their epoch
    seeds = list(order_seeds) * (M if folds is not None and len(order_seeds) == 1 else 1)  # folds: one order per model
    gens = [generator(int(s), "order") for s in seeds]
    history, initial, seconds = History(), model.numpy_params(), [0.0]
    train_split = data.train
    if augment:
        if len(order_seeds) > 1:
            raise ReglabError("augmentation draws one transformation of the data per epoch, shared by the models: "
                              "give one order seed")
        augment_gen = generator(int(order_seeds[0]), "augment")
        train_split = TensorSplit(data.train.X.clone(), data.train.y, data.train.Y)  # overwritten every epoch
    held_out = [] if folds is None else [
        TensorSplit(data.train.X[h], data.train.y[h], data.train.Y[h]) for h in (h.to(model.device) for h in folds.held_out)]

    def measure(at: MLP, seen: Seen, one_thread: bool) -> Record:
        if folds is None:
            return monitor(at, data, regularizer, n, seen, one_thread)
        return fold_record(monitor, at, data, folds, held_out, regularizer, seen, one_thread)

    def train(epoch: int, perms: Tensor) -> Seen:
        if scheduled is not None and scheduled.apply(epoch - 1, lr_ratio()):
            steps.regularizer_changed()
        t0 = time.perf_counter()
        seen = steps.epoch(train_split, perms, running=monitor.running)
        if model.device.type == "cuda":
            torch.cuda.synchronize()
        seconds[0] += time.perf_counter() - t0
        return seen

    def settle(epoch: int, record: Record) -> bool:
        numbers = history.append(epoch, record)
        before = state.active.copy(), state.eta.clone()
        for callback in (stop_diverged, *callbacks):
            callback(epoch, numbers, state)
        return not (np.array_equal(before[0], state.active) and torch.equal(before[1], state.eta))

    history.append(0, measure(model, None, False))
    schedule = Beside(model, measure, settle, steps, state.active) if beside else InTurn(model, measure, settle)
    t_loop = time.perf_counter()
    try:
        with torch.no_grad(), schedule:
            for epoch in range(1, epochs + 1):
                perms = orders(n, gens) if folds is None else folds.orders(gens)
                if augment:
                    augment(data.train.X, augment_gen, train_split.X)
                schedule.epoch(epoch, partial(train, epoch, perms), last=epoch == epochs)
                if not state.active.any():
                    break
    finally:
        if scheduled is not None:
            scheduled.restore()
    meta = {"engine": type(steps).__name__, "monitor_beside": beside, "epochs_seconds": time.perf_counter() - t_loop}
    return FitResult(model, history, initial, state, seconds[0], n, meta)
