"""Every CSV we write opens in a spreadsheet as data, and reads back as it was written."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptstudio.csv_cells import cell_value, csv_text, spreadsheet_cell

FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
            "\tx", "\r=1", "-", "+", "=", "-inf", "-1e5x"]  # fmt: skip
PLAIN = ["", "x", "1", "-3", "+1.5", "-.5", "2e-3", "-1E+5", "a=b", " =1", "'quoted", "''"]
# Values that hold the quote themselves: each must come back exactly.
QUOTED = ["'=x", "''=x", "'-x", "'-3", "'", "'+1.5", "''@"]
# Cells built to hit the escaping rule: quotes, formula characters, digits.
CELLS = st.text(alphabet="'=+-@\t\r.e1 x", max_size=8) | st.text(max_size=8)


@pytest.mark.parametrize("value", FORMULAS)
def test_a_formula_gets_a_quote(value: str) -> None:
    assert spreadsheet_cell(value) == "'" + value


@pytest.mark.parametrize("value", PLAIN)
def test_numbers_and_plain_text_stay_as_they_are(value: str) -> None:
    assert spreadsheet_cell(value) == value
    assert cell_value(value) == value


@pytest.mark.parametrize("value", [*FORMULAS, *PLAIN, *QUOTED])
def test_every_value_round_trips(value: str) -> None:
    assert cell_value(spreadsheet_cell(value)) == value


@settings(max_examples=500, deadline=None, database=None)
@given(st.lists(st.lists(CELLS, min_size=1, max_size=4), min_size=1, max_size=4))
def test_csv_text_round_trips_and_no_cell_starts_a_formula(rows: list[list[str]]) -> None:
    read = list(csv.reader(io.StringIO(csv_text(rows), newline="")))
    for cell in (cell for cells in read for cell in cells):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or _plain_number(cell)
    assert [[cell_value(cell) for cell in cells] for cells in read] == rows


def _plain_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.lstrip("+-")[:1] in "0123456789."  # not "-inf", "+nan"
