"""Pieces shared by the training subcommands: progress on stderr, tables on stdout."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from reglab.config import TrainConfig
from reglab.errors import ReglabError
from reglab.io import dumps

def _console(**kw) -> Console:
    """A console that, when not writing to a terminal, is wide enough for the tables instead of 80 columns."""
    c = Console(highlight=False, **kw)
    return c if c.is_terminal else Console(highlight=False, width=max(c.width, 130), **kw)


stdout = _console()
stderr = _console(stderr=True)


def _pct(x) -> str:
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.2f}%"


class EpochProgress:
    """A progress bar with the live validation accuracy (best model), updated after each epoch."""

    def __init__(self, epochs: int, label: str, console: Console = stderr):
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[acc]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task(label, total=epochs, acc="")

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def __call__(self, epoch, record, run) -> None:
        key = "validation_accuracy" if "validation_accuracy" in record else "train_accuracy"
        acc = record.get(key)
        text = "" if acc is None or not np.isfinite(acc).any() else f"{key.split('_')[0]} {100 * np.nanmax(acc):.2f}%"
        self.progress.update(self.task, completed=epoch, acc=text)


def load_config(args, defaults: dict | None = None) -> TrainConfig:
    """Configuration from ``--config FILE`` (if given), the command's defaults, then the flags."""
    from reglab.config import from_args

    base = dict(defaults or {})
    if getattr(args, "config", None):
        path = Path(args.config)
        try:
            base.update(json.loads(path.read_text()))
        except FileNotFoundError:
            raise ReglabError(f"config file {path} does not exist") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ReglabError(f"config file {path} is not valid JSON ({exc})") from None
        TrainConfig.from_dict(base)  # unknown keys are named here
    return from_args(args, TrainConfig, base)


def add_output_flags(p) -> None:
    p.add_argument("--config", metavar="FILE", help="start from a config.json (flags override it)")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/<timestamp>-<name>)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout (no tables)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def execute(config: TrainConfig, args, epoch_callbacks=()):
    """Train, write the run folder, return (result, summary, folder)."""
    from reglab.runs.assemble import check, load_data, train
    from reglab.runs.summary import summarize
    from reglab.runs.folder import default_run_dir, write_run

    ds = load_data(config)
    check(config, ds)  # bad settings fail here, before the progress bar starts
    if ds.note and not args.json:
        stderr.print(f"[yellow]note:[/] {ds.note}")
    show = not (args.quiet or args.json)
    callbacks = list(epoch_callbacks)
    if show:
        bar = EpochProgress(config.epochs, f"training {len(config.models())} model(s) on {ds.name}")
        with bar:
            result = train(config, ds, callbacks=[*callbacks, bar])
    else:
        result = train(config, ds, callbacks=callbacks)
    summary = summarize(result)
    out = Path(args.out) if args.out else default_run_dir(result)
    write_run(result, out, summary)
    return result, summary, out


def models_table(summary: dict) -> Table:
    t = Table(title=f"{summary['data']} {summary['sizes']} · {summary['regularizer']} · {summary['train_seconds']:.3g} s training")
    train = "train acc (running)" if summary.get("train_measure") == "running" else "train acc"
    for col in ("model", "λ", "η", "seed", train, "val acc", "best val (epoch)", "test acc at best", "status"):
        t.add_column(col, justify="right")
    for m in summary["models"]:
        status = f"diverged (epoch {m['diverged_epoch']})" if m["diverged"] else (
            f"stopped (epoch {m['stopped_epoch']})" if m["stopped_epoch"] else "ok")
        t.add_row(
            str(m["model"]), f"{m['lmbda']:g}", f"{m['eta']:g}", str(m["seed"]),
            _pct(m.get("final_train_accuracy")), _pct(m.get("final_validation_accuracy")),
            f"{_pct(m.get('best_validation_accuracy'))} ({m.get('best_epoch', '—')})",
            _pct(m.get("test_accuracy_at_best")), status,
        )
    return t


def print_json(summary: dict) -> None:
    sys.stdout.write(dumps(summary) + "\n")
