"""``reglab train``: train one or more models (every λ × η × seed, × fold with ``--folds``) together and write a
run folder. With ``--folds`` it also prints, as ``reglab sweep --folds`` does, each λ's mean over the folds and
the λ chosen on the held-out folds (λ_min and glmnet's λ_1se); ``--json`` holds them under ``curves``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from reglab.cli.console import line, print_json, stdout
from reglab.cli.training import add_output_flags, execute, load_config, models_table
from reglab.config import add_arguments

if TYPE_CHECKING:  # the sweep modules import torch: only when the command runs, not for --help
    from reglab.runs.assemble import TrainResult
    from reglab.sweep.select import Curve


def configure(p: argparse.ArgumentParser) -> None:
    p.description = ("Train multilayer perceptrons. Every combination of --lmbda, --eta and --seeds (and fold, with "
                     "--folds) is one model; all train together (on the CPU an epoch of all of them is one compiled call).")
    add_arguments(p)
    add_output_flags(p)
    p.set_defaults(func=run)


def fold_curves(result: TrainResult) -> list[Curve]:
    """The λ curves of a run with ``--folds``: its models as a sweep's cells (settings and results, the same
    rows), grouped and chosen on as ``reglab sweep`` does (:func:`reglab.sweep.select.curves`)."""
    from reglab.sweep.chunks import cell_metrics
    from reglab.sweep.grid import cells_of
    from reglab.sweep.select import curves

    return curves([{**cell.settings(), **row} for cell, row in zip(cells_of(result.config), cell_metrics(result))])


def run(args) -> int:
    config = load_config(args)
    result, summary, out = execute(config, args)
    found = fold_curves(result) if config.folds else []
    if args.json:
        print_json({**summary, "curves": [c.summary() for c in found]} if found else summary)
        return 0
    stdout.print(models_table(summary))
    if found:
        from reglab.cli.sweep import choice_line, curve_table

        for curve in found:
            title = f"{len(found) > 1 and curve.label(['eta']) + ' · ' or ''}{summary['data']} · {config.folds} folds"
            stdout.print(curve_table(curve, title, config.monitor_train))
            line(choice_line(curve))
    line(f"run folder: {out}")
    return 0
