"""A run's folder: everything needed to read, plot and re-run it, each file written atomically.

::

    runs/<timestamp>-<name>/
        config.json           the TrainConfig (reglab train --config config.json re-runs it)
        data.json             what the inputs and outputs mean: sizes, the classes' labels, the standardization
        metrics.csv           tidy: epoch, model, layer, metric, value
        summary.json          what --json prints, with the versions and the machine that produced it
        weights_initial.npz   W0, b0, W1, … shaped (M, n_out, n_in) / (M, n_out); no pickle
        weights_final.npz
        accuracy_cost.png, layer_rms.png, weight_histograms.png   (unless figures=False: --no-plots)
        label_noise.csv       with --label-noise: index, label, noisy_label of every changed training label
        .reglab.json          the marker that makes it reglab's (see reglab.outdir)

A run folder is taken with :func:`reglab.outdir.claim` (command ``train``) before anything is written: a
new or empty folder, or one an earlier run wrote; a folder of someone else's files is refused. The CLI
claims it before training, so that a bad ``--out`` costs nothing.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from reglab.engine.history import History
from reglab.io import atomic_open, save_npz, write_json
from reglab.outdir import claim
from reglab.runs.assemble import TrainResult
from reglab.runs.drawing import Drawer, Figures
from reglab.runs.summary import summarize

#: The command a run folder's marker names (``reglab run`` is ``reglab train`` with the book's defaults).
COMMAND = "train"


def run_name(dataset_name: str, sizes: list[int], reg: str) -> str:
    """``mnist-784-30-10-l2``: the data, the layer sizes and the regularizer."""
    return f"{dataset_name}-{'-'.join(map(str, sizes))}-{reg}"


def default_run_dir(result_or_name: TrainResult | str, root: str | Path = "runs") -> Path:
    """``runs/<YYYYmmdd-HHMMSS>-<name>``; ``name`` says data, sizes and regularizer (:func:`run_name`)."""
    if isinstance(result_or_name, TrainResult):
        r = result_or_name
        name = run_name(r.dataset_name, r.sizes, r.config.reg)
    else:
        name = result_or_name
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(root) / f"{stamp}-{name}"
    k = 1
    while path.exists():
        k += 1
        path = Path(root) / f"{stamp}-{name}-{k}"
    return path


def write_metrics(history: History, f: IO[str]) -> None:
    """``metrics.csv``: tidy rows ``epoch, model, layer, metric, value`` (values as ``repr``: exact)."""
    write_tidy(f, ["epoch", "model", "layer", "metric", "value"], history.rows())


def write_tidy(f: IO[str], header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A tidy CSV: ``header``, then the rows, the last column (the value) as ``repr`` (exact)."""
    w = csv.writer(f)
    w.writerow(header)
    for row in rows:
        w.writerow([*row[:-1], repr(row[-1])])


def data_record(result: TrainResult) -> dict:
    """``data.json``: the data set, the layer sizes, each class's original label (``None``: the classes are
    ``0..K-1``) and the standardization applied to the inputs (``None``: raw inputs)."""
    s = result.standardization
    return {"data": result.dataset_name, "sizes": result.sizes,
            "classes": None if result.classes is None else list(result.classes),
            "standardization": None if s is None else s.to_dict()}


def write_run(result: TrainResult, out: str | Path, summary: dict | None = None, drawer: Drawer | None = None, *,
              figures: bool = True) -> Path:
    """Write the run folder ``out`` and return it; the summary (computed unless given) gains ``run_dir``.
    ``drawer``: a :class:`~reglab.runs.drawing.Drawer` started before training draws the figures (else this process);
    ``figures=False`` leaves out the PNG figures (``--no-plots``). ``out`` is claimed first
    (:func:`reglab.outdir.claim`; at once where this process holds it already)."""
    out = Path(out)
    with claim(out, COMMAND, result.config.digest()):
        _write(result, out, summary if summary is not None else summarize(result), drawer, figures)
    return out


def _write(result: TrainResult, out: Path, summary: dict, drawer: Drawer | None, figures: bool) -> None:
    # an earlier run's summary goes first: until the new one is written, the folder is not a complete run
    (out / "summary.json").unlink(missing_ok=True)
    summary["run_dir"] = str(out)
    fit = result.fit
    write_json(out / "config.json", result.config.to_dict())
    write_json(out / "data.json", data_record(result))
    with atomic_open(out / "metrics.csv", "w", newline="") as f:
        write_metrics(fit.history, f)
    save_npz(out / "weights_initial.npz", fit.initial)
    final = fit.model.numpy_params()
    save_npz(out / "weights_final.npz", final)
    if figures:
        drawn = Figures(fit.history, result.models, result.sizes, result.config.monitor_train, fit.initial, final)
        (drawer or Drawer()).draw(drawn, out)
    if result.label_noise is not None:
        with atomic_open(out / "label_noise.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["index", "label", "noisy_label"])
            w.writerows(result.label_noise.rows())
    write_json(out / "summary.json", summary)  # last: its presence marks a complete run
