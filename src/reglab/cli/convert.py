"""``reglab convert``: one regularization strength in the units of the book, PyTorch, Optax, Keras, scikit-learn,
TF Playground and Loshchilov & Hutter, and which of them are the same update under the optimizer named."""

from __future__ import annotations

import argparse
import json
import sys

from reglab import units
from reglab.cli.console import stdout, table
from reglab.errors import ReglabError


def configure(p: argparse.ArgumentParser) -> None:
    p.description = ("Print the same regularization strength in every system's units, and whether each is the same "
                     "update (see reglab.units for the rules and their sources). A penalty and a decay have no "
                     "equivalent under momentum or Adam: --to refuses them.")
    p.add_argument("--lmbda", "--lambda", type=float, dest="lmbda", help="strength in the book's units (C0 + (λ/2n)Σw²)")
    p.add_argument("--from", dest="source", choices=tuple(units.SYSTEMS), help="units of --value (instead of --lmbda)")
    p.add_argument("--value", type=float, help="the strength in --from's units")
    p.add_argument("--to", dest="target", choices=tuple(units.SYSTEMS), help="print only this system's value")
    p.add_argument("--optimizer", choices=units.OPTIMIZERS, default="sgd",
                   help="the optimizer both sides use (adamw is adam with a decay; default: sgd)")
    p.add_argument("--n", type=int, help="training-set size n (the book's λ/2n; L&H's B)")
    p.add_argument("--batch-size", type=int, default=10,
                   help="mini-batch size |B| (scikit-learn divides alpha by it; L&H's b; default 10)")
    p.add_argument("--eta", type=float, help="learning rate η (for the decays that do not follow it)")
    p.add_argument("--epochs", type=int, help="epochs T (L&H's normalized decay)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=run)


def _source(args) -> tuple[str, float]:
    if (args.lmbda is None) == (args.source is None):
        raise ReglabError("give either --lmbda, or --from SYSTEM with --value")
    if args.source is not None and args.value is None:
        raise ReglabError("--from needs --value")
    return ("book", args.lmbda) if args.lmbda is not None else (args.source, args.value)


def run(args) -> int:
    source, value = _source(args)
    settings = dict(n=args.n, batch_size=args.batch_size, eta=args.eta, epochs=args.epochs, optimizer=args.optimizer)
    if args.target is not None:
        converted = units.convert(value, source, args.target, **settings)
        rel = units.relation(source, args.target, args.optimizer)
        if args.json:
            sys.stdout.write(json.dumps({"system": args.target, "value": converted, "relation": rel.kind,
                                         "note": rel.why}) + "\n")
        else:
            stdout.print(f"{source} {value:g} = {args.target} {converted:.6g} ({rel.kind} under {args.optimizer}: "
                         f"{rel.why})", markup=False)
        return 0
    rows = units.table(value, source, **settings)
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    context = ", ".join(f"{k} = {v:,}" if isinstance(v, int) else f"{k} = {v:g}"
                        for k, v in (("n", args.n), ("mini-batch", args.batch_size), ("η", args.eta), ("epochs", args.epochs))
                        if v is not None)
    t = table(f"{source} {value:g} under {args.optimizer} ({context})", ("system", "parameter", "value", "same update", "rule"),
              left=("system", "parameter", "same update", "rule"))
    notes: dict[tuple[str, str], list[str]] = {}  # (label, why) → systems
    for r in rows:
        shown = "—" if r["value"] is None else f"{r['value']:.6g}"
        same = {"equal": "equal", "equal to first order": "first order", "none": "no equivalent"}[r["relation"]]
        if r["value"] is None and r["relation"] != "none":
            notes.setdefault(("missing", r["note"]), []).append(r["system"])
        elif r["relation"] != "equal":
            notes.setdefault((same, r["note"]), []).append(r["system"])
        t.add_row(r["system"], r["parameter"], shown, same, r["rule"])
    stdout.print(t)
    for (label, why), names in notes.items():
        stdout.print(why if label == "missing" else f"{label} ({', '.join(names)}): {why}", markup=False)
    return 0
