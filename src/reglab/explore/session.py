"""One playground run on the engine: the models of a :class:`~reglab.explore.settings.Settings`, trained a
chunk of mini-batches at a time, measured by the engine's monitor.

Nothing here is a second implementation of the math. The pieces are the
ones ``reglab train`` builds from the same :class:`~reglab.config.TrainConfig`
(:func:`reglab.runs.assemble.check`, the registries' ``make_*``,
:meth:`MLP.initialize <reglab.engine.model.MLP.initialize>`), the steps are
:func:`reglab.engine.steps.make_steps`'s, and the mini-batch orders are
:func:`~reglab.engine.fit`'s: one generator ``(seed, "order")``, one
permutation ``(1, N)`` per epoch. The steps train an epoch over an order; a
slice ``perms[:, a:b]`` of whole mini-batches trains just those, so an epoch
trained in chunks is the epoch :func:`~reglab.engine.fit` trains, bit for bit.

A change of η, λ or the regularizer is applied between two chunks: η is the
tensor the steps read at every call; a new λ or regularizer rebuilds the
steps around the same parameters and carries the optimizer's state over
(``save``/``restore``). Each change is an :class:`Event` at the epoch it
happened, so the curves can mark it.

Measuring is the engine's :class:`~reglab.engine.monitors.Monitor` (the
training split by the running measure of the mini-batches trained since the
previous point, the others exactly), on a copy of the models, so that it can
run on another core while training goes on, and every point is kept in an engine
:class:`~reglab.engine.monitors.History` (epochs as fractions), so a point
measured at the end of epoch ``e`` holds the numbers ``reglab train`` records
for epoch ``e``. Models whose numbers stop being finite are stopped, as
:func:`~reglab.engine.fit` stops them.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from reglab.config import TrainConfig
from reglab.data import Dataset
from reglab.engine.data import TensorData
from reglab.engine.history import History, Numbers
from reglab.engine.loop import TrainingState, stop_diverged
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor, Record
from reglab.engine.optim import SGD, make_optimizer
from reglab.engine.regularizers import Regularizer
from reglab.engine.steps import make_steps, orders
from reglab.errors import ReglabError
from reglab.explore.settings import LIMITS, Settings, check_size
from reglab.rng import generator
from reglab.runs.assemble import check, load_data, regularization

#: Points a session keeps, at most (the older half is thinned when there are more).
MAX_POINTS = 5000


@dataclass(frozen=True)
class Taken:
    """The models at ``epoch`` (a copy: training goes on), the regularizer they trained with, and the running
    measure of the training split since the previous point (cost sum and correct count, each (M,), scaled
    to the split's size), or ``None``."""

    epoch: float
    model: MLP
    regularizer: Regularizer
    seen: tuple[Tensor, Tensor] | None


@dataclass(frozen=True)
class Event:
    """A change made while training: at ``epoch`` (a fraction), in words."""

    epoch: float
    text: str


class Session:
    """The models of one :class:`Settings`, their data and steps, where training stands, and what was measured.

    Only one thread uses a session (the worker's).
    """

    def __init__(self, settings: Settings, data_dir: Path, scratch: Path, dataset: Dataset | None = None):
        self.settings = settings
        self.config = settings.config(data_dir, scratch)
        self.dataset = dataset if dataset is not None else load_data(self.config)
        self.sizes = check(self.config, self.dataset)
        check_size(self.sizes)
        self.data = TensorData.from_dataset(self.dataset, "cpu", torch.float32, self.config.train_size)
        self.n = len(self.data.train)
        self.monitor = Monitor(splits=("train", "validation", "test"), train="running")
        self.reset()

    # -- (re)starting ------------------------------------------------------------------------------------
    def reset(self) -> None:
        """New initial weights (the same draw), fresh optimizer state, epoch 0 measured."""
        cfg = self.config
        models = cfg.models()
        self.model = MLP.initialize(self.sizes, seeds=[int(m["seed"]) for m in models], init=cfg.init,
                                    activation=cfg.activation, cost=cfg.cost, device="cpu", dtype=torch.float32)
        self.initial = self.model.numpy_params()
        self.state = TrainingState(torch.tensor([m["eta"] for m in models], dtype=torch.float32))  # eta (M,)
        self.optimizer = make_optimizer(cfg.optimizer, momentum=cfg.momentum)
        self._build_steps()
        self.gens = [generator(cfg.seed, "order")]
        self.perms = orders(self.n, self.gens)  # (1, N): this epoch's order
        self.position = 0  # examples of this epoch trained so far
        self.epochs_done = 0
        self.examples = 0  # examples trained in all
        self.train_seconds = 0.0
        self.history = History()
        self.events: list[Event] = []
        self._seen = torch.zeros(2, self.model.M, dtype=torch.float64)  # (cost sum, correct) since the last point
        self._seen_count = 0
        self.measure()

    def _build_steps(self) -> None:
        cfg = self.config
        self.regularizer, dropout = regularization(cfg, layers=len(self.sizes) - 1)
        self.steps = make_steps(cfg.engine, self.model, self.regularizer, self.optimizer, self.state.eta, self.n,
                                cfg.batch_size, cfg.threads, dropout if dropout.active else None)

    # -- where training stands ---------------------------------------------------------------------------
    @property
    def epoch(self) -> float:
        """Epochs trained, as a fraction (2.5: two epochs and half of the third)."""
        return self.epochs_done + self.position / self.n

    @property
    def models(self) -> list[dict[str, float]]:
        """One dict per column: ``lmbda``, ``eta`` (as training now uses them), ``seed``."""
        return [dict(m, eta=float(e)) for m, e in zip(self.config.models(), self.state.eta0)]

    def at_limit(self) -> bool:
        return self.epoch >= LIMITS["epochs"] or not self.state.active.any()

    # -- training ------------------------------------------------------------------------------------------
    def train(self, examples: int) -> int:
        """Train the next whole mini-batches, about ``examples`` examples (at least one mini-batch, never past
        the end of the epoch); return how many examples were trained."""
        m = self.config.batch_size
        a = self.position
        b = min(self.n, a + max(1, round(examples / m)) * m)
        t0 = time.perf_counter()
        seen = self.steps.epoch(self.data.train, self.perms[:, a:b].contiguous(), running=True)
        self.train_seconds += time.perf_counter() - t0
        assert seen is not None  # running=True
        self._seen[0] += seen[0].double()
        self._seen[1] += seen[1].double()
        self._seen_count += b - a
        self.examples += b - a
        self.position = b
        if b == self.n:
            self.epochs_done += 1
            self.position = 0
            self.perms = orders(self.n, self.gens)
        return b - a

    def take(self) -> Taken:
        """A copy of the models as they are, with the running measure since the previous point: what
        :meth:`record` measures, on any thread, while training goes on."""
        seen = None
        if self._seen_count:  # the running measure since the last point, scaled as Monitor scales an epoch's
            scale = self.n / self._seen_count
            seen = (self._seen[0] * scale, self._seen[1] * scale)
        self._seen = torch.zeros_like(self._seen)
        self._seen_count = 0
        return Taken(self.epoch, self.steps.save().model(self.model), self.regularizer, seen)

    def record(self, taken: Taken, one_thread: bool = False) -> Record:
        """The engine monitor's record of ``taken``, evaluated on every core, or with ``one_thread`` on the
        calling thread alone (beside training on another core); the numbers are the same either way, bit for
        bit. Reads the session's data only."""
        return self.monitor(taken.model, self.data, taken.regularizer, self.n, taken.seen, one_thread=one_thread)

    def keep(self, taken: Taken, record: Record) -> Numbers:
        """Keep ``record`` as the point at ``taken.epoch`` (points are kept in the order taken) and stop the
        models it shows diverged, as :func:`~reglab.engine.fit` does."""
        numbers = self.history.append(taken.epoch, record)  # type: ignore[arg-type]  # a fractional epoch
        stop_diverged(taken.epoch, numbers, self.state)  # type: ignore[arg-type]
        if len(self.history.epochs) > MAX_POINTS:
            self._thin()
        return numbers

    def _thin(self) -> None:
        """Drop every other point of the older half (epoch 0 stays): a long run's memory stays bounded."""
        h, half = self.history, len(self.history.epochs) // 2
        keep = [i for i in range(len(h.epochs)) if i >= half or i % 2 == 0]
        h.epochs[:] = [h.epochs[i] for i in keep]
        h.records[:] = [h.records[i] for i in keep]

    def measure(self) -> Numbers:
        """Measure the models as they are and keep the point: :meth:`take`, :meth:`record`, :meth:`keep`."""
        taken = self.take()
        return self.keep(taken, self.record(taken))

    # -- changes between mini-batches ---------------------------------------------------------------------
    def change(self, *, lmbda: list[float] | None = None, eta: float | None = None, reg: str | None = None,
               l1_ratio: float | None = None) -> Event | None:
        """Apply new λ values (one per column), η, regularizer or elastic-net ratio from the next mini-batch on.

        The values are checked by the CLI's rules first; nothing changes when one is refused. Returns the
        event, or ``None`` when the values are those training already uses.
        """
        changes: dict = {}
        if lmbda is not None:
            if len(lmbda) != self.model.M:
                raise ReglabError(f"{len(lmbda)} λ values for {self.model.M} columns: a new number of columns "
                                  "needs a reset")
            changes["lmbda"] = tuple(lmbda)
        if eta is not None:
            changes["eta"] = (eta,)
        if reg is not None:
            changes["reg"] = reg
        if l1_ratio is not None:
            changes["l1_ratio"] = l1_ratio
        config = self.config.replace(**changes)  # TrainConfig.validate: the CLI's messages
        check(config, self.dataset)
        words = _describe(self.config, config)
        if not words:
            return None
        old, self.config = self.config, config
        self.settings = dataclasses.replace(self.settings, **{k: (v[0] if k == "eta" else v) for k, v in changes.items()})
        if eta is not None:
            self.state.eta0.fill_(eta)
            self.state.eta.copy_(torch.where(torch.from_numpy(self.state.active), self.state.eta0, 0.0))
        if (old.lmbda, old.reg, old.l1_ratio) != (config.lmbda, config.reg, config.l1_ratio):
            saved, kind = self.steps.save(), type(self.steps)
            self._build_steps()
            if type(self.steps) is kind:
                self.steps.restore(saved)
            elif not (isinstance(self.optimizer, SGD) and not self.optimizer.momentum):
                self.config = old
                self._build_steps()
                self.steps.restore(saved)
                raise ReglabError(f"{config.reg} trains on other steps than {old.reg}: the optimizer's state cannot "
                                  "follow; press reset")
        event = Event(self.epoch, words)
        self.events.append(event)
        return event


def _describe(old: TrainConfig, new: TrainConfig) -> str:
    """``λ 0.1 → 1, 3 → 3; reg l2 → l1-prox`` for what differs between two configurations."""
    parts = []
    if old.lmbda != new.lmbda:
        parts.append("λ " + ", ".join(f"{a:g}→{b:g}" if a != b else f"{a:g}" for a, b in zip(old.lmbda, new.lmbda)))
    if old.eta != new.eta:
        parts.append(f"η {old.eta[0]:g}→{new.eta[0]:g}")
    if old.reg != new.reg:
        parts.append(f"reg {old.reg}→{new.reg}")
    if old.l1_ratio != new.l1_ratio and new.reg == "elastic":
        parts.append(f"l1_ratio {old.l1_ratio:g}→{new.l1_ratio:g}")
    return "; ".join(parts)
