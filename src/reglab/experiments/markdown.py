"""A :class:`~reglab.experiments.report.Report` as markdown: headings, bullet findings, pipe tables, linked PNGs."""

from __future__ import annotations

from reglab.experiments.report import Report, Section
from reglab.experiments.tables import Link, Table, cell_text


def _cell(c: object) -> str:
    s = f"[{c.text}]({c.href})" if isinstance(c, Link) else cell_text(c)
    return s.replace("|", "\\|").replace("\n", " ")


def markdown_table(table: Table) -> str:
    """The pipe table alone (no title, no note): a header line, a ``|---|`` line, a line per row."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _section(section: Section, figures: dict[str, str]) -> list[str]:
    out = [f"## {section.heading}", ""] if section.heading else []
    if section.findings:
        out += [*(f"- {s}" for s in section.findings), ""]
    for table in section.tables:
        out += [table.title, ""] if table.title else []
        out += [markdown_table(table), ""]
        out += [table.note, ""] if table.note else []
    for stem in section.figures:
        out += [f"![{figures.get(stem) or stem}]({stem}.png)", ""]
    return out


def render_markdown(report: Report, captions: dict[str, str] | None = None) -> str:
    """The report as markdown; ``captions``: figure stem → caption (the figures lie beside it as ``STEM.png``)."""
    lines = [f"# {report.title}", ""]
    for paragraph in report.lead:
        lines += [paragraph, ""]
    for section in report.sections:
        lines += _section(section, captions or {})
    for paragraph in report.footer:
        lines += [paragraph, ""]
    return "\n".join(lines).rstrip("\n") + "\n"
