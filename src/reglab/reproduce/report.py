"""A :class:`reglab.reproduce.Report` as a table, JSON and figures: pure functions, no files.

The CLI writes what these return: ``reproduce.md`` (:func:`to_markdown`),
``reproduce.json`` (:func:`to_json`) and one PNG per figure (:func:`figures`).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from reglab.reproduce.core import Report, Row, with_unit
from reglab.reproduce.experiments import Statistic

TABLE_COLUMNS = ("experiment", "arm", "measured", "book", "reglab mean ± sd", "difference", "tolerance", "within")


def table_cells(row: Row) -> tuple[str, ...]:
    """The row's cells under :data:`TABLE_COLUMNS` (without the note)."""
    digits = 1 if row.unit == "epoch" else 2
    spread = "" if math.isnan(row.sd) else f" ± {row.sd:.{digits}f}"
    diff = "—" if row.difference is None else f"{row.difference:+.{digits}f}"
    return (row.experiment, row.arm, row.what, row.book, with_unit(f"{row.mean:.{digits}f}{spread}", row.unit),
            diff, row.tolerance, row.verdict)


def markdown_table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " | note |", "|" + "---|" * (len(TABLE_COLUMNS) + 1)]
    for row in rows:
        lines.append("| " + " | ".join(table_cells(row)) + f" | {row.note} |")
    return "\n".join(lines)


def to_json(report: Report) -> dict:
    """Everything measured, as JSON-ready data (NaN as ``null``)."""

    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, np.ndarray):
            return clean(x.tolist())
        if isinstance(x, list):
            return [clean(v) for v in x]
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        return x

    experiments = []
    for e in report.experiments:
        arms = []
        for label, arm in e.arms:
            r = report.results[e.id][label]
            arms.append({"label": label, "config": asdict(arm), "seeds": list(r.seeds), "diverged": r.diverged,
                         "final": {m: v for m, v in r.final.items()}, "curves": {m: c for m, c in r.curves.items()}})
        experiments.append({"id": e.id, "title": e.title, "arms": arms})
    return clean({
        "name": "nielsen-ch3",
        "settings": report.settings,
        "seconds": report.seconds,
        "groups": [{"run": name, "seconds": s} for name, s in report.group_seconds],
        "columns": list(TABLE_COLUMNS),
        "rows": [asdict(r) for r in report.rows],
        "experiments": experiments,
    })


def _curve(ax, curve: np.ndarray, label: str, color: str) -> None:
    """Mean over seeds, with the range of the seeds shaded; accuracy in percent, from epoch 1."""
    epochs = np.arange(1, curve.shape[0])
    pct = curve[1:] * 100
    ax.plot(epochs, pct.mean(axis=1), color=color, label=label, lw=1.4)
    if pct.shape[1] > 1:
        ax.fill_between(epochs, pct.min(axis=1), pct.max(axis=1), color=color, alpha=0.2, lw=0)


def _book_value(report: Report, eid: str, stat: Statistic) -> float | None:
    return next((c.book for c in report.book_experiment(eid).claims if c.statistic == stat), None)


def figure_overfitting(report: Report) -> Figure | None:
    """C vs E: accuracy per epoch on 1,000 training images without and with L2, and the book's peaks."""
    have = [eid for eid in ("C", "E") if eid in report.results]
    if not have:
        return None
    fig = Figure(figsize=(8, 4.2))
    ax = fig.add_subplot()
    style = {"C": ("tab:red", "salmon", "C: λ=0"), "E": ("tab:blue", "lightblue", "E: λ=0.1")}
    for eid in have:
        color, light, text = style[eid]
        r = next(iter(report.results[eid].values()))
        _curve(ax, r.curves["test_accuracy"], f"{text}, test", color)
        if "train_accuracy" in r.curves:
            _curve(ax, r.curves["train_accuracy"], f"{text}, training", light)
        peak = _book_value(report, eid, Statistic("best", "test_accuracy"))
        ax.axhline(peak, color=color, ls=":", lw=1, label=f"book: {eid}'s test peak {peak}%")
    ax.set(xlabel="epoch", ylabel="accuracy (%)", ylim=(60, 101))
    ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"Overfitting on 1,000 images, and L2 (mean of {len(report.seeds)} seeds, their range shaded)")
    fig.tight_layout()
    return fig


