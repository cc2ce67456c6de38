"""What the training commands (``run``, ``train``, and ``sweep``'s configuration) share: the configuration
from flags, training with progress on stderr into a run folder, and the table of the models."""

from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

from reglab.cli.console import note, pct, table
from reglab.cli.progress import Progress
from reglab.config import TrainConfig
from reglab.errors import ReglabError


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
    p.add_argument("--no-plots", action="store_true", help="write no PNG plots into the run folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def execute(config: TrainConfig, args, epoch_callbacks=()):
    """Train, write the run folder, return (result, summary, folder)."""
    from reglab.runs.assemble import check, load_data, train
    from reglab.runs.drawing import Drawer
    from reglab.runs.folder import default_run_dir, write_run
    from reglab.runs.summary import summarize

    figures = not args.no_plots
    with (Drawer().start() if figures else Drawer()) as drawer:  # matplotlib loads in another process meanwhile
        ds = load_data(config)
        check(config, ds)  # bad settings fail here, before the progress bar starts
        if ds.note and not args.json:
            note(ds.note)
        with Progress(show=not (args.quiet or args.json)) as progress:
            bar = progress.epochs(f"training {len(config.models())} model(s) on {ds.name}", config.epochs)
            result = train(config, ds, callbacks=[*epoch_callbacks, bar])
        summary = summarize(result)
        out = Path(args.out) if args.out else default_run_dir(result)
        write_run(result, out, summary, drawer, figures=figures)
    return result, summary, out


def models_table(summary: dict) -> Table:
    train = "train acc (running)" if summary.get("train_measure") == "running" else "train acc"
    dropout = f" · {summary['dropout']}" if summary.get("dropout") else ""
    folds = any("fold" in m for m in summary["models"])  # --folds: validation is the fold's held-out rows
    t = table(f"{summary['data']} {summary['sizes']} · {summary['regularizer']}{dropout} · "
              f"{summary['train_seconds']:.3g} s training",
              ("model", "λ", "η", "seed", *(["fold"] if folds else []), train, "held-out acc" if folds else "val acc",
               "best held-out (epoch)" if folds else "best val (epoch)", "test acc at best", "status"))
    for m in summary["models"]:
        status = f"diverged (epoch {m['diverged_epoch']})" if m["diverged"] else (
            f"stopped (epoch {m['stopped_epoch']})" if m["stopped_epoch"] else "ok")
        t.add_row(
            str(m["model"]), f"{m['lmbda']:g}", f"{m['eta']:g}", str(m["seed"]), *([str(m["fold"])] if folds else []),
            pct(m.get("final_train_accuracy")), pct(m.get("final_validation_accuracy")),
            f"{pct(m.get('best_validation_accuracy'))} ({m.get('best_epoch', '—')})",
            pct(m.get("test_accuracy_at_best")), status,
        )
    return t
