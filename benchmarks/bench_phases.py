"""Where a compiled epoch's time goes: each phase of the kernel's step timed alone, on one thread.

For a network and mini-batch, a group of ``--group`` models goes through an epoch
of ``--size`` images (random pixels and labels: the time does not depend on
them) doing one phase only: gathering the mini-batch's rows, each layer's
forward product (and the output error), each layer's back-propagated error, each
layer's weight update (the book's step, fused into the weights), and then
all of them together, as :func:`reglab.engine.kernel.train_epoch` runs them. It
prints milliseconds per model-epoch (scaled to 50,000 images), each phase's share
of the whole, its FLOP/s, that as a fraction of a large float32 matmul on one
thread timed in the same run, and the bytes of weights each phase reads per
mini-batch. Each figure is the best of ``--rounds``. Run from the repository root::

    python benchmarks/bench_phases.py                                   # [784, 30, 10], mini-batch 10, 16 models
    python benchmarks/bench_phases.py --sizes 784 800 800 10 --batch 100 --group 1 --activation relu

The functions timed are the kernel's own (the serial ones; the wide path splits
the same functions over its threads in blocks).
"""

from __future__ import annotations

import argparse
import sys
import time

import numba as nb
import numpy as np

from reglab.engine import kernel as K
from results import machine, matmul_rate, report

GATHER, FORWARD, BACKWARD, UPDATE, ALL = 0, 1, 2, 3, 4


