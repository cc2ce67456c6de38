"""What dropout and max-norm cost the compiled steps, and reglab against PyTorch on a dropout paper's network.

Run from the repository root::

    python benchmarks/bench_dropout.py --data-dir ../shared/data                   # 10,000 images per epoch
    python benchmarks/bench_dropout.py --data-dir ../shared/data --train-size 50000

It prints, all measured in the same run (the better of ``--rounds`` epochs each, the settings of a table
alternated round by round, so that a shared machine's load falls on all of them alike):

1. the compiled epoch of ``[784, 30, 10]`` (sigmoid, cross-entropy, mini-batch 10, one model) and of
   ``[784, 800, 800, 10]`` (ReLU, softmax, mini-batch 100, one model: the steps split over every core), without
   regularization, with hidden dropout 0.5, with input dropout 0.2 and hidden 0.5, and with max-norm (a radius
   every row exceeds, so that every step projects: the most it can cost); the added time in % (the issue's
   targets: dropout ≤ 25%, max-norm ≤ 10%);
2. ``[784, 800, 800, 10]`` ReLU, mini-batch 100, dropout 0.2/0.5, one model: reglab's epoch against a plain
   PyTorch ``nn.Module`` loop (``nn.Dropout``, ``nn.Linear``, ``torch.optim.SGD``, the same work), the ratio
   (target ≥ 1.0: not slower), and reglab's FLOP rate as a fraction of a large float32 matmul on the same
   threads, timed beside it; on every thread (wall-clock) and on one thread each (CPU seconds).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numba
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reglab.data import load_dataset  # noqa: E402
from reglab.engine.data import TensorData  # noqa: E402
from reglab.engine.dropout import Dropout  # noqa: E402
from reglab.engine.loop import fit  # noqa: E402
from reglab.engine.model import MLP  # noqa: E402
from reglab.engine.monitors import Monitor  # noqa: E402
from reglab.engine.regularizers import L2, MaxNorm  # noqa: E402
from reglab.engine.threads import torch_threads  # noqa: E402
from results import flops_per_example, matmul_rate  # noqa: E402  (the same FLOP count and matmul as bench_engine)

NO_MONITOR = Monitor(splits=(), weights=False, saturation_examples=0)
SMALL = dict(sizes=[784, 30, 10], activation="sigmoid", cost="cross-entropy", init="large", batch=10, eta=0.1)
LARGE = dict(sizes=[784, 800, 800, 10], activation="relu", cost="log-likelihood", init="he", batch=100, eta=0.05)


def reglab_epoch(data: TensorData, net: dict, dropout: list[float] | None = None, max_norm: float | None = None,
                 cpu: bool = False) -> float:
    """Seconds of one compiled epoch (no monitoring) of one model of ``net``: wall-clock with the default threads,
    or with ``cpu`` the process's CPU time on one thread (on a machine whose cores other jobs share, the steadier
    measure of the work)."""
    model = MLP.initialize(net["sizes"], seeds=[0], init=net["init"], activation=net["activation"], cost=net["cost"])
    reg = L2(0.0) if max_norm is None else MaxNorm(max_norm)
    c0 = time.process_time()
    result = fit(model, data, epochs=1, batch_size=net["batch"], eta=net["eta"], regularizer=reg, monitor=NO_MONITOR,
                 dropout=Dropout(dropout) if dropout else None, engine="compiled", threads=1 if cpu else 0)
    return time.process_time() - c0 if cpu else result.train_seconds


def torch_epoch(data: TensorData, net: dict, dropout: list[float], cpu: bool = False) -> float:
    """Seconds of one epoch of the same network as a plain ``nn.Module`` with ``nn.Dropout`` and ``optim.SGD``
    (with ``cpu``: CPU seconds on one thread)."""
    if cpu:
        with torch_threads(1):
            c0 = time.process_time()
            torch_epoch(data, net, dropout)
            return time.process_time() - c0
    sizes = net["sizes"]
    layers: list[torch.nn.Module] = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if dropout[l]:
            layers.append(torch.nn.Dropout(dropout[l]))
        layers.append(torch.nn.Linear(n_in, n_out))
        if l < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    module = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(module.parameters(), lr=net["eta"])
    X, y = data.train.X, data.train.y
    g = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for idx in torch.randperm(len(X), generator=g).split(net["batch"]):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(module(X[idx]), y[idx]).backward()
        opt.step()
    return time.perf_counter() - t0


def best_of(rounds: int, runs: dict) -> dict:
    """``{name: best seconds}`` over ``rounds`` rounds, each round running every entry of ``runs`` once in turn."""
    best = {name: float("inf") for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            best[name] = min(best[name], run())
    return best


def overhead_table(data: TensorData, rounds: int) -> list[str]:
    lines = ["1. one model's compiled epoch, seconds, and what each option adds (the better of "
             f"{rounds} alternated rounds; {len(data.train):,} images; wall-clock, and CPU seconds of the process)",
             "| network | clock | none | dropout 0.5 (hidden) | + added | dropout 0.2 / 0.5 | + added | max-norm | + added |",
             "|---|---|---|---|---|---|---|---|---|"]
    for net in (SMALL, LARGE):
        L = len(net["sizes"]) - 1
        for cpu in (False, True):
            runs = {"none": lambda net=net, cpu=cpu: reglab_epoch(data, net, cpu=cpu),
                    "hidden": lambda net=net, L=L, cpu=cpu: reglab_epoch(data, net, [0.0] + [0.5] * (L - 1), cpu=cpu),
                    "input": lambda net=net, L=L, cpu=cpu: reglab_epoch(data, net, [0.2] + [0.5] * (L - 1), cpu=cpu),
                    # every row's norm exceeds 1 from the start: every step projects, the most max-norm can cost
                    "max-norm": lambda net=net, cpu=cpu: reglab_epoch(data, net, max_norm=1.0, cpu=cpu)}
            for run in runs.values():  # compile and warm up
                run()
            t = best_of(rounds, runs)
            added = {k: 100 * (t[k] / t["none"] - 1) for k in t}
            lines.append(f"| {net['sizes']} mini-batch {net['batch']} | {'CPU' if cpu else 'wall'} | {t['none']:.3f} | "
                         f"{t['hidden']:.3f} | {added['hidden']:+.0f}% | {t['input']:.3f} | {added['input']:+.0f}% | "
                         f"{t['max-norm']:.3f} | {added['max-norm']:+.0f}% |")
    return lines


def peer_table(data: TensorData, rounds: int) -> list[str]:
    L = len(LARGE["sizes"]) - 1
    rates = [0.2] + [0.5] * (L - 1)
    lines = [f"2. {LARGE['sizes']} ReLU, mini-batch 100, dropout 0.2 / 0.5, one model: seconds per epoch of "
             f"{len(data.train):,} images (the better of {rounds} alternated rounds), every thread (wall-clock) and "
             "one thread each (CPU seconds)",
             "| threads | reglab | PyTorch nn.Module + nn.Dropout | reglab vs PyTorch | reglab FLOP/s | large float32 "
             "matmul, same threads | fraction |",
             "|---|---|---|---|---|---|---|"]
    for cpu in (False, True):
        runs = {"reglab": lambda cpu=cpu: reglab_epoch(data, LARGE, rates, cpu=cpu),
                "torch": lambda cpu=cpu: torch_epoch(data, LARGE, rates, cpu=cpu)}
        for run in runs.values():
            run()
        t = best_of(rounds, runs)
        threads = 1 if cpu else torch.get_num_threads()
        with torch_threads(threads):
            clock = time.process_time if cpu else time.perf_counter
            matmul = max(matmul_rate(torch.device("cpu"), clock=clock) for _ in range(3))
        rate = flops_per_example(LARGE["sizes"]) * len(data.train) / t["reglab"]
        lines.append(f"| {threads} ({'CPU' if cpu else 'wall'}) | {t['reglab']:.2f} | {t['torch']:.2f} | "
                     f"{t['torch'] / t['reglab']:.2f}× | {rate / 1e9:.1f} G | {matmul / 1e9:.1f} G | "
                     f"{100 * rate / matmul:.0f}% |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="the folder holding mnist/")
    parser.add_argument("--train-size", type=int, default=10_000, help="images per epoch (default 10,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tables", default="1,2", help="which tables to measure (default: 1,2)")
    args = parser.parse_args()
    data = TensorData.from_dataset(load_dataset("mnist", args.data_dir), train_size=args.train_size)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), numba {numba.__version__} ({numba.get_num_threads()} threads)")
    tables = {"1": overhead_table, "2": peer_table}
    for key in args.tables.split(","):
        for line in tables[key](data, args.rounds) + [""]:
            print(line, flush=True)


if __name__ == "__main__":
    main()
