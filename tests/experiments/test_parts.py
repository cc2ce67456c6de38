"""A part's section, and the framework's place in the layers: it imports no package above it."""

from __future__ import annotations

import ast
from pathlib import Path

import reglab.experiments
from reglab.experiments import Claim, Part, Table, claim_row


def test_a_part_shows_its_claims_first():
    def claims(r):
        return [claim_row(Claim("all", "slope", None, r["expected"], "the theory's slope", "±", 0.1, "points"), r["slopes"])]

    part = Part("fit", "A fit", measure=lambda quick, seed: {}, findings=lambda r: [f"slope {r['slopes'][0]}"],
                tables=lambda r: [Table("t", ("a",), ((1,),))], claims=claims)
    section = part.section({"expected": 1.0, "slopes": [1.05, 0.98]})
    assert section.heading == "A fit" and section.findings == ("slope 1.05",)
    assert [t.title for t in section.tables] == ["Claims against their references", "t"]
    assert section.tables[0].rows[0][7] == "yes"


def test_a_part_without_tables_figures_or_claims():
    section = Part("p", "P", lambda quick, seed: {}, lambda r: ["one finding"]).section({})
    assert section.tables == () and section.figures == {}


def test_the_framework_imports_nothing_above_it():
    above = ("reglab.studies", "reglab.reproduce", "reglab.sweep", "reglab.cli")
    for path in Path(reglab.experiments.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(above), f"{path.name} imports {name}"
