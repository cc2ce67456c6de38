"""``reglab path``: λ paths as glmnet computes them, for networks: from λ_max down, warm-started.

λ runs from λ_max (given, or found: the smallest λ at which the network collapses) down to λ_max·ε
in --steps log-spaced steps; every path (regularizer kind × seed × fold) is one model of one batch,
and each λ starts from the previous λ's weights for --path-epochs epochs. --cold trains every λ
from the initial weights instead (for --epochs epochs, as a resumable sweep), --both does both and
compares them. Prints the path of every kind with λ_min and λ_1se (glmnet's rule, on validation or
held-out folds; the test set is reported, never used to choose) and writes a folder like a sweep's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reglab.cli.console import line, note, print_json, say, stdout
from reglab.cli.interrupt import interrupted, sigterm_as_interrupt
from reglab.cli.progress import Progress
from reglab.cli.sweep import SweepBars, choice_line, curve_table
from reglab.cli.training import load_config
from reglab.config import TrainConfig, add_arguments
from reglab.errors import ReglabError, shown
from reglab.path.core import PathProgress
from reglab.path.lambdas import EPS, STEPS
from reglab.runs.budget import DEFAULT_LIMIT


def configure(p: argparse.ArgumentParser) -> None:
    p.description = __doc__.split("\n\n")[1]
    add_arguments(p, TrainConfig, skip=("lmbda", "reg"))
    g = p.add_argument_group("path")
    g.add_argument("--reg", dest="kinds", default="l2", metavar="KINDS",
                   help="regularizers, one path each, trained together: e.g. l2,l1-prox (default: l2)")
    g.add_argument("--lmbda-max", type=float, metavar="X", help="the path's largest λ (default: found, see --help)")
    g.add_argument("--eps", type=float, default=EPS, help=f"the path ends at λ_max·ε (default: {EPS:g})")
    g.add_argument("--steps", type=int, default=STEPS, help=f"λ values along the path, log-spaced (default: {STEPS})")
    g.add_argument("--lmbda", "--lambda", dest="range", metavar="START:STOP:STEPS",
                   help="the path given as a range from λ_max = START down to STOP (instead of --lmbda-max, --eps, --steps)")
    g.add_argument("--path-epochs", type=int, default=2, help="epochs at each λ of the warm path (default: 2)")
    start = g.add_mutually_exclusive_group()
    start.add_argument("--cold", action="store_true", help="train every λ from the initial weights (for --epochs)")
    start.add_argument("--both", action="store_true", help="the warm path and the cold sweep, compared")
    s = p.add_argument_group("output")
    s.add_argument("--config", metavar="FILE", help="start from a config.json (flags override it)")
    s.add_argument("--out", metavar="DIR", help="output folder (default: paths/<timestamp>-<data>)")
    s.add_argument("--max-models", type=int, metavar="N", help="models per chunk of the cold sweep")
    s.add_argument("--limit", type=int, metavar="N",
                   help=f"refuse paths of more than N λ steps, models or cold cells (default: {DEFAULT_LIMIT:,})")
    s.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    s.add_argument("--json", action="store_true", help="print path.json's summary on stdout instead of tables")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def settings_from_args(args):
    """The :class:`~reglab.path.PathSettings` of the flags (one-line errors for a bad range)."""
    from reglab.path import PathSettings, Span

    if args.range is not None:
        if args.lmbda_max is not None:
            raise ReglabError("give the path either as --lmbda START:STOP:STEPS or with --lmbda-max, not both")
        span = Span.parse(args.range)
    else:
        span = Span(args.lmbda_max, args.eps, args.steps)
    if args.max_models is not None and args.max_models < 1:
        raise ReglabError(f"--max-models must be a positive integer, got {args.max_models}")
    kinds = tuple(args.kinds.replace(",", " ").split())
    start = "cold" if args.cold else "both" if args.both else "warm"
    return PathSettings(kinds, span, args.path_epochs, start)


def check_size(base: TrainConfig, settings, limit: int | None, flag: str | None = None) -> int:
    """Refuse a path larger than ``limit`` (:mod:`reglab.runs.budget`) before anything is spread out or loaded:
    its λ steps (``flag``: the ``--lmbda`` range that gave them), its models (kinds × seeds × folds) and, cold, its
    cells (models × steps); return the models."""
    from reglab.runs.budget import check_count, check_limit_flag

    check_limit_flag(limit)
    steps, folds = settings.span.steps, max(base.folds, 1)
    check_count(steps, "λ steps", limit, "--steps" if flag is None else f"--lmbda {flag}")
    models = len(settings.kinds) * base.seeds * folds
    detail = f"{len(settings.kinds)} regularizer(s) × {base.seeds} seeds" + (f" × {folds} folds" if base.folds else "")
    check_count(models, "models", limit, detail)
    if settings.cold:
        check_count(models * steps, "cells", limit, f"{detail} × {steps} λ steps, cold")
    return models


def plan(base: TrainConfig, settings, ds, sizes, models: int):
    """The estimate of the whole path (:class:`reglab.runs.budget.Estimate`): the warm path's models for
    ``steps × path_epochs`` epochs, the cold sweep's cells for ``--epochs`` each."""
    from reglab.runs.budget import estimate

    n_train, n_eval = base.train_size or len(ds.train.y), len(ds.validation.y) + len(ds.test.y)
    steps = settings.span.steps
    parts = []
    if settings.warm:
        parts.append(estimate(base.replace(epochs=steps * settings.path_epochs), sizes, n_train, n_eval, models))
    if settings.cold:
        parts.append(estimate(base, sizes, n_train, n_eval, models * steps, "cells"))
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


