"""Small data sets and objectives shared by the engine's tests."""

import numpy as np
import torch

from reglab.engine.data import TensorData, TensorSplit
from reglab.engine.regularizers import Param

F64 = torch.float64


def small_data(n=40, d=5, k=3, seed=0, n_val=20, dtype=F64):
    rng = np.random.default_rng(seed)
    X = rng.random((n + n_val, d))
    y = rng.integers(0, k, n + n_val)
    tr = TensorSplit.from_arrays(X[:n], y[:n], k, "cpu", dtype)
    va = TensorSplit.from_arrays(X[n:], y[n:], k, "cpu", dtype)
    return TensorData(tr, va, None, k)


def objective(model, x, y, reg, n):
    zs, acts = model.forward(x)
    c0 = model.cost.fn(zs[-1], acts[-1], y) / x.shape[-2]
    pen = sum(reg.penalty(W, Param(l, "weight", n)) + reg.penalty(b, Param(l, "bias", n))
              for l, (W, b) in enumerate(zip(model.weights, model.biases)))
    return c0 + pen
