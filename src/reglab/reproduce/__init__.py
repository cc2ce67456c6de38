"""The book's chapter-3 numbers, run again: ``experiments`` (A–K as data), ``core`` (train and judge),
``report`` (table, JSON and figures)."""

from reglab.reproduce.core import (
    ArmResult,
    Group,
    Report,
    Row,
    judge,
    measure,
    plan,
    reproduce,
    rows_for,
    tolerance_text,
    train_group,
    with_unit,
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
    "FIGURE_SPLITS", "MINI_BATCH", "QUICK", "SPLITS", "Arm", "ArmResult", "Claim", "Experiment", "Group", "Report",
    "Row", "Statistic", "cap_epochs", "judge", "measure", "nielsen_ch3", "plan", "reproduce", "rows_for", "select",
    "train_group", "tolerance_text", "with_unit",
]
