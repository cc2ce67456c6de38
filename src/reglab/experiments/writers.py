"""Write a report folder: one PNG per figure, the results as strict JSON, optionally markdown, then ``report.html``.

Every file is written atomically (:mod:`reglab.io`: a temporary file in the
same folder, then a rename), and ``report.html`` last, so a folder that has it
is complete and a reader never sees half a report.

JSON is strict: NaN and infinities are written as ``null`` (JSON has no such
numbers), numpy arrays and numbers as lists and numbers; anything else that is
not JSON data is an error.
"""

from __future__ import annotations

import json
from pathlib import Path

from reglab.experiments.figures import Image
from reglab.experiments.markdown import render_markdown
from reglab.experiments.page import render_html
from reglab.experiments.report import Report
from reglab.io import finite_or_none, write_bytes, write_text
from reglab.provenance import versions


def json_text(data) -> str:
    """Strict JSON of ``data`` (NaN and infinities as ``null``), indented, ending in a newline."""
    return json.dumps(finite_or_none(data), indent=1, allow_nan=False, ensure_ascii=False) + "\n"


def library_versions() -> dict[str, str]:
    """Versions of reglab, Python and the libraries measured numbers depend on (those installed)."""
    return {name: v for name, v in versions().items() if v is not None}


def versions_text(versions: dict[str, str]) -> str:
    """``reglab 0.1.0, python 3.11.9, …``: a footer line."""
    return ", ".join(f"{k} {v}" for k, v in versions.items())


def images(report: Report) -> dict[str, Image]:
    """Every figure of the report rendered, by file stem; two figures with one stem are an error."""
    out: dict[str, Image] = {}
    for section in report.sections:
        for stem, fig in section.figures.items():
            if stem in out:
                raise ValueError(f"two figures of report {report.title!r} are both named {stem!r}")
            out[stem] = Image.of(fig)
    return out


def write_page(path: Path | str, report: Report) -> Path:
    """Only the HTML page of ``report`` (its figures embedded), atomically; return ``path``."""
    path = Path(path)
    write_text(path, render_html(report, images(report)))
    return path


def write_report(folder: Path | str, report: Report, data: dict, *, json_name: str = "results.json",
                 markdown_name: str | None = None) -> list[Path]:
    """Write ``report`` and its ``data`` into ``folder`` (created if needed); return the files, in the order written.

    ``STEM.png`` per figure, ``json_name`` (``data`` as strict JSON), ``markdown_name``
    when given, and ``report.html`` last.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rendered = images(report)
    written = []
    for stem, image in rendered.items():
        write_bytes(folder / f"{stem}.png", image.png)
        written.append(folder / f"{stem}.png")
    write_text(folder / json_name, json_text(data))
    written.append(folder / json_name)
    if markdown_name is not None:
        write_text(folder / markdown_name, render_markdown(report, {s: i.caption for s, i in rendered.items()}))
        written.append(folder / markdown_name)
    write_text(folder / "report.html", render_html(report, rendered))
    written.append(folder / "report.html")
    return written
