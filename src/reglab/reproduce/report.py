"""What is reproduce's own in its report: the claims table's columns, the figures, the sections, the JSON.

:func:`write` hands them to :func:`reglab.experiments.write_report`, which writes
``c_vs_e.png`` and ``i_init.png`` (when C/E and I ran), ``reproduce.json``,
``reproduce.md`` and ``report.html`` (last) with the same writers as the
studies. The rest are pure functions of a :class:`~reglab.reproduce.core.Reproduction`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from reglab.experiments import (
    ClaimRow,
    Report,
    Section,
    Table,
    claims_table,
    library_versions,
    render_markdown,
    tally,
    versions_text,
    write_report,
)
from reglab.io import finite_or_none
from reglab.reproduce.core import Reproduction
from reglab.reproduce.experiments import Statistic

TITLE = "The book's chapter-3 results, reproduced with reglab"
TABLE_COLUMNS = ("experiment", "arm", "measured", "book", "reglab mean ± sd", "difference", "tolerance", "within")

#: reproduce.json's names for the fields of a :class:`reglab.experiments.ClaimRow`.
JSON_NAMES = {"on": "arm", "reference_text": "book", "reference": "book_value"}

COLUMNS_NOTE = (
    "Columns: “book” is what the book reports (from one run with Python 2's random seeds); “reglab mean ± sd” "
    "is the mean and the sample standard deviation over the seeds; “difference” is mean − book; “within” says "
    "whether the mean passes the row's test (“tolerance”, fixed per row before running; for accuracies ±0.5 "
    "points for networks trained on 2,000 or more training images, ±1.5 points on 1,000 or fewer training "
    "images and after one epoch). "
    "“not comparable”: the arm trained fewer epochs than the book's (`--max-epochs`), so the row is shown "
    "but not judged. The book's single runs can be matched only in distribution: a book number a seed "
    "standard deviation or two away from reglab's mean is what a rerun of the book's own code would give."
)

KNOWN_DIFFERENCES = (
    "The book's cross-entropy is `nan_to_num(−y ln a − (1−y) ln(1−a))` on the sigmoid output; reglab computes "
    "the same cost from `z` (softplus), which differs only where `a` rounds to exactly 0 or 1 (the book's value "
    "is then meaningless). It affects cost rows only, never accuracies.",
    "The engine runs in float32 (the book: float64); this changes single runs, not their distribution.",
    "Arms with the same seed are paired: the same mini-batch order, and large and default initialization "
    "drawing the same normal numbers.",
)


def table(rows: Sequence[ClaimRow]) -> Table:
    """The claims under :data:`TABLE_COLUMNS` and a note column, with :data:`COLUMNS_NOTE` under them
    (the CLI prints it with :func:`reglab.experiments.markdown_table`)."""
    return claims_table(rows, columns=TABLE_COLUMNS, note=COLUMNS_NOTE)


def to_json(rep: Reproduction, versions: dict[str, str] | None = None) -> dict:
    """Everything measured, as JSON-ready data (NaN as ``null``)."""
    experiments = []
    for e in rep.experiments:
        arms = []
        for label, arm in e.arms:
            r = rep.results[e.id][label]
            arms.append({"label": label, "config": asdict(arm), "seeds": list(r.seeds), "diverged": r.diverged,
                         "final": dict(r.final), "curves": dict(r.curves)})
        experiments.append({"id": e.id, "title": e.title, "arms": arms})
    return finite_or_none({
        "name": "nielsen-ch3",
        "settings": rep.settings,
        "seconds": rep.seconds,
        "versions": versions or library_versions(),
        "groups": [{"run": name, "seconds": s} for name, s in rep.group_seconds],
        "columns": list(TABLE_COLUMNS),
        "rows": [{JSON_NAMES.get(k, k): v for k, v in asdict(r).items()} for r in rep.rows],
        "experiments": experiments,
    })


def _curve(ax, curve: np.ndarray, label: str, color: str) -> None:
    """Mean over seeds, with the range of the seeds shaded; accuracy in percent, from epoch 1."""
    epochs = np.arange(1, curve.shape[0])
    pct = curve[1:] * 100
    ax.plot(epochs, pct.mean(axis=1), color=color, label=label, lw=1.4)
    if pct.shape[1] > 1:
        ax.fill_between(epochs, pct.min(axis=1), pct.max(axis=1), color=color, alpha=0.2, lw=0)


def _book_value(rep: Reproduction, eid: str, stat: Statistic) -> float | None:
    return next((c.reference for c in rep.book_experiment(eid).claims if c.reading == stat), None)


def figure_overfitting(rep: Reproduction) -> Figure | None:
    """C vs E: accuracy per epoch on 1,000 training images without and with L2, and the book's peaks."""
    have = [eid for eid in ("C", "E") if eid in rep.results]
    if not have:
        return None
    fig = Figure(figsize=(8, 4.2))
    ax = fig.add_subplot()
    style = {"C": ("tab:red", "salmon", "C: λ=0"), "E": ("tab:blue", "lightblue", "E: λ=0.1")}
    for eid in have:
        color, light, text = style[eid]
        r = next(iter(rep.results[eid].values()))
        _curve(ax, r.curves["test_accuracy"], f"{text}, test", color)
        if "train_accuracy" in r.curves:
            _curve(ax, r.curves["train_accuracy"], f"{text}, training", light)
        peak = _book_value(rep, eid, Statistic("best", "test_accuracy"))
        if peak is not None:
            ax.axhline(peak, color=color, ls=":", lw=1, label=f"book: {eid}'s test peak {peak}%")
    ax.set(xlabel="epoch", ylabel="accuracy (%)", ylim=(60, 101))
    ax.legend(loc="lower right", fontsize=8)
    seeds = " and ".join(sorted({str(n) for eid in have for n in rep.seeds[eid].values()}))
    fig.suptitle(f"Overfitting on 1,000 images, and L2 (mean of {seeds} seeds, their range shaded)")
    fig.tight_layout()
    return fig


