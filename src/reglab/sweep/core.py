"""``sweep()``: a grid of training runs, packed into chunks, written as it goes, resumable.

The steps: expand the grid into groups and cells (:mod:`~reglab.sweep.grid`),
check every group by building it, plan chunks from the memory available
(:mod:`~reglab.sweep.chunks`, :mod:`~reglab.sweep.memory`), skip the cells the
output folder already holds, train the rest on a backend
(:mod:`~reglab.sweep.backends`), write each chunk as it finishes
(:mod:`~reglab.sweep.store`), and at the end choose λ on every curve
(:mod:`~reglab.sweep.select`), measure the ridge of every η × λ grid
(:mod:`~reglab.sweep.ridge`) and draw them (:mod:`~reglab.sweep.plots`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reglab.config import TrainConfig
from reglab.errors import ReglabError
from reglab.runs.assemble import check, load_data, resolve_device
from reglab.runs.budget import check_memory
from reglab.runs.folder import default_run_dir
from reglab.sweep import plots
from reglab.sweep.backends import make_backend
from reglab.sweep.chunks import Chunk, ChunkOutput, plan
from reglab.sweep.grid import MODEL_AXES, SETTINGS, group_configs, normalize_grid
from reglab.sweep.memory import models_per_chunk
from reglab.sweep.ridge import Grid, grids
from reglab.sweep.select import METRIC, Curve, curves
from reglab.sweep.store import SweepStore


class SweepProgress:
    """Hooks a sweep calls as it goes; these do nothing (the CLI draws progress bars with them)."""

    def begin(self, total: int, done: int, chunks: Sequence[Chunk]) -> None:
        """Before training: ``total`` cells, ``done`` of them already finished, ``chunks`` to train."""

    def chunk_started(self, chunk: Chunk) -> None:
        """A chunk starts training in this process (the local backend only)."""

    def epoch(self, chunk: Chunk, epoch: int, record: dict) -> None:
        """An epoch of ``chunk`` ended; ``record`` maps metrics to arrays (M,) (the local backend only)."""

    def chunk_finished(self, chunk: Chunk, output: ChunkOutput) -> None:
        """A chunk's results are written."""


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C or SIGTERM: the finished chunks are written, the one in training is lost.

    Attributes
    ----------
    out : Path
    done, total : int
        Finished cells and all cells.
    cause : BaseException
        The interruption (``KeyboardInterrupt`` or the CLI's SIGTERM exception).
    """

    def __init__(self, out: Path, done: int, total: int, cause: BaseException):
        super().__init__(f"{done} of {total} cells done in {out}")
        self.out, self.done, self.total, self.cause = out, done, total, cause


@dataclass
class SweepResult:
    """A finished sweep.

    Attributes
    ----------
    out : Path
        The output folder (see :mod:`reglab.sweep.store`).
    rows : list of dict
        One per cell, in grid order: the rows of ``results.csv``.
    curves : list of Curve
        One per setting of everything but λ and seed, each with its :class:`~reglab.sweep.select.Selection`.
    trained, reused : int
        Cells trained by this call, and found finished in ``out``.
    chunks : list of dict
        The chunks this call trained: ``key``, ``models``, ``train_seconds``, ``seconds``, ``host``.
    max_models : list of int
        Models per chunk planned for each group.
    summary : dict
        What ``sweep.json`` holds.
    grids : list of Grid
        Where the sweep spans η × λ: each setting's heatmap of mean validation accuracy and its ridge.
    """

    out: Path
    rows: list[dict]
    curves: list[Curve]
    trained: int
    reused: int
    chunks: list[dict] = field(default_factory=list)
    max_models: list[int] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    grids: list[Grid] = field(default_factory=list)


def check_groups(groups: Iterable[TrainConfig], dataset) -> None:
    """Check every group against the data set and the device, and that one of its models fits in memory, so a
    bad setting fails before hours of training (and before the output folder is touched), not after."""
    for g in groups:
        check_memory(g, check(g, dataset), 1)
        resolve_device(g.device)


def _limits(groups, dataset, backend, max_models: int | None) -> list[int]:
    """Models per chunk for each group: ``max_models``, else from memory, split so every task slot gets work."""
    if max_models is not None:
        return [max_models] * len(groups)
    device = groups[0].device
    budget, cuda = backend.budget(device)
    slots = backend.slots(device)
    total = sum(len(g.models()) for g in groups)
    spread = max(1, math.ceil(total / slots)) if slots > 1 else total
    return [min(spread, models_per_chunk(g, dataset.n_features, dataset.n_classes, budget, cuda)) for g in groups]


def sweep(
    base: TrainConfig,
    grid: Mapping[str, Iterable] | None = None,
    *,
    out: str | Path | None = None,
    max_models: int | None = None,
    backend: str | object = "local",
    progress: SweepProgress | None = None,
    dataset=None,
    plot: bool = True,
    metric: str = METRIC,
) -> SweepResult:
    """Train every cell of ``grid`` around ``base``, resuming from ``out``, and choose λ on every curve.

    Parameters
    ----------
    base : TrainConfig
        Everything the grid does not vary; its ``lmbda``, ``eta`` and ``seeds`` are the model axes unless
        ``grid`` gives ``lmbda`` or ``eta``.
    grid : mapping of field name to values
        Axes over :class:`TrainConfig` fields, e.g. ``{"lmbda": [0.1, 1, 10], "reg": ["l2", "l1-prox"],
        "hidden": [(30,), (100,)], "train_size": [1000, 5000]}``. Fixed for a sweep: data, seed, seeds, folds, device.
    out : path, optional
        Output folder (default ``sweeps/<timestamp>-<data>``). Cells it already holds are not trained again.
    max_models : int, optional
        Models per chunk (one training run); default: from the memory available (:mod:`reglab.sweep.memory`).
        A 32-value λ sweep with ``max_models=32`` is one chunk.
    backend : "local", "ray" or a backend object
        ``"ray"`` means :class:`~reglab.sweep.backends.RayBackend` connected to ``address="auto"``.
    progress : SweepProgress, optional
        Hooks called as the sweep goes (nothing is printed otherwise).
    dataset : reglab.data.Dataset, optional
        The data (loaded once from ``base`` when not given); every chunk shares it.
    plot : bool
        Write the PNG plots.
    metric : str
        The results column that chooses λ (higher is better); a validation column, never a test one.

    Returns
    -------
    SweepResult

    Raises
    ------
    SweepInterrupted
        On Ctrl-C (or the CLI's SIGTERM): the chunks finished so far are written; the same call resumes.
    ReglabError
        On a bad setting, before anything trains.
    """
    if "test" in metric:
        raise ReglabError(f"λ is chosen on validation data, never on the test set; got metric {metric!r}")
    progress = progress or SweepProgress()
    axes = normalize_grid(base, grid)
    extra = tuple(a for a in axes if a not in SETTINGS and a not in MODEL_AXES)
    groups = group_configs(base, axes)
    ds = dataset if dataset is not None else load_data(base)
    check_groups(groups, ds)
    out = Path(out) if out is not None else default_run_dir(ds.name, root="sweeps")
    store = SweepStore(out)
    with store.claim(_digest(groups)), make_backend(backend) as be:
        limits = _limits(groups, ds, be, max_models)
        chunks = plan(groups, limits)
        cells = [c for ch in chunks for c in ch.cells]
        finished = store.finished()
        store.check_kept((c.key for c in cells), finished)
        reused = sum(c.key in finished for c in cells)
        todo = [ch for ch in chunks if any(c.key not in finished for c in ch.cells)]
        summary = _header(base, axes, ds, len(cells), len(chunks), limits, be.name, metric)
        store.write_summary({**summary, "finished": reused})
        progress.begin(len(cells), reused, todo)
        reports = []
        try:
            for chunk, output in be.imap(todo, ds, progress):
                for key, entry in store.save_chunk(chunk, output).items():
                    finished.setdefault(key, entry)
                store.write_results(_rows(cells, finished, extra))
                reports.append({"key": chunk.key, "models": len(chunk), "train_seconds": output.train_seconds,
                                "seconds": output.seconds, "host": output.host})
                progress.chunk_finished(chunk, output)
        except KeyboardInterrupt as exc:
            done = sum(c.key in finished for c in cells)
            store.write_summary({**summary, "status": "interrupted", "finished": done})
            raise SweepInterrupted(out, done, len(cells), exc) from exc
        except Exception:
            store.write_summary({**summary, "status": "failed", "finished": sum(c.key in finished for c in cells)})
            raise
        rows = _rows(cells, finished, extra)
        store.write_results(rows)
        store.write_epochs((c.key for c in cells), finished)
        found = curves(rows, extra, metric)
        heat = grids(found, metric)
        times = store.chunk_times(dict.fromkeys(finished[c.key]["chunk"] for c in cells), trained={r["key"] for r in reports})
        summary.update(status="complete", finished=len(rows), curves=[c.summary() for c in found],
                       heatmaps=[g.summary() for g in heat], train_seconds=sum(t["train_seconds"] for t in times),
                       chunk_times=times)
        store.write_summary(summary)
        if plot:
            plots.write_all(store, found, chance=1.0 / ds.n_classes, grids=heat)
        return SweepResult(out, rows, found, len(rows) - reused, reused, reports, limits, summary, heat)


def _digest(groups: Sequence[TrainConfig]) -> str:
    """A short hash of the grid: its groups' configurations, each with its whole λ × η × seeds."""
    return hashlib.sha256(" ".join(g.digest() for g in groups).encode()).hexdigest()[:10]


def _header(base, axes, ds, cells: int, chunks: int, limits: list[int], backend: str, metric: str) -> dict:
    """The part of ``sweep.json`` known before training."""
    return {
        "status": "running",
        "data": ds.name,
        "n_classes": ds.n_classes,
        "data_record": {"classes": None if getattr(ds, "classes", None) is None else list(ds.classes),
                        "standardization": None if getattr(ds, "standardization", None) is None
                        else ds.standardization.to_dict()},
        "base": base.replace(lmbda=axes["lmbda"], eta=axes["eta"]).to_dict(),
        "grid": {k: [list(v) if isinstance(v, tuple) else v for v in values] for k, values in axes.items()},
        "cells": cells,
        "chunks": chunks,
        "max_models": limits,
        "backend": backend,
        "metric": metric,
    }


def _rows(cells, finished: dict, extra: tuple[str, ...]) -> list[dict]:
    return [{"cell": c.key, **c.settings(extra), **finished[c.key]["metrics"]} for c in cells if c.key in finished]
