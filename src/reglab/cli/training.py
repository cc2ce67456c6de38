"""What the training commands (``run``, ``train``, and ``sweep``'s configuration) share: the configuration
from flags, training with progress on stderr into a run folder, and the table of the models."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from rich.table import Table

from reglab.cli.console import note, pct, say, table
from reglab.cli.progress import Progress
from reglab.config import TrainConfig
from reglab.errors import ReglabError, shown
from reglab.outdir import claim
from reglab.runs.budget import DEFAULT_LIMIT


def load_config(args, defaults: dict | None = None) -> TrainConfig:
    """Configuration from ``--config FILE`` (if given), the command's defaults, then the flags.

    The file is checked on its own first, field by field with the flags' messages, so that an error names
    the file it is in; then the flags override it.
    """
    from reglab.config import from_args

    base = dict(defaults or {})
    if getattr(args, "config", None) is not None:
        path = Path(args.config)
        values = read_config_file(path)
        try:
            TrainConfig.from_dict({**base, **values})
        except ReglabError as exc:
            raise ReglabError(f"config file {shown(path)}: {exc}") from None
        base.update(values)
    return from_args(args, TrainConfig, base)


#: The largest configuration file read (a config.json of reglab's is about 1 kB).
CONFIG_BYTES = 1 << 20


def read_config_file(path: Path) -> dict:
    """The JSON object in ``path``; one line naming the file if it is not a readable, small JSON object."""
    what = f"config file {shown(path)}"
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise ReglabError(f"{what} is a folder; give the config.json inside it")
        if not stat.S_ISREG(st.st_mode):
            raise ReglabError(f"{what} is not a regular file")
        if st.st_size > CONFIG_BYTES:
            raise ReglabError(f"{what} has {st.st_size:,} bytes; a configuration is a small JSON object "
                              f"(at most {CONFIG_BYTES:,} bytes)")
        text = path.read_bytes()[:CONFIG_BYTES].decode("utf-8")
        values = json.loads(text)
    except FileNotFoundError:
        raise ReglabError(f"{what} does not exist") from None
    except OSError as exc:
        raise ReglabError(f"{what} cannot be read ({exc.strerror or type(exc).__name__})") from None
    except UnicodeDecodeError:
        raise ReglabError(f"{what} is not UTF-8 text") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ReglabError(f"{what} is not valid JSON ({getattr(exc, 'msg', exc)}, line {getattr(exc, 'lineno', '?')})"
                          ) from None
    if not isinstance(values, dict):
        raise ReglabError(f"{what}: a configuration is a JSON object of settings such as {{\"epochs\": 30}}, "
                          f"not a JSON {type(values).__name__.replace('NoneType', 'null')}")
    return values


def add_output_flags(p) -> None:
    p.add_argument("--config", metavar="FILE", help="start from a config.json (flags override it)")
    p.add_argument("--out", metavar="DIR", help="run folder: new, empty, or one reglab train wrote "
                                                "(default: runs/<timestamp>-<name>)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout (no tables)")
    p.add_argument("--no-plots", action="store_true", help="write no PNG plots into the run folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--limit", type=int, metavar="N",
                   help=f"refuse to train more than N models at once (default: {DEFAULT_LIMIT:,})")


def execute(config: TrainConfig, args, epoch_callbacks=()):
    """Check everything, claim the run folder, train, write the run folder; return (result, summary, folder).

    Every check that can fail without training runs first, in this order: the number of models against
    ``--limit`` (before listing them), the data, the settings against the data, the memory, then the output
    folder (created, or checked to be one reglab may write; nothing is written before). A run estimated to
    take more than a minute says so on stderr before it starts.
    """
    from reglab.runs.assemble import check, load_data, train
    from reglab.runs.budget import ANNOUNCE_SECONDS, check_count, check_limit_flag, check_memory, estimate
    from reglab.runs.drawing import Drawer
    from reglab.runs.folder import COMMAND, default_run_dir, run_name, write_run
    from reglab.runs.summary import summarize

    check_limit_flag(args.limit)
    check_count(config.n_models, "models", args.limit,
                f"{len(config.lmbda)} λ × {len(config.eta)} η × {config.seeds} seeds"
                + (f" × {config.folds} folds" if config.folds else ""))
    figures = not args.no_plots
    with getattr(args, "drawer", None) or Drawer() as drawer:  # main() starts it early (reglab.cli.main.early_drawer)
        if figures:
            drawer.start()  # matplotlib loads in another process meanwhile
        ds = load_data(config)
        sizes = check(config, ds)  # bad settings fail here, before the progress bar starts
        check_memory(config, sizes, config.n_models)
        out = Path(args.out) if args.out is not None else default_run_dir(run_name(ds.name, sizes, config.reg))
        with claim(out, COMMAND, config.digest()):
            if ds.note and not args.json:
                note(ds.note)
            n_train = (config.train_size or len(ds.train.y)) * (5 if config.expand else 1)  # --expand: 5n images
            plan = estimate(config, sizes, n_train, len(ds.validation.y) + len(ds.test.y))
            if plan.seconds > ANNOUNCE_SECONDS and not args.quiet:
                say(plan.line())
            with Progress(show=not (args.quiet or args.json)) as progress:
                bar = progress.epochs(f"training {config.n_models} model(s) on {ds.name}", config.epochs)
                result = train(config, ds, callbacks=[*epoch_callbacks, bar], compiler=getattr(args, "compiler", None))
            summary = summarize(result)
            write_run(result, out, summary, drawer, figures=figures)
    for warning in summary.get("warnings", []):
        if not args.json:
            note(f"while training: {warning} (recorded in summary.json)")
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