def figure_init(rep: Reproduction) -> Figure | None:
    """I: validation accuracy per epoch, large vs default initialization, and the book's points."""
    if "I" not in rep.results:
        return None
    fig = Figure(figsize=(8, 4.2))
    ax = fig.add_subplot()
    book = rep.book_experiment("I")
    for label, color, marker in (("large", "tab:red", "x"), ("default", "tab:blue", "+")):
        _curve(ax, rep.results["I"][label].curves["validation_accuracy"], f"{label} init", color)
        points = [(c.reading.epoch if c.reading.kind == "at" else book.arm(label).epochs, c.reference)
                  for c in book.claims if c.on == label]
        ax.plot(*zip(*points), ls="none", marker=marker, ms=9, color=color, label=f"book, {label} init")
    ax.set(xlabel="epoch", ylabel="validation accuracy (%)")
    ax.legend(loc="lower right", fontsize=8)
    seeds = max(rep.seeds["I"].values())
    fig.suptitle(f"I: large vs default initialization, H=30, η=0.1, λ=5 (mean of {seeds} seeds, range shaded)")
    fig.tight_layout()
    return fig


FIGURES = {"c_vs_e.png": figure_overfitting, "i_init.png": figure_init}


def figures(rep: Reproduction) -> dict[str, Figure]:
    """The figures that apply to the experiments that ran, by file name."""
    out = {}
    for name, make in FIGURES.items():
        fig = make(rep)
        if fig is not None:
            out[name] = fig
    return out


def _seeds_text(rep: Reproduction) -> str:
    """``5 seeds (0–4) for A, F, G, K 10,000; 3 seeds (0–2) for C, E, I, K 100, …``: how many seeds each
    experiment's rows average (an arm named where its experiment's arms differ)."""
    by_count: dict[int, list[str]] = {}
    for eid, arms in rep.seeds.items():
        mixed = len(set(arms.values())) > 1
        for label, count in arms.items():
            name = f"{eid} {label}" if mixed else eid
            if name not in by_count.setdefault(count, []):
                by_count[count].append(name)
    return "; ".join(f"{count} seed{'s' if count > 1 else ''} ({'0' if count == 1 else f'0–{count - 1}'}) for "
                     f"{', '.join(ids)}" for count, ids in sorted(by_count.items(), reverse=True))


def document(rep: Reproduction, *, command: str = "", quick_note: str = "", versions: dict[str, str] | None = None) -> Report:
    """The report: how it ran, the claims against the book, the curves, the known differences and the runs."""
    within, judged = tally(rep.rows)
    s = rep.settings
    threads = "automatic" if s["threads"] == 0 else s["threads"]
    lead = (
        *([f"`{command}`"] if command else []),
        f"{_seeds_text(rep)}; engine in {s['dtype']}, "
        f"mini-batches of {s['mini_batch']}, {threads} CPU thread(s) in training; {rep.seconds:.0f} s in all.",
        *([quick_note] if quick_note else []),
    )
    curves = {name.removesuffix(".png"): fig for name, fig in figures(rep).items()}
    sections = (
        Section("Claims against the book", (f"{within} of {judged} judged rows are within tolerance.",), (table(rep.rows),)),
        *([Section("Curves", figures=curves)] if curves else []),
        Section("Known differences from the book's code", KNOWN_DIFFERENCES),
        Section("Runs (arms that share width, training set and epochs train together)",
                tuple(f"{name}: {sec:.0f} s" for name, sec in rep.group_seconds)),
    )
    footer = ("Every number above is computed from the runs saved in `reproduce.json`.",
              versions_text(versions or library_versions()))
    return Report(TITLE, lead, sections, footer)


def to_markdown(rep: Reproduction, *, command: str = "", quick_note: str = "") -> str:
    """``reproduce.md``: the :func:`document` as markdown."""
    return render_markdown(document(rep, command=command, quick_note=quick_note))


def write(rep: Reproduction, out: Path | str, *, command: str = "", quick_note: str = "") -> list[Path]:
    """Write the figures, ``reproduce.json``, ``reproduce.md`` and ``report.html`` into ``out``; the files, in order."""
    versions = library_versions()
    return write_report(out, document(rep, command=command, quick_note=quick_note, versions=versions),
                        to_json(rep, versions), json_name="reproduce.json", markdown_name="reproduce.md")
