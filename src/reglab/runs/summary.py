"""A finished run as JSON-ready data: what ``reglab train --json`` prints and ``summary.json`` holds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from reglab.engine.monitors import WEIGHT_STATS, weight_stats
from reglab.io import nan_to_none
from reglab.provenance import provenance
from reglab.runs.assemble import TrainResult


def layer_table(model_params: dict[str, np.ndarray], m: int) -> list[dict[str, Any]]:
    """Per-layer weight statistics of model ``m`` from ``numpy_params()`` (reference levels included)."""
    Ws = [model_params[k] for k in sorted((k for k in model_params if k.startswith("W")), key=lambda k: int(k[1:]))]
    N = sum(W[m].size for W in Ws)
    rows = []
    for l, W in enumerate(Ws):
        stats = weight_stats(torch.from_numpy(W[m : m + 1]))
        rows.append(
            {
                "layer": l,
                "shape": list(W.shape[1:]),
                **{k: float(v[0]) for k, v in stats.items()},
                "inv_sqrt_n_in": 1.0 / math.sqrt(W.shape[2]),
                "inv_sqrt_N": 1.0 / math.sqrt(N),
            }
        )
    return rows


def summarize(result: TrainResult) -> dict[str, Any]:
    """The run's summary: ``train_seconds`` and per model its settings, accuracies (fractions) and layer statistics;
    the classes' original labels (``None``: ``0..K-1``), whether the inputs were standardized, and what produced
    it (``versions`` of reglab, Python, torch, numpy, …, and the ``machine``: :func:`reglab.provenance.provenance`)."""
    h, state = result.fit.history, result.fit.state
    final = result.fit.model.numpy_params()
    out_models = []
    for m, settings in enumerate(result.models):
        entry = dict(settings, model=m)
        for split in ("train", "validation", "test"):
            if h.has(f"{split}_accuracy"):
                acc = h.get(f"{split}_accuracy")[1:, m] if len(h.epochs) > 1 else h.get(f"{split}_accuracy")[:, m]
                entry[f"final_{split}_accuracy"] = nan_to_none(acc[-1])
                entry[f"best_{split}_accuracy"] = nan_to_none(np.nanmax(acc)) if np.isfinite(acc).any() else None
                entry[f"final_{split}_cost"] = nan_to_none(h.get(f"{split}_cost")[-1, m])
        if h.has("validation_accuracy") and len(h.epochs) > 1:
            val = h.get("validation_accuracy")[1:, m]
            best = int(np.nanargmax(val)) if np.isfinite(val).any() else 0
            entry["best_epoch"] = h.epochs[1 + best]
            if h.has("test_accuracy"):
                entry["test_accuracy_at_best"] = nan_to_none(h.get("test_accuracy")[1 + best, m])
        entry["final_penalty"] = nan_to_none(h.get("penalty")[-1, m])
        entry["diverged"] = state.diverged_epoch[m] is not None
        entry["diverged_epoch"] = state.diverged_epoch[m]
        entry["stopped_epoch"] = state.stopped_epoch[m]
        entry["epochs_trained"] = h.epochs[-1] if state.stopped_epoch[m] is None else state.stopped_epoch[m]
        entry["layers"] = layer_table(final, m)
        entry["layers_initial"] = layer_table(result.fit.initial, m)
        out_models.append(entry)
    return {
        "data": result.dataset_name,
        "sizes": result.sizes,
        "n": result.fit.n,
        "regularizer": result.fit.meta.get("regularizer"),
        "train_seconds": result.fit.train_seconds,
        "train_measure": result.config.monitor_train,
        "epochs": result.fit.history.epochs[-1],
        "weight_stats": list(WEIGHT_STATS),
        "classes": None if result.classes is None else list(result.classes),
        "standardized": result.standardization is not None,
        "models": out_models,
        "warnings": list(result.fit.meta.get("warnings", [])),
        **provenance(),
    }
