"""What a report shows: a title, a lead, sections of findings, tables and figures, and a footer.

A :class:`Report` is plain data built from measured results; the writers of
:mod:`reglab.experiments.writers` turn it into HTML and markdown. Text is plain
(the writers escape it), except that `backticks` mark code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matplotlib.figure import Figure

from reglab.experiments.tables import Table


@dataclass(frozen=True)
class Section:
    """One part of a report: its findings (sentences), tables and figures (file stem → figure).

    An empty ``heading`` shows the section without one.
    """

    heading: str
    findings: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: dict[str, Figure] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """A whole report: ``title``, ``lead`` paragraphs (the question, how it ran), ``sections`` and ``footer`` paragraphs."""

    title: str
    lead: tuple[str, ...]
    sections: tuple[Section, ...]
    footer: tuple[str, ...] = ()
