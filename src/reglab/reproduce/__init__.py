"""The book's chapter-3 numbers, run again: ``experiments`` (A–K as data), ``core`` (plan, train, measure,
judge), ``report`` (its figures, and how its sections and claims table are assembled and written)."""

from reglab.reproduce.core import (
    ArmResult,
    Group,
    Reproduction,
    measure,
    plan,
    reproduce,
    rows_for,
    train_group,
)
from reglab.reproduce.experiments import (
    FIGURE_SPLITS,
    MINI_BATCH,
    QUICK,
    SPLITS,
    Arm,
    Claim,
    Experiment,
    Statistic,
    cap_epochs,
    nielsen_ch3,
    select,
)

__all__ = [
    "FIGURE_SPLITS", "MINI_BATCH", "QUICK", "SPLITS", "Arm", "ArmResult", "Claim", "Experiment", "Group",
    "Reproduction", "Statistic", "cap_epochs", "measure", "nielsen_ch3", "plan", "reproduce", "rows_for", "select",
    "train_group",
]
