r"""λ schedules: how a regularizer's strength changes during training.

A schedule is a factor ``s(t, r)`` by which the strength a regularizer was built with is multiplied:

.. math::  \lambda_t = s(t, r_t)\,\lambda ,

with ``t = 0, 1, …`` the number of steps done before this one (optimizer steps in the nn.Module
API, :mod:`reglab.module`; epochs in the engine, ``reglab train --lmbda-schedule``, where λ changes
between epochs) and ``r_t = η_t / η_0`` the learning rate's ratio to its initial value (per model in
the engine). Every part of a sum is scaled by the same factor; a constraint's strength is ``1/c``
(:class:`~reglab.engine.regularizers.MaxNorm`'s radius becomes ``c/s``: off while ``s = 0``). The schedules:

=====================  ==================  ===================================================
object                 ``--lmbda-schedule``  ``s(t, r)``
=====================  ==================  ===================================================
:class:`Constant`      ``constant``        ``1``
:class:`Warmup`        ``warmup:K[:R]``    ``0`` for ``t < K``, then a linear ramp to 1 over ``R`` steps
:class:`FollowLR`      ``follow-lr``       ``r``: λ follows the learning rate's schedule
:class:`StepDecay`     ``step:K:G``        ``G^⌊t/K⌋``
:class:`Cosine`        ``cosine[:T[:F]]``  ``F + (1 − F)(1 + cos(π t/T))/2`` for ``t < T``, then ``F``
=====================  ==================  ===================================================

A schedule is a frozen dataclass (its ``repr`` is readable, its :attr:`~Schedule.spec` is the flag's
text); :class:`ScheduledLmbda` applies one to a regularizer. PyTorch has no such thing for
``weight_decay`` (pytorch/pytorch#22343).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from reglab.engine.regularizers import Regularizer
from reglab.errors import ReglabError

Ratio = float | np.ndarray  # η_t / η_0: one value, or one per model (M,)


class Schedule:
    """The factor ``s(t, r)`` of ``λ_t = s(t, r)·λ`` (see the module docstring)."""

    def factor(self, t: int, lr_ratio: Ratio = 1.0) -> Ratio:
        """``s(t, r)``: a float, or one value per model where ``lr_ratio`` has one per model."""
        raise NotImplementedError

    @property
    def spec(self) -> str:
        """The schedule as ``--lmbda-schedule`` writes it."""
        raise NotImplementedError


@dataclass(frozen=True)
class Constant(Schedule):
    """``s = 1``: λ as given, at every step."""

    def factor(self, t: int, lr_ratio: Ratio = 1.0) -> Ratio:
        return 1.0

    @property
    def spec(self) -> str:
        return "constant"



def _check_int(schedule: Schedule, name: str, least: int) -> None:
    """A schedule's integer field ``name`` is an ``int`` (not a bool) ≥ ``least`` (0 or 1), else one line."""
    v = getattr(schedule, name)
    if not isinstance(v, int) or isinstance(v, bool) or v < least:
        what = "a positive integer" if least == 1 else f"an integer ≥ {least}"
        raise ReglabError(f"{type(schedule).__name__} {name} must be {what}, got {v!r}")


def _check_factor(schedule: Schedule, name: str) -> None:
    """A schedule's factor field ``name`` is a finite number ≥ 0, else one line."""
    v = getattr(schedule, name)
    if not (math.isfinite(v) and v >= 0):
        raise ReglabError(f"{type(schedule).__name__} {name} must be a finite number ≥ 0, got {v!r}")

@dataclass(frozen=True)
class Warmup(Schedule):
    """Off for the first ``steps`` steps, then on: ``s = min(1, (t − steps + 1)/ramp)`` for ``t ≥ steps``.

    ``ramp = 0`` (or 1) switches λ on at once; ``ramp = R`` reaches the full λ after ``R`` steps,
    ``1/R`` of it at the first.
    """

    steps: int
    ramp: int = 0

    def __post_init__(self) -> None:
        _check_int(self, "steps", 0)
        _check_int(self, "ramp", 0)

    def factor(self, t: int, lr_ratio: Ratio = 1.0) -> Ratio:
        if t < self.steps:
            return 0.0
        return min(1.0, (t - self.steps + 1) / max(self.ramp, 1))

    @property
    def spec(self) -> str:
        return f"warmup:{self.steps}" + (f":{self.ramp}" if self.ramp else "")


