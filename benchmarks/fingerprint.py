"""The compiled kernel's trained weights over a grid of configurations, hashed: a change to the kernel that must
keep every number (a new tile, a loop restructured) is checked by running this before and after it.

Each line is the first 16 hex digits of the SHA-256 of one configuration's weights and biases after two epochs
(activations, costs, optimizers, regularizers, dropout, 1 and 5 models, 1 and 2 threads, float32 and float64, and
models too large for a group, which train alone with their steps split over the threads)::

    python benchmarks/fingerprint.py --out before.txt   # on the old commit
    python benchmarks/fingerprint.py --out after.txt    # on the new one
    diff before.txt after.txt                           # no output: the same bits

The hashes depend on the machine (numba compiles for its CPU); compare two commits on one machine. About 35 s.
With ``--split`` every lone model that has six units per hidden layer and thread trains with its steps split over
the threads (``kernel.train_epoch_split``; without it only models with enough work per step are): the hashes must be
the same as without it.
"""

import argparse
import hashlib
import itertools

import numpy as np
import torch

from reglab.engine.data import TensorData, TensorSplit
from reglab.engine.dropout import Dropout
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.optim import SGD, Adam
from reglab.engine.regularizers import L2, ElasticNet, L1Prox, MaxNorm, Sum


def data(dtype, n_in=20, K=10, N=230, seed=0):
    return data_n(dtype, n_in, K, N, seed)


def data_n(dtype, n_in, K, N, seed=0):
    rng = np.random.default_rng(seed)
    def split(n):
        X = rng.standard_normal((n, n_in)).astype(np.float64)
        y = rng.integers(0, K, n)
        return TensorSplit.from_arrays(X, y, K, "cpu", dtype)
    return TensorData(split(N), split(57), None, K)


def configs():
    for dtype, (sizes, act, cost), opt, reg, M, threads, drop in itertools.product(
        [torch.float32, torch.float64],
        [([20, 13, 7, 10], "sigmoid", "cross-entropy"), ([20, 30, 10], "relu", "log-likelihood"),
         ([20, 9, 10], "tanh", "quadratic")],
        ["sgd", "momentum", "adam"], ["l2", "l1prox+maxnorm", "enet"], [1, 5], [1, 2], [False, True]):
        if (opt != "sgd" and reg == "enet") or (drop and threads == 2 and M == 1):
            continue
        yield dtype, sizes, act, cost, opt, reg, M, threads, drop


def train(dtype, sizes, act, cost, opt, reg, M, threads, drop):
    model = MLP.initialize(sizes, seeds=list(range(M)), activation=act, cost=cost, dtype=dtype)
    lm = [0.5 + i for i in range(M)]
    r = {"l2": L2(lm), "l1prox+maxnorm": Sum([L1Prox(lm), MaxNorm(2.0)]), "enet": ElasticNet(lm, l1_ratio=0.3)}[reg]
    o = {"sgd": SGD(), "momentum": SGD(momentum=0.9), "adam": Adam()}[opt]
    d = Dropout([0.2] * (len(sizes) - 1), seeds=list(range(M))) if drop else None
    eta = 0.01 if opt == "adam" else 0.1
    fit(model, data(dtype), epochs=2, batch_size=7, eta=eta, regularizer=r, optimizer=o, order_seeds=(3,),
        threads=threads, engine="compiled", dropout=d)
    h = hashlib.sha256()
    for t in (*model.weights, *model.biases):
        h.update(t.numpy().tobytes())
    return h.hexdigest()[:16]


def wide_configs():
    """Models larger than a group (kernel.GROUP_BYTES): train_epoch_wide, steps split over the threads."""
    for dtype, opt, threads, drop in itertools.product([torch.float32, torch.float64], ["sgd", "adam"], [1, 2],
                                                       [False, True]):
        yield dtype, [300, 700, 10], "relu", "cross-entropy", opt, "l2", 1, threads, drop


def train_wide(dtype, sizes, act, cost, opt, reg, M, threads, drop):
    model = MLP.initialize(sizes, seeds=[0], activation=act, cost=cost, dtype=dtype)
    o = {"sgd": SGD(), "adam": Adam()}[opt]
    d = Dropout([0.2] * (len(sizes) - 1), seeds=[0]) if drop else None
    fit(model, data_n(dtype, 300, 10, 120), epochs=1, batch_size=10, eta=0.01 if opt == "adam" else 0.1,
        regularizer=L2([1.0]), optimizer=o, order_seeds=(3,), threads=threads, engine="compiled", dropout=d)
    h = hashlib.sha256()
    for t in (*model.weights, *model.biases):
        h.update(t.numpy().tobytes())
    return h.hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--split", action="store_true", help="split every lone model that can be (the same hashes)")
    a = ap.parse_args()
    if a.split:
        from reglab.engine import kernel

        kernel.SPLIT_MACS, kernel.SPLIT_MACS_PER_PART = 0, 1
    lines = []
    for c in configs():
        lines.append(f"{train(*c)} {c[0]} {c[1:]}")
        print(lines[-1], flush=True)
    for c in wide_configs():
        lines.append(f"{train_wide(*c)} {c[0]} wide {c[1:]}")
        print(lines[-1], flush=True)
    total = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    print("overall", total, len(lines), "configurations")
    if a.out:
        open(a.out, "w").write("\n".join(lines) + f"\noverall {total}\n")


if __name__ == "__main__":
    main()