class PathBars(SweepBars, PathProgress):
    """The path's progress: its λ steps as a task, the cold sweep's cells and chunks as :class:`SweepBars`."""

    def __init__(self, out: Path, progress: Progress, steps: int):
        super().__init__(out, progress)
        self.steps, self.started = steps, False

    def found(self, found):
        for kind, f in found.items():
            self.progress.say(f"λ_max for --reg {kind} = {f.lmbda:.4g} ({f.how})")

    def step(self, j, steps, lmbda, note):
        if not self.started:
            self.progress.start("warm path", steps, unit="λ steps")
            self.started = True
        self.progress.update("warm path", j + 1, note=note)
        if j + 1 == steps:
            self.progress.finish("warm path")


def run(args) -> int:
    from reglab.path import path
    from reglab.path.batch import check_batch
    from reglab.runs.assemble import load_data
    from reglab.runs.budget import ANNOUNCE_SECONDS, check_memory
    from reglab.runs.folder import default_run_dir
    from reglab.sweep.core import SweepInterrupted

    settings = settings_from_args(args)
    base = load_config(args)
    models = check_size(base, settings, args.limit, args.range)
    ds = load_data(base)
    if ds.note and not args.json:
        note(ds.note)
    sizes = check_batch(base, ds, settings.kinds)
    check_memory(base.replace(epochs=settings.span.steps * settings.path_epochs), sizes, models)
    estimate = plan(base, settings, ds, sizes, models)
    if estimate.seconds > ANNOUNCE_SECONDS and not args.quiet:
        say(estimate.line())
    out = Path(args.out) if args.out else default_run_dir(ds.name, root="paths")
    try:
        with sigterm_as_interrupt(), Progress(show=not (args.quiet or args.json)) as progress:
            result = path(base, settings, out=out, dataset=ds, progress=PathBars(out, progress, settings.span.steps),
                          plot=not args.no_plots, max_models=args.max_models)
    except KeyboardInterrupt as exc:
        cause = exc.cause if isinstance(exc, SweepInterrupted) else exc
        return interrupted(cause, f"the warm steps finished so far are in {shown(out / 'results.csv')}, the cold sweeps' "
                                  f"finished chunks in {shown(out / 'cold')}; the same command with --out {shown(out)} "
                                  "reuses those chunks (the "
                                  "warm path starts again from λ_max)")
    if args.json:
        print_json(result.summary)
        return 0
    for kind, f in result.found.items():
        stdout.print(f"λ_max for --reg {kind} = {f.lmbda:.4g} ({f.how})", markup=False)
    for curve in result.curves:
        start, kind = curve.settings["start"], curve.settings["reg"]
        how = (f"warm: {settings.path_epochs} epoch(s) per λ from the previous λ's weights" if start == "warm"
               else f"cold: {base.epochs} epochs per λ from the initial weights")
        stdout.print(curve_table(curve, f"{how} · --reg {kind} · η = {base.eta[0]:g} · {ds.name}", base.monitor_train))
        stdout.print(f"{start} --reg {kind}: {choice_line(curve)}", markup=False)
    for c in result.comparison:
        reached = (f"came within {100 * 0.003:.1f} points of the cold best at step {c['reached']['step'] + 1} "
                   f"(λ = {c['reached']['lmbda']:.3g}) after {c['reached']['seconds']:.1f} s, "
                   f"{100 * c['reach_ratio']:.1f}% of the cold sweep's time" if c["reached"] else
                   f"never came within {100 * 0.003:.1f} points of the cold best")
        stdout.print(f"--reg {c['kind']}: best validation {100 * c['warm_best']:.2f}% warm against {100 * c['cold_best']:.2f}% "
                     f"cold ({c['gap_points']:+.2f} points); the warm path (every kind, {c['warm_seconds']:.1f} s) took "
                     f"{100 * c['time_ratio']:.1f}% of the cold sweeps' {c['cold_seconds_all']:.1f} s and {reached}",
                     markup=False)
    s = result.seconds
    line(f"{len(result.rows)} rows · λ_max search {s.get('search', 0):.1f} s · results: {result.out / 'results.csv'}"
         + ("" if args.no_plots else f" · plots: {result.out}/path_*.png"))
    return 0
