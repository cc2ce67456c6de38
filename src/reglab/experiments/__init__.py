"""One framework for claims measured against references, shared by studies and reproduce.

Parts (:mod:`~reglab.experiments.parts`), tables (:mod:`~reglab.experiments.tables`),
claim rows (:mod:`~reglab.experiments.claims`), figures (:mod:`~reglab.experiments.figures`),
what a report shows (:mod:`~reglab.experiments.report`) and its writers: a
self-contained HTML page (:mod:`~reglab.experiments.page`), markdown
(:mod:`~reglab.experiments.markdown`), strict JSON and the report folder
(:mod:`~reglab.experiments.writers`).

This package assembles and writes: it computes nothing about regularization,
and it imports no module of ``studies``, ``reproduce``, ``sweep`` or ``cli``.
"""

from reglab.experiments.claims import (
    CHECKS,
    CLAIM_COLUMNS,
    NO,
    NOT_COMPARABLE,
    YES,
    Claim,
    ClaimRow,
    claim_row,
    claims_table,
    judge,
    tally,
    tolerance_text,
    with_unit,
)
from reglab.experiments.figures import DPI, Image, figure_png
from reglab.experiments.markdown import markdown_table, render_markdown
from reglab.experiments.page import render_html
from reglab.experiments.parts import Part
from reglab.experiments.report import Report, Section
from reglab.experiments.tables import Link, Table, num
from reglab.experiments.writers import json_text, library_versions, versions_text, write_page, write_report

__all__ = [
    "CHECKS", "CLAIM_COLUMNS", "DPI", "NO", "NOT_COMPARABLE", "YES", "Claim", "ClaimRow", "Image", "Link", "Part",
    "Report", "Section", "Table", "claim_row", "claims_table", "figure_png", "json_text", "judge", "library_versions",
    "markdown_table", "num", "render_html", "render_markdown", "tally", "tolerance_text", "versions_text", "with_unit",
    "write_page", "write_report",
]
