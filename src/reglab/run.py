"""From a :class:`~reglab.config.TrainConfig` to trained models and their summary.

:func:`train` builds the pieces a configuration names (data on the device,
the batched MLP, the regularizer, the optimizer, callbacks) and calls the one
loop, :func:`reglab.train.fit`. :func:`summarize` turns the result into the
JSON-ready summary that ``reglab train --json`` prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from reglab.config import TrainConfig
from reglab.errors import ReglabError
from reglab.model import MLP
from reglab.monitors import WEIGHT_STATS, Monitor
from reglab.optim import make_optimizer
from reglab.regularizers import make_regularizer
from reglab.train import Callback, EarlyStopping, FitResult, HalvingSchedule, TensorData, check_train_size, fit


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when present, else CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ReglabError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


def layer_sizes(config: TrainConfig, n_features: int, n_classes: int) -> list[int]:
    """``--sizes`` checked against the data, or ``[n_features, *hidden, n_classes]``."""
    if config.sizes is None:
        return [n_features, *config.hidden, n_classes]
    sizes = list(config.sizes)
    if sizes[0] != n_features or sizes[-1] != n_classes:
        raise ReglabError(
            f"--sizes {','.join(map(str, sizes))} does not fit the data: it has {n_features} inputs and {n_classes} classes"
        )
    return sizes


def check(config: TrainConfig, ds) -> list[int]:
    """Check ``config`` against the data set before anything trains; return the layer sizes."""
    if config.train_size is not None:
        check_train_size(config.train_size, ds)
    n = config.train_size or len(ds.train.y)
    if config.batch_size > n:
        raise ReglabError(f"--batch-size {config.batch_size} exceeds the {n} training examples")
    if (config.early_stop or config.schedule) and len(ds.validation.y) == 0:
        raise ReglabError("--early-stop and --schedule need a validation split")
    if config.optimizer == "adamw" and config.reg != "decay":
        raise ReglabError("--optimizer adamw is Adam with decoupled decay: use it with --reg decay (or --optimizer adam)")
    return layer_sizes(config, ds.n_features, ds.n_classes)


def load_data(config: TrainConfig):
    """The :class:`reglab.data.Dataset` a configuration names."""
    from reglab.data import load_dataset

    return load_dataset(config.data, config.data_dir, target=config.target, split=tuple(config.split), seed=config.seed)


@dataclass
class TrainResult:
    """A finished run: its configuration, the data set's name and sizes, the fit."""

    config: TrainConfig
    dataset_name: str
    sizes: list[int]
    models: list[dict]
    fit: FitResult
    note: str | None = None


def train(config: TrainConfig, dataset=None, callbacks: Sequence[Callback] = ()) -> TrainResult:
    """Train the models of ``config`` together; ``dataset`` defaults to the one it names."""
    ds = dataset if dataset is not None else load_data(config)
    sizes = check(config, ds)
    device = resolve_device(config.device)
    dtype = torch.float64 if config.dtype == "float64" else torch.float32
    data = TensorData.from_dataset(ds, device, dtype, config.train_size)
    models = config.models()
    model = MLP.initialize(
        sizes,
        seeds=[m["seed"] for m in models],
        init=config.init,
        activation=config.activation,
        cost=config.cost,
        device=device,
        dtype=dtype,
    )
    lambdas = [m["lmbda"] for m in models]
    reg = make_regularizer(config.reg, lambdas, **({"l1_ratio": config.l1_ratio} if config.reg == "elastic" else {}))
    plateau: list[Callback] = []
    needs_validation = config.early_stop or config.schedule
    monitor_splits = tuple(config.monitor)
    if needs_validation and "validation" not in monitor_splits:
        monitor_splits += ("validation",)
    if config.early_stop:
        plateau.append(EarlyStopping(config.early_stop))
    if config.schedule:
        plateau.append(HalvingSchedule(config.schedule))
    result = fit(
        model,
        data,
        epochs=config.epochs,
        batch_size=config.batch_size,
        eta=[m["eta"] for m in models],
        regularizer=reg,
        optimizer=make_optimizer(config.optimizer, momentum=config.momentum),
        order_seeds=[m["seed"] for m in models] if config.per_model_order else [config.seed],
        monitor=Monitor(splits=monitor_splits, train=config.monitor_train),
        callbacks=[*plateau, *callbacks],
        threads=config.threads,
        engine=config.engine,
    )
    result.meta["regularizer"] = repr(reg)
    return TrainResult(config, ds.name, sizes, models, result, getattr(ds, "note", None))


def _num(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def layer_table(model_params: dict[str, np.ndarray], m: int) -> list[dict]:
    """Per-layer weight statistics of model ``m`` from ``numpy_params()`` (reference levels included)."""
    from reglab.monitors import weight_stats

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


def summarize(result: TrainResult) -> dict:
    """The run's summary: ``train_seconds`` and per model its settings, accuracies (fractions) and layer statistics."""
    h, run = result.fit.history, result.fit.run
    final = result.fit.model.numpy_params()
    out_models = []
    for m, settings in enumerate(result.models):
        entry = dict(settings, model=m)
        for split in ("train", "validation", "test"):
            if h.has(f"{split}_accuracy"):
                acc = h.get(f"{split}_accuracy")[1:, m] if len(h.epochs) > 1 else h.get(f"{split}_accuracy")[:, m]
                entry[f"final_{split}_accuracy"] = _num(acc[-1])
                entry[f"best_{split}_accuracy"] = _num(np.nanmax(acc)) if np.isfinite(acc).any() else None
                entry[f"final_{split}_cost"] = _num(h.get(f"{split}_cost")[-1, m])
        if h.has("validation_accuracy") and len(h.epochs) > 1:
            val = h.get("validation_accuracy")[1:, m]
            best = int(np.nanargmax(val)) if np.isfinite(val).any() else 0
            entry["best_epoch"] = h.epochs[1 + best]
            if h.has("test_accuracy"):
                entry["test_accuracy_at_best"] = _num(h.get("test_accuracy")[1 + best, m])
        entry["final_penalty"] = _num(h.get("penalty")[-1, m])
        entry["diverged"] = run.diverged_epoch[m] is not None
        entry["diverged_epoch"] = run.diverged_epoch[m]
        entry["stopped_epoch"] = run.stopped_epoch[m]
        entry["epochs_trained"] = h.epochs[-1] if run.stopped_epoch[m] is None else run.stopped_epoch[m]
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
        "models": out_models,
    }