def figure_init(report: Report) -> Figure | None:
    """I: validation accuracy per epoch, large vs default initialization, and the book's points."""
    if "I" not in report.results:
        return None
    fig = Figure(figsize=(8, 4.2))
    ax = fig.add_subplot()
    book = report.book_experiment("I")
    for label, color, marker in (("large", "tab:red", "x"), ("default", "tab:blue", "+")):
        _curve(ax, report.results["I"][label].curves["validation_accuracy"], f"{label} init", color)
        points = [(c.statistic.epoch if c.statistic.kind == "at" else book.arm(label).epochs, c.book)
                  for c in book.claims if c.arm == label]
        ax.plot(*zip(*points), ls="none", marker=marker, ms=9, color=color, label=f"book, {label} init")
    ax.set(xlabel="epoch", ylabel="validation accuracy (%)")
    ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"I: large vs default initialization, H=30, η=0.1, λ=5 (mean of {len(report.seeds)} seeds, range shaded)")
    fig.tight_layout()
    return fig


FIGURES = {"c_vs_e.png": figure_overfitting, "i_init.png": figure_init}


def figures(report: Report) -> dict[str, Figure]:
    """The figures that apply to the experiments that ran, by file name."""
    out = {}
    for name, make in FIGURES.items():
        fig = make(report)
        if fig is not None:
            out[name] = fig
    return out


def to_markdown(report: Report, *, command: str = "", quick_note: str = "") -> str:
    """``reproduce.md``: how it ran, the table, what the columns mean, the known differences."""
    n_yes = sum(r.verdict == "yes" for r in report.rows)
    n_judged = sum(r.verdict != "not comparable" for r in report.rows)
    s = report.settings
    parts = [
        "# The book's chapter-3 results, reproduced with reglab",
        "",
        f"`{command}`" if command else "",
        "",
        f"{len(report.seeds)} seeds per arm ({', '.join(map(str, report.seeds))}); engine in {s['dtype']}, "
        f"mini-batches of {s['mini_batch']}, {'automatic' if s['threads'] == 0 else s['threads']} CPU thread(s) in training; {report.seconds:.0f} s in all.",
        "",
    ]
    if quick_note:
        parts += [quick_note, ""]
    parts += [
        f"**{n_yes} of {n_judged} judged rows are within tolerance.**",
        "",
        markdown_table(report.rows),
        "",
        "Columns: *book* is what the book reports (from one run with Python 2's random seeds); *reglab mean ± sd* "
        "is the mean and the sample standard deviation over the seeds; *difference* is mean − book; *within* says "
        "whether the mean passes the row's test (*tolerance*, fixed per row before running; for accuracies ±0.5 "
        "points on 2,000 or more images, ±1.5 points on 1,000 or fewer and after one epoch). "
        "*not comparable*: the arm trained fewer epochs than the book's (`--max-epochs`), so the row is shown "
        "but not judged. The book's single runs can be matched only in distribution: a book number a seed "
        "standard deviation or two away from reglab's mean is what a rerun of the book's own code would give.",
        "",
        "Known differences from the book's code:",
        "",
        "- The book's cross-entropy is `nan_to_num(−y ln a − (1−y) ln(1−a))` on the sigmoid output; reglab computes "
        "the same cost from `z` (softplus), which differs only where `a` rounds to exactly 0 or 1 (the book's value "
        "is then meaningless). It affects cost rows only, never accuracies.",
        "- The engine runs in float32 (the book: float64); this changes single runs, not their distribution.",
        "- Arms with the same seed are paired: the same mini-batch order, and large and default initialization "
        "drawing the same normal numbers.",
        "",
        "Runs (arms that share width, training set and epochs train together):",
        "",
    ]
    parts += [f"- {name}: {sec:.0f} s" for name, sec in report.group_seconds]
    return "\n".join(parts) + "\n"
