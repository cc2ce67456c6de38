"""reglab: a laboratory for regularization in neural networks.

The public surface, loaded on first use (so ``reglab --help`` need not import torch)::

    from reglab import TrainConfig, train, summarize          # configure, train M models at once
    from reglab import L2, L1, L1Prox, ElasticNet, DecoupledDecay, MaxNorm, NoRegularizer, Sum
    from reglab import MLP, fit, Monitor, History, SGD, Adam  # the engine underneath (reglab.engine)
    from reglab import TensorData                              # data held once on the device
    from reglab import load_dataset, convert                  # data, λ units
    from reglab import regularize, wrap, WeightMonitor        # the same for any torch.nn.Module (reglab.module)
    from reglab import Constant, Warmup, FollowLR, StepDecay, Cosine  # λ schedules
"""

from __future__ import annotations

import importlib
import os

__version__ = "0.1.0"

# OpenMP threads that wait for work sleep instead of spinning (unless the user chose otherwise). Read once, when
# the OpenMP runtime starts: here, before torch (whose runtime numba's parallel kernels share) is imported.
# Why, and what it changes: reglab.engine.threads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_EXPORTS = {
    "TrainConfig": "reglab.config",
    "train": "reglab.runs.assemble",
    "TrainResult": "reglab.runs.assemble",
    "summarize": "reglab.runs.summary",
    "write_run": "reglab.runs.folder",
    "MLP": "reglab.engine.model",
    "fit": "reglab.engine.loop",
    "FitResult": "reglab.engine.loop",
    "EarlyStopping": "reglab.engine.loop",
    "HalvingSchedule": "reglab.engine.loop",
    "TensorData": "reglab.engine.data",
    "TensorSplit": "reglab.engine.data",
    "Monitor": "reglab.engine.monitors",
    "History": "reglab.engine.history",
    "weight_stats": "reglab.engine.monitors",
    "SGD": "reglab.engine.optim",
    "Adam": "reglab.engine.optim",
    "Regularizer": "reglab.engine.regularizers",
    "NoRegularizer": "reglab.engine.regularizers",
    "L2": "reglab.engine.regularizers",
    "L1": "reglab.engine.regularizers",
    "L1Prox": "reglab.engine.regularizers",
    "ElasticNet": "reglab.engine.regularizers",
    "DecoupledDecay": "reglab.engine.regularizers",
    "MaxNorm": "reglab.engine.regularizers",
    "Sum": "reglab.engine.regularizers",
    "regularize": "reglab.module",
    "wrap": "reglab.module",
    "Regularization": "reglab.module",
    "WeightMonitor": "reglab.module",
    "Constant": "reglab.engine.schedules",
    "Warmup": "reglab.engine.schedules",
    "FollowLR": "reglab.engine.schedules",
    "StepDecay": "reglab.engine.schedules",
    "Cosine": "reglab.engine.schedules",
    "load_dataset": "reglab.data",
    "Dataset": "reglab.data",
    "Split": "reglab.data",
    "convert": "reglab.units",
    "ReglabError": "reglab.errors",
    "RunFailure": "reglab.errors",
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
