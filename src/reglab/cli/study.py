"""``reglab study``: run a study (or all of them) and write its self-contained HTML report.

    reglab study --list
    reglab study NAME [--quick] [--out DIR] [--seed S] [--json]
    reglab study all  [--quick] [--out DIR] [--seed S] [--json] [--fresh]

A study is written to ``DIR/NAME/`` (``report.html``, ``results.json``, one PNG per figure);
``all`` also writes ``DIR/index.html``. DIR defaults to ``./studies``. ``all`` keeps the studies ``DIR``
already holds from the same settings, so that an interrupted ``study all`` resumes with the same command
(``--fresh`` runs every study again). DIR (and ``DIR/NAME``) are claimed before any study runs
(:func:`reglab.outdir.claim`): new, empty, or written by ``reglab study``.
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
    p.add_argument("--fresh", action="store_true",
                   help="all: run every study again (by default those DIR holds from the same settings are kept)")
    p.add_argument("--json", action="store_true", help="print what was written (and kept) as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reglab import studies
    from reglab.cli.console import print_json
    from reglab.cli.interrupt import interrupted, sigterm_as_interrupt
    from reglab.cli.progress import Progress
    from reglab.outdir import claim
    from reglab.rng import check_seed

    if args.list:
        if args.json:
            print_json([{"name": name, "question": question} for name, question in studies.list_studies()])
            return 0
        for name, question in studies.list_studies():
            print(f"{name:<20} {question}")
        return 0
    if args.name is None:
        raise ReglabError("give a study NAME, 'all', or --list")
    check_seed(args.seed)
    if args.fresh and args.name != "all":
        raise ReglabError("--fresh applies to 'all' (a single study always runs)")
    mode = "quick" if args.quick else "full"
    digest = hashlib.sha256(f"{args.name} {mode} {args.seed}".encode()).hexdigest()[:10]

    def label(name: str) -> str:
        return f"study {name} ({mode}, seed {args.seed})"

    def entry(name: str, kept: bool) -> dict:
        data = studies.finished(args.out, name, args.quick, args.seed) or {}
        return {"name": name, "report": str(args.out / name / "report.html"),
                "results": str(args.out / name / "results.json"), "seconds": data.get("seconds"), "kept": kept}

    if args.name == "all":
        kept: list[str] = []

        def hook(name: str, done: int, total: int) -> None:
            if name.endswith(", kept from an earlier run"):
                kept.append(name.split(",")[0])
            progress(label(name), done, total)

        try:
            with claim(args.out, "study", digest), sigterm_as_interrupt(), Progress(show=not args.json) as progress:
                index = studies.run_all(args.out, quick=args.quick, seed=args.seed, progress=hook, reuse=not args.fresh)
        except KeyboardInterrupt as exc:
            done = sum(studies.finished(args.out, name, args.quick, args.seed) is not None for name in studies.STUDIES)
            return interrupted(exc, f"{done} of {len(studies.STUDIES)} studies finished in {args.out}; "
                                    "run the same command to run the rest")
        if args.json:
            print_json({"index": str(index), "studies": [entry(name, name in kept) for name in studies.STUDIES]})
        else:
            print(f"wrote {index}" + (f" ({len(kept)} of {len(studies.STUDIES)} studies kept from an earlier run; "
                                      "--fresh runs them again)" if kept else ""))
        return 0
    studies.load(args.name)  # an unknown name fails here, before any work
    with claim(args.out, "study", digest), claim(args.out / args.name, "study", digest), \
            Progress(show=not args.json) as progress:
        progress.start(label(args.name))
        report = studies.run_study(args.name, args.out / args.name, quick=args.quick, seed=args.seed)
    if args.json:
        print_json(entry(args.name, False))
    else:
        print(f"wrote {report}")
    return 0
