"""Engine speed and memory against peers measured in the same run.

Run from the repository root::

    python benchmarks/bench_engine.py --data-dir ../shared/data            # full MNIST epochs
    python benchmarks/bench_engine.py --data-dir ../shared/data --quick    # 10,000 images, scaled to 50,000
    python benchmarks/bench_engine.py ... --write benchmarks/RESULTS.md    # record the figures

On MNIST with ``[784, 30, 10]`` sigmoid, cross-entropy, mini-batch 10, η = 0.1, λ = 5
(the book's seed configuration) it prints:

1. seconds per epoch of one model: reglab, scikit-learn ``MLPClassifier`` (solver sgd,
   batch 10, the same λ as ``alpha``) and a plain PyTorch ``nn.Module`` +
   ``torch.optim.SGD(weight_decay=λ/n)`` loop, and the ratios;
2. a 32-value λ sweep trained together: seconds per model-epoch against the same peers
   (which train one model after another), and its float32 rate (FLOPs of forward and
   backward per second) as a fraction of a large float32 matmul timed in the same run;
3. time per model-epoch for M = 1, 2, 4, …, 64 models trained together;
4. peak resident memory of a process training a 64-model sweep;
5. the cost of epoch-level monitoring relative to training, end to end: one model (its
   records measured beside the next epoch's training, as fit does where a core is idle,
   and in turn) and an 8-model sweep (no core idle: in turn).

Timings are the better of two or three epochs (the tensor steps and the peak memory: one) on a possibly shared
machine: compare ratios within one run, not seconds across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import reglab  # noqa: F401  (before torch: the peers then run under the OpenMP wait policy reglab sets)

# isort: split
import numpy as np
import torch

from reglab.data import load_dataset
from reglab.engine.data import TensorData
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.regularizers import L2
from reglab.engine.threads import torch_threads
from reglab.runs.assemble import resolve_device
from results import flops_per_example, machine, matmul_rate, write_section

SIZES = [784, 30, 10]
ETA, LMBDA, BATCH = 0.1, 5.0, 10
NO_MONITOR = Monitor(splits=(), weights=False, saturation_examples=0)


#: The sections of the report, in order (``--only``).
SECTIONS = ["1", "2", "2b", "3", "4", "5"]

#: The shapes of the sweep-rate table: the book's network, and two ReLU networks with mini-batches of 100
#: (sizes, activation, initialization, mini-batch).
SHAPES = [(SIZES, "sigmoid", "large", BATCH), ([784, 100, 10], "relu", "he", 100), ([784, 800, 800, 10], "relu", "he", 100)]


def train_models(data: TensorData, M: int, device, epochs: int = 1, sizes=SIZES, activation: str = "sigmoid",
                 init: str = "large", batch: int = BATCH, **options):
    """``M`` models of the seed configuration (λ log-spaced over 0.01–100 when ``M > 1``) trained together;
    ``options`` go to :func:`reglab.engine.loop.fit`. Returns its :class:`~reglab.train.FitResult`."""
    model = MLP.initialize(sizes, seeds=list(range(M)), device=device, activation=activation, init=init)
    lambdas = list(np.logspace(-2, 2, M)) if M > 1 else [LMBDA]
    return fit(model, data, epochs=epochs, batch_size=batch, eta=ETA, regularizer=L2(lambdas), **options)


def reglab_epoch(data: TensorData, M: int, device, threads: int | None = 0, engine: str = "auto", **shape) -> float:
    """Seconds of training (no monitoring) of one epoch of ``M`` models trained together.

    ``threads``: 0 is reglab's default (one thread on the CPU); ``engine``: reglab's ``auto`` (the
    compiled steps on the CPU) or ``tensor`` (torch operations per mini-batch); ``shape``: ``sizes``,
    ``activation``, ``init``, ``batch`` (default: the book's network).
    """
    return train_models(data, M, device, monitor=NO_MONITOR, threads=threads, engine=engine, **shape).train_seconds


def sweep_rate(data: TensorData, device, threads: int, full: int, rounds: int = 3,
               **shape) -> tuple[float, float, float, float]:
    """A 32-model sweep's ``(seconds per full epoch, FLOP/s, a large float32 matmul's FLOP/s, the process's CPU
    seconds per full epoch)`` on ``threads``: the best of ``rounds`` rounds of epoch and matmul side by side, so
    that both see the machine in the same state (the CPU seconds: those of the fastest epoch, the whole ``fit``)."""
    scale = full / len(data.train)
    results = []
    for _ in range(rounds):
        cpu = time.process_time()
        epoch_seconds = reglab_epoch(data, 32, device, threads=threads, **shape) * scale
        cpu = (time.process_time() - cpu) * scale
        with torch_threads(threads):
            results.append((epoch_seconds, matmul_rate(device), cpu))
    seconds, _, cpu = min(results)
    peak = max(r[1] for r in results)
    return seconds, 32 * full * flops_per_example(shape.get("sizes", SIZES)) / seconds, peak, cpu


def monitored_epochs(data: TensorData, M: int, device, epochs: int, monitor: Monitor, beside: bool | None) -> tuple[float, bool]:
    """Wall-clock seconds of ``epochs`` epochs of ``M`` models with ``monitor`` after each (training, measuring and
    callbacks; the record before training excluded), and whether the records were measured beside training."""
    res = train_models(data, M, device, epochs, monitor=monitor, beside=beside)
    return res.meta["epochs_seconds"], res.meta["monitor_beside"]


def torch_epoch(X: torch.Tensor, y: torch.Tensor, n: int, device) -> float:
    """A plain nn.Module + torch.optim.SGD loop with the book's update (biases not decayed)."""
    g = torch.Generator().manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(784, 30), torch.nn.Sigmoid(), torch.nn.Linear(30, 10)).to(device)
    decay = [p for name, p in net.named_parameters() if name.endswith("weight")]
    rest = [p for name, p in net.named_parameters() if name.endswith("bias")]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": LMBDA / n}, {"params": rest, "weight_decay": 0.0}], lr=ETA)
    Y = torch.nn.functional.one_hot(y, 10).to(X.dtype)
    t0 = time.perf_counter()
    perm = torch.randperm(len(X), generator=g).to(device)
    for idx in perm.split(BATCH):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(X[idx]), Y[idx], reduction="sum") / len(idx)
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def sklearn_epoch(X: np.ndarray, y: np.ndarray, n: int) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=(30,), activation="logistic", solver="sgd", batch_size=BATCH, learning_rate_init=ETA,
        momentum=0.0, nesterovs_momentum=False, alpha=LMBDA * BATCH / n, max_iter=1, shuffle=True, random_state=0, tol=0.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        clf.fit(X, y)
        return time.perf_counter() - t0


