r"""The book's chapter-3 experiments, reproduced on reglab's engine.

Experiments A–K of Nielsen's *Neural Networks and Deep Learning*, chapter 3
(``REFERENCE.md`` §1), as data: each :class:`Experiment` names its arms (one
training configuration each, an :class:`Arm`) and its :class:`Claim` s (what
the book reports, how reglab measures the same thing, and the tolerance).

How the work is batched
-----------------------
Arms that share a network shape, a training-set size and a number of epochs
train together as one batched run of ``M = arms × seeds`` models (η and λ
per model; see :func:`reglab.engine.loop.fit`), so the seeds of an experiment and
the arms of a comparison always train together, and experiments with equal
arms share them (A and D are one run; F is also K's 50k point). Model
``(arm, seed)`` draws its initial weights and its mini-batch order from
``seed`` alone, so it is the same run whichever other models train beside it,
and the arms of a comparison are paired: with the same seed, large and default
initialization draw the same normal numbers (the default divides them by
``√n_in``) and see the same mini-batches.

Everything here is computation: :func:`reproduce` returns a :class:`Reproduction`
(plain data: one :class:`reglab.experiments.ClaimRow` per claim, judged by
:func:`reglab.experiments.claim_row`); :mod:`reglab.reproduce.report` assembles
it into a report (table, figures, JSON, markdown and HTML); the CLI
(``reglab reproduce nielsen-ch3``) prints and writes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from reglab.engine.data import TensorData
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor, evaluate
from reglab.engine.regularizers import L2
from reglab.errors import ReglabError
from reglab.experiments import ClaimRow, claim_row, with_unit
from reglab.reproduce.experiments import FIGURE_SPLITS, MINI_BATCH, SPLITS, Arm, Experiment, Statistic, cap_epochs


# ---------------------------------------------------------------------------------------------
# Planning and running
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """Arms that train together: same width, training set and epochs, each over ``seeds`` (0 … seeds−1)."""

    hidden: int
    train_size: int | None
    epochs: int
    arms: tuple[Arm, ...]
    curve_splits: tuple[str, ...]
    seeds: int = 3

    def describe(self, seeds: int) -> str:
        size = "50k" if self.train_size is None else f"{self.train_size:,}"
        return f"H={self.hidden}, {size} images, {self.epochs} epochs: {len(self.arms)} arm(s) × {seeds} seeds"


def plan(experiments: Sequence[Experiment], seeds: int | None = None) -> list[Group]:
    """The batched runs that train every arm of ``experiments`` once.

    A split is evaluated every epoch only where some claim (or figure) needs a curve of it. ``seeds``: every
    group trains over that many seeds; ``None``: over the most that any experiment of its arms asks for
    (:meth:`Experiment.seeds_for`), so that an arm two experiments share, or arms that train together, never
    have fewer seeds than an experiment needs.
    """
    curve_splits: dict[Arm, set[str]] = {}
    wanted: dict[Arm, int] = {}
    for e in experiments:
        for label, arm in e.arms:
            wanted[arm] = max(wanted.get(arm, 0), e.seeds_for(label) if seeds is None else seeds)
            need = curve_splits.setdefault(arm, set())
            for c in e.claims:
                for stat in (c.reading, c.context):
                    if c.on == label and stat is not None and stat.needs_curve():
                        need |= stat.splits()
            if e.id in FIGURE_SPLITS:
                need.add(FIGURE_SPLITS[e.id])
    groups: dict[tuple, list[Arm]] = {}
    for arm in curve_splits:
        groups.setdefault((arm.hidden, arm.train_size, arm.epochs), []).append(arm)
    return [
        Group(h, n, ep, tuple(arms), tuple(s for s in SPLITS if any(s in curve_splits[a] for a in arms)),
              max(wanted[a] for a in arms))
        for (h, n, ep), arms in groups.items()
    ]


@dataclass
class ArmResult:
    """One arm over its seeds: per-epoch curves ``{metric: (E+1, S)}`` (row 0 before training) and
    end-of-training values ``{metric: (S,)}`` for every split; accuracies as fractions."""

    arm: Arm
    seeds: tuple[int, ...]
    curves: dict[str, np.ndarray]
    final: dict[str, np.ndarray]
    diverged: int = 0


Progress = Callable[[str, int, int], None]


def _no_progress(task: str, done: int, total: int) -> None:
    pass


def train_group(group: Group, data: TensorData, seeds: Sequence[int], progress: Progress = _no_progress,
                dtype: torch.dtype = torch.float32, threads: int | None = 0) -> dict[Arm, ArmResult]:
    """Train every arm of ``group`` over ``seeds`` as one batched run; return each arm's results.

    ``threads`` goes to :func:`reglab.engine.loop.fit` (``0``: its own choice).
    """
    S = len(seeds)
    sizes = [data.train.X.shape[1], group.hidden, data.n_classes]
    parts = [MLP.initialize(sizes, seeds=seeds, init=arm.init, dtype=dtype) for arm in group.arms]
    model = MLP([torch.cat(ws) for ws in zip(*(p.weights for p in parts))],
                [torch.cat(bs) for bs in zip(*(p.biases for p in parts))], parts[0].activation, parts[0].cost)
    task = group.describe(S)
    progress(task, 0, group.epochs)
    result = fit(
        model, data, epochs=group.epochs, batch_size=MINI_BATCH,
        eta=[arm.eta for arm in group.arms for _ in seeds],
        regularizer=L2([arm.lmbda for arm in group.arms for _ in seeds]),
        order_seeds=[s for _ in group.arms for s in seeds],
        monitor=Monitor(splits=group.curve_splits, weights=False, saturation_examples=0, train="exact"),  # the book's
        callbacks=[lambda epoch, record, run: progress(task, epoch, group.epochs)],
        threads=threads,
    )
    final = {}
    with torch.no_grad():
        for split in SPLITS:
            s = getattr(data, split)
            if s is not None:
                cost, acc = evaluate(result.model, s.X, s.y, s.Y)
                final[f"{split}_cost"], final[f"{split}_accuracy"] = cost.cpu().numpy(), acc.cpu().numpy()
    metrics = [f"{s}_{m}" for s in group.curve_splits for m in ("accuracy", "cost")]
    curves = {m: result.history.get(m) for m in metrics}
    diverged = np.array([e is not None for e in result.state.diverged_epoch])
    out = {}
    for i, arm in enumerate(group.arms):
        cols = slice(i * S, (i + 1) * S)
        out[arm] = ArmResult(arm, tuple(seeds), {m: c[:, cols] for m, c in curves.items()},
                             {m: v[cols] for m, v in final.items()}, int(diverged[cols].sum()))
    return out


# ---------------------------------------------------------------------------------------------
# Measuring and judging
# ---------------------------------------------------------------------------------------------
def measure(stat: Statistic, r: ArmResult) -> np.ndarray:
    """The statistic per seed, ``(S,)``; accuracies in percent."""
    scale = 100.0 if stat.metric.endswith("accuracy") else 1.0
    if stat.kind == "final":
        return r.final[stat.metric] * scale
    if stat.kind == "gap":
        return (r.final[stat.metric] - r.final[stat.other]) * scale
    curve = r.curves[stat.metric]  # (E+1, S)
    if stat.kind == "best":
        return curve[1:].max(axis=0) * scale
    if stat.kind == "at":
        return curve[stat.epoch] * scale
    if stat.kind == "argmin":
        return curve[1:].argmin(axis=0) + 1.0
    if stat.kind == "rise":
        w = stat.epoch
        if curve.shape[0] - 1 < w + 100:
            return np.full(curve.shape[1], math.nan)
        return (curve[-w:].mean(axis=0) - curve[-w - 100 : -100].mean(axis=0)) * scale
    raise ValueError(f"unknown statistic kind {stat.kind!r}")


@dataclass
class Reproduction:
    """What :func:`reproduce` returns: the judged claims, the arms' results and how long it took."""

    rows: list[ClaimRow]  # one per claim, judged
    experiments: tuple[Experiment, ...]  # as they ran (epochs capped by max_epochs)
    book: tuple[Experiment, ...]  # as the book ran them
    results: dict[str, dict[str, ArmResult]]  # experiment id → arm label → results
    seeds: dict[str, dict[str, int]]  # experiment id → arm label → the seeds its rows are measured over (0 … n−1)
    seconds: float
    group_seconds: list[tuple[str, float]]
    settings: dict = field(default_factory=dict)

    def book_experiment(self, eid: str) -> Experiment:
        return next(e for e in self.book if e.id == eid)