@dataclass(frozen=True)
class FollowLR(Schedule):
    """``s = η_t/η_0``: λ rises and falls with the learning rate (a scheduler's, or the book's halving).

    With decoupled decay ``w ← (1 − η_t λ_t/n) w`` the decay per step then goes as ``η_t²``.
    """

    def factor(self, t: int, lr_ratio: Ratio = 1.0) -> Ratio:
        return lr_ratio

    @property
    def spec(self) -> str:
        return "follow-lr"


@dataclass(frozen=True)
class StepDecay(Schedule):
    """``s = gamma^⌊t/every⌋``: λ multiplied by ``gamma`` every ``every`` steps (``StepLR``'s shape)."""

    every: int
    gamma: float

    def __post_init__(self) -> None:
        _check_int(self, "every", 1)
        _check_factor(self, "gamma")

    def factor(self, t: int, lr_ratio: Ratio = 1.0) -> Ratio:
        return float(self.gamma ** (t // self.every))

    @property
    def spec(self) -> str:
        return f"step:{self.every}:{self.gamma:g}"


@dataclass(frozen=True)
class Cosine(Schedule):
    """``s = final + (1 − final)(1 + cos(π t/total))/2`` for ``t < total``, then ``final``
    (``CosineAnnealingLR``'s shape, from 1 down to ``final``)."""

    total: int
    final: float = 0.0

    def __post_init__(self) -> None:
        _check_int(self, "total", 1)
        _check_factor(self, "final")

    def factor(self, t: int, lr_ratio: Ratio = 1.0) -> Ratio:
        if t >= self.total:
            return self.final
        return self.final + (1.0 - self.final) * 0.5 * (1.0 + math.cos(math.pi * t / self.total))

    @property
    def spec(self) -> str:
        return f"cosine:{self.total}" + (f":{self.final:g}" if self.final else "")


SPECS = ("constant", "warmup:K[:R]", "follow-lr", "step:K:GAMMA", "cosine[:T[:FINAL]]")


def parse_schedule(text: str, horizon: int | None = None) -> Schedule:
    """The schedule ``--lmbda-schedule`` names (see the module docstring); ``cosine`` without ``T`` spans
    ``horizon`` steps (the run's epochs)."""
    name, *args = str(text).strip().split(":")
    try:
        if name == "constant" and not args:
            return Constant()
        if name == "follow-lr" and not args:
            return FollowLR()
        if name == "warmup" and 1 <= len(args) <= 2:
            return Warmup(*(int(a) for a in args))
        if name == "step" and len(args) == 2:
            return StepDecay(int(args[0]), float(args[1]))
        if name == "cosine" and len(args) <= 2:
            if not args:
                if horizon is None:
                    raise ReglabError("--lmbda-schedule cosine needs its length: cosine:T")
                return Cosine(horizon)
            return Cosine(int(args[0]), *(float(a) for a in args[1:]))
    except ValueError:
        pass
    raise ReglabError(f"--lmbda-schedule {text!r} is not one of {', '.join(SPECS)}")


class ScheduledLmbda:
    """A schedule applied to a regularizer: sets the ``λ`` of each of its parts to ``s(t, r)·λ`` (in place).

    The strengths the regularizer had when this was made are the base; :meth:`restore` puts them back.
    """

    def __init__(self, regularizer: Regularizer, schedule: Schedule):
        self.schedule = schedule
        self.leaves = regularizer.leaves()
        self.base = [r.lmbda.clone() for r in self.leaves]
        self.current: np.ndarray | None = None  # the factor applied last

    def apply(self, t: int, lr_ratio: Ratio = 1.0) -> bool:
        """Set ``λ_t``; ``True`` when it changed (the compiled steps then pack it again)."""
        factor = np.asarray(self.schedule.factor(t, lr_ratio), dtype=np.float64).reshape(-1)
        if self.current is not None and np.array_equal(factor, self.current):
            return False
        if not np.isfinite(factor).all() or (factor < 0).any():
            raise ReglabError(f"{self.schedule!r} gave the factor {factor.tolist()} at step {t}: it must be finite and ≥ 0")
        self.current = factor
        f = torch.from_numpy(factor)
        for r, base in zip(self.leaves, self.base):
            r.set_lmbda(r.at_strength(base, f))
        return True

    def restore(self) -> None:
        """The base strengths again."""
        for r, base in zip(self.leaves, self.base):
            r.set_lmbda(base)
        self.current = None