def peak_memory_of_sweep(M: int, data_dir: str, train_size: int) -> float:
    """Peak RSS (MB) of a fresh process that loads MNIST and trains ``M`` models for one epoch."""
    code = f"""
import resource, sys
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
from bench_engine import *
data = TensorData.from_dataset(load_dataset("mnist", {data_dir!r}), train_size={train_size})
reglab_epoch(data, {M}, torch.device("cpu"))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=None, help="data directory holding mnist/ (default: reglab's lookup)")
    ap.add_argument("--quick", action="store_true", help="time on 10,000 images and scale to 50,000")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--max-m", type=int, default=64)
    ap.add_argument("--shape-size", type=int, default=5000, help="images the other shapes' epochs are timed on")
    ap.add_argument("--write", metavar="FILE", help="also write the figures as Markdown to FILE")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS, metavar="SECTION",
                    help="run these sections only (of %(choices)s; default: all); written to FILE as a section of "
                         "their own, e.g. bench_engine 2b")
    args = ap.parse_args(argv)
    # sections 2 and 3 compare with section 1's figures: they bring it along
    only = [s for s in SECTIONS if s in args.only or (s == "1" and {"2", "3"} & set(args.only))]

    device = resolve_device(args.device)
    ds = load_dataset("mnist", args.data_dir)
    full = len(ds.train.y)
    size = 10_000 if args.quick else full
    scale = full / size  # seconds per full 50,000-image epoch
    data = TensorData.from_dataset(ds, device, train_size=size)
    X_np, y_np = ds.train.X[:size], ds.train.y[:size]
    X_t, y_t = data.train.X, data.train.y
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    gpu = torch.cuda.get_device_name() if device.type == "cuda" else "none"
    say(f"machine: {machine()}; torch {torch.__version__} ({torch.get_num_threads()} threads); device {device} ({gpu})")
    if {"1", "2", "3", "5"} & set(only):
        say(f"data: MNIST, {size:,} training images timed, figures per {full:,}-image epoch; [784, 30, 10], "
            f"mini-batch {BATCH}")
    say()

    # warm-up (first calls initialise thread pools and kernels)
    reglab_epoch(TensorData.from_dataset(ds, device, train_size=1000), 1, device)

    figures: dict[str, object] = {}
    if "1" in only:
        r1 = min(reglab_epoch(data, 1, device) for _ in range(2)) * scale
        rt = reglab_epoch(data, 1, device, engine="tensor") * scale if device.type == "cpu" else r1
        tt = min(torch_epoch(X_t, y_t, size, device) for _ in range(2)) * scale
        sk = min(sklearn_epoch(X_np, y_np, size) for _ in range(2)) * scale
        say("1. one model, seconds per epoch (the better of two epochs each; reglab's tensor steps: one epoch)")
        say("| reglab | reglab, tensor steps | PyTorch nn.Module + optim.SGD | scikit-learn MLPClassifier | reglab vs "
            "PyTorch | reglab vs scikit-learn |")
        say("|---|---|---|---|---|---|")
        say(f"| {r1:.2f} | {rt:.2f} | {tt:.2f} | {sk:.2f} | {tt / r1:.1f}× | {sk / r1:.1f}× |")
        say()
        figures["one_model"] = {"reglab": r1, "torch": tt, "sklearn": sk}

    all_threads = os.cpu_count() or 1
    if "2" in only:
        say(f"2. a 32-value λ sweep trained together, on one thread and on {all_threads} (reglab's default: every core; "
            "the best of three rounds of epoch and matmul)")
        say("| threads | seconds per epoch (32 models) | per model-epoch | vs PyTorch (one at a time) | vs scikit-learn | "
            "FLOP/s | large float32 matmul, same threads | fraction |")
        say("|---|---|---|---|---|---|---|---|")
        for label, threads in (("1", 1), (str(all_threads), all_threads)):
            t32, rate, peak, _ = sweep_rate(data, device, threads, full)
            if threads == 1:
                figures["sweep32_per_model"] = t32 / 32
            per = t32 / 32
            say(f"| {label} | {t32:.2f} | {per:.3f} | {tt / per:.1f}× | {sk / per:.1f}× | {rate / 1e9:.1f} G | "
                f"{peak / 1e9:.1f} G | {rate / peak:.0%} |")
        say()

    if "2b" in only and device.type == "cpu":
        say("2b. the same 32-model sweep on other shapes (λ log-spaced over 0.01–100; epochs timed on "
            f"{args.shape_size:,} images, scaled; the best of three rounds of epoch and matmul; the CPU seconds of the "
            "process in that epoch beside its wall-clock seconds)")
        say("| network | activation | mini-batch | threads | seconds per epoch (32 models) | CPU seconds | FLOP/s | "
            "large float32 matmul | fraction |")
        say("|---|---|---|---|---|---|---|---|---|")
        small = TensorData.from_dataset(ds, device, train_size=min(args.shape_size, full))
        for sizes, activation, init, batch in SHAPES:
            for threads in (1, all_threads):
                t, r, peak, cpu = sweep_rate(small, device, threads, full, sizes=sizes, activation=activation, init=init,
                                             batch=batch)
                say(f"| {sizes} | {activation} | {batch} | {threads} | {t:.2f} | {cpu:.2f} | {r / 1e9:.1f} G | "
                    f"{peak / 1e9:.1f} G | {r / peak:.0%} |")
        say(f"load average after: {os.getloadavg()[0]:.2f}")
        say()

    if "3" in only:
        say("3. time per model-epoch against the number of models trained together (reglab's default threads; the better "
            "of two epochs)")
        say("| M | seconds per epoch | per model-epoch |")
        say("|---|---|---|")
        scaling = {}
        M = 1
        while M <= args.max_m:
            t = r1 if M == 1 else min(reglab_epoch(data, M, device) for _ in range(2)) * scale
            scaling[M] = t / M
            say(f"| {M} | {t:.2f} | {t / M:.3f} |")
            M *= 2
        say()
        figures["per_model_epoch"] = scaling

    if "4" in only:
        if device.type == "cpu":
            mb = peak_memory_of_sweep(args.max_m, args.data_dir, full)
            say(f"4. peak resident memory of a process training a {args.max_m}-model sweep on all {full:,} images: {mb:,.0f} MB")
        else:
            torch.cuda.reset_peak_memory_stats()
            reglab_epoch(TensorData.from_dataset(ds, device, train_size=2000), args.max_m, device)
            say(f"4. peak GPU memory of a {args.max_m}-model sweep: {torch.cuda.max_memory_allocated() / 2**20:,.0f} MB")
        say()

    if "5" in only:
        full_data = TensorData.from_dataset(ds, device)
        epochs = 3 if args.quick else 10
        say("5. monitoring once per epoch: weight statistics, saturation, and the cost and accuracy of the splits named "
            "(the training split running, measured by the steps during the epoch, or exact, by a pass after it), in "
            f"{epochs}-epoch runs on all {full:,} images, the best of three runs (8 models: two) alternated; beside = on "
            "the core the steps leave idle while the next epoch trains (the last epoch in turn)")
        say("| models | monitoring | measured | seconds per epoch | added to training |")
        say("|---|---|---|---|---|")
        variants = [("none", NO_MONITOR, False),
                    ("train (running), validation, test: the default", Monitor(train="running"), None),
                    ("train (running), validation, test: the default", Monitor(train="running"), False),
                    ("train (exact), validation, test", Monitor(train="exact"), None),
                    ("train (exact), validation, test", Monitor(train="exact"), False)]
        for M in (1, 8):
            runs: dict[int, list[tuple[float, bool]]] = {i: [] for i in range(len(variants))}
            for _ in range(3 if M == 1 else 2):  # alternated, so that a change in the machine's speed falls on every variant
                for i, (_, monitor, beside) in enumerate(variants):
                    runs[i].append(monitored_epochs(full_data, M, device, epochs, monitor, beside))
            plain = min(t for t, _ in runs[0]) / epochs
            for i, (label, _, beside) in enumerate(variants):
                if M > 1 and beside is False:
                    continue  # no core is idle: the automatic choice is already in turn
                seconds = min(t for t, _ in runs[i]) / epochs
                how = "—" if i == 0 else ("beside" if runs[i][0][1] else "in turn")
                say(f"| {M} | {label} | {how} | {seconds:.3f} | {'—' if i == 0 else f'{seconds / plain - 1:+.0%}'} |")

    if args.write:
        part = "" if only == SECTIONS else " " + " ".join(only)
        write_section(args.write, "bench_engine" + part, lines, "python benchmarks/bench_engine.py"
                      + (" --quick" if args.quick else "") + (f" --only{part}" if part else ""))
    print(json.dumps(figures, indent=None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