@nb.njit(cache=False)
def _phase(X, Y, perm, B, Ws, bs, which, layer, act, eta):
    """One epoch of phase ``which`` (of ``layer``) for every model in ``Ws``; ``ALL``: the whole step."""
    N = perm.shape[0]
    L = len(Ws)
    G = Ws[0].shape[0]
    x = np.empty((B, X.shape[1]), X.dtype)
    acts, deltas, zlast, keeps, dropped = K._step_buffers(X, Ws, B)
    widest = X.shape[1]
    for l in range(L):
        widest = max(widest, Ws[l].shape[1])
    grad = np.empty((2, widest), X.dtype)
    cvec = np.empty(B, X.dtype)
    seen = np.zeros((0, 2))
    rw = np.zeros(5, X.dtype)
    rw[0] = 1e-4
    rw[4] = np.inf
    rb = np.zeros(5, X.dtype)
    rb[4] = np.inf
    hyper = np.zeros(3)
    for s in range(N // B):
        rows = perm[s * B:(s + 1) * B]
        if which == GATHER or which == ALL or s == 0:
            K._gather(X, rows, B, x)
        for mi in range(G):
            inv_m = X.dtype.type(1.0 / B)
            for l in range(L):
                if (which == FORWARD and l == layer) or which == ALL:
                    K._layer(x if l == 0 else acts[l - 1], B, Ws[l][mi], bs[l][mi], acts[l], l == L - 1, act, 0, zlast)
                    if l == L - 1:
                        K._output_error(acts, zlast, deltas, Y, rows, B, 0, seen, mi)
            for l in range(L - 1, -1, -1):
                W = Ws[l][mi]
                inp = x if l == 0 else acts[l - 1]
                if l > 0 and ((which == BACKWARD and l == layer) or which == ALL):
                    K._below_rows(0, B, deltas[l], W, acts[l - 1], act, keeps[l], False, deltas[l - 1])
                if (which == UPDATE and l == layer) or which == ALL:
                    n_out, n_in = W.shape
                    K._update_rows(0, n_out - n_out % 2, deltas[l], inp, B, W, W, W, eta, rw, 0, hyper, 1.0, 1.0, inv_m,
                                   grad[0, :n_in], grad[1, :n_in])
                    K._last_row_and_bias(deltas[l], inp, B, W, W, W, bs[l][mi], bs[l][mi], bs[l][mi], eta, rw, rb, 0,
                                         hyper, 1.0, 1.0, inv_m, grad[0], cvec)
    return N // B


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[784, 30, 10])
    ap.add_argument("--activation", choices=["sigmoid", "relu"], default="sigmoid")
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--group", type=int, default=16, help="models trained one after another on each mini-batch")
    ap.add_argument("--size", type=int, default=5000, help="images of the timed epoch (scaled to 50,000)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--write", metavar="FILE", help="also write the table as a section of FILE (Markdown), one per network")
    args = ap.parse_args(argv)

    sizes, B, G = args.sizes, args.batch, args.group
    rng = np.random.default_rng(0)
    X = rng.random((args.size, sizes[0]), dtype=np.float32)
    Y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], args.size)]
    perm = rng.permutation(args.size).astype(np.int64)
    Ws = nb.typed.List([rng.standard_normal((G, o, i), dtype=np.float32) * np.float32(i ** -0.5)
                        for i, o in zip(sizes[:-1], sizes[1:])])
    bs = nb.typed.List([np.zeros((G, o), np.float32) for o in sizes[1:]])
    act = K.ACTIVATION_CODES[args.activation]
    L = len(sizes) - 1
    macs = [i * o for i, o in zip(sizes[:-1], sizes[1:])]
    phases = [("gather the mini-batch", GATHER, 0, 0, 0)]
    phases += [(f"layer {l} forward" + (" + output error" if l == L - 1 else ""), FORWARD, l, 2 * macs[l], 4 * macs[l])
               for l in range(L)]
    phases += [(f"layer {l} error below", BACKWARD, l, 2 * macs[l], 4 * macs[l]) for l in range(L - 1, 0, -1)]
    phases += [(f"layer {l} update", UPDATE, l, 2 * macs[l], 8 * macs[l]) for l in range(L - 1, -1, -1)]
    phases += [("the whole step", ALL, 0, 2 * sum(macs) * 2 + 2 * sum(macs[1:]), 16 * sum(macs) + 4 * sum(macs[1:]))]
    scale = 50_000 / (args.size // B * B) / G
    best = {name: np.inf for name, *_ in phases}
    peak = 0.0
    with K.threads(1):
        for _, which, layer, _, _ in phases:  # compiled and warmed before timing
            _phase(X[:B * 2], Y, perm[:B * 2], B, Ws, bs, which, layer, act, np.float32(1e-6))
        import torch

        torch.set_num_threads(1)
        for _ in range(args.rounds):  # rounds alternated, so that a change in the machine's speed falls on every phase
            for name, which, layer, _, _ in phases:
                t0 = time.perf_counter()
                _phase(X, Y, perm, B, Ws, bs, which, layer, act, np.float32(1e-6))
                best[name] = min(best[name], time.perf_counter() - t0)
            peak = max(peak, matmul_rate())
    lines = [f"machine: {machine()}; {sizes} {args.activation}, mini-batch {B}, {G} model{'s' if G > 1 else ''} one "
             f"after another on each mini-batch, one thread; a large float32 matmul on one thread: {peak / 1e9:.1f} "
             f"GFLOP/s (the best of {args.rounds} rounds, alternated with the phases)", "",
             "| phase | ms per model-epoch | share of the whole step | FLOP/s | of the matmul's | weights moved per "
             "mini-batch and model (read; an update reads and writes) |",
             "|---|---|---|---|---|---|"]
    whole = best["the whole step"]
    for name, _, _, flops, traffic in phases:
        t = best[name]
        rate = flops * B * G * (args.size // B) / t
        head = f"| {name} | {t * scale * 1e3:.2f} | {t / whole:.0%} |"
        tail = f"{rate / 1e9:.1f} G | {rate / peak:.0%} | {traffic / 1024:.0f} KB |" if flops else "— | — | — |"
        lines.append(f"{head} {tail}")
    command = "python benchmarks/bench_phases.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report(lines, args.write, f"bench_phases {sizes}", command.replace(f" --write {args.write}", "").strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
