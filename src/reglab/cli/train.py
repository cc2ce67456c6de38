"""``reglab train``: train one or more models (every λ × η × seed) together and write a run folder."""

from __future__ import annotations

import argparse

from reglab.cli.console import line, print_json, stdout
from reglab.cli.training import add_output_flags, execute, load_config, models_table
from reglab.config import add_arguments


def configure(p: argparse.ArgumentParser) -> None:
    p.description = ("Train multilayer perceptrons. Every combination of --lmbda, --eta and --seeds is one model; "
                     "all train together (on the CPU an epoch of all of them is one compiled call).")
    add_arguments(p)
    add_output_flags(p)
    p.set_defaults(func=run)


def run(args) -> int:
    config = load_config(args)
    _, summary, out = execute(config, args)
    if args.json:
        print_json(summary)
    else:
        stdout.print(models_table(summary))
        line(f"run folder: {out}")
    return 0
