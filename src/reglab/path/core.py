"""``path()``: λ paths for networks, warm-started from λ_max down, against the cold sweep over the same λ.

The steps: find or take ``λ_max`` per regularizer kind (:mod:`~reglab.path.collapse`), lay out the
λ sequence (:mod:`~reglab.path.lambdas`), then

* **warm**: every path (kind × seed × fold) is one model of one batch (:mod:`~reglab.path.batch`); at
  step ``j`` each trains ``path_epochs`` epochs at its kind's ``λ_j``, starting from the weights it
  ended step ``j − 1`` with (step 0 from the initial weights). Results are written after every step.
* **cold**: the same λ sequence as a sweep (:func:`reglab.sweep.sweep`, resumable, in ``cold/<kind>/``),
  every λ trained from the same initial weights for ``epochs`` epochs.

Both give one row per (start, kind, λ, seed, fold) in ``results.csv``, the sweep's columns plus
``start`` and ``step``; λ is chosen on each curve by glmnet's rule (:mod:`~reglab.sweep.select`),
on validation or held-out folds, never on the test set. The output folder::

    <out>/
        path.json          settings, λ_max per kind and how it was found, the λ sequences, the choice of λ
                           per curve, seconds per phase and (with both) how the warm path compares
        results.csv        one row per (start, reg, λ, seed, fold) with the step, accuracies, costs, layer statistics
        epochs.csv         the warm path's per-epoch metrics, epochs counted along the path
        path_<reg>.png     the coefficient path: accuracy, ‖W‖ per layer, exact zeros, dead units against λ
        cold/<reg>/        the cold sweep's own folder (results, chunks to resume from, plots)
        .reglab.json       the marker: the folder is reglab path's (:func:`reglab.outdir.claim`, before any work)
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reglab.config import TrainConfig
from reglab.engine.monitors import Monitor
from reglab.engine.regularizers import KINDS
from reglab.errors import ReglabError
from reglab.io import atomic_open, finite_or_none, write_json
from reglab.outdir import claim
from reglab.path import collapse
from reglab.path.batch import Batch, check_batch, runs_of
from reglab.path.lambdas import Span
from reglab.rng import seed_for
from reglab.runs.assemble import load_data
from reglab.runs.folder import default_run_dir
from reglab.sweep.chunks import cell_metrics
from reglab.sweep.core import SweepProgress, sweep
from reglab.sweep.grid import show
from reglab.sweep.select import METRIC, Curve, curves
from reglab.sweep.store import SweepStore

STARTS = ("warm", "cold", "both")
#: How close the warm path must come to the cold sweep's best validation accuracy (the benchmark's target).
REACH = 0.003


@dataclass(frozen=True)
class PathSettings:
    """What a path does besides training: its kinds, its λ span, epochs per step, and warm, cold or both."""

    kinds: tuple[str, ...] = ("l2",)
    span: Span = Span()
    path_epochs: int = 2
    start: str = "warm"

    def __post_init__(self) -> None:
        if not self.kinds:
            raise ReglabError("--reg needs at least one regularizer")
        for kind in self.kinds:
            if kind not in KINDS:
                raise ReglabError(f"--reg {kind!r} is not one of {', '.join(KINDS)}")
        if len(set(self.kinds)) < len(self.kinds):
            raise ReglabError(f"--reg lists a regularizer twice: {','.join(self.kinds)}")
        if isinstance(self.path_epochs, bool) or not isinstance(self.path_epochs, int) or self.path_epochs < 1:
            raise ReglabError(f"--path-epochs must be a positive integer, got {self.path_epochs!r}")
        if self.start not in STARTS:
            raise ReglabError(f"start must be one of {', '.join(STARTS)}, got {self.start!r}")

    @property
    def warm(self) -> bool:
        return self.start in ("warm", "both")

    @property
    def cold(self) -> bool:
        return self.start in ("cold", "both")


class PathProgress(SweepProgress):
    """Hooks a path calls as it goes (the cold sweep's are :class:`~reglab.sweep.SweepProgress`'s); these do nothing."""

    def found(self, found: dict[str, collapse.Found]) -> None:
        """``λ_max`` of every kind is known."""

    def step(self, j: int, steps: int, lmbda: dict[str, float], note: str) -> None:
        """Warm step ``j`` (of ``steps``) trained at ``lmbda`` (per kind); ``note``: its best accuracy."""


@dataclass
class PathResult:
    """A finished path: the folder, every row, the curves with their choice of λ, and what was timed.

    Attributes
    ----------
    out : Path
    rows : list of dict
        The rows of ``results.csv``.
    curves : list of Curve
        One per (start, kind) with its :class:`~reglab.sweep.select.Selection`.
    found : dict of str to Found
        ``λ_max`` per kind and how it was found.
    lambdas : dict of str to list of float
        Each kind's λ sequence, descending.
    seconds : dict
        ``search`` (finding λ_max), ``warm``, ``cold`` (per kind and in all).
    comparison : list of dict
        With both starts, per kind: the best mean validation accuracy of each, their gap, and how much of the
        cold sweep's time the warm path took to come within :data:`REACH` of it.
    summary : dict
        What ``path.json`` holds.
    """

    out: Path
    rows: list[dict]
    curves: list[Curve]
    found: dict[str, collapse.Found]
    lambdas: dict[str, list[float]]
    seconds: dict = field(default_factory=dict)
    comparison: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    def curve(self, start: str, kind: str) -> Curve | None:
        return next((c for c in self.curves if c.settings.get("start") == start and c.settings.get("reg") == kind), None)


def _settings(base: TrainConfig, kind: str, lam: float, seed: int, fold: int | None) -> dict:
    """A row's settings, as a sweep writes them."""
    row = {"reg": kind, "init": base.init, "hidden": show(base.hidden), "train_size": base.train_size,
           "eta": float(base.eta[0]), "lmbda": float(lam), "seed": seed}
    if fold is not None:
        row["fold"] = fold
    return row


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def warm_path(base: TrainConfig, ds, settings: PathSettings, lambdas: dict[str, np.ndarray], store: SweepStore,
              progress: PathProgress) -> tuple[list[dict], float]:
    """Train every path of ``base`` × ``settings.kinds`` as one batch down the λ sequences; rows and seconds."""
    runs = runs_of(base, settings.kinds)
    batch = Batch(base, ds, runs)
    monitor = Monitor(splits=tuple(base.monitor), train=base.monitor_train)
    keys = [_key("warm", base.to_dict(), r.kind, r.seed, r.fold) for r in runs]
    rows: list[dict] = []
    epochs_path = store.out / "epochs.csv"
    t0 = time.perf_counter()
    with atomic_open(epochs_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("cell", "step", "epoch", "layer", "metric", "value"))
        for j in range(settings.span.steps):
            lam = [float(lambdas[r.kind][j]) for r in runs]
            result = batch.train(lam, settings.path_epochs, seed_for(base.seed, "path", j), monitor)
            metrics = cell_metrics(batch.as_run(result, lam, settings.path_epochs))
            seconds = time.perf_counter() - t0
            for m, (r, k) in enumerate(zip(runs, keys)):
                rows.append({"cell": f"{k}-{j}", "start": "warm", "step": j, **_settings(base, r.kind, lam[m], r.seed, r.fold),
                             **metrics[m], "epochs_along_path": (j + 1) * settings.path_epochs, "seconds": seconds})
            w.writerows((f"{keys[m]}-{j}", j, j * settings.path_epochs + epoch, layer, metric, repr(value))
                        for epoch, m, layer, metric, value in result.history.rows() if epoch > 0 or j == 0)
            store.write_results(rows)
            acc = result.history.get("validation_accuracy")[-1] if result.history.has("validation_accuracy") else []
            progress.step(j, settings.span.steps, {r.kind: lam[m] for m, r in enumerate(runs)},
                          f"validation {100 * np.nanmax(acc):.2f}%" if len(acc) and np.isfinite(acc).any() else "")
    return rows, time.perf_counter() - t0


