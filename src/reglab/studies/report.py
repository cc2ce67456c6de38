"""Assemble a study's results into a self-contained ``report.html``, ``results.json`` and PNGs.

This module only assembles and writes: it computes nothing about regularization.
A study hands it the measured results (plain JSON data) and, per part, a
:class:`Section` of findings, :class:`Table` s and matplotlib figures, all
built from those results. Every file is written atomically (a temporary file
in the same folder, then :func:`os.replace`), so a reader never sees half a
report.

The HTML needs nothing beside itself: figures are embedded as base64 PNG, the
style sheet is inline, there is no script and no external link (the favicon
is a ``data:`` URL, so a browser does not even ask for one).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from matplotlib.figure import Figure

from reglab.io import write_bytes

#: Dots per inch of every saved figure (a 9 × 3.6 inch figure is 900 × 360 pixels).
DPI = 100


@dataclass(frozen=True)
class Table:
    """A table of a report: ``rows`` of cells under ``columns``; numbers are shown with :func:`num`."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Section:
    """What one part of a study shows: sentences, tables and figures (file stem → figure)."""

    heading: str
    findings: tuple[str, ...]
    tables: tuple[Table, ...] = ()
    figures: dict[str, Figure] = field(default_factory=dict)


def num(x: float, digits: int = 3) -> str:
    """Format a measured number for a sentence: ``digits`` significant digits, no trailing noise.

    >>> num(0.000312), num(12.0), num(1234567.0), num(-2.0)
    ('0.000312', '12', '1.23e+06', '-2')
    """
    if isinstance(x, bool) or isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"


# ---------------------------------------------------------------------------- writing files


def figure_png(fig: Figure) -> bytes:
    """The PNG bytes of a figure (matplotlib's Agg canvas; no pyplot, no global state)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def write_study(
    out_dir: Path,
    *,
    name: str,
    question: str,
    results: dict,
    sections: Sequence[Section],
    params: dict,
    seconds: float,
) -> Path:
    """Write ``results.json``, one PNG per figure and ``report.html`` into ``out_dir``; return the report's path.

    ``results.json`` holds ``{"study", "question", "params", "seconds", "versions", "results"}``;
    it is written strictly (NaN or infinity is an error: a study encodes "none" as ``null``).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "study": name,
        "question": question,
        "params": params,
        "seconds": seconds,
        "versions": library_versions(),
        "results": results,
    }
    write_bytes(out_dir / "results.json", json.dumps(payload, indent=1, allow_nan=False).encode())
    images: dict[str, Image] = {}
    for section in sections:
        for stem, fig in section.figures.items():
            if stem in images:
                raise ValueError(f"two figures of study {name!r} are both named {stem!r}")
            images[stem] = Image.of(fig)
            write_bytes(out_dir / f"{stem}.png", images[stem].png)
    text = render_html(name=name, question=question, sections=sections, images=images,
                       params=params, seconds=seconds, versions=payload["versions"])
    report = out_dir / "report.html"
    write_bytes(report, text.encode())
    return report


@dataclass(frozen=True)
class Image:
    """A rendered figure: PNG bytes, size in pixels and caption (the figure's suptitle)."""

    png: bytes
    width: int
    height: int
    caption: str

    @classmethod
    def of(cls, fig: Figure) -> "Image":
        width, height = (round(v) for v in fig.get_size_inches() * DPI)
        return cls(figure_png(fig), width, height, fig.get_suptitle())


def library_versions() -> dict[str, str]:
    """Versions of the libraries a study's numbers depend on."""
    import matplotlib
    import numpy
    import scipy
    import sklearn
    import torch

    from reglab import __version__

    return {
        "reglab": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "matplotlib": matplotlib.__version__,
    }


# ---------------------------------------------------------------------------- HTML

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 980px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h1 code { font-size: 0.8em; color: #555; }
.question { font-size: 1.15em; color: #333; margin-top: 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
ul.findings li { margin: 0.35em 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; font-size: 0.9em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
footer { margin-top: 2.5em; color: #555; font-size: 0.88em; border-top: 1px solid #ddd; }
""".strip()


def page(title: str, body: str) -> str:
    """A complete HTML page around ``body`` (inline style, no external resource)."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n"
        '<link rel="icon" href="data:,">\n'
        f"<style>\n{STYLE}\n</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def render_table(table: Table) -> str:
    """One :class:`Table` as HTML; numbers are formatted with :func:`num`."""
    def cell(c: object) -> str:
        if isinstance(c, (int, float)) and not isinstance(c, bool):
            return f'<td class="num">{html.escape(num(c))}</td>'
        return f"<td>{html.escape(str(c))}</td>"

    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>\n" for row in table.rows)
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return f"<table>\n<caption>{html.escape(table.title)}</caption>\n<tr>{head}</tr>\n{body}</table>\n{note}"


def render_figure(stem: str, image: Image) -> str:
    """A figure as an ``<img>`` with its PNG embedded in base64, its caption under it."""
    data = base64.b64encode(image.png).decode("ascii")
    alt = html.escape(image.caption or stem)
    return (
        f'<figure><img src="data:image/png;base64,{data}" width="{image.width}" height="{image.height}" '
        f'alt="{alt}">\n<figcaption>{alt} ({html.escape(stem)}.png)</figcaption></figure>\n'
    )


def render_html(
    *,
    name: str,
    question: str,
    sections: Sequence[Section],
    images: dict[str, Image],
    params: dict,
    seconds: float,
    versions: dict[str, str],
) -> str:
    """The report page: title, question, one ``<h2>`` per section, then parameters and run time."""
    parts = [f"<h1>{html.escape(name)}</h1>", f'<p class="question">{html.escape(question)}</p>']
    for section in sections:
        parts.append(f"<h2>{html.escape(section.heading)}</h2>")
        parts.append('<ul class="findings">' + "".join(f"<li>{html.escape(s)}</li>" for s in section.findings) + "</ul>")
        parts.extend(render_table(t) for t in section.tables)
        parts.extend(render_figure(stem, images[stem]) for stem in section.figures)
    flags = " --quick" if params.get("quick") else ""
    parts.append(
        "<footer><p>"
        f"Parameters: {html.escape(', '.join(f'{k} = {val}' for k, val in params.items()))}. "
        f"Measured in {seconds:.1f} s. "
        f"Reproduce with <code>reglab study {html.escape(name)}{flags} --seed {params.get('seed', 0)}</code>. "
        f"Every sentence above is computed from the numbers in <code>results.json</code>.</p>"
        f"<p>{html.escape(', '.join(f'{k} {val}' for k, val in versions.items()))}</p></footer>"
    )
    return page(f"reglab study: {name}", "\n".join(parts))


def render_index(rows: Sequence[tuple[str, str, str, float]], params: dict) -> str:
    """``index.html`` for ``reglab study all``: rows of (name, question, headline finding, seconds)."""
    body = ["<h1>reglab studies</h1>", f'<p class="question">{len(rows)} studies; parameters: '
            f"{html.escape(', '.join(f'{k} = {v}' for k, v in params.items()))}.</p>",
            "<table>\n<tr><th>study</th><th>question</th><th>first finding</th><th>seconds measured</th></tr>"]
    for name, question, headline, seconds in rows:
        body.append(
            f'<tr><td><a href="{html.escape(name)}/report.html">{html.escape(name)}</a></td>'
            f'<td>{html.escape(question)}</td><td>{html.escape(headline)}</td><td class="num">{seconds:.2f}</td></tr>'
        )
    body.append("</table>")
    return page("reglab studies", "\n".join(body))
