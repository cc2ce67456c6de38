r"""The book's chapter-3 experiments A–K as data.

Each :class:`Experiment` names its arms (one training configuration each, an
:class:`Arm`) and its :class:`Claim` s (:class:`reglab.experiments.Claim` s): what
the book reports, how reglab reads the same number off its own runs (a
:class:`Statistic`), and the tolerance. :mod:`reglab.reproduce.core` trains
and judges them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import reglab.experiments as framework
from reglab.errors import ReglabError

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
class Claim(framework.Claim):
    """A number the book reports, and the test reglab applies to its own measurement.

    The fields of :class:`reglab.experiments.Claim`, read here as: ``on``, the arm's
    label; ``reading``, the :class:`Statistic` read off that arm; ``reference`` and
    ``reference_text``, the book's number and words. ``context``: another reading,
    shown in the note (never judged). Below the book's number of training epochs
    (``--max-epochs``) the row is not comparable with the book and is shown but not judged.
    """

    context: Statistic | None = None


@dataclass(frozen=True)
class Experiment:
    """One of the book's experiments: its arms, its claims, and how many seeds its rows need.

    ``seeds``: the seeds 0 … seeds−1 each arm trains with by default (``--seeds`` overrides them all): 3, or
    :data:`MORE_SEEDS` where a row's seed-to-seed spread needs it (see there); ``arm_seeds``: ``(label, seeds)``
    for an arm that needs another number than the rest of its experiment.
    """

    id: str
    title: str
    arms: tuple[tuple[str, Arm], ...]
    claims: tuple[Claim, ...]
    split_note: str = ""
    seeds: int = 3
    arm_seeds: tuple[tuple[str, int], ...] = ()

    def seeds_for(self, label: str) -> int:
        """How many seeds arm ``label`` needs (before ``--seeds`` and shared arms have their say)."""
        return dict(self.arm_seeds).get(label, self.seeds)

    def arm(self, label: str) -> Arm:
        return dict(self.arms)[label]


def _acc(split: str) -> str:
    return f"{split}_accuracy"


FULL = 0.5  # tolerance, percentage points, for runs on the 50,000 images
SMALL = 1.5  # for runs on 1,000 images (and for accuracies after one epoch)

#: Seeds of the rows whose seed-to-seed standard deviation exceeded half their tolerance in a 3-seed run
#: (A: 0.31, F's last epoch: 0.31, G: 0.36, K's 10,000-image point: 0.35 points, each against ±0.5): with 3
#: seeds the standard error of the mean, sd/√3, was a third of the tolerance or more; with 5 it is sd/√5.
#: Arms shared with other experiments (A's with D, F's with K's 50,000-image point) train with the larger number.
MORE_SEEDS = 5


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
            Claim("λ=0", "test accuracy, last epoch", Statistic("final", _acc("test")), 95.49, "95.49%", "±", FULL,
                  note=ambiguous,
                  context=best_test),
        ), seeds=MORE_SEEDS),
        Experiment("B", "H=100, 50k images, λ=0", (("λ=0", h100),), (
            Claim("λ=0", "test accuracy, last epoch", Statistic("final", _acc("test")), 96.82, "96.82%", "±", FULL,
                  note=ambiguous,
                  context=best_test),
        )),
        Experiment("C", "overfitting: H=30, 1,000 images, λ=0, 400 epochs", (("λ=0", small),), (
            Claim("λ=0", "test accuracy, best epoch", Statistic("best", _acc("test")), 82.27, "peaks at 82.27%", "±", SMALL),
            Claim("λ=0", "training accuracy, best epoch", Statistic("best", _acc("train")), 100.0, "reaches 100%", ">=", 99.95),
            Claim("λ=0", "epoch of the lowest test cost", Statistic("argmin", "test_cost"), 15, "near epoch 15", "±", 10,
                  unit="epoch"),
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
            Claim("λ=5", "test accuracy, last epoch", Statistic("final", _acc("test")), 95.61, "95.61% at the last epoch", "±",
                  FULL),
            Claim("λ=5", "training − test accuracy, last epoch", Statistic("gap", _acc("train"), other=_acc("test")), None,
                  "under 1 point", "<", 1.0, unit="points"),
        ), seeds=MORE_SEEDS),
        Experiment("G", "H=100, λ=5, validation data", (("λ=5", Arm(100, 0.5, 5.0, 30)),), (
            Claim("λ=5", "validation accuracy, last epoch", Statistic("final", _acc("validation")), 97.92, "97.92%", "±", FULL),
        ), seeds=MORE_SEEDS),
        Experiment("H", "H=100, η=0.1, λ=5, 60 epochs", (("η=0.1", Arm(100, 0.1, 5.0, 60)),), (
            Claim("η=0.1", "validation accuracy, last epoch", Statistic("final", _acc("validation")), 98.04, "98.04%", "±", FULL),
        )),
        _init_experiment("I", 30, ((1, "large", 86.43), (1, "default", 92.70), (30, "large", 96.37), (30, "default", 96.50))),
        _init_experiment("J", 100, ((30, "default", 97.81), (30, "large", 97.42))),
        Experiment("K", "more data: H=30, η=0.5, λ=0.0001·size, 1,500,000/size epochs",
                   tuple((f"{s:,}", Arm(30, 0.5, 0.0001 * s, 1_500_000 // s,
                                        train_size=None if s == 50_000 else s)) for s in sizes),
                   tuple(Claim(f"{s:,}", f"validation accuracy, {s:,} images", Statistic("final", _acc("validation")), v, f"{v}%",
                               "±", SMALL if s <= 1000 else FULL) for s, v in zip(sizes, k_book)),
                   arm_seeds=(("10,000", MORE_SEEDS),)),
    )


def _init_experiment(id: str, hidden: int, points) -> Experiment:
    """I and J: large vs default initialization, H hidden neurons, η=0.1, λ=5, 30 epochs, validation data."""
    arms = tuple((init, Arm(hidden, 0.1, 5.0, 30, init=init)) for init in ("large", "default"))
    claims = []
    for epoch, init, value in points:
        text = f"{value:.2f}%"
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
    return tuple(replace(e, arms=tuple((l, replace(a, epochs=min(a.epochs, max_epochs))) for l,
                                       a in e.arms)) for e in experiments)


