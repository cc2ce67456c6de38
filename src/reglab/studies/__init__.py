"""Studies: each one answers one question about regularization by measuring, then reports what it measured.

A study is one module of this package, named in :data:`STUDIES`. It defines

- ``NAME`` (as in the registry) and ``QUESTION`` (one sentence);
- ``PARTS``: a tuple of :class:`Part`, each a piece of the study with its own
  heading in the report. A part is four pure functions:

  - ``measure(quick, seed) -> dict``: the computation; JSON data only (numbers,
    lists, strings, ``None``), no printing, no files. Randomness comes from
    ``np.random.default_rng(seed)`` or a ``torch.Generator`` seeded with ``seed``.
  - ``findings(results) -> list[str]``: sentences built from the measured numbers.
    Nothing is claimed there that ``measure`` did not compute: a claim that
    fails on some seed is written as it was measured.
  - ``tables(results) -> list[Table]`` and ``figures(results) -> dict[str, Figure]``
    (file stem → matplotlib ``Figure``, built without pyplot).

To add a study: write the module, add one line to :data:`STUDIES`. To add a part
to a study (the MNIST half of ``goldilocks``, say): add one :class:`Part` to its
``PARTS``. :func:`run_study` measures every part, then :mod:`reglab.studies.report`
writes ``report.html``, ``results.json`` (``{"results": {part key: measured}}``)
and the PNGs.
"""

from __future__ import annotations

import importlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable, Sequence

from matplotlib.figure import Figure

from reglab.errors import ReglabError
from reglab.io import write_bytes
from reglab.studies.report import Section, Table, render_index, write_study

#: Study name → module; the order is the order of ``reglab study --list`` and of ``index.html``.
STUDIES: dict[str, str] = {
    "penalty-geometry": "reglab.studies.penalty_geometry",
    "feature-selection": "reglab.studies.feature_selection",
    "magnitude-saturation": "reglab.studies.magnitude_saturation",
    "prior-capacity": "reglab.studies.prior_capacity",
    "update-rule": "reglab.studies.update_rule",
    "goldilocks": "reglab.studies.goldilocks",
    "decay-equilibrium": "reglab.studies.decay_equilibrium",
    "adam-vs-adamw": "reglab.studies.adam_vs_adamw",
}


def _no_tables(results: dict) -> list[Table]:
    return []


def _no_figures(results: dict) -> dict[str, Figure]:
    return {}


@dataclass(frozen=True)
class Part:
    """One piece of a study: its key in ``results.json``, its heading, and four pure functions."""

    key: str
    heading: str
    measure: Callable[[bool, int], dict]
    findings: Callable[[dict], list[str]]
    tables: Callable[[dict], list[Table]] = _no_tables
    figures: Callable[[dict], dict[str, Figure]] = _no_figures

    def section(self, results: dict) -> Section:
        """What the report shows of this part, from its measured ``results``."""
        return Section(
            heading=self.heading,
            findings=tuple(self.findings(results)),
            tables=tuple(self.tables(results)),
            figures=dict(self.figures(results)),
        )


def load(name: str) -> ModuleType:
    """The module of study ``name``; a :class:`ReglabError` naming the valid studies when there is none."""
    if name not in STUDIES:
        raise ReglabError(f"unknown study {name!r}; the studies are: {', '.join(STUDIES)} (or 'all')")
    return importlib.import_module(STUDIES[name])


def list_studies() -> list[tuple[str, str]]:
    """``(name, question)`` of every study, in registry order."""
    return [(name, load(name).QUESTION) for name in STUDIES]


def measure(name: str, quick: bool = False, seed: int = 0) -> dict:
    """Run every part of study ``name``; nothing is printed or written.

    Parameters
    ----------
    name : str
        A key of :data:`STUDIES`.
    quick : bool
        The smaller run (fewer repeats and grid points) used by the tests and ``--quick``.
    seed : int
        Seed of every random draw of the study.

    Returns
    -------
    dict
        ``{part key: measured results}``, JSON data only.
    """
    return {part.key: part.measure(quick, seed) for part in load(name).PARTS}


def sections(name: str, results: dict) -> list[Section]:
    """The report's sections of study ``name``, built from ``results`` as returned by :func:`measure`."""
    return [part.section(results[part.key]) for part in load(name).PARTS]


def run_study(name: str, out_dir: Path | str, quick: bool = False, seed: int = 0) -> Path:
    """Measure study ``name`` and write its report into ``out_dir``.

    Parameters
    ----------
    name : str
        A key of :data:`STUDIES`.
    out_dir : path
        The study's own folder (created if needed); the CLI passes ``DIR/NAME``.
    quick, seed
        As for :func:`measure`.

    Returns
    -------
    Path
        ``out_dir/report.html``; ``results.json`` and one PNG per figure lie beside it.
    """
    module = load(name)
    start = time.perf_counter()
    results = measure(name, quick=quick, seed=seed)
    seconds = time.perf_counter() - start
    return write_study(
        Path(out_dir),
        name=name,
        question=module.QUESTION,
        results=results,
        sections=sections(name, results),
        params={"quick": quick, "seed": seed},
        seconds=round(seconds, 3),
    )


def run_all(
    out_dir: Path | str,
    quick: bool = False,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    names: Sequence[str] | None = None,
) -> Path:
    """Run every study (or those in ``names``) into ``out_dir/<name>/`` and write ``out_dir/index.html``.

    Parameters
    ----------
    out_dir : path
        Folder of the reports.
    quick, seed
        As for :func:`measure`.
    progress : callable, optional
        ``progress(name)`` is called before each study starts (the CLI shows it; the library prints nothing).
    names : sequence of str, optional
        The studies to run, in this order; all of :data:`STUDIES` by default.

    Returns
    -------
    Path
        ``out_dir/index.html``, which links every report.
    """
    out_dir = Path(out_dir)
    names = list(STUDIES) if names is None else list(names)
    for name in names:
        load(name)  # fail on an unknown name before any work
    rows = []
    for name in names:
        if progress is not None:
            progress(name)
        report = run_study(name, out_dir / name, quick=quick, seed=seed)
        saved = json.loads((report.parent / "results.json").read_text())
        first = load(name).PARTS[0]
        headline = first.findings(saved["results"][first.key])[0]
        rows.append((name, saved["question"], headline, saved["seconds"]))
    index = out_dir / "index.html"
    write_bytes(index, render_index(rows, {"quick": quick, "seed": seed}).encode())
    return index
