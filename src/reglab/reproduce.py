r"""The book's chapter-3 experiments, reproduced on reglab's engine.

Experiments A–K of Nielsen's *Neural Networks and Deep Learning*, chapter 3
(``REFERENCE.md`` §1), as data: each :class:`Experiment` names its arms (one
training configuration each, an :class:`Arm`) and its :class:`Claim` s (what
the book reports, how reglab measures the same thing, and the tolerance).

How the work is batched
-----------------------
Arms that share a network shape, a training-set size and a number of epochs
train together as one batched run of ``M = arms × seeds`` models (η and λ
per model; see :func:`reglab.train.fit`), so the seeds of an experiment and
the arms of a comparison always train together, and experiments with equal
arms share them (A and D are one run; F is also K's 50k point). Model
``(arm, seed)`` draws its initial weights and its mini-batch order from
``seed`` alone, so it is the same run whichever other models train beside it,
and the arms of a comparison are paired: with the same seed, large and default
initialization draw the same normal numbers (the default divides them by
``√n_in``) and see the same mini-batches.

Everything here is computation: :func:`reproduce` returns a :class:`Report`
(plain data); :mod:`reglab.reproduce_report` renders it (table, JSON,
figures); the CLI (``reglab reproduce nielsen-ch3``) prints and writes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np
import torch

from reglab.errors import ReglabError
from reglab.model import MLP
from reglab.monitors import Monitor, evaluate
from reglab.regularizers import L2
from reglab.train import TensorData, fit

MINI_BATCH = 10
SPLITS = ("train", "validation", "test")


# ---------------------------------------------------------------------------------------------
# Definitions
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Arm:
    """One training configuration of the book: a ``[784, hidden, 10]`` sigmoid network, cross-entropy,
    mini-batches of 10, L2 with ``lmbda`` in the book's units.

    ``train_size``: the first images of the 50,000 (``None``: all of them).
    """

    hidden: int
    eta: float
    lmbda: float
    epochs: int
    train_size: int | None = None
    init: str = "large"

    def describe(self) -> str:
        size = "50k" if self.train_size is None else f"{self.train_size:,}"
        return f"H={self.hidden}, {size} images, η={self.eta:g}, λ={self.lmbda:g}, {self.epochs} epochs, {self.init} init"


@dataclass(frozen=True)
class Statistic:
    """How a number is read off an arm's per-seed results.

    ``kind``: ``final`` (after the last epoch), ``best`` (maximum over epochs
    1…E), ``at`` (after epoch ``epoch``), ``argmin`` (the epoch of the minimum),
    ``gap`` (``metric − other``, after the last epoch), ``rise`` (mean of the last
    ``epoch`` epochs minus the mean of the ``epoch`` epochs ending 100 epochs
    earlier). ``metric`` is a monitor name, e.g. ``test_accuracy``; accuracies are
    reported in percent.
    """

    kind: str
    metric: str
    epoch: int = 0
    other: str = ""

    def needs_curve(self) -> bool:
        return self.kind not in ("final", "gap")

    def splits(self) -> set[str]:
        return {m.split("_")[0] for m in (self.metric, self.other) if m}


@dataclass(frozen=True)
class Claim:
    """A number the book reports, and the test reglab applies to its own measurement.

    ``check``: ``±`` (``|mean − book| ≤ tol``), ``<`` (``mean < tol``), ``>``
    (``mean > tol``), ``>=`` (``mean ≥ tol``). ``min_epochs``: below this many
    training epochs (``--quick`` or ``--max-epochs``) the row is not comparable
    with the book and is shown but not judged.
    """

    arm: str
    what: str
    statistic: Statistic
    book: float | None
    book_text: str
    check: str
    tol: float
    unit: str = "%"
    note: str = ""
    context: Statistic | None = None  # another reading, shown in the note (never judged)


@dataclass(frozen=True)
class Experiment:
    id: str
    title: str
    arms: tuple[tuple[str, Arm], ...]
    claims: tuple[Claim, ...]
    split_note: str = ""

    def arm(self, label: str) -> Arm:
        return dict(self.arms)[label]


def _acc(split: str) -> str:
    return f"{split}_accuracy"


FULL = 0.5  # tolerance, percentage points, for runs on the 50,000 images
SMALL = 1.5  # for runs on 1,000 images (and for accuracies after one epoch)


def nielsen_ch3() -> tuple[Experiment, ...]:
    """Experiments A–K of ``REFERENCE.md`` §1."""
    h30 = Arm(30, 0.5, 0.0, 30)
    h100 = Arm(100, 0.5, 0.0, 30)
    small = Arm(30, 0.5, 0.0, 400, train_size=1000)
    h30_l2 = Arm(30, 0.5, 5.0, 30)
    ambiguous = "the book does not say whether this is the last or the best epoch; reglab reads the last"
    best_test = Statistic("best", _acc("test"))
    sizes = (100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)
    k_book = (69.09, 76.37, 85.29, 88.85, 91.27, 93.24, 94.89, 95.85, 95.97)
    return (
        Experiment("A", "H=30, 50k images, λ=0", (("λ=0", h30),), (
            Claim("λ=0", "test accuracy, last epoch", Statistic("final", _acc("test")), 95.49, "95.49%", "±", FULL, note=ambiguous,
                  context=best_test),
        )),
        Experiment("B", "H=100, 50k images, λ=0", (("λ=0", h100),), (
            Claim("λ=0", "test accuracy, last epoch", Statistic("final", _acc("test")), 96.82, "96.82%", "±", FULL, note=ambiguous,
                  context=best_test),
        )),
        Experiment("C", "overfitting: H=30, 1,000 images, λ=0, 400 epochs", (("λ=0", small),), (
            Claim("λ=0", "test accuracy, best epoch", Statistic("best", _acc("test")), 82.27, "peaks at 82.27%", "±", SMALL),
            Claim("λ=0", "training accuracy, best epoch", Statistic("best", _acc("train")), 100.0, "reaches 100%", ">=", 99.95),
            Claim("λ=0", "epoch of the lowest test cost", Statistic("argmin", "test_cost"), 15, "near epoch 15", "±", 10, unit="epoch"),
        )),
        Experiment("D", "train vs test: H=30, 50k images, λ=0", (("λ=0", h30),), (
            Claim("λ=0", "training accuracy, best epoch", Statistic("best", _acc("train")), 97.86, "97.86%", "±", FULL),
            Claim("λ=0", "test accuracy, best epoch", Statistic("best", _acc("test")), 95.33, "95.33%", "±", FULL),
        )),
        Experiment("E", "L2 on 1,000 images: C with λ=0.1", (("λ=0.1", replace(small, lmbda=0.1)),), (
            Claim("λ=0.1", "test accuracy, best epoch", Statistic("best", _acc("test")), 87.1, "peaks at 87.1%", "±", SMALL),
            Claim("λ=0.1", "test accuracy rise, epochs 281–300 → 381–400", Statistic("rise", _acc("test"), 20), None,
                  "still rising at epoch 400", ">", 0.0, unit="points"),
        )),
        Experiment("F", "L2 on 50k images: H=30, λ=5", (("λ=5", h30_l2),), (
            Claim("λ=5", "test accuracy, best epoch", Statistic("best", _acc("test")), 96.49, "peaks at 96.49%", "±", FULL),
            Claim("λ=5", "test accuracy, last epoch", Statistic("final", _acc("test")), 95.61, "95.61% at the last epoch", "±", FULL),
            Claim("λ=5", "training − test accuracy, last epoch", Statistic("gap", _acc("train"), other=_acc("test")), None,
                  "under 1 point", "<", 1.0, unit="points"),
        )),
        Experiment("G", "H=100, λ=5, validation data", (("λ=5", Arm(100, 0.5, 5.0, 30)),), (
            Claim("λ=5", "validation accuracy, last epoch", Statistic("final", _acc("validation")), 97.92, "97.92%", "±", FULL),
        )),
        Experiment("H", "H=100, η=0.1, λ=5, 60 epochs", (("η=0.1", Arm(100, 0.1, 5.0, 60)),), (
            Claim("η=0.1", "validation accuracy, last epoch", Statistic("final", _acc("validation")), 98.04, "98.04%", "±", FULL),
        )),
        _init_experiment("I", 30, ((1, "large", 86.43), (1, "default", 92.70), (30, "large", 96.45), (30, "default", 96.45))),
        _init_experiment("J", 100, ((30, "default", 97.81), (30, "large", 97.42))),
        Experiment("K", "more data: H=30, η=0.5, λ=0.0001·size, 1,500,000/size epochs",
                   tuple((f"{s:,}", Arm(30, 0.5, 0.0001 * s, 1_500_000 // s, train_size=None if s == 50_000 else s)) for s in sizes),
                   tuple(Claim(f"{s:,}", f"validation accuracy, {s:,} images", Statistic("final", _acc("validation")), v, f"{v}%",
                               "±", SMALL if s <= 1000 else FULL) for s, v in zip(sizes, k_book))),
    )


def _init_experiment(id: str, hidden: int, points) -> Experiment:
    """I and J: large vs default initialization, H hidden neurons, η=0.1, λ=5, 30 epochs, validation data."""
    arms = tuple((init, Arm(hidden, 0.1, 5.0, 30, init=init)) for init in ("large", "default"))
    claims = []
    for epoch, init, value in points:
        text = "≈96.4–96.5%" if id == "I" and epoch == 30 else f"{value}%"
        stat = Statistic("at", _acc("validation"), epoch) if epoch < 30 else Statistic("final", _acc("validation"))
        claims.append(Claim(init, f"validation accuracy after epoch {epoch}, {init} init", stat, value, text, "±",
                            SMALL if epoch == 1 else FULL))
    return Experiment(id, f"initialization: H={hidden}, η=0.1, λ=5, large vs default init", arms, tuple(claims))


#: Which split the figures show, by experiment (evaluated every epoch for them).
FIGURE_SPLITS = {"C": "test", "E": "test", "I": "validation"}

#: What ``--quick`` runs.
QUICK = ("C", "E", "F", "I")


def select(experiments: Sequence[Experiment], only: Sequence[str] | None) -> tuple[Experiment, ...]:
    """The experiments named in ``only`` (all when ``None``), in the book's order."""
    if not only:
        return tuple(experiments)
    known = {e.id for e in experiments}
    wanted = {s.strip().upper() for s in only if s.strip()}
    unknown = sorted(wanted - known)
    if unknown:
        raise ReglabError(f"unknown experiment(s) {', '.join(unknown)}; choose among {', '.join(sorted(known))}")
    return tuple(e for e in experiments if e.id in wanted)


