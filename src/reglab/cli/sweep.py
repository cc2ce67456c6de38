"""``reglab sweep``: a grid of λ (and regularizers, initializers, η, widths, training sizes) trained in chunks.

Every combination is one cell; cells that differ only in λ, η and seed train
together. Results are written after every chunk; the same command with the
same ``--out`` resumes, training only what is missing. Prints the λ curve of
every setting with the best λ and the largest λ within one standard error.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.table import Table

from reglab.cli.console import line, note, pct, print_json, stdout, table
from reglab.cli.interrupt import interrupted
from reglab.cli.progress import Progress, accuracy_note
from reglab.cli.training import load_config
from reglab.config import TrainConfig, add_arguments
from reglab.errors import ReglabError, shown
from reglab.runs.budget import DEFAULT_LIMIT
from reglab.sweep.core import SweepProgress

if TYPE_CHECKING:  # the sweep modules import torch: only when the command runs, not for --help
    from reglab.sweep.ridge import Grid
    from reglab.sweep.select import Curve

GRID_FIELDS = ("lmbda", "eta", "reg", "init", "hidden", "train_size")
DEFAULT_LMBDA = "1e-2:1e2:9"


def _values(flag: str, words: list[str], kind=float, limit: int | None = None) -> tuple:
    """Values of a grid flag; a bad one is a one-line error naming the flag. A range of more values than
    ``limit`` cells is refused before it is spread out."""
    from reglab.config import parse_values
    from reglab.runs.budget import check_count

    check_count(_declared(words), "values", limit, f"{flag} {' '.join(words)}")
    try:
        return tuple(v for word in words for v in parse_values(word, kind))
    except ValueError as exc:
        raise ReglabError(f"{flag} {' '.join(words)}: {exc}") from None


def _declared(words: list[str]) -> int:
    """How many values grid words declare (``A:B:N`` counts N), without spreading them out."""
    n = 0
    for token in " ".join(words).replace(",", " ").split():
        parts = token.split(":")
        n += int(parts[2]) if len(parts) == 3 and parts[2].strip().isdigit() else 1
    return n


def configure(p: argparse.ArgumentParser) -> None:
    p.description = __doc__.split("\n\n")[1]
    add_arguments(p, TrainConfig, skip=GRID_FIELDS)
    g = p.add_argument_group("grid (values as words or separated by commas; A:B:N is N log-spaced values from A to B)")
    g.add_argument("--lmbda", "--lambda", dest="grid_lmbda", nargs="+", metavar="VALUES",
                   help=f"λ values in the book's units, C = C0 + (λ/2n)Σw² (default: {DEFAULT_LMBDA})")
    g.add_argument("--eta", dest="grid_eta", nargs="+", metavar="VALUES", help="learning rates η (default: 0.1)")
    g.add_argument("--reg", dest="grid_reg", nargs="+", metavar="KINDS",
                   help="regularizers, e.g. l2 l1-prox decay (default: l2)")
    g.add_argument("--init", dest="grid_init", nargs="+", metavar="NAMES", help="initializers, e.g. large default "
                   "(default: large)")
    g.add_argument("--hidden", dest="grid_hidden", nargs="+", metavar="WIDTHS",
                   help="hidden layers, one architecture per word: '30 100' two, '30 100,30' a one- and a two-layer one")
    g.add_argument("--train-size", dest="grid_train_size", nargs="+", metavar="SIZES",
                   help="training-set sizes, e.g. 1000 5000 (default: all)")
    s = p.add_argument_group("sweep")
    s.add_argument("--config", metavar="FILE", help="start from a config.json (flags override it)")
    s.add_argument("--out", metavar="DIR", help="output folder: new, empty, or one a sweep wrote, which is resumed "
                                                "(default: sweeps/<timestamp>-<data>)")
    s.add_argument("--limit", type=int, metavar="N",
                   help=f"refuse grids of more than N cells (default: {DEFAULT_LIMIT:,})")
    s.add_argument("--max-models", type=int, metavar="N", help="models per chunk (default: from the memory available)")
    s.add_argument("--backend", choices=("local", "ray"), default="local", help="where chunks train (default: local)")
    s.add_argument("--address", help="Ray cluster: auto, HOST:PORT, or local for a private one (default: auto)")
    s.add_argument("--ray-cpus", type=float, default=1.0, metavar="N", help="CPUs per Ray task (default: 1)")
    s.add_argument("--ray-gpus", type=float, metavar="N", help="GPUs per Ray task (default: 1 where the cluster has GPUs)")
    s.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    s.add_argument("--json", action="store_true", help="print sweep.json's summary on stdout instead of tables")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def grid_from_args(args) -> tuple[TrainConfig, dict]:
    """The base configuration (λ and η included) and the other axes of the grid; a grid of more cells than
    ``--limit`` is refused here, before anything is spread out or loaded."""
    from reglab.runs.budget import check_count, check_limit_flag

    limit = args.limit
    check_limit_flag(limit)
    base = load_config(args, {"lmbda": _values("--lmbda", [DEFAULT_LMBDA])})
    if args.grid_lmbda:
        base = base.replace(lmbda=_values("--lmbda", args.grid_lmbda, limit=limit))
    if args.grid_eta:
        base = base.replace(eta=_values("--eta", args.grid_eta, limit=limit))
    grid: dict[str, list] = {}
    for name in ("reg", "init"):
        if getattr(args, f"grid_{name}"):
            grid[name] = list(_values(f"--{name}", getattr(args, f"grid_{name}"), str, limit))
    if args.grid_train_size:
        grid["train_size"] = list(_values("--train-size", args.grid_train_size, int, limit))
    if args.grid_hidden:
        grid["hidden"] = [_values("--hidden", [word], int, limit) for word in args.grid_hidden]
    sizes = {"λ": len(base.lmbda), "η": len(base.eta), "seeds": base.seeds, **({"folds": base.folds} if base.folds else {}),
             **{k: len(v) for k, v in grid.items()}}
    cells = 1
    for n in sizes.values():
        cells *= n
    check_count(cells, "cells", limit, " × ".join(f"{n} {k}" for k, n in sizes.items()))
    if args.max_models is not None and args.max_models < 1:
        raise ReglabError(f"--max-models must be a positive integer, got {args.max_models}")
    if args.backend != "ray" and args.address:
        raise ReglabError("--address names a Ray cluster: use it with --backend ray")
    return base, grid


class SweepBars(SweepProgress):
    """The hooks of :class:`reglab.sweep.SweepProgress`, shown with the one :class:`Progress`: a task for the
    cells, and one for the epochs of the chunk in training (its bar replaced by the next chunk's)."""

    def __init__(self, out: Path, progress: Progress, dataset=None):
        self.out, self.progress, self.dataset = out, progress, dataset
        self.chunk: str | None = None  # the name of the chunk's task

    def begin(self, total, done, chunks):
        self.progress.say(f"sweep: {total} cells, {total - done} to train in {len(chunks)} chunk(s) "
                          f"(≤ {max((len(c) for c in chunks), default=0)} models each) → {self.out}"
                          + (f"; {done} found finished" if done else ""))
        if chunks and self.dataset is not None:
            self.progress.say(plan_line(chunks, self.dataset))
        self.progress.start("cells", total, completed=done, unit="cells")

    def chunk_started(self, chunk):
        c = chunk.config
        lam = f"λ {c.lmbda[0]:g}…{c.lmbda[-1]:g}" if len(c.lmbda) > 1 else f"λ {c.lmbda[0]:g}"
        if self.chunk is not None:
            self.progress.finish(self.chunk, remove=True)
        self.chunk = f"{len(chunk)} models, {c.reg}, {lam}"
        self.progress.start(self.chunk, c.epochs, unit="epochs")

    def epoch(self, chunk, epoch, record):
        self.progress.update(self.chunk, epoch, note=accuracy_note(record))

    def chunk_finished(self, chunk, output):
        self.progress.update("cells", advance=len(chunk))


def plan_line(chunks, ds) -> str:
    """The estimate line of the chunks to train (:mod:`reglab.runs.budget`)."""
    from dataclasses import replace

    from reglab.runs.assemble import layer_sizes
    from reglab.runs.budget import estimate

    n_eval = len(ds.validation.y) + len(ds.test.y)
    parts = [replace(estimate(c.config, layer_sizes(c.config, ds.n_features, ds.n_classes), c.config.train_size
                              or len(ds.train.y), n_eval, what="cells"), count=len(c.cells))  # a cell: its folds' models
             for c in chunks]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total.line()


def _num(x: float, fmt: str) -> str:
    return format(x, fmt) if np.isfinite(x) else "—"


def replicates_word(curve: Curve) -> str:
    """What a curve's replicates are: ``seeds``, or ``seeds × folds`` under cross-validation."""
    return "seeds × folds" if any(fold is not None for _, fold in curve.replicates) else "seeds"


def curve_table(curve: Curve, title: str, train_measure: str = "exact") -> Table:
    """The λ curve: accuracies in % as mean ± sd over the replicates; ★ marks λ_min, ◆ λ_1se; ``train_measure``
    as in :class:`~reglab.engine.monitors.Monitor`."""
    from reglab.sweep.plots import L1_KINDS

    layers = curve.layers()
    l1 = curve.settings.get("reg") in L1_KINDS
    folds = replicates_word(curve) != "seeds"
    dead = [l for l in layers if f"layer{l}_dead_units" in curve.values]
    cols = ["λ", "runs" if folds else "seeds", "train %", "held-out %" if folds else "validation %", "test %",
            "held-out cost" if folds else "val cost", *(f"‖W{l}‖" for l in layers), *(["zeros"] if l1 else []),
            *(["dead units"] if l1 and dead else []), "diverged", "choice"]
    t = table(title, cols, caption=f"mean ± sd over {replicates_word(curve)} · test is reported, never used to choose λ"
              + (" · train: running mean over the last epoch" if train_measure == "running" else ""))
    stats = {k: curve.stats(k) for k in curve.values}
    sel = curve.selection
    def pm(col: str, j: int) -> str:
        mean, sd = 100 * stats[col][0][j], 100 * stats[col][1][j]
        return _num(mean, ".2f") + (f" ± {sd:.2f}" if np.isfinite(sd) else "")

    for j, lam in enumerate(curve.lmbda):

        seeds = int(np.isfinite(curve.values["final_validation_accuracy"][j]).sum())
        row = [f"{lam:.3g}", str(seeds), pm("final_train_accuracy", j), pm("final_validation_accuracy", j),
               pm("final_test_accuracy", j), _num(stats["final_validation_cost"][0][j], ".4g"),
               *(_num(stats[f"layer{l}_l2"][0][j], ".3g") for l in layers)]
        if l1:
            row.append(" ".join(_num(100 * stats[f"layer{l}_frac_zeros"][0][j], ".0f") + "%" for l in layers))
            if dead:
                row.append(" ".join(_num(stats[f"layer{l}_dead_units"][0][j], ".3g") for l in dead))
        row.append(str(int(np.nansum(curve.values["diverged"][j]))))
        marks = ("★ min" if sel and lam == sel.best_lmbda else "", "◆ 1se" if sel and lam == sel.one_se_lmbda else "")
        row.append(" ".join(m for m in marks if m))
        t.add_row(*row)
    return t


def heatmap_table(grid: Grid, title: str) -> Table:
    """Mean validation accuracy (%) over η (rows) × λ (columns); ★ marks each row's best, ◆ its ridge λ."""
    t = table(title, ["η \\ λ", *(f"{lam:.3g}" for lam in grid.lmbda)],
              caption="validation accuracy %, mean over replicates · ★ the best λ of each η · ◆ the largest λ within "
                      "1 point of it (the ridge)")
    ridge = dict(zip(grid.ridge.eta.tolist(), grid.ridge.lmbda.tolist()))
    for e, row in zip(grid.eta, grid.accuracy):
        top = np.nanmax(row) if np.isfinite(row).any() else np.nan
        t.add_row(f"{e:.3g}", *(_num(100 * v, ".2f") + (" ★" if v == top else "") + (" ◆" if ridge.get(e) == lam else "")
                                for lam, v in zip(grid.lmbda.tolist(), row)))
    return t


def choice_line(curve: Curve) -> str:
    s = curve.selection
    if s is None:
        return "no validation accuracy: λ not chosen"
    if not s.se_defined:
        return (f"λ_min = {s.best_lmbda:.4g} (validation {pct(s.best_mean)}); λ_1se = {s.one_se_lmbda:.4g}: "
                "the standard error is undefined with 1 seed, so it is taken as 0 (use --seeds 2 or more, or --folds)")
    where = "held-out folds" if replicates_word(curve) != "seeds" else "validation"
    return (f"λ_min = {s.best_lmbda:.4g} ({where} {pct(s.best_mean)} ± {pct(s.best_se)} standard error over "
            f"{replicates_word(curve)}); λ_1se = {s.one_se_lmbda:.4g} (the largest λ with mean ≥ {pct(s.threshold)})")


def run(args) -> int:
    from reglab.runs.assemble import load_data
    from reglab.runs.folder import default_run_dir
    from reglab.sweep.backends import LocalBackend, RayBackend
    from reglab.sweep.core import SweepInterrupted, sweep

    base, grid = grid_from_args(args)
    ds = load_data(base)
    if ds.note and not args.json:
        note(ds.note)
    out = Path(args.out) if args.out is not None else default_run_dir(ds.name, root="sweeps")
    backend = (RayBackend(address=args.address or "auto", cpus_per_task=args.ray_cpus, gpus_per_task=args.ray_gpus)
               if args.backend == "ray" else LocalBackend())
    try:
        with Progress(show=not (args.quiet or args.json)) as progress:
            result = sweep(base, grid, out=out, max_models=args.max_models, backend=backend,
                           progress=SweepBars(out, progress, ds), dataset=ds, plot=not args.no_plots)
    except SweepInterrupted as exc:
        return interrupted(exc.cause, f"{exc.done} of {exc.total} cells done in {shown(exc.out)}; "
                                      f"run the same command with --out {shown(exc.out)} to train the rest")
    if args.json:
        print_json(result.summary)
        return 0
    for curve in result.curves:
        sizes = next((r["sizes"] for r in result.rows if all(r.get(k) == v for k, v in curve.settings.items())), "")
        stdout.print(curve_table(curve, f"{curve.label()} · {ds.name} [{sizes}] · {base.epochs} epochs", base.monitor_train))
        stdout.print(choice_line(curve))
    from reglab.sweep.ridge import reading

    for g in result.grids:
        label = " ".join(f"{k}={'all' if v is None else v}" for k, v in g.settings.items())
        stdout.print(heatmap_table(g, f"{label} · {ds.name} · {base.epochs} epochs"))
        line(f"ridge: {reading(g.ridge)}")
    plotted = "curve_*.png" + (", heatmap_*.png" if result.grids else "")
    line(f"{result.trained} cells trained, {result.reused} reused · results: {result.out / 'results.csv'}"
         + ("" if args.no_plots else f" · plots: {result.out}/{plotted}"))
    return 0