def rows_for(e: Experiment, results: dict[str, ArmResult], book_epochs: dict[str, int]) -> list[ClaimRow]:
    """The table's rows for one experiment. ``book_epochs``: the book's length of each arm (label → epochs).

    A row is comparable when its arm trained as long as the book's did (a reading "after epoch k" needs only k).
    """
    rows = []
    for c in e.claims:
        r = results[c.on]
        values = measure(c.reading, r)
        short = r.arm.epochs < (c.reading.epoch if c.reading.kind == "at" else book_epochs[c.on])
        note = c.note
        if c.context is not None:
            extra = measure(c.context, r)
            spread = f" ± {extra.std(ddof=1):.2f}" if len(extra) > 1 else ""
            note += f" (the {c.context.kind} epoch gives {with_unit(f'{extra.mean():.2f}{spread}', c.unit)})"
        if short:
            note = f"trained {r.arm.epochs} of the book's {book_epochs[c.on]} epochs" + (f"; {note}" if note else "")
        if r.diverged:
            note = f"{r.diverged} of {len(values)} runs diverged" + (f"; {note}" if note else "")
        rows.append(claim_row(c, values.tolist(), experiment=e.id, comparable=not short, note=note))
    return rows


def reproduce(
    dataset,
    experiments: Sequence[Experiment],
    seeds: int | None = None,
    *,
    max_epochs: int | None = None,
    progress: Progress = _no_progress,
    dtype: torch.dtype = torch.float32,
    threads: int | None = 0,
    store=None,
) -> Reproduction:
    """Train every arm of ``experiments`` on ``dataset`` (a :class:`reglab.data.Dataset`) and judge.

    ``seeds``: every arm trains over seeds 0 … seeds−1; ``None`` (the default): as many as its experiments ask
    for (:attr:`Experiment.seeds`: 3, or 5 where a row's spread needs it; see :func:`plan`). Runs the groups of
    :func:`plan` one after another; ``max_epochs`` caps every arm's length
    (rows that need more epochs are reported as not comparable). ``threads``: CPU threads of the
    training steps (``0``: the engine's choice, see :func:`reglab.engine.loop.fit`; the compiled steps give
    the same numbers on any count). ``store`` (a :class:`reglab.reproduce.store.RunStore`): runs it holds
    are read instead of trained, and each run trained is saved there as it finishes (an interrupted
    reproduction resumes).
    """
    if seeds is not None and seeds < 1:
        raise ReglabError(f"at least one seed is needed, got {seeds}")
    book = tuple(experiments)
    runs = cap_epochs(book, max_epochs)
    t0 = time.perf_counter()
    by_arm: dict[Arm, ArmResult] = {}
    group_seconds = []
    for group in sorted(plan(runs, seeds), key=lambda g: (g.train_size or 10**9, g.hidden, g.epochs)):
        t = time.perf_counter()
        group_seeds = tuple(range(group.seeds))
        kept = store.load(group, group_seeds, dtype) if store is not None else None
        if kept is not None:
            progress(f"{group.describe(group.seeds)}, kept from an earlier run", group.epochs, group.epochs)
            by_arm.update(kept[0])
            group_seconds.append((group.describe(group.seeds), kept[1]))
            continue
        data = TensorData.from_dataset(dataset, dtype=dtype, train_size=group.train_size)
        trained = train_group(group, data, group_seeds, progress, dtype, threads)
        by_arm.update(trained)
        group_seconds.append((group.describe(group.seeds), time.perf_counter() - t))
        if store is not None:
            store.save(group, group_seeds, dtype, trained, group_seconds[-1][1])
    results, rows = {}, []
    for e_book, e in zip(book, runs):
        results[e.id] = {label: by_arm[arm] for label, arm in e.arms}
        rows += rows_for(e, results[e.id], {label: arm.epochs for label, arm in e_book.arms})
    counts = {e.id: {label: len(r.seeds) for label, r in results[e.id].items()} for e in runs}
    settings = {"seeds": seeds, "seeds_by_experiment": counts, "max_epochs": max_epochs,
                "dtype": str(dtype).replace("torch.", ""), "mini_batch": MINI_BATCH, "threads": threads}
    return Reproduction(rows, runs, book, results, counts, time.perf_counter() - t0, group_seconds, settings)