def cap_epochs(experiments: Sequence[Experiment], max_epochs: int | None) -> tuple[Experiment, ...]:
    """Every arm trained for at most ``max_epochs`` epochs (rows that need more are then not judged)."""
    if max_epochs is None:
        return tuple(experiments)
    if max_epochs < 1:
        raise ReglabError(f"--max-epochs must be at least 1, got {max_epochs}")
    return tuple(replace(e, arms=tuple((l, replace(a, epochs=min(a.epochs, max_epochs))) for l, a in e.arms)) for e in experiments)


# ---------------------------------------------------------------------------------------------
# Planning and running
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """Arms that train together: same width, training set and epochs."""

    hidden: int
    train_size: int | None
    epochs: int
    arms: tuple[Arm, ...]
    curve_splits: tuple[str, ...]

    def describe(self, seeds: int) -> str:
        size = "50k" if self.train_size is None else f"{self.train_size:,}"
        return f"H={self.hidden}, {size} images, {self.epochs} epochs: {len(self.arms)} arm(s) × {seeds} seeds"


def plan(experiments: Sequence[Experiment]) -> list[Group]:
    """The batched runs that train every arm of ``experiments`` once.

    A split is evaluated every epoch only where some claim (or figure) needs a curve of it.
    """
    curve_splits: dict[Arm, set[str]] = {}
    for e in experiments:
        for label, arm in e.arms:
            need = curve_splits.setdefault(arm, set())
            for c in e.claims:
                for stat in (c.statistic, c.context):
                    if c.arm == label and stat is not None and stat.needs_curve():
                        need |= stat.splits()
            if e.id in FIGURE_SPLITS:
                need.add(FIGURE_SPLITS[e.id])
    groups: dict[tuple, list[Arm]] = {}
    for arm in curve_splits:
        groups.setdefault((arm.hidden, arm.train_size, arm.epochs), []).append(arm)
    return [
        Group(h, n, ep, tuple(arms), tuple(s for s in SPLITS if any(s in curve_splits[a] for a in arms)))
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

    ``threads`` goes to :func:`reglab.train.fit` (``0``: its own choice).
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
        monitor=Monitor(splits=group.curve_splits, weights=False, saturation_examples=0),
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
    diverged = np.array([e is not None for e in result.run.diverged_epoch])
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


def judge(claim: Claim, mean: float) -> bool:
    if claim.check == "±":
        return abs(mean - claim.book) <= claim.tol
    if claim.check == "<":
        return mean < claim.tol
    if claim.check == ">":
        return mean > claim.tol
    if claim.check == ">=":
        return mean >= claim.tol
    raise ValueError(f"unknown check {claim.check!r}")


def with_unit(text: str, unit: str) -> str:
    """``"82.10%"``, ``"15.0 epochs"``, ``"0.40 points"``."""
    return f"{text}%" if unit == "%" else f"{text} {unit}s" if unit == "epoch" else f"{text} {unit}"


def tolerance_text(claim: Claim) -> str:
    if claim.check == "±":
        return f"±{claim.tol:g} " + ("points" if claim.unit == "%" else claim.unit + "s" if claim.unit == "epoch" else claim.unit)
    return f"{claim.check} " + with_unit(f"{claim.tol:g}", claim.unit)


@dataclass
class Row:
    """One line of the table."""

    experiment: str
    arm: str
    what: str
    book: str
    book_value: float | None
    values: list[float]
    mean: float
    sd: float
    difference: float | None
    tolerance: str
    verdict: str  # "yes" | "no" | "not comparable"
    unit: str = "%"
    note: str = ""


@dataclass
class Report:
    """What :func:`reproduce` returns: the table, the arms' results and how long it took."""

    rows: list[Row]
    experiments: tuple[Experiment, ...]  # as they ran (epochs capped by max_epochs)
    book: tuple[Experiment, ...]  # as the book ran them
    results: dict[str, dict[str, ArmResult]]  # experiment id → arm label → results
    seeds: tuple[int, ...]
    seconds: float
    group_seconds: list[tuple[str, float]]
    settings: dict = field(default_factory=dict)

    def book_experiment(self, eid: str) -> Experiment:
        return next(e for e in self.book if e.id == eid)


def rows_for(e: Experiment, results: dict[str, ArmResult], book_epochs: dict[str, int]) -> list[Row]:
    """The table's rows for one experiment. ``book_epochs``: the book's length of each arm (label → epochs)."""
    rows = []
    for c in e.claims:
        r = results[c.arm]
        values = measure(c.statistic, r)
        mean = float(values.mean())
        sd = float(values.std(ddof=1)) if len(values) > 1 else math.nan
        # comparable when trained as long as the book did (a reading "after epoch k" needs only k)
        short = r.arm.epochs < (c.statistic.epoch if c.statistic.kind == "at" else book_epochs[c.arm])
        note = c.note
        if c.context is not None:
            extra = measure(c.context, r)
            spread = f" ± {extra.std(ddof=1):.2f}" if len(extra) > 1 else ""
            note += f" (the {c.context.kind} epoch gives {with_unit(f'{extra.mean():.2f}{spread}', c.unit)})"
        if short:
            verdict = "not comparable"
            note = f"trained {r.arm.epochs} of the book's {book_epochs[c.arm]} epochs" + (f"; {note}" if note else "")
        else:
            verdict = "yes" if judge(c, mean) else "no"
        if r.diverged:
            note = f"{r.diverged} of {len(values)} runs diverged" + (f"; {note}" if note else "")
        diff = mean - c.book if c.book is not None and c.check == "±" else None
        rows.append(Row(e.id, c.arm, c.what, c.book_text, c.book, [float(v) for v in values], mean, sd, diff,
                        tolerance_text(c), verdict, c.unit, note))
    return rows


def reproduce(
    dataset,
    experiments: Sequence[Experiment],
    seeds: Sequence[int] = (0, 1, 2),
    *,
    max_epochs: int | None = None,
    progress: Progress = _no_progress,
    dtype: torch.dtype = torch.float32,
    threads: int | None = 0,
) -> Report:
    """Train every arm of ``experiments`` over ``seeds`` on ``dataset`` (a :class:`reglab.data.Dataset`) and judge.

    Runs the groups of :func:`plan` one after another; ``max_epochs`` caps every arm's length
    (rows that need more epochs are reported as not comparable). ``threads``: CPU threads of the
    training steps (``0``: the engine's choice, see :func:`reglab.train.fit`; the compiled steps give
    the same numbers on any count).
    """
    if not seeds:
        raise ReglabError("at least one seed is needed")
    book = tuple(experiments)
    runs = cap_epochs(book, max_epochs)
    t0 = time.perf_counter()
    by_arm: dict[Arm, ArmResult] = {}
    group_seconds = []
    for group in sorted(plan(runs), key=lambda g: (g.train_size or 10**9, g.hidden, g.epochs)):
        t = time.perf_counter()
        data = TensorData.from_dataset(dataset, dtype=dtype, train_size=group.train_size)
        by_arm.update(train_group(group, data, seeds, progress, dtype, threads))
        group_seconds.append((group.describe(len(seeds)), time.perf_counter() - t))
    results, rows = {}, []
    for e_book, e in zip(book, runs):
        results[e.id] = {label: by_arm[arm] for label, arm in e.arms}
        rows += rows_for(e, results[e.id], {label: arm.epochs for label, arm in e_book.arms})
    settings = {"seeds": list(seeds), "max_epochs": max_epochs, "dtype": str(dtype).replace("torch.", ""),
                "mini_batch": MINI_BATCH, "threads": threads}
    return Report(rows, runs, book, results, tuple(seeds), time.perf_counter() - t0, group_seconds, settings)
