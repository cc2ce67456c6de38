"""Claims as a spec: the verdict rules, the tolerance in words, the row's cells and the claims table."""

from __future__ import annotations

import math

import pytest

from reglab.experiments import (
    CLAIM_COLUMNS,
    NO,
    NOT_COMPARABLE,
    YES,
    Claim,
    claim_row,
    claims_table,
    judge,
    tally,
    tolerance_text,
    with_unit,
)


def claim(check: str, tol: float, reference: float | None = None, unit: str = "%") -> Claim:
    return Claim("arm", "accuracy", None, reference, "the reference's words", check, tol, unit)


@pytest.mark.parametrize("check, reference, tol, value, holds", [
    ("±", 95.0, 0.5, 95.5, True),   # the bound itself is within
    ("±", 95.0, 0.5, 94.5, True),
    ("±", 95.0, 0.5, 95.51, False),
    ("±", 95.0, 0.5, 94.49, False),
    ("<", None, 1.0, 0.99, True),
    ("<", None, 1.0, 1.0, False),    # strict
    (">", None, 0.0, 0.01, True),
    (">", None, 0.0, 0.0, False),    # strict
    (">=", None, 99.95, 99.95, True),
    (">=", None, 99.95, 99.94, False),
])
def test_verdict_rules(check, reference, tol, value, holds):
    c = claim(check, tol, reference)
    assert judge(c, value) is holds
    assert claim_row(c, [value]).verdict == (YES if holds else NO)


@pytest.mark.parametrize("check, reference", [("±", 95.0), ("<", None), (">", None), (">=", None)])
def test_nan_fails_every_check(check, reference):
    c = claim(check, 1.0, reference)
    assert not judge(c, math.nan)
    assert claim_row(c, [math.nan, 1.0]).verdict == NO


def test_not_comparable_is_shown_but_never_judged():
    c = claim("±", 0.5, 95.0)
    row = claim_row(c, [95.0, 95.2], comparable=False, note="trained 3 of 30 epochs")
    assert row.verdict == NOT_COMPARABLE and row.note == "trained 3 of 30 epochs"
    assert row.mean == pytest.approx(95.1) and row.difference == pytest.approx(0.1)
    assert tally([row, claim_row(c, [95.0]), claim_row(c, [99.0])]) == (1, 2)


def test_a_claim_states_a_known_test():
    with pytest.raises(ValueError, match="unknown check"):
        claim("≈", 1.0, 2.0)
    with pytest.raises(ValueError, match="needs a reference"):
        claim("±", 1.0, None)


@pytest.mark.parametrize("check, tol, unit, text", [
    ("±", 0.5, "%", "±0.5 points"),
    ("±", 10, "epoch", "±10 epochs"),
    ("<", 1.0, "points", "< 1 points"),
    (">", 0.0, "points", "> 0 points"),
    (">=", 99.95, "%", ">= 99.95%"),
])
def test_tolerance_in_words(check, tol, unit, text):
    assert tolerance_text(claim(check, tol, 1.0 if check == "±" else None, unit)) == text


def test_with_unit():
    assert (with_unit("82.10", "%"), with_unit("15.0", "epoch"), with_unit("0.40", "points")) == \
           ("82.10%", "15.0 epochs", "0.40 points")


def test_row_mean_sd_difference_and_cells():
    c = Claim("λ=0", "test accuracy, best epoch", None, 82.27, "peaks at 82.27%", "±", 1.5, note="a note")
    row = claim_row(c, [83.0, 82.0, 84.0], experiment="C")
    assert row.values == (83.0, 82.0, 84.0)
    assert row.mean == pytest.approx(83.0) and row.sd == pytest.approx(1.0) and row.difference == pytest.approx(0.73)
    assert row.cells() == ("C", "λ=0", "test accuracy, best epoch", "peaks at 82.27%", "83.00 ± 1.00%", "+0.73",
                           "±1.5 points", "yes", "a note")
    one = claim_row(Claim("λ=0", "epoch of the lowest cost", None, 15, "near 15", "±", 10, "epoch"), [18.0])
    assert math.isnan(one.sd) and one.cells()[4:6] == ("18.0 epochs", "+3.0")  # one seed: no spread; epochs: one decimal
    gap = claim_row(Claim("λ=5", "gap", None, None, "under 1 point", "<", 1.0, "points"), [0.9, 0.7])
    assert gap.difference is None and gap.cells()[5] == "—"


def test_claims_table_has_the_columns_and_a_note_column():
    rows = [claim_row(claim("±", 0.5, 95.0), [95.1]), claim_row(claim("<", 1.0), [0.2])]
    table = claims_table(rows, "claims", note="what the columns mean")
    assert table.columns == (*CLAIM_COLUMNS, "note") and len(table.rows) == 2
    assert all(len(r) == len(table.columns) for r in table.rows)
    named = claims_table(rows, columns=("e", "a", "m", "book", "mean", "d", "t", "w"))
    assert named.columns[3] == "book"
    with pytest.raises(ValueError, match="8 columns"):
        claims_table(rows, columns=("a", "b"))
