"""reglab: a laboratory for regularization in neural networks.

The public surface, loaded on first use (so ``reglab --help`` need not import torch)::

    from reglab import TrainConfig, train, summarize          # configure, train M models at once
    from reglab import L2, L1, L1Prox, ElasticNet, DecoupledDecay, NoRegularizer, Sum
    from reglab import MLP, fit, Monitor, History, SGD, Adam  # the engine underneath
    from reglab import load_dataset, convert                  # data, λ units
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "TrainConfig": "reglab.config",
    "train": "reglab.run",
    "summarize": "reglab.run",
    "TrainResult": "reglab.run",
    "write_run": "reglab.runs",
    "MLP": "reglab.model",
    "fit": "reglab.train",
    "TensorData": "reglab.train",
    "EarlyStopping": "reglab.train",
    "HalvingSchedule": "reglab.train",
    "Monitor": "reglab.monitors",
    "History": "reglab.monitors",
    "weight_stats": "reglab.monitors",
    "SGD": "reglab.optim",
    "Adam": "reglab.optim",
    "Regularizer": "reglab.regularizers",
    "NoRegularizer": "reglab.regularizers",
    "L2": "reglab.regularizers",
    "L1": "reglab.regularizers",
    "L1Prox": "reglab.regularizers",
    "ElasticNet": "reglab.regularizers",
    "DecoupledDecay": "reglab.regularizers",
    "Sum": "reglab.regularizers",
    "load_dataset": "reglab.data",
    "Dataset": "reglab.data",
    "convert": "reglab.units",
    "ReglabError": "reglab.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'reglab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
