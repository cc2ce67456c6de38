"""A sweep's output folder: every file written atomically, finished chunks kept as the record to resume from.

::

    <out>/
        sweep.json                 base configuration, grid, plan, progress; at the end the λ chosen per curve
                                   and the training time (``train_seconds``, ``chunk_times``)
        results.csv                one row per finished cell, in grid order (rewritten after every chunk)
        epochs.csv                 tidy per-epoch metrics of every finished cell: cell, epoch, layer, metric, value
        curve_<settings>.png       validation curve, weight norms, zeros (L1) against λ, per curve
        validation_curves.png      every curve's validation accuracy in one plot (when there are several)
        chunks/<key>.json          a finished chunk: its configuration and its cells' results
        chunks/<key>.epochs.csv    that chunk's per-epoch metrics
        chunks/<key>.weights.npz   its models' trained parameters (``reglab export SWEEP --cell KEY``)

        .reglab.json               the marker: reglab's own folder, written by ``sweep`` (:mod:`reglab.outdir`)

A chunk's ``.json`` is written last, after its ``.epochs.csv`` and ``.weights.npz``: its presence
marks the chunk finished, and resuming reads nothing else. A process killed at
any moment leaves whole files only (:func:`reglab.io.atomic_open`), so it loses
at most the chunk it was training.

The folder is held by one sweep at a time (:meth:`SweepStore.claim`: a new or empty folder, or one a
sweep wrote; a second sweep on it is refused while the first runs). The temporary files a killed sweep
left are removed by their exact names, never a file of the user's; and a sweep whose grid leaves out
cells the folder already holds is refused, since rewriting ``results.csv`` would drop their rows.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Collection, Iterable
from pathlib import Path

import numpy as np

from reglab.engine.nn import get_cost
from reglab.errors import ReglabError, shown
from reglab.io import atomic_open, finite_or_none, save_figure, save_npz, write_json
from reglab.outdir import Claim, claim
from reglab.runs.export import TrainedModel, from_arrays
from reglab.sweep.chunks import Chunk, ChunkOutput

EPOCH_COLUMNS = ("cell", "epoch", "layer", "metric", "value")


class SweepStore:
    """Reads and writes the folder ``out`` (see the module docstring)."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.chunk_dir = self.out / "chunks"

    # -- holding the folder -----------------------------------------------------------------------
    def claim(self, grid_digest: str) -> Claim:
        """Hold the folder for this sweep (:func:`reglab.outdir.claim`, command ``sweep``) and remove the temporary
        files a killed sweep left there; use it as a context manager around the whole sweep."""
        held = claim(self.out, "sweep", grid_digest)
        held.remove_orphans("chunks")
        return held

    def check_kept(self, cells: Iterable[str], finished: dict[str, dict]) -> None:
        """Refuse a grid that leaves out cells the folder holds: ``results.csv`` would lose their rows."""
        left_out = set(finished) - set(cells)
        if left_out:
            raise ReglabError(f"{shown(self.out)} holds {len(left_out)} finished cell(s) of another grid (see its "
                              "sweep.json), whose rows this grid would drop from results.csv; give a grid that includes "
                              "them, or another --out")

    # -- the record of finished chunks -----------------------------------------------------------

    def finished(self) -> dict[str, dict]:
        """``{cell key: {"chunk": key, "metrics": {...}}}`` of every finished cell; the earliest chunk wins."""
        records = []
        for path in self.chunk_dir.glob("*.json"):
            try:
                records.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # not one of ours: ignored, its cells train again
        done: dict[str, dict] = {}
        for rec in sorted(records, key=lambda r: r.get("finished_at", 0.0)):
            for cell in rec.get("cells", []):
                done.setdefault(cell["cell"], {"chunk": rec["chunk"], "metrics": cell["metrics"]})
        return done

    def chunk_times(self, keys: Iterable[str], trained: Collection[str] = ()) -> list[dict]:
        """Per finished chunk of ``keys``: ``chunk``, ``models``, ``train_seconds`` (in the training loop), ``seconds``
        (in all), ``host``, and ``reused`` (finished before this call: not in ``trained``), from its record."""
        times = []
        for key in keys:
            rec = json.loads((self.chunk_dir / f"{key}.json").read_text())
            times.append({"chunk": key, "models": len(rec["cells"]), "train_seconds": rec["train_seconds"],
                          "seconds": rec["seconds"], "host": rec["host"], "reused": key not in trained})
        return times

    def save_chunk(self, chunk: Chunk, output: ChunkOutput) -> dict[str, dict]:
        """Write a finished chunk (per-epoch metrics first, then its record) and return its cells as :meth:`finished` would."""
        with atomic_open(self.chunk_dir / f"{chunk.key}.epochs.csv", "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(EPOCH_COLUMNS)
            w.writerows((*row[:4], repr(row[4])) for row in output.epochs)
        if output.weights is not None:
            save_npz(self.chunk_dir / f"{chunk.key}.weights.npz", output.weights)
        cells = [{"cell": c.key, "model_seed": c.model_seed, "metrics": finite_or_none(m)}
                 for c, m in zip(chunk.cells, output.metrics)]
        write_json(self.chunk_dir / f"{chunk.key}.json", {
            "chunk": chunk.key,
            "config": chunk.config.to_dict(),
            "host": output.host,
            "train_seconds": output.train_seconds,
            "seconds": output.seconds,
            "finished_at": time.time(),
            "cells": cells,
        })
        return {c["cell"]: {"chunk": chunk.key, "metrics": c["metrics"]} for c in cells}

    def cell_model(self, key: str) -> TrainedModel:
        """The trained model of cell ``key`` as a :class:`reglab.runs.export.TrainedModel`."""
        entry = self.finished().get(key)
        if entry is None:
            raise ReglabError(f"{self.out}: no finished cell {key!r} (the cell column of results.csv names them)")
        record = json.loads((self.chunk_dir / f"{entry['chunk']}.json").read_text())
        index = [c["cell"] for c in record["cells"]].index(key)
        weights = self.chunk_dir / f"{entry['chunk']}.weights.npz"
        if not weights.exists():
            raise ReglabError(f"{self.out}: cell {key} was trained by a reglab that kept no weights; train it again")
        with np.load(weights, allow_pickle=False) as f:
            params = {k: f[k] for k in f.files}
        config = record["config"]
        summary = json.loads((self.out / "sweep.json").read_text())
        output = get_cost(config["cost"]).output_activation
        return from_arrays(params, index, config["dtype"], config["activation"], output, summary.get("data_record"),
                           f"{self.out}, cell {key}")

    # -- the products ----------------------------------------------------------------------------
    def write_results(self, rows: list[dict]) -> Path:
        """``results.csv``: columns in order of first appearance; ``None`` is an empty field."""
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(row))
        path = self.out / "results.csv"
        with atomic_open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(columns), restval="", lineterminator="\n")
            w.writeheader()
            w.writerows({k: "" if v is None else (repr(v) if isinstance(v, float) else v) for k, v in r.items()} for r in rows)
        return path

    def write_epochs(self, cells: Iterable[str], finished: dict[str, dict]) -> Path:
        """``epochs.csv``: the per-epoch rows of ``cells``, each from the chunk whose result it keeps."""
        by_chunk: dict[str, set[str]] = {}
        for key in cells:
            if key in finished:
                by_chunk.setdefault(finished[key]["chunk"], set()).add(key)
        path = self.out / "epochs.csv"
        with atomic_open(path, "w", newline="") as f:
            f.write(",".join(EPOCH_COLUMNS) + "\n")
            for chunk, keys in by_chunk.items():
                with open(self.chunk_dir / f"{chunk}.epochs.csv", newline="") as src:
                    next(src)
                    f.writelines(line for line in src if line[: line.index(",")] in keys)
        return path

    def write_summary(self, summary: dict) -> None:
        write_json(self.out / "sweep.json", summary)

    def save_figure(self, name: str, fig) -> Path:
        path = self.out / f"{name}.png"
        save_figure(fig, path)
        return path


def _value(text: str):
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_results(out: str | Path) -> list[dict]:
    """The rows of ``<out>/results.csv`` with numbers, booleans and ``None`` restored (a cell's key stays text:
    ``"0123456789ab"`` may be all digits)."""
    with open(Path(out) / "results.csv", newline="") as f:
        return [{k: v if k == "cell" else _value(v) for k, v in row.items()} for row in csv.DictReader(f)]
