"""``reglab run``: the seed experiment, weights before and after L2 training.

``[784, 30, 10]`` sigmoid, cross-entropy, large initialization (N(0,1)),
η = 0.1, λ = 5.0, mini-batch 10, 30 epochs on MNIST (the 8×8 digits when
MNIST is absent). It prints the validation accuracy of every epoch and two
per-layer tables: the weights before and after (signed sum, Σ|w| beside
numpy's ord=1 matrix norm, variance, RMS), and what weight decay alone would
have left of the RMS beside the measured one, the levels 1/√n_in and 1/√N,
and the share of saturated units before and after.
"""

from __future__ import annotations

import argparse
import math

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
    """Each layer's weights before → after: signed sum, Σ|w| beside numpy's ord=1 norm, variance, RMS."""
    m = summary["models"][model]
    first = m["layers_initial"][0]
    ratio = first["l1"] / first["max_column_l1"] if first["max_column_l1"] else math.nan
    caption = (f"Σ|w| adds every |w| of a layer; numpy.linalg.norm(W, ord=1) is the matrix norm max_j Σ_i |w_ij|, "
               f"the largest column sum (one input's {first['shape'][0]} weights), so for layer 0's "
               f"{first['shape'][1]} inputs it is {ratio:.0f}× smaller before training.")
    t = table(f"weights before → after training (λ = {m['lmbda']:g}, η = {m['eta']:g})",
              ("layer", "shape", "sum", "Σ|w|", "max column Σ|w|\n(numpy ord=1)", "variance", "RMS"), caption=caption)
    t.caption_justify = "left"
    for before, after in zip(m["layers_initial"], m["layers"]):
        t.add_row(
            str(after["layer"]), "×".join(map(str, after["shape"])),
            f"{before['sum']:.1f} → {after['sum']:.1f}",
            f"{before['l1']:.1f} → {after['l1']:.1f}",
            f"{before['max_column_l1']:.1f} → {after['max_column_l1']:.1f}",
            f"{before['var']:.4f} → {after['var']:.4f}",
            f"{before['rms']:.4f} → {after['rms']:.4f}",
        )
    return t


def decay_table(summary: dict, model: int = 0) -> Table:
    """What L2 alone would have left of each layer's RMS, the reference levels, and the saturated share."""
    m = summary["models"][model]
    factor = m.get("decay_alone")
    if factor is None:
        alone = "decay alone: not predicted here (the rule holds for SGD with L2 or decay and a constant η)"
    else:
        alone = (f"decay alone: RMS₀·exp(−ηλ·epochs/m) = RMS₀·{factor:.4f} ({m['epochs_trained']} epochs of "
                 f"mini-batches of {summary['batch_size']}), what L2 would leave if the data pulled on no weight")
    caption = (f"{alone}; saturated: the share of (image, unit) pairs with f'(z) below 1% of its maximum, on "
               f"up to {summary['saturation_examples']:,} validation images (the monitor's probe).")
    t = table("what weight decay alone predicts, and saturation",
              ("layer", "RMS after", "RMS by decay alone", "1/√n_in", "1/√N", "saturated before → after"), caption=caption)
    t.caption_justify = "left"
    for before, after in zip(m["layers_initial"], m["layers"]):
        sat = ("—" if before["saturation"] is None or after["saturation"] is None
               else f"{pct(before['saturation'])} → {pct(after['saturation'])}")
        t.add_row(str(after["layer"]), f"{after['rms']:.4f}", "—" if factor is None else f"{before['rms'] * factor:.4f}",
                  f"{after['inv_sqrt_n_in']:.4f}", f"{after['inv_sqrt_N']:.4f}", sat)
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
        stdout.print(decay_table(summary, m))
    line(f"run folder: {out}")
    return 0
