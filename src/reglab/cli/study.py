"""``reglab study``: run a study (or all of them) and write its self-contained HTML report.

    reglab study --list
    reglab study NAME [--quick] [--out DIR] [--seed S]
    reglab study all  [--quick] [--out DIR] [--seed S]

A study is written to ``DIR/NAME/`` (``report.html``, ``results.json``, one PNG per figure);
``all`` also writes ``DIR/index.html``. DIR defaults to ``./studies``. DIR (and ``DIR/NAME``) are
claimed before any study runs (:func:`reglab.outdir.claim`): new, empty, or written by ``reglab study``.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from reglab.errors import ReglabError


def configure(p: argparse.ArgumentParser) -> None:
    p.description = "Run a study (measure, then report what was measured) or all of them."
    p.add_argument("name", nargs="?", metavar="NAME", help="a study (see --list), or 'all'")
    p.add_argument("--list", action="store_true", help="list the studies and the question each answers")
    p.add_argument("--quick", action="store_true", help="a smaller run (under a minute each): fewer repeats and grid points")
    p.add_argument("--out", type=Path, default=Path("studies"), metavar="DIR",
                   help="folder of the reports; a study goes to DIR/NAME/ (default: ./studies)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of every random draw, 0 to 2**63-1 (default: 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reglab import studies
    from reglab.cli.progress import Progress
    from reglab.outdir import claim
    from reglab.rng import check_seed

    if args.list:
        for name, question in studies.list_studies():
            print(f"{name:<20} {question}")
        return 0
    if args.name is None:
        raise ReglabError("give a study NAME, 'all', or --list")
    check_seed(args.seed)
    mode = "quick" if args.quick else "full"
    digest = hashlib.sha256(f"{args.name} {mode} {args.seed}".encode()).hexdigest()[:10]

    def label(name: str) -> str:
        return f"study {name} ({mode}, seed {args.seed})"

    if args.name == "all":
        with claim(args.out, "study", digest), Progress() as progress:
            index = studies.run_all(args.out, quick=args.quick, seed=args.seed,
                                    progress=lambda name, done, total: progress(label(name), done, total))
        print(f"wrote {index}")
        return 0
    studies.load(args.name)  # an unknown name fails here, before any work
    with claim(args.out, "study", digest), claim(args.out / args.name, "study", digest), Progress() as progress:
        progress.start(label(args.name))
        report = studies.run_study(args.name, args.out / args.name, quick=args.quick, seed=args.seed)
    print(f"wrote {report}")
    return 0
