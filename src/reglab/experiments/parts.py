"""A part of an experiment: the piece of a study (or any report) with its own heading, as four pure functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

from reglab.experiments.claims import ClaimRow, claims_table
from reglab.experiments.report import Section
from reglab.experiments.tables import Table


def _no_tables(results: dict) -> list[Table]:
    return []


def _no_figures(results: dict) -> dict[str, Figure]:
    return {}


def _no_claims(results: dict) -> list[ClaimRow]:
    return []


@dataclass(frozen=True)
class Part:
    """One piece of an experiment: its key in the results, its heading, and pure functions of what it measured.

    - ``measure(quick, seed) -> dict``: the computation; JSON data only (numbers,
      lists, strings, ``None``), no printing, no files;
    - ``findings(results) -> list[str]``: sentences built from the measured numbers;
    - ``tables(results) -> list[Table]`` and ``figures(results) -> dict[str, Figure]``
      (file stem → matplotlib figure, built without pyplot);
    - ``claims(results) -> list[ClaimRow]``: numbers judged against a reference,
      shown as the section's first table.
    """

    key: str
    heading: str
    measure: Callable[[bool, int], dict]
    findings: Callable[[dict], list[str]]
    tables: Callable[[dict], list[Table]] = _no_tables
    figures: Callable[[dict], dict[str, Figure]] = _no_figures
    claims: Callable[[dict], list[ClaimRow]] = _no_claims

    def section(self, results: dict) -> Section:
        """What the report shows of this part, from its measured ``results``."""
        rows = self.claims(results)
        claims = (claims_table(rows, "Claims against their references"),) if rows else ()
        return Section(
            heading=self.heading,
            findings=tuple(self.findings(results)),
            tables=(*claims, *self.tables(results)),
            figures=dict(self.figures(results)),
        )
