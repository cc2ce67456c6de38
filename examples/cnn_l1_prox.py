"""A small CNN (two convolutions, one linear layer) trained with and without L1 by proximal step.

The same network, initial weights and mini-batch order train twice: plain SGD with momentum, and the same
plus ``reglab.regularize(model, L1Prox(λ), n)`` applied through ``reglab.wrap`` (soft-thresholding at
``lr·λ/n`` after every step: exact zeros). The script prints test accuracy and the fraction of weights
exactly zero for both, and checks the claim it states: L1-prox makes at least ``--target-sparsity`` of the
weights zero while its test accuracy stays within ``--within`` points of the unregularized network's.

    python examples/cnn_l1_prox.py                      # MNIST when present (else the 8×8 digits), CPU
    python examples/cnn_l1_prox.py --device cuda        # the same on a GPU
    python examples/cnn_l1_prox.py --data digits --epochs 30 --lmbda 20

Exit status 0 when the claim holds, 1 when it does not.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import reglab
from reglab.data import load_dataset

# What the example claims, per data set: (epochs, λ, sparsity at least, accuracy within this many points)
DEFAULTS = {"mnist": (3, 200.0, 0.50, 1.0), "digits": (40, 20.0, 0.50, 3.0)}


class CNN(nn.Module):
    """conv 3×3 (8) → ReLU → max-pool 2 → conv 3×3 (16) → ReLU → max-pool 2 → linear (10)."""

    def __init__(self, side: int, classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * (side // 4) ** 2, classes)
        self.side = side

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.view(-1, 1, self.side, self.side)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def tensors(split, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(split.X).to(device), torch.from_numpy(split.y.astype(np.int64)).to(device)


def train(ds, lmbda: float, epochs: int, args, device: torch.device) -> tuple[CNN, float, float]:
    """Train one CNN (λ = 0: no regularizer) and return it, its test accuracy and its seconds of training."""
    side = int(round(ds.train.X.shape[1] ** 0.5))
    torch.manual_seed(args.seed)  # the same initial weights for both runs
    model = CNN(side).to(device)
    X, y = tensors(ds.train, device)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    monitor = None
    if lmbda > 0:
        reg = reglab.regularize(model, reglab.L1Prox(lmbda), n=len(y))
        optimizer = reglab.wrap(optimizer, reg)
        if args.out:
            monitor = reglab.WeightMonitor(model, out=args.out, mask="weights", every=200)
    order = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    for _ in range(epochs):
        for idx in torch.randperm(len(y), generator=order).split(args.batch_size):
            idx = idx.to(device)
            optimizer.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            optimizer.step()
            if monitor is not None:
                monitor.step()
        if monitor is not None:
            monitor.epoch()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    if monitor is not None:
        monitor.close()
    Xt, yt = tensors(ds.test, device)
    with torch.no_grad():
        accuracy = (model(Xt).argmax(dim=1) == yt).double().mean().item()
    return model, accuracy, seconds


def sparsity(model: nn.Module) -> tuple[int, int]:
    """(weights exactly zero, weights) over the conv kernels and the linear weight (biases aside)."""
    ws = [p for name, p in model.named_parameters() if name.endswith("weight")]
    return sum(int((w == 0).sum()) for w in ws), sum(w.numel() for w in ws)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="auto", help="mnist, digits or auto (MNIST when present)")
    parser.add_argument("--data-dir", default=None, help="where mnist/ lies (default: $REGLAB_DATA, ~/.cache/reglab)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--lmbda", type=float, default=None, help="L1 strength λ in reglab's units ((λ/n)Σ|w|)")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of torch (0: torch's default); a network "
                        "this small gains nothing from more")
    parser.add_argument("--target-sparsity", type=float, default=None, help="the claim: at least this fraction zero")
    parser.add_argument("--within", type=float, default=None, help="the claim: accuracy within this many points")
    parser.add_argument("--out", default=None, help="a folder for the regularized run's WeightMonitor files")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA device")
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    ds = load_dataset(args.data, args.data_dir)
    epochs, lmbda, target, within = DEFAULTS["mnist" if ds.name == "mnist" else "digits"]
    epochs = args.epochs or epochs
    lmbda = args.lmbda if args.lmbda is not None else lmbda
    target = args.target_sparsity if args.target_sparsity is not None else target
    within = args.within if args.within is not None else within
    print(f"{ds.name}: {len(ds.train)} training images, {epochs} epochs, SGD lr {args.lr} momentum 0.9, "
          f"mini-batch {args.batch_size}, {device}")

    plain, acc0, s0 = train(ds, 0.0, epochs, args, device)
    sparse, acc1, s1 = train(ds, lmbda, epochs, args, device)
    for name, model, acc, secs in (("no regularizer", plain, acc0, s0), (f"L1Prox({lmbda:g})", sparse, acc1, s1)):
        zeros, total = sparsity(model)
        print(f"{name:>16}: test accuracy {100 * acc:.2f}%  weights exactly zero {zeros:,}/{total:,} "
              f"({100 * zeros / total:.1f}%)  {secs:.1f} s")
    layers = ", ".join(f"{name} {100 * float((p == 0).double().mean()):.0f}%"
                       for name, p in sparse.named_parameters() if name.endswith("weight"))
    print(f"zeros per layer: {layers}")
    zeros, total = sparsity(sparse)
    holds = zeros / total >= target and 100 * (acc0 - acc1) <= within
    print(f"claim: at least {100 * target:.0f}% of the weights exactly zero with test accuracy within {within:g} points "
          f"of the unregularized network: {'holds' if holds else 'does NOT hold'} "
          f"({100 * zeros / total:.1f}% zero, {100 * (acc1 - acc0):+.2f} points)")
    if args.out:
        print(f"weight monitor: {Path(args.out) / 'metrics.csv'}")
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())
