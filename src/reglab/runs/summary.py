"""A finished run as JSON-ready data: what ``reglab train --json`` prints and ``summary.json`` holds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from reglab.engine.monitors import WEIGHT_STATS, Monitor, weight_stats
from reglab.io import nan_to_none
from reglab.provenance import provenance
from reglab.runs.assemble import TrainResult


def layer_table(model_params: dict[str, np.ndarray], m: int) -> list[dict[str, Any]]:
    """Per-layer weight statistics of model ``m`` from ``numpy_params()`` (reference levels included).

    Besides the monitor's statistics (``l1`` is the elementwise ``Σ|w|``), ``max_column_l1`` is what
    ``numpy.linalg.norm(W, ord=1)`` returns for a matrix: the largest column sum ``max_j Σ_i |w_ij|``
    (one input's weights into the layer), the L1 norm of ``W`` as an operator, not of its entries.
    """
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
                "max_column_l1": float(np.abs(W[m]).sum(axis=0).max()),
                "inv_sqrt_n_in": 1.0 / math.sqrt(W.shape[2]),
                "inv_sqrt_N": 1.0 / math.sqrt(N),
            }
        )
    return rows


def decay_alone(result: TrainResult, m: int) -> float | None:
    r"""The factor by which weight decay alone would have scaled every weight of model ``m`` over its training.

    With plain SGD and L2 (or decoupled decay) each step multiplies a weight by ``1 − ηλ/n`` before the data
    gradient acts; an epoch has ``⌈n/m⌉`` steps, so without the data the weights would have shrunk by

    .. math::  (1 − ηλ/n)^{⌈n/m⌉·E} \approx e^{−ηλE/m}

    after ``E`` epochs (``m`` the mini-batch size). The exponential is returned; ``None`` where the rule does
    not hold (another regularizer or optimizer, or η changed by the schedule).
    """
    config = result.config
    if config.reg not in ("l2", "decay") or config.optimizer != "sgd" or config.schedule:
        return None
    settings = result.models[m]
    h, state = result.fit.history, result.fit.state
    epochs = h.epochs[-1] if state.stopped_epoch[m] is None else state.stopped_epoch[m]
    return math.exp(-settings["eta"] * settings["lmbda"] * epochs / config.batch_size)


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
        for at, layers in ((0, entry["layers_initial"]), (-1, entry["layers"])):
            for layer in layers:
                l = layer["layer"]
                layer["saturation"] = nan_to_none(h.get("saturation", l)[at, m]) if h.has("saturation", l) else None
        entry["decay_alone"] = decay_alone(result, m)
        out_models.append(entry)
    return {
        "data": result.dataset_name,
        "sizes": result.sizes,
        "n": result.fit.n,
        "regularizer": result.fit.meta.get("regularizer"),
        "dropout": result.fit.meta.get("dropout"),
        "expanded": result.config.expand,
        "augment": list(result.config.augment),
        "labels_changed": None if result.label_noise is None else len(result.label_noise.indices),
        "train_seconds": result.fit.train_seconds,
        "train_measure": result.config.monitor_train,
        "epochs": result.fit.history.epochs[-1],
        "weight_stats": list(WEIGHT_STATS),
        "batch_size": result.config.batch_size,
        "saturation_examples": Monitor.saturation_examples,  # the probe of the per-layer "saturation"
        "classes": None if result.classes is None else list(result.classes),
        "standardized": result.standardization is not None,
        "models": out_models,
        "warnings": list(result.fit.meta.get("warnings", [])),
        **provenance(),
    }
