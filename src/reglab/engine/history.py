"""The records of every epoch, kept as numpy: what :func:`reglab.engine.loop.fit` returns as ``history``.

It imports no torch (the records' tensors arrive already made), so that the
run's figures can be drawn in a process that never loads it
(:mod:`reglab.runs.drawing`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from torch import Tensor

Key = str | tuple[str, int]  # a per-model metric, or (metric, layer)
Numbers = dict[Key, np.ndarray]  # a record as numpy, as History keeps it


@dataclass
class History:
    """Records of every epoch (epoch 0 is the state before training)."""

    epochs: list[int] = field(default_factory=list)
    records: list[Numbers] = field(default_factory=list)

    def append(self, epoch: int, record: dict[Key, Tensor]) -> Numbers:
        """Store ``record`` (tensors are moved to the CPU in one transfer) and return it as numpy."""
        import torch  # the records' type; imported by whoever measured them, so this costs nothing

        keys = list(record)
        stacked = torch.stack([record[k].double() for k in keys]).cpu().numpy() if keys else np.zeros((0, 0))
        rec = {k: stacked[i] for i, k in enumerate(keys)}
        self.epochs.append(epoch)
        self.records.append(rec)
        return rec

    def has(self, metric: str, layer: int | None = None) -> bool:
        key: Key = metric if layer is None else (metric, layer)
        return bool(self.records) and key in self.records[-1]

    def get(self, metric: str, layer: int | None = None) -> np.ndarray:
        """``(E, M)`` values of ``metric`` (of ``layer``) over the recorded epochs (NaN where missing)."""
        key: Key = metric if layer is None else (metric, layer)
        M = len(next(iter(self.records[0].values()))) if self.records and self.records[0] else 0
        return np.array([r.get(key, np.full(M, math.nan)) for r in self.records])

    def layers(self) -> list[int]:
        return sorted({k[1] for r in self.records for k in r if isinstance(k, tuple)})

    def rows(self) -> Iterator[tuple[int, int, int | str, str, float]]:
        """Tidy rows ``(epoch, model, layer, metric, value)``; ``layer`` is ``""`` for per-model metrics."""
        for epoch, rec in zip(self.epochs, self.records):
            for key, values in rec.items():
                metric, layer = (key, "") if isinstance(key, str) else key
                for m, v in enumerate(values):
                    yield epoch, m, layer, metric, float(v)
