"""How numbers are written: :func:`num` and the cells of a table."""

from __future__ import annotations

import numpy as np
import pytest

from reglab.experiments import Link, num
from reglab.experiments.tables import cell_text, is_number


@pytest.mark.parametrize("x, text", [
    (0.000312, "0.000312"),
    (12.0, "12"),
    (1234567.0, "1.23e+06"),
    (-2.0, "-2"),
    (0.1 + 0.2, "0.3"),        # no trailing noise
    (7, "7"),                  # integers whole
    (123456789, "123456789"),
    (np.int64(42), "42"),
    (np.float32(0.5), "0.5"),
    (float("nan"), "nan"),
    (float("inf"), "inf"),
    (-float("inf"), "-inf"),
    (True, "True"),
])
def test_num(x, text):
    assert num(x) == text


def test_num_digits():
    assert num(3.14159, 2) == "3.1" and num(3.14159, 5) == "3.1416"


def test_cells():
    assert cell_text(0.5) == "0.5" and cell_text("a") == "a" and cell_text(Link("x", "x/report.html")) == "x"
    assert is_number(1) and is_number(np.float64(1.5)) and not is_number(True) and not is_number("1")
