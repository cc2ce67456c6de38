"""The writers as a spec: a self-contained HTML page, markdown tables, strict JSON, a report folder written atomically."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from matplotlib.figure import Figure

from reglab.experiments import (
    Claim,
    Link,
    Report,
    Section,
    Table,
    claim_row,
    claims_table,
    json_text,
    markdown_table,
    render_html,
    render_markdown,
    write_page,
    write_report,
)
from reglab.experiments.writers import images


def figure(title: str = "a curve") -> Figure:
    fig = Figure(figsize=(3, 2))
    fig.add_subplot().plot([0, 1, 2], [1, 0, 1])
    fig.suptitle(title)
    return fig


def report(**figures: Figure) -> Report:
    rows = [claim_row(Claim("arm", "accuracy", None, 95.0, "95%", "±", 0.5), [95.2, 94.9], experiment="A")]
    return Report(
        title="a <study>",
        lead=("Does `x` matter?",),
        sections=(
            Section("first part", ("2 of 3 <b>bold</b> claims", "see `results.json`"),
                    (Table("numbers", ("name", "value"), (("a", 0.000312), ("b|c", 12.0)), note="a note"),
                     claims_table(rows, "claims")),
                    dict(figures)),
            Section("", ("a section without a heading",)),
        ),
        footer=("Run again with `reglab study x`.",),
    )


def test_html_is_self_contained():
    rep = report(curve=figure())
    page = render_html(rep, images(rep))
    assert "<script" not in page.lower()
    outside = re.sub(r'data:image/png;base64,[A-Za-z0-9+/=]+', "", page)  # the PNG's bytes could spell anything
    assert "http" not in outside.lower()
    assert not re.search(r'(src|href)="(?!data:)', page)  # every resource is inside the file
    assert page.count('src="data:image/png;base64,') == 1 and '<link rel="icon" href="data:,">' in page
    assert "<style>" in page


def test_html_escapes_text_and_shows_code():
    rep = report()
    page = render_html(rep, images(rep))
    assert "<h1>a &lt;study&gt;</h1>" in page
    assert "2 of 3 &lt;b&gt;bold&lt;/b&gt; claims" in page and "<b>" not in page
    assert "Does <code>x</code> matter?" in page and "<code>results.json</code>" in page
    assert '<td class="num">0.000312</td>' in page and '<td class="num">12</td>' in page
    assert page.count("<h2>") == 1  # the section without a heading has none


def test_every_table_scrolls_in_its_own_box():
    from html.parser import HTMLParser

    class Parents(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.tables = [], []

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.tables.append(self.stack[-1] if self.stack else None)
            self.stack.append((tag, dict(attrs).get("class")))

        def handle_endtag(self, tag):
            while self.stack and self.stack.pop()[0] != tag:
                pass

    rep = report()
    page = render_html(rep, images(rep))
    parser = Parents()
    parser.feed(page)
    assert parser.tables == [("div", "wide")] * 2  # both tables, each alone in a box
    assert re.search(r"\.wide \{[^}]*overflow-x: auto", page)  # the box scrolls; the page does not widen


def test_html_links_are_relative():
    rep = Report("index", (), (Section("", tables=(Table("", ("study",), ((Link("x", "x/report.html"),),)),)),))
    assert '<td><a href="x/report.html">x</a></td>' in render_html(rep, {})


def test_markdown_table_shape():
    table = Table("t", ("a", "b", "note"), (("x", 1.5, ""), ("y|z", float("nan"), "n")))
    lines = markdown_table(table).splitlines()
    assert lines == ["| a | b | note |", "|---|---|---|", "| x | 1.5 |  |", r"| y\|z | nan | n |"]
    assert all(line.count("|") - line.count(r"\|") == 4 for line in lines)


def test_markdown_document():
    rep = report(curve=figure("the caption"))
    md = render_markdown(rep, {"curve": "the caption"})
    assert md.startswith("# a <study>\n\nDoes `x` matter?\n")
    assert "## first part\n\n- 2 of 3 <b>bold</b> claims\n" in md
    assert "| name | value |\n|---|---|\n| a | 0.000312 |\n| b\\|c | 12 |\n\na note\n" in md
    assert "![the caption](curve.png)" in md and md.endswith("Run again with `reglab study x`.\n")


def test_json_is_strict_nan_and_infinity_become_null():
    text = json_text({"a": math.nan, "b": [1.0, math.inf, -math.inf], "c": np.array([0.5, np.nan]),
                      "d": np.float32(2.0), "e": (1, 2)})

    def refuse(constant):
        raise AssertionError(f"{constant} in strict JSON")

    assert json.loads(text, parse_constant=refuse) == {"a": None, "b": [1.0, None, None], "c": [0.5, None], "d": 2.0,
                                                      "e": [1, 2]}
    with pytest.raises(TypeError):
        json_text({"not data": object()})


def test_write_report_writes_every_file_html_last(tmp_path):
    written = write_report(tmp_path / "r", report(curve=figure()), {"x": math.nan}, json_name="out.json",
                           markdown_name="out.md")
    assert [p.name for p in written] == ["curve.png", "out.json", "out.md", "report.html"]
    assert (tmp_path / "r" / "curve.png").read_bytes().startswith(b"\x89PNG")
    assert json.loads((tmp_path / "r" / "out.json").read_text()) == {"x": None}
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == sorted(p.name for p in written)  # no temporary files


def test_a_failed_write_leaves_no_report_and_no_temporary_file(tmp_path):
    with pytest.raises(TypeError):
        write_report(tmp_path, report(curve=figure()), {"x": object()})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.png"]  # no results.json, no report.html, no .tmp


def test_two_figures_with_one_name_are_refused_before_anything_is_written(tmp_path):
    rep = Report("r", (), (Section("a", figures={"f": figure()}), Section("b", figures={"f": figure()})))
    with pytest.raises(ValueError, match="both named 'f'"):
        write_report(tmp_path, rep, {})
    assert not any(tmp_path.iterdir())


def test_write_page_writes_the_html_alone(tmp_path):
    path = write_page(tmp_path / "index.html", report())
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"] and path.read_text().startswith("<!DOCTYPE html>")
