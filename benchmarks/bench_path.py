"""A warm-started λ path against the cold sweep over the same λ, on MNIST [784, 30, 10], in one run.

The issue's target: a 30-step L1-prox path and an L2 path from λ_max (found: the smallest λ at which
the network collapses) down to λ_max·10⁻⁴; the warm path (every kind × seed one model of one batch,
``--path-epochs`` epochs per λ from the previous λ's weights) should reach the cold sweep's best
validation accuracy (every λ from the initial weights for ``--epochs`` epochs) within 0.3 points, in
at most 30% of the cold sweep's time.

Both run here, one after the other, through :func:`reglab.path.path` (``start="both"``), on the same
machine load; the times are wall-clock seconds of each phase, monitoring included (validation and
test after every epoch, the training split's running measure), the search for λ_max reported apart
(both use its λ). Two ratios are printed: the time at which the warm path first came within 0.3
points of the cold best over the cold sweeps' (the target: ≤ 30%), and the warm path's whole time
(all 30 λ) over the cold sweeps'.

Run: ``python benchmarks/bench_path.py [--data-dir DIR] [--steps 30] [--path-epochs 2] [--epochs 30]``.
On a shared machine the seconds move with the load; the ratio is the number to read.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time

from reglab.config import TrainConfig
from reglab.path import PathSettings, Span, path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", help="the directory holding mnist/ (default: reglab's)")
    ap.add_argument("--data", default="mnist")
    ap.add_argument("--reg", default="l2,l1-prox")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--eps", type=float, default=1e-4)
    ap.add_argument("--path-epochs", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=30, help="epochs of every model of the cold sweep")
    ap.add_argument("--eta", type=float, default=0.1)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--train-size", type=int)
    ap.add_argument("--out", help="keep the folder here (default: a temporary one)")
    args = ap.parse_args()

    base = TrainConfig(data=args.data, data_dir=args.data_dir, eta=(args.eta,), epochs=args.epochs, seeds=args.seeds,
                       train_size=args.train_size)
    settings = PathSettings(tuple(args.reg.split(",")), Span(None, args.eps, args.steps), args.path_epochs, "both")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = path(base, settings, out=args.out or f"{tmp}/path", plot=bool(args.out))
    total = time.perf_counter() - t0
    print(f"machine: {platform.node()} · {platform.processor() or platform.machine()} · run took {total:.0f} s")
    print(f"{base.data} [784, {base.hidden[0]}, 10] · η = {args.eta} · mini-batch {base.batch_size} · {args.steps} λ "
          f"from λ_max to λ_max·{args.eps:g} · warm: {args.path_epochs} epoch(s) per λ · cold: {args.epochs} epochs per λ "
          f"· {args.seeds} seed(s)")
    print(f"λ_max search: {result.seconds['search']:.1f} s")
    print("| kind | λ_max | warm best val | cold best val | gap (points) | warm s (all kinds) | cold s (this kind) "
          "| warm / cold (all kinds) | reached within 0.3 at | reach / cold | target met |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for c in result.comparison:
        reach = c["reached"]
        met = c["reached"] is not None and c["reach_ratio"] <= 0.30  # within 0.3 points of the cold best, in ≤ 30% of its time
        print(f"| {c['kind']} | {result.found[c['kind']].lmbda:.4g} | {100 * c['warm_best']:.2f}% | "
              f"{100 * c['cold_best']:.2f}% | {c['gap_points']:+.2f} | {c['warm_seconds']:.1f} | {c['cold_seconds']:.1f} | "
              f"{100 * c['time_ratio']:.1f}% | "
              + (f"step {reach['step'] + 1}, λ = {reach['lmbda']:.3g}, {reach['seconds']:.1f} s | "
                 f"{100 * c['reach_ratio']:.1f}% | " if reach else "never | — | ")
              + ("yes" if met else "no") + " |")
    print(json.dumps({"comparison": result.comparison, "seconds": result.seconds,
                      "lmbda_max": {k: f.lmbda for k, f in result.found.items()}}, default=float))


if __name__ == "__main__":
    main()
