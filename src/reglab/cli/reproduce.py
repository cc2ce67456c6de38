"""``reglab reproduce nielsen-ch3``: the book's chapter-3 results, run again on reglab.

Runs experiments A–K of Nielsen's chapter 3 over several seeds (the seeds of an
experiment and the arms of a comparison train together as one batched run)
and writes a table of what the book reports next to reglab's mean ± sd, with a
stated tolerance per row, as reproduce.md, reproduce.json and PNG curves.

The experiments live in :mod:`reglab.reproduce`; this module parses, calls,
prints and writes.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

QUICK_NOTE = (
    "`--quick` runs only experiments C, E, F and I (overfitting on 1,000 images, L2 there and on the 50,000, "
    "large vs default initialization). It shortens nothing: same epochs, training sets and seeds as the full "
    "set, so every row is judged against the book's number."
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="run the book's chapter-3 experiments again and compare with its numbers",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("study", choices=["nielsen-ch3"], help="what to reproduce")
    parser.add_argument("--only", metavar="IDS", help="comma-separated experiments, e.g. C,E,F (default: A–K)")
    parser.add_argument("--seeds", type=int, default=3, metavar="N", help="seeds per experiment, 0..N-1 (default: 3)")
    parser.add_argument("--quick", action="store_true",
                        help="only C, E, F and I, in full: under 5 minutes on 2 CPU cores")
    parser.add_argument("--max-epochs", type=int, default=None, metavar="N",
                        help="train every arm at most N epochs (rows that need more are shown, not judged)")
    parser.add_argument("--out", default="reproduce", metavar="DIR", help="output folder (default: reproduce/)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="data directory holding mnist/ (default: $REGLAB_DATA, else ~/.cache/reglab)")
    parser.add_argument("--threads", type=int, default=0, metavar="N",
                        help="CPU threads of the training steps (default: 0, the engine's choice: "
                             "groups of models on every core)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reglab import reproduce as rp
    from reglab.reproduce import report as report_io
    from reglab.data import load_mnist
    from reglab.errors import ReglabError
    from reglab.io import save_figure, write_text

    seeds = args.seeds
    if seeds < 1:
        raise ReglabError(f"--seeds must be at least 1, got {seeds}")
    if args.threads < 0:
        raise ReglabError(f"--threads must be 0 (automatic) or more, got {args.threads}")
    if args.quick and args.only:
        raise ReglabError("--quick runs C, E, F and I; give either --quick or --only")
    only = args.only.split(",") if args.only else (rp.QUICK if args.quick else None)
    experiments = rp.select(rp.nielsen_ch3(), only)
    dataset = load_mnist(args.data_dir)
    with _progress() as progress:
        report = rp.reproduce(dataset, experiments, tuple(range(seeds)), max_epochs=args.max_epochs,
                              progress=progress, threads=args.threads)

    command = _command(args)
    quick_note = QUICK_NOTE if args.quick else ""
    markdown = report_io.to_markdown(report, command=command, quick_note=quick_note)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in report_io.figures(report).items():
        save_figure(fig, out / name, dpi=100)
        written.append(name)
    write_text(out / "reproduce.json", json.dumps(report_io.to_json(report), indent=1, allow_nan=False) + "\n")
    write_text(out / "reproduce.md", markdown)  # last: its presence marks a complete report
    written += ["reproduce.json", "reproduce.md"]
    print(report_io.markdown_table(report.rows))
    judged = [r for r in report.rows if r.verdict != "not comparable"]
    print(f"\n{sum(r.verdict == 'yes' for r in judged)} of {len(judged)} judged rows within tolerance; "
          f"{report.seconds:.0f} s. Wrote {', '.join(written)} to {out}/")
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command line that gives these numbers again (folders left out)."""
    words = ["reglab", "reproduce", args.study]
    if args.quick:
        words.append("--quick")
    if args.only:
        words += ["--only", args.only]
    for flag, value, default in (("--seeds", args.seeds, 3), ("--max-epochs", args.max_epochs, None),
                                 ("--threads", args.threads, 0)):
        if value != default:
            words += [flag, str(value)]
    return " ".join(shlex.quote(w) for w in words)


class _progress:
    """A rich progress bar per batched run on stderr (a line per run when stderr is not a terminal)."""

    def __enter__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        console = Console(stderr=True)
        self.live = console.is_terminal
        self.tasks: dict[str, int] = {}
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("epochs"),
                            TimeElapsedColumn(), TimeRemainingColumn(), console=console) if self.live else None
        if self.bar:
            self.bar.__enter__()
        return self

    def __call__(self, task: str, done: int, total: int) -> None:
        if task not in self.tasks:
            self.tasks[task] = self.bar.add_task(task, total=total) if self.bar else 0
            if not self.bar:
                print(f"training {task} …", file=sys.stderr, flush=True)
        if self.bar:
            self.bar.update(self.tasks[task], completed=done)

    def __exit__(self, *exc):
        if self.bar:
            self.bar.__exit__(*exc)
