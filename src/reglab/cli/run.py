"""``reglab run``: the seed experiment, weights before and after L2 training.

``[784, 30, 10]`` sigmoid, cross-entropy, large initialization (N(0,1)),
η = 0.1, λ = 5.0, mini-batch 10, 30 epochs on MNIST (the 8×8 digits when
MNIST is absent). It prints the validation accuracy of every epoch and a
per-layer table of the weights before and after: sum, L1 norm, variance, RMS,
and the levels 1/√n_in and 1/√N that weight decay tends towards.
"""

from __future__ import annotations

import argparse

from rich.table import Table

from reglab.cli.console import line, pct, print_json, stdout, table
from reglab.cli.training import add_output_flags, execute, load_config, models_table
from reglab.config import add_arguments

SEED_EXPERIMENT = dict(hidden=(30,), activation="sigmoid", cost="cross-entropy", init="large", eta=(0.1,), lmbda=(5.0,),
                       batch_size=10, epochs=30, reg="l2", optimizer="sgd")


def configure(p: argparse.ArgumentParser) -> None:
    p.description = __doc__.split("\n\n")[1]
    add_arguments(p, defaults=SEED_EXPERIMENT)
    add_output_flags(p)
    p.set_defaults(func=run)


def before_after_table(summary: dict, model: int = 0) -> Table:
    m = summary["models"][model]
    t = table(f"weights before → after training (λ = {m['lmbda']:g}, η = {m['eta']:g})",
              ("layer", "shape", "sum", "L1 norm", "variance", "RMS", "1/√n_in", "1/√N"))
    for before, after in zip(m["layers_initial"], m["layers"]):
        t.add_row(
            str(after["layer"]), "×".join(map(str, after["shape"])),
            f"{before['sum']:.1f} → {after['sum']:.1f}",
            f"{before['l1']:.1f} → {after['l1']:.1f}",
            f"{before['var']:.4f} → {after['var']:.4f}",
            f"{before['rms']:.4f} → {after['rms']:.4f}",
            f"{after['inv_sqrt_n_in']:.4f}", f"{after['inv_sqrt_N']:.4f}",
        )
    return t


def run(args) -> int:
    config = load_config(args, SEED_EXPERIMENT)

    def print_epoch(epoch, record, run_state) -> None:
        acc = record.get("validation_accuracy")
        if acc is not None:
            cells = "  ".join(pct(a) for a in acc)
            stdout.print(f"epoch {epoch:3d}/{config.epochs}  validation accuracy {cells}")

    _, summary, out = execute(config, args, [] if args.json else [print_epoch])
    if args.json:
        print_json(summary)
        return 0
    stdout.print(models_table(summary))
    for m in range(len(summary["models"])):
        stdout.print(before_after_table(summary, m))
    line(f"run folder: {out}")
    return 0