def cold_sweep(base: TrainConfig, ds, settings: PathSettings, lambdas: dict[str, np.ndarray], out: Path,
               progress: PathProgress, max_models: int | None, plot: bool) -> tuple[list[dict], dict[str, float]]:
    """The same λ sequences as sweeps from the initial weights (``epochs`` epochs each); rows and seconds per kind."""
    rows, seconds = [], {}
    for kind in settings.kinds:
        t0 = time.perf_counter()
        step = {float(v): j for j, v in enumerate(lambdas[kind])}
        result = sweep(base.replace(reg=kind, eta=base.eta[:1]), {"lmbda": list(lambdas[kind])}, out=out / "cold" / kind,
                       max_models=max_models, progress=progress, dataset=ds, plot=plot)
        seconds[kind] = time.perf_counter() - t0
        for row in result.rows:
            rows.append({"cell": row["cell"], "start": "cold", "step": step[float(row["lmbda"])],
                         **{k: v for k, v in row.items() if k != "cell"}, "epochs_along_path": base.epochs})
    return rows, seconds


def compare(result_curves: list[Curve], kinds: Sequence[str], warm_rows: list[dict], warm_seconds: float,
            cold_seconds: dict[str, float]) -> list[dict]:
    """Per kind: the warm path's best mean validation accuracy against the cold sweep's, and how long the warm
    path took to come within :data:`REACH` of the cold best, as fractions of the cold sweep's time."""
    out = []
    for kind in kinds:
        warm = next(c for c in result_curves if c.settings.get("start") == "warm" and c.settings.get("reg") == kind)
        cold = next(c for c in result_curves if c.settings.get("start") == "cold" and c.settings.get("reg") == kind)
        if warm.selection is None or cold.selection is None:
            continue
        target = cold.selection.best_mean - REACH
        reached = None
        for j in sorted({r["step"] for r in warm_rows}):
            at = [r for r in warm_rows if r["reg"] == kind and r["step"] == j]
            mean = np.nanmean([np.nan if r.get(METRIC) is None else r[METRIC] for r in at])
            if mean >= target:
                reached = {"step": j, "lmbda": at[0]["lmbda"], "seconds": at[0]["seconds"]}
                break
        total = sum(cold_seconds.values())
        out.append({
            "kind": kind, "warm_best": warm.selection.best_mean, "cold_best": cold.selection.best_mean,
            "gap_points": 100 * (cold.selection.best_mean - warm.selection.best_mean),
            "warm_seconds": warm_seconds, "cold_seconds": cold_seconds[kind], "cold_seconds_all": total,
            "time_ratio": warm_seconds / total if total else math.nan,
            "reached": reached, "reach_ratio": reached["seconds"] / total if reached and total else None,
        })
    return out


