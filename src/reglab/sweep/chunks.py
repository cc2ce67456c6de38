r"""Chunks: the cells of a group packed into training runs, and what one run gives back.

A chunk is one :class:`~reglab.config.TrainConfig` whose models
``lmbda × eta × seeds`` are exactly its cells, trained by one call of
:func:`reglab.runs.assemble.train`. Since a configuration's models are always a full
product, a group (all of ``λ × η × seeds``) is cut along ``λ`` first: each
chunk holds some ``λ`` values with every ``η`` and every seed. Only when one
``λ`` alone (``|η| × seeds`` models) exceeds the chunk size is ``η`` cut as
well. Seeds (and folds) are never split: the mini-batch order comes from the
configuration's ``seed``, so splitting them would change the cells.

The plan depends only on the grid and the chunk size, never on which cells are
finished, so a resumed sweep packs exactly as the interrupted one did.
"""

from __future__ import annotations

import hashlib
import math
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reglab.config import TrainConfig
from reglab.engine.monitors import WEIGHT_STATS
from reglab.io import nan_to_none
from reglab.runs.assemble import TrainResult, train
from reglab.runs.summary import summarize
from reglab.sweep.grid import Cell, cells_of, show

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Chunk:
    """One training run of a sweep.

    Attributes
    ----------
    config : TrainConfig
        The run: its ``lmbda × eta × seeds`` models are the cells.
    cells : tuple of Cell
        In the order of ``config.models()`` (λ slowest).
    group : int
        Index of the group it belongs to.
    key : str
        A hash of its cells' keys (names its files).
    """

    config: TrainConfig
    cells: tuple[Cell, ...]
    group: int
    key: str

    @classmethod
    def of(cls, config: TrainConfig, group: int) -> Chunk:
        cells = tuple(cells_of(config))
        key = hashlib.sha256(" ".join(c.key for c in cells).encode()).hexdigest()[:12]
        return cls(config, cells, group, key)

    def __len__(self) -> int:
        return len(self.cells)


def _balanced(values: tuple, parts: int) -> list[tuple]:
    """``values`` cut into ``parts`` consecutive pieces whose lengths differ by at most one."""
    q, r = divmod(len(values), parts)
    cuts = np.cumsum([0] + [q + (i < r) for i in range(parts)])
    return [values[a:b] for a, b in zip(cuts[:-1], cuts[1:])]


def split_group(config: TrainConfig, max_models: int) -> list[TrainConfig]:
    """The group ``config`` as runs of at most ``max_models`` models (more only when ``seeds`` alone exceeds it)."""
    runs = config.seeds * (config.folds or 1)  # the models of one (λ, η): never split
    per_lambda = len(config.eta) * runs
    if per_lambda <= max_models:
        parts = math.ceil(len(config.lmbda) / (max_models // per_lambda))
        return [config.replace(lmbda=part) for part in _balanced(config.lmbda, parts)]
    parts = math.ceil(len(config.eta) / max(1, max_models // runs))
    return [config.replace(lmbda=(lam,), eta=part) for lam in config.lmbda for part in _balanced(config.eta, parts)]


def plan(groups: Sequence[TrainConfig], max_models: int | Sequence[int]) -> list[Chunk]:
    """Every group cut into chunks; ``max_models`` is one number or one per group."""
    limits = [max_models] * len(groups) if isinstance(max_models, int) else list(max_models)
    return [Chunk.of(part, g) for g, (config, limit) in enumerate(zip(groups, limits))
            for part in split_group(config, max(1, int(limit)))]


@dataclass
class ChunkOutput:
    """What training a chunk gives back (small and picklable: it travels back from Ray workers).

    Attributes
    ----------
    metrics : list of dict
        One per cell, in the chunk's order: accuracies, costs, divergence, final layer statistics.
    epochs : list of tuple
        Tidy per-epoch rows ``(cell, epoch, layer, metric, value)``; epoch 0 is before training.
    train_seconds, seconds : float
        Time in the training loop, and in all (data to the device, summary included).
    host : str
        The machine that trained it.
    weights : dict of str to np.ndarray
        The trained parameters ``W0, b0, …`` of its models, ``(M, n_out, n_in)`` and ``(M, n_out)``, in
        the chunk's order (so that a cell can be exported: ``reglab export SWEEP --cell KEY``).
    """

    metrics: list[dict]
    epochs: list[tuple]
    train_seconds: float
    seconds: float
    host: str
    weights: dict[str, np.ndarray] | None = None


def dead_units(weights: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Per hidden layer ``l`` (the outputs of ``weights[l]``, ``l < L − 1``), how many units of each model
    pass nothing on: all their incoming weights, or all their outgoing ones, exactly 0. ``weights[l]`` is
    ``(M, n_out, n_in)``; each count is ``(M,)``."""
    return [((W == 0).all(axis=2) | (V == 0).all(axis=1)).sum(axis=1) for W, V in zip(weights[:-1], weights[1:])]


def cell_metrics(result: TrainResult) -> list[dict]:
    """Per model: final and best accuracy and cost per split, best epoch, divergence, final layer statistics
    (dead units of the hidden layers among them: :func:`dead_units`)."""
    summary, h = summarize(result), result.fit.history
    dead = dead_units([W.detach().cpu().numpy() for W in result.fit.model.weights])
    rows = []
    for m, s in enumerate(summary["models"]):
        row: dict = {}
        for split in SPLITS:
            if not h.has(f"{split}_accuracy"):
                continue
            cost = h.get(f"{split}_cost")[1:, m] if len(h.epochs) > 1 else h.get(f"{split}_cost")[:, m]
            row[f"final_{split}_accuracy"] = s[f"final_{split}_accuracy"]
            row[f"best_{split}_accuracy"] = s[f"best_{split}_accuracy"]
            row[f"final_{split}_cost"] = s[f"final_{split}_cost"]
            row[f"best_{split}_cost"] = nan_to_none(np.nanmin(cost)) if np.isfinite(cost).any() else None
        for key in ("best_epoch", "test_accuracy_at_best", "final_penalty", "diverged", "diverged_epoch",
                    "stopped_epoch", "epochs_trained"):
            row[key] = s.get(key)
        row["n"], row["sizes"] = summary["n"], show(tuple(summary["sizes"]))
        for layer in s["layers"]:
            l = layer["layer"]
            for stat in WEIGHT_STATS:
                row[f"layer{l}_{stat}"] = layer[stat]
            row[f"layer{l}_frac_zeros"] = layer["zeros"] / math.prod(layer["shape"])
            if l < len(dead):
                row[f"layer{l}_dead_units"] = int(dead[l][m])
        rows.append(row)
    return rows


def run_chunk(chunk: Chunk, dataset, callbacks: Sequence = ()) -> ChunkOutput:
    """Train ``chunk`` on ``dataset`` (held once, shared by every chunk) and gather its results."""
    t0 = time.perf_counter()
    result = train(chunk.config, dataset, callbacks=callbacks)
    keys = [c.key for c in chunk.cells]
    epochs = [(keys[m], epoch, layer, metric, value) for epoch, m, layer, metric, value in result.fit.history.rows()]
    return ChunkOutput(cell_metrics(result), epochs, result.fit.train_seconds, time.perf_counter() - t0, platform.node(),
                       _params(result))


def _params(result: TrainResult) -> dict[str, np.ndarray]:
    """The trained parameters in the dtype they trained in (exact: float32 values in float32)."""
    dtype = np.float64 if result.config.dtype == "float64" else np.float32
    return {k: v.astype(dtype) for k, v in result.fit.model.numpy_params().items()}
