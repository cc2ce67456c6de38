"""``reglab reproduce nielsen-ch3``: the book's chapter-3 results, run again on reglab.

Runs experiments A–K of Nielsen's chapter 3 over several seeds (the seeds of an
experiment and the arms of a comparison train together as one batched run)
and writes a table of what the book reports next to reglab's mean ± sd, with a
stated tolerance per row, as reproduce.md, reproduce.json, report.html and PNG curves.

The experiments live in :mod:`reglab.reproduce`; this module parses, calls,
prints and writes.
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
from pathlib import Path

from reglab.runs.budget import DEFAULT_LIMIT

QUICK_NOTE = (
    "`--quick` runs only experiments C, E, F and I (overfitting on 1,000 images, L2 there and on the 50,000, "
    "large vs default initialization). It shortens nothing: same epochs, training sets and seeds as the full "
    "set, so every row is judged against the book's number."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n")[1]
    parser.add_argument("study", choices=["nielsen-ch3"], help="what to reproduce")
    parser.add_argument("--only", metavar="IDS", help="comma-separated experiments, e.g. C,E,F (default: A–K)")
    parser.add_argument("--seeds", type=int, default=None, metavar="N",
                        help="seeds 0..N-1 for every experiment (default: each experiment's own: 3, or 5 where its "
                             "rows' seed-to-seed spread needs them)")
    parser.add_argument("--quick", action="store_true",
                        help="only C, E, F and I, in full: under 5 minutes on 2 CPU cores")
    parser.add_argument("--max-epochs", type=int, default=None, metavar="N",
                        help="train every arm at most N epochs (rows that need more are shown, not judged)")
    parser.add_argument("--out", default="reproduce", metavar="DIR",
                        help="output folder: new, empty, or one reglab reproduce wrote (default: reproduce/)")
    parser.add_argument("--limit", type=int, metavar="N",
                        help=f"refuse to train more than N models in all (arms × seeds; default: {DEFAULT_LIMIT:,})")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="data directory holding mnist/ (default: $REGLAB_DATA, else ~/.cache/reglab)")
    parser.add_argument("--threads", type=int, default=0, metavar="N",
                        help="CPU threads of the training steps (default: 0, the engine's choice: "
                             "groups of models on every core)")
    parser.add_argument("--fresh", action="store_true",
                        help="train every run again (by default the finished runs DIR/runs holds are kept: an "
                             "interrupted reproduction resumes with the same command)")
    parser.add_argument("--json", action="store_true", help="print reproduce.json's content instead of the table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from reglab import reproduce as rp
    from reglab.cli.console import print_json, say
    from reglab.cli.interrupt import interrupted
    from reglab.cli.progress import Progress
    from reglab.data import load_mnist
    from reglab.errors import ReglabError, shown
    from reglab.experiments import markdown_table, tally
    from reglab.outdir import claim
    from reglab.reproduce import report as report_io
    from reglab.reproduce.store import RunStore
    from reglab.runs.budget import check_count, check_limit_flag

    seeds = args.seeds
    if seeds is not None and seeds < 1:
        raise ReglabError(f"--seeds must be at least 1, got {seeds}")
    if args.threads < 0:
        raise ReglabError(f"--threads must be 0 (automatic) or more, got {args.threads}")
    if args.max_epochs is not None and args.max_epochs < 1:
        raise ReglabError(f"--max-epochs must be at least 1, got {args.max_epochs}")
    check_limit_flag(args.limit)
    if args.quick and args.only is not None:
        raise ReglabError("--quick runs C, E, F and I; give either --quick or --only")
    if args.only is not None and not args.only.replace(",", " ").split():
        raise ReglabError(f"--only needs experiment ids such as C,E,F (A–K), got {args.only!r}")
    only = args.only.replace(",", " ").split() if args.only is not None else (rp.QUICK if args.quick else None)
    experiments = rp.select(rp.nielsen_ch3(), only)
    groups = rp.plan(rp.cap_epochs(experiments, args.max_epochs), seeds)
    arms = sum(len(g.arms) for g in groups)
    check_count(sum(len(g.arms) * g.seeds for g in groups), "models", args.limit,
                f"{arms} arms × {seeds} seeds" if seeds is not None else f"{arms} arms, each over its experiment's seeds")
    out = Path(args.out)
    with claim(out, "reproduce", hashlib.sha256(_command(args).encode()).hexdigest()[:10]):
        dataset = load_mnist(args.data_dir)
        store = RunStore(out, dataset)
        if args.fresh and store.folder.is_dir():
            for old in store.folder.glob("*.json"):
                old.unlink()  # the records mark runs finished: without them every run trains again
        say(plan_line(groups, dataset))
        try:
            with Progress("epochs", show=not args.json) as progress:
                report = rp.reproduce(dataset, experiments, seeds, max_epochs=args.max_epochs,
                                      progress=lambda task, done, total: progress(f"training {task}", done, total),
                                      threads=args.threads, store=store)
        except KeyboardInterrupt as exc:
            done = sum(store.has(g, range(g.seeds), torch.float32) for g in groups)  # reproduce()'s default dtype
            return interrupted(exc, f"{done} of {len(groups)} batched runs finished and kept in {shown(store.folder)}; "
                                    "run the same command to train the rest")
        written = report_io.write(report, out, command=_command(args), quick_note=QUICK_NOTE if args.quick else "")
    if args.json:
        print_json(report_io.to_json(report))
        return 0
    print(markdown_table(report_io.table(report.rows)))
    within, judged = tally(report.rows)
    print(f"\n{within} of {judged} judged rows within tolerance; "
          f"{report.seconds:.0f} s. Wrote {', '.join(p.name for p in written)} to {out}/")
    return 0


def plan_line(groups, dataset) -> str:
    """The estimate line of the batched runs (:mod:`reglab.runs.budget`): arms × seeds models, their epochs."""
    from reglab.provenance import usable_cores
    from reglab.runs.budget import Estimate, epoch_flops

    n_eval = len(dataset.validation.y) + len(dataset.test.y)
    models = model_epochs = 0
    flops = 0.0
    for g in groups:
        m = len(g.arms) * g.seeds
        n_train = g.train_size or len(dataset.train.y)
        models, model_epochs = models + m, model_epochs + m * g.epochs
        flops += m * g.epochs * epoch_flops([dataset.n_features, g.hidden, dataset.n_classes], n_train, n_eval)
    return Estimate(models, "models", model_epochs, flops, usable_cores()).line()


def _command(args: argparse.Namespace) -> str:
    """The command line that gives these numbers again (folders left out)."""
    words = ["reglab", "reproduce", args.study]
    if args.quick:
        words.append("--quick")
    if args.only:
        words += ["--only", args.only]
    for flag, value, default in (("--seeds", args.seeds, None), ("--max-epochs", args.max_epochs, None),
                                 ("--threads", args.threads, 0)):
        if value != default:
            words += [flag, str(value)]
    return " ".join(shlex.quote(w) for w in words)
