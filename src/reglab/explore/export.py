"""Export: a session as a self-contained HTML report and a run folder that ``reglab train --config`` re-runs.

::

    <out>/exports/<timestamp>-<data>-<reg>/
        run/              the run folder of reglab.runs.folder (config.json, metrics.csv, summary.json,
                          weights_initial.npz, weights_final.npz, the run's plots); a 2-D set travels along
                          as run/data.npz, which config.json names
        report.html       figures embedded (reglab.experiments' page writer), written last

``config.json`` holds the settings training uses now, with ``epochs`` the
epochs trained so far rounded up: ``reglab train --config run/config.json``
trains them from the start. Changes made while training are listed in the
report and marked in its curves; a configuration cannot replay them.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any

from reglab.engine.loop import FitResult
from reglab.experiments import Report, Section, Table, library_versions, num, versions_text, write_page
from reglab.explore import figures, snapshot
from reglab.explore.datasets import BOX, PLANAR
from reglab.explore.session import Session
from reglab.outdir import claim
from reglab.runs import plots
from reglab.runs.assemble import TrainResult
from reglab.runs.folder import COMMAND, write_run
from reglab.runs.summary import summarize


def _folder(root: Path, name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, k = root / f"{stamp}-{name}", 1
    while path.exists():
        k += 1
        path = root / f"{stamp}-{name}-{k}"
    return path


def export_session(session: Session, out: Path) -> dict[str, Any]:
    """Write the export of ``session`` under ``out/exports/``; return its ``name``, ``folder``, ``report`` and ``run``."""
    s = session
    folder = _folder(Path(out) / "exports", f"{s.dataset.name.removesuffix('.npz')}-{s.config.reg}")
    run = folder / "run"
    config = s.config.replace(epochs=max(1, math.ceil(s.epoch)))
    planar = s.settings.data in PLANAR
    if planar:  # the 2-D set goes along, and the configuration names the copy
        config = config.replace(data=str((run / "data.npz").resolve()))
    with claim(run, COMMAND, config.digest()):  # the run folder is reglab's before the copy goes in
        if planar:
            shutil.copyfile(s.config.data, run / "data.npz")
        fit = FitResult(s.model, s.history, s.initial, s.state, s.train_seconds, s.n,
                        meta={"regularizer": repr(s.regularizer), "explore_events": [vars(e) for e in s.events]})
        result = TrainResult(config, s.dataset.name, s.sizes, s.models, fit, getattr(s.dataset, "note", None))
        summary = summarize(result)
        summary["explore_events"] = fit.meta["explore_events"]
        write_run(result, run, summary)
    write_page(folder / "report.html", report(s, summary))
    return {"name": folder.name, "folder": str(folder), "report": str(folder / "report.html"), "run": str(run)}


def report(s: Session, summary: dict[str, Any]) -> Report:
    """The export's page: what trained, the columns' numbers now, their pictures and curves."""
    cfg, lambdas = s.config, list(s.config.lmbda)
    rec = s.history.records[-1]
    L = len(s.sizes) - 1
    rows = []
    for m, model in enumerate(summary["models"]):
        status = f"diverged (epoch {num(model['diverged_epoch'])})" if model["diverged"] else "ok"
        rows.append((lambdas[m], model["eta"], 100 * rec["train_accuracy"][m], 100 * rec["validation_accuracy"][m],
                     100 * rec["test_accuracy"][m], rec["train_cost"][m], rec["penalty"][m],
                     " · ".join(f"{int(rec[('zeros', l)][m]):,}" for l in range(L)), status))
    table = Table("the columns now", ("λ", "η", "train % (running)", "validation %", "test %", "train data cost C₀",
                                      "penalty", "exact zeros per layer", "status"), tuple(rows),
                  "train: the mean over the mini-batches since the previous measure, each just before its step")
    events = [(e.epoch, e.text) for e in s.events]
    changes = Table("changes made while training", ("epoch", "change"), tuple((num(e, 4), t) for e, t in events)) \
        if events else None
    look: dict = {}
    if s.settings.data in PLANAR:
        cls, conf = snapshot.classes(s.model, 120)
        look["boundaries"] = figures.boundaries(cls.numpy(), conf.numpy(), BOX, (s.dataset.train.X, s.dataset.train.y),
                                                lambdas)
    elif (shape := snapshot.tile_shape(s.sizes[0])) is not None and L > 1:
        look["first_layer"] = figures.first_layer(s.model.weights[0].double().numpy(), shape, lambdas)
    look["lambda_curve"] = figures.lambda_curve(lambdas, rec["validation_accuracy"].tolist(), rec["train_accuracy"].tolist())
    final = s.model.numpy_params()
    sections = (
        Section("The columns", tables=tuple(t for t in (table, changes) if t is not None), figures=look),
        Section("Curves", figures={
            "curves": figures.curves(s.history, lambdas, events),
            "layer_rms": plots.layer_rms(s.history, s.models, s.sizes),
        }),
        Section("Weights of the first column", figures={"weight_histograms": plots.weight_histograms(s.initial, final)}),
    )
    lead = (
        f"`reglab explore` on {s.dataset.name} ({s.n:,} training examples), network {s.sizes}, {cfg.activation}, "
        f"{cfg.cost}, init {cfg.init}, {cfg.optimizer} with η = {num(cfg.eta[0])}, mini-batches of {cfg.batch_size}, "
        f"{summary['regularizer']}: {len(lambdas)} columns trained together for {num(s.epoch, 4)} epochs "
        f"({num(s.train_seconds)} s of training).",
        f"`reglab train --config run/config.json` trains these settings from the start for "
        f"{max(1, math.ceil(s.epoch))} epochs" + (" (the changes made while training are not part of it)." if events
                                                   else "."),
    )
    return Report(f"explore: {s.dataset.name} {s.sizes} · {summary['regularizer']}", lead, sections,
                  (versions_text(library_versions()),))

