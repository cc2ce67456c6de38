"""A :class:`~reglab.experiments.report.Report` as one self-contained HTML page.

The page needs nothing beside itself: figures are embedded as base64 PNG, the
style sheet is inline, there is no script and no external link (the favicon
is a ``data:`` URL, so a browser does not even ask for one).
"""

from __future__ import annotations

import base64
import html
import re

from reglab.experiments.figures import Image
from reglab.experiments.report import Report, Section
from reglab.experiments.tables import Link, Table, cell_text, is_number

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 980px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h1 code { font-size: 0.8em; color: #555; }
.lead { font-size: 1.15em; color: #333; margin-top: 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
ul.findings li { margin: 0.35em 0; }
.wide { overflow-x: auto; max-width: 100%; margin: 0.8em 0; }
table { border-collapse: collapse; font-size: 0.92em; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td a { white-space: nowrap; }
.note { color: #555; font-size: 0.9em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
footer { margin-top: 2.5em; color: #555; font-size: 0.88em; border-top: 1px solid #ddd; }
""".strip()


def text(s: str) -> str:
    """Plain text as HTML: escaped, with `backticks` shown as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(s))


def page(title: str, body: str) -> str:
    """A complete HTML page around ``body`` (inline style, no external resource)."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n"
        '<link rel="icon" href="data:,">\n'
        f"<style>\n{STYLE}\n</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def render_table(table: Table) -> str:
    """One :class:`Table` as HTML; numbers are formatted with :func:`~reglab.experiments.tables.num`.

    The table sits in a ``<div class="wide">`` that scrolls sideways: a table wider than the page
    (fifteen columns, say) scrolls within its own box instead of widening the page.
    """

    def cell(c: object) -> str:
        if isinstance(c, Link):
            return f'<td><a href="{html.escape(c.href)}">{html.escape(c.text)}</a></td>'
        align = ' class="num"' if is_number(c) else ""
        return f"<td{align}>{html.escape(cell_text(c))}</td>"

    caption = f"<caption>{html.escape(table.title)}</caption>\n" if table.title else ""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>\n" for row in table.rows)
    note = f'<p class="note">{text(table.note)}</p>\n' if table.note else ""
    return f'<div class="wide">\n<table>\n{caption}<tr>{head}</tr>\n{body}</table>\n</div>\n{note}'


def render_figure(stem: str, image: Image) -> str:
    """A figure as an ``<img>`` with its PNG embedded in base64, its caption under it."""
    data = base64.b64encode(image.png).decode("ascii")
    alt = html.escape(image.caption or stem)
    return (
        f'<figure><img src="data:image/png;base64,{data}" width="{image.width}" height="{image.height}" '
        f'alt="{alt}">\n<figcaption>{alt} ({html.escape(stem)}.png)</figcaption></figure>\n'
    )


def render_section(section: Section, images: dict[str, Image]) -> str:
    parts = [f"<h2>{html.escape(section.heading)}</h2>"] if section.heading else []
    if section.findings:
        parts.append('<ul class="findings">' + "".join(f"<li>{text(s)}</li>" for s in section.findings) + "</ul>")
    parts.extend(render_table(t) for t in section.tables)
    parts.extend(render_figure(stem, images[stem]) for stem in section.figures)
    return "\n".join(parts)


def render_html(report: Report, images: dict[str, Image]) -> str:
    """The page: title, lead, one ``<h2>`` per section, then the footer; ``images``: every section figure, by stem."""
    parts = [f"<h1>{html.escape(report.title)}</h1>"]
    parts += [f'<p class="lead">{text(p)}</p>' for p in report.lead]
    parts += [render_section(s, images) for s in report.sections]
    if report.footer:
        parts.append("<footer>" + "".join(f"<p>{text(p)}</p>" for p in report.footer) + "</footer>")
    return page(f"reglab: {report.title}", "\n".join(parts))
