"""Finished batched runs of a reproduction, kept on disk so that an interrupted one resumes where it stopped.

::

    <out>/runs/<key>.npz    the arms' per-epoch curves and final values, (E+1, S) and (S,) per metric
    <out>/runs/<key>.json   the group, the seeds, seconds; written last: its presence marks the run finished

A run's ``key`` hashes everything its numbers depend on: its arms, epochs and curves, the seeds, the
floating-point type, the data set (name and sizes) and reglab's version. Each file is written
atomically, so a process killed at any moment loses at most the run it was training, and the same
command (the same ``--out``) trains only what is missing. (Threads are not in the key: the compiled
steps give the same numbers on any count.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from reglab.io import save_npz, write_json
from reglab.reproduce.core import ArmResult, Group


class RunStore:
    """Reads and writes ``<out>/runs`` (see the module docstring) for the data set ``dataset``."""

    def __init__(self, out: str | Path, dataset):
        self.folder = Path(out) / "runs"
        self.data = {"name": dataset.name, "sizes": [len(dataset.train), len(dataset.validation), len(dataset.test)],
                     "features": dataset.n_features}

    def key(self, group: Group, seeds: Sequence[int], dtype: torch.dtype) -> str:
        from reglab import __version__

        text = json.dumps({"arms": [asdict(a) for a in group.arms], "hidden": group.hidden, "epochs": group.epochs,
                           "train_size": group.train_size, "curves": list(group.curve_splits), "seeds": list(seeds),
                           "dtype": str(dtype), "data": self.data, "reglab": __version__}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def load(self, group: Group, seeds: Sequence[int], dtype: torch.dtype) -> tuple[dict, float] | None:
        """The arms' results of a finished run of ``group`` and the seconds it took, or ``None``."""
        key = self.key(group, seeds, dtype)
        try:
            record = json.loads((self.folder / f"{key}.json").read_text())
            with np.load(self.folder / f"{key}.npz", allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
        except (OSError, ValueError):
            return None  # absent, or not one of ours: trained again
        out = {}
        for i, arm in enumerate(group.arms):
            curves = {k.split("/", 2)[2]: v for k, v in arrays.items() if k.startswith(f"{i}/curves/")}
            final = {k.split("/", 2)[2]: v for k, v in arrays.items() if k.startswith(f"{i}/final/")}
            out[arm] = ArmResult(arm, tuple(seeds), curves, final, int(record["diverged"][i]))
        return out, float(record["seconds"])

    def save(self, group: Group, seeds: Sequence[int], dtype: torch.dtype, results: dict, seconds: float) -> None:
        """Keep a finished run: its arrays first, then the record that marks it finished."""
        key = self.key(group, seeds, dtype)
        arrays = {}
        for i, arm in enumerate(group.arms):
            r = results[arm]
            arrays.update({f"{i}/curves/{m}": v for m, v in r.curves.items()})
            arrays.update({f"{i}/final/{m}": v for m, v in r.final.items()})
        save_npz(self.folder / f"{key}.npz", arrays)
        write_json(self.folder / f"{key}.json", {"run": group.describe(len(seeds)), "seeds": list(seeds),
                                                 "seconds": seconds, "diverged": [results[a].diverged for a in group.arms]})

    def has(self, group: Group, seeds: Sequence[int], dtype: torch.dtype) -> bool:
        """Whether a finished run of ``group`` is kept."""
        return (self.folder / f"{self.key(group, seeds, dtype)}.json").is_file()