def path(
    base: TrainConfig,
    settings: PathSettings = PathSettings(),
    *,
    out: str | Path | None = None,
    dataset=None,
    progress: PathProgress | None = None,
    plot: bool = True,
    max_models: int | None = None,
) -> PathResult:
    """λ paths of ``base`` for every kind of ``settings``: warm, cold or both (module docstring).

    Parameters
    ----------
    base : TrainConfig
        Everything but λ and the regularizer: data, architecture, one η, seeds, folds, ``epochs`` (of the
        cold sweep's models).
    settings : PathSettings
        Kinds, λ span (``λ_max`` given or found, ε, steps), ``path_epochs`` per warm step, and the start.
    out : path, optional
        Output folder (default ``paths/<timestamp>-<data>``).
    dataset : reglab.data.Dataset, optional
        The data (loaded from ``base`` when not given).
    progress : PathProgress, optional
    plot : bool
        Write the PNG figures.
    max_models : int, optional
        Models per chunk of the cold sweep.
    """
    progress = progress or PathProgress()
    ds = dataset if dataset is not None else load_data(base)
    check_batch(base, ds, settings.kinds)  # bad settings fail here, before any work
    out = Path(out) if out is not None else default_run_dir(ds.name, root="paths")
    digest = hashlib.sha256(f"{base.digest()} {settings!r}".encode()).hexdigest()[:10]
    with claim(out, "path", digest):  # new, empty or a path's own folder, before any work
        store = SweepStore(out)
        if settings.span.lmbda_max is not None:
            found = {k: collapse.Found(k, settings.span.lmbda_max, "given") for k in settings.kinds}
        else:
            found = collapse.find(base, ds, list(settings.kinds), settings.path_epochs)
        progress.found(found)
        lambdas = {k: settings.span.sequence(found[k].lmbda) for k in settings.kinds}
        header = {
            "status": "running", "data": ds.name, "n_classes": ds.n_classes, "base": base.to_dict(),
            "kinds": list(settings.kinds), "start": settings.start, "path_epochs": settings.path_epochs,
            "eps": settings.span.eps, "steps": settings.span.steps,
            "lmbda_max": {k: f.summary() for k, f in found.items()}, "lambdas": {k: v.tolist() for k, v in lambdas.items()},
            "metric": METRIC,
        }
        write_json(out / "path.json", header)
        rows: list[dict] = []
        seconds: dict = {"search": max((f.seconds for f in found.values()), default=0.0)}
        warm_rows: list[dict] = []
        if settings.warm:
            warm_rows, seconds["warm"] = warm_path(base, ds, settings, lambdas, store, progress)
            rows += warm_rows
        cold_seconds: dict[str, float] = {}
        if settings.cold:
            cold_rows, cold_seconds = cold_sweep(base, ds, settings, lambdas, out, progress, max_models, plot)
            rows += cold_rows
            seconds["cold"] = cold_seconds
        store.write_results(rows)
        found_curves = curves(rows, ("start",), METRIC)
        comparison = compare(found_curves, settings.kinds, warm_rows, seconds.get("warm", 0.0), cold_seconds) \
            if settings.start == "both" else []
        summary = {**header, "status": "complete", "seconds": seconds, "curves": [c.summary() for c in found_curves],
                   "comparison": comparison}
        write_json(out / "path.json", finite_or_none(summary))
        if plot:
            from reglab.path.plots import write_all

            write_all(store, found_curves, settings.kinds, chance=1.0 / ds.n_classes)
        return PathResult(out, rows, found_curves, found, {k: v.tolist() for k, v in lambdas.items()}, seconds, comparison,
                          summary)
