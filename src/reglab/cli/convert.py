"""``reglab convert``: one L2 strength in the units of the book, PyTorch, scikit-learn, Keras and Playground."""

from __future__ import annotations

import argparse
import json
import sys

from reglab import units
from reglab.cli.console import stdout, table
from reglab.errors import ReglabError


def configure(p: argparse.ArgumentParser) -> None:
    p.description = "Print the same L2 strength in every system's units (see reglab.units for the formulas)."
    p.add_argument("--lmbda", "--lambda", type=float, dest="lmbda", help="strength in the book's units (C0 + (λ/2n)Σw²)")
    p.add_argument("--from", dest="source", choices=units.SYSTEMS, help="units of --value (instead of --lmbda)")
    p.add_argument("--value", type=float, help="the strength in --from's units")
    p.add_argument("--n", type=int, required=True, help="training-set size n")
    p.add_argument("--batch-size", type=int, default=10,
                   help="mini-batch size |B| (scikit-learn divides alpha by it; default 10)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    if (args.lmbda is None) == (args.source is None):
        raise ReglabError("give either --lmbda, or --from SYSTEM with --value")
    if args.source is not None and args.value is None:
        raise ReglabError("--from needs --value")
    source, value = ("book", args.lmbda) if args.lmbda is not None else (args.source, args.value)
    rows = units.table(value, source, n=args.n, batch_size=args.batch_size)
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    t = table(f"the same L2 strength (n = {args.n:,}, mini-batch {args.batch_size})", ("system", "parameter", "value", "meaning"),
              left=("system", "parameter", "meaning"))
    for r in rows:
        t.add_row(r["system"], r["parameter"], f"{r['value']:.6g}", r["note"])
    stdout.print(t)
    return 0
