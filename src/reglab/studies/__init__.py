"""Studies: each one answers one question about regularization by measuring, then reports what it measured.

A study is one module of this package, named in :data:`STUDIES`. It defines

- ``NAME`` (as in the registry) and ``QUESTION`` (one sentence);
- optionally ``headline(results) -> str``: the one finding ``index.html`` shows for it (``results`` as
  :func:`measure` returns them); without it, the first finding of its first part that is not the sentence
  naming the data (:func:`reglab.studies.data.describe`);
- ``PARTS``: a tuple of :class:`reglab.experiments.Part`, each a piece of the study
  with its own heading in the report, made of pure functions:

  - ``measure(quick, seed) -> dict``: the computation; JSON data only (numbers,
    lists, strings, ``None``), no printing, no files. Randomness comes from
    ``np.random.default_rng(seed)`` or a ``torch.Generator`` seeded with ``seed``.
  - ``findings(results) -> list[str]``: sentences built from the measured numbers.
    Nothing is claimed there that ``measure`` did not compute: a claim that
    fails on some seed is written as it was measured.
  - ``tables(results) -> list[Table]`` and ``figures(results) -> dict[str, Figure]``
    (file stem → matplotlib ``Figure``, built without pyplot), and optionally
    ``claims(results) -> list[ClaimRow]`` (numbers judged against a reference).

To add a study: write the module, add one line to :data:`STUDIES`. To add a part
to a study (the MNIST half of ``goldilocks``, say): add one ``Part`` to its
``PARTS``. :func:`run_study` measures every part, then :mod:`reglab.experiments`
writes ``report.html``, ``results.json`` (``{"results": {part key: measured}}``)
and the PNGs.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from reglab.errors import ReglabError
from reglab.experiments import Link, Report, Section, Table, library_versions, num, versions_text, write_page, write_report

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
    "coupling-atlas": "reglab.studies.coupling_atlas",
    "double-descent": "reglab.studies.double_descent",
    "dropout-vs-l2": "reglab.studies.dropout_vs_l2",
    "more-data-vs-regularization": "reglab.studies.more_data",
    "random-labels": "reglab.studies.random_labels",
}


#: Optional libraries some studies use, and the extra that installs each.
OPTIONAL = {"scipy": "studies"}


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
    parts = load(name).PARTS
    try:
        return {part.key: part.measure(quick, seed) for part in parts}
    except ModuleNotFoundError as exc:  # an optional library (scipy): say which extra brings it
        if exc.name is None or exc.name.split(".")[0] not in OPTIONAL:
            raise
        raise ReglabError(f"study {name} needs {exc.name.split('.')[0]}: pip install "
                          f"'reglab[{OPTIONAL[exc.name.split('.')[0]]}]'") from None


def headline(name: str, results: dict) -> str:
    """The finding of study ``name`` that ``index.html`` shows: its module's ``headline(results)``, else the first
    finding of its first part that is not the data-set sentence."""
    from reglab.studies import data as study_data

    module = load(name)
    if hasattr(module, "headline"):
        return str(module.headline(results))
    first = module.PARTS[0]
    part = results[first.key]
    findings = first.findings(part)
    data = study_data.describe(part["data"]) if isinstance(part, dict) and "data" in part else None
    return next((f for f in findings if f != data), findings[0])


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
        ``out_dir/report.html``; ``results.json`` (``{"study", "question", "params", "seconds",
        "versions", "results"}``) and one PNG per figure lie beside it.
    """
    return _run(name, Path(out_dir), quick, seed)[0]


def _run(name: str, out_dir: Path, quick: bool, seed: int) -> tuple[Path, dict, float]:
    """Measure and write study ``name``; its report's path, its results and the seconds measured."""
    module = load(name)
    start = time.perf_counter()
    results = measure(name, quick=quick, seed=seed)
    seconds = round(time.perf_counter() - start, 3)
    params = {"quick": quick, "seed": seed}
    versions = library_versions()
    flags = " --quick" if quick else ""
    report = Report(
        title=name,
        lead=(module.QUESTION,),
        sections=tuple(sections(name, results)),
        footer=(
            f"Parameters: {', '.join(f'{k} = {v}' for k, v in params.items())}. Measured in {seconds:.1f} s. "
            f"Reproduce with `reglab study {name}{flags} --seed {seed}`. "
            "Every sentence above is computed from the numbers in `results.json`.",
            versions_text(versions),
        ),
    )
    data = {"study": name, "question": module.QUESTION, "params": params, "seconds": seconds, "versions": versions,
            "results": results}
    written = write_report(out_dir, report, data, json_name="results.json")
    return written[-1], results, seconds


def finished(out_dir: Path | str, name: str, quick: bool, seed: int) -> dict | None:
    """The ``results.json`` of study ``name`` in ``out_dir/<name>/`` if it is complete (``report.html`` is
    written last) and was measured with these settings by this reglab, else ``None``."""
    folder = Path(out_dir) / name
    try:
        data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = (data.get("params") == {"quick": quick, "seed": seed}
            and data.get("versions", {}).get("reglab") == library_versions()["reglab"])
    return data if same and (folder / "report.html").is_file() and isinstance(data.get("results"), dict) else None


def run_all(
    out_dir: Path | str,
    quick: bool = False,
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
    names: Sequence[str] | None = None,
    reuse: bool = True,
) -> Path:
    """Run every study (or those in ``names``) into ``out_dir/<name>/`` and write ``out_dir/index.html``.

    A study whose report ``out_dir`` already holds, measured with the same ``quick``, ``seed`` and reglab
    version (:func:`finished`), is kept and not run again (``reuse=False``: run everything): an interrupted
    ``run_all`` resumes with the same call, losing at most the study it was measuring (each study's files
    are written atomically, its ``report.html`` last).

    Parameters
    ----------
    out_dir : path
        Folder of the reports.
    quick, seed
        As for :func:`measure`.
    progress : callable, optional
        ``progress(name, done, total)`` is called with ``(name, 0, 1)`` as each study starts and
        ``(name, 1, 1)`` when its report is written; a study kept from before is announced once as
        ``(name + ", kept from an earlier run", 1, 1)`` (the CLI shows it; the library prints nothing).
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
        kept = finished(out_dir, name, quick, seed) if reuse else None
        try:  # the headline, from the numbers kept (as JSON: a study whose findings cannot read them runs again)
            finding = headline(name, kept["results"]) if kept is not None else None
        except (KeyError, TypeError, ValueError, IndexError):
            kept = None
        if kept is not None:
            seconds = kept["seconds"]
            if progress is not None:
                progress(f"{name}, kept from an earlier run", 1, 1)
        else:
            if progress is not None:
                progress(name, 0, 1)
            _, results, seconds = _run(name, out_dir / name, quick, seed)
            finding = headline(name, results)
            if progress is not None:
                progress(name, 1, 1)
        rows.append((Link(name, f"{name}/report.html"), load(name).QUESTION, finding, seconds))
    count = f"{len(names)} {'study' if len(names) == 1 else 'studies'}"
    index = Report(
        title="reglab studies",
        lead=(f"{count}, measured with quick = {quick}, seed = {seed}; "
              f"{num(sum(r[-1] for r in rows))} s in all. Each report says how to run it again.",),
        sections=(Section("", tables=(Table("", ("study", "question", "headline finding", "seconds measured"), tuple(rows)),)),),
        footer=(versions_text(library_versions()),),
    )
    return write_page(out_dir / "index.html", index)
