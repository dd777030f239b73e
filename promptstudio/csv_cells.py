"""CSV that a spreadsheet opens as data: the one writer of every CSV file we produce.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula
to Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)`` in an answer would become a
link). As OWASP's CSV injection page advises, such a cell is written with a single quote
before it, which spreadsheets show as text; plain numbers (``-3``, ``+1.5``) stay numbers.

:func:`cell_value` undoes exactly what :func:`spreadsheet_cell` did, so values round-trip:
a value that itself begins with quotes before such a character (``'=x``) gets one more
quote, and one quote comes off on reading only where the cell, without its leading quotes,
would have needed one. Every other cell is read as written.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text)


def spreadsheet_cell(value: str) -> str:
    """``value`` as a cell no spreadsheet runs as a formula (see the module doc)."""
    return "'" + value if _formula_like(value.lstrip("'")) else value


def cell_value(cell: str) -> str:
    """The value :func:`spreadsheet_cell` wrote as ``cell``."""
    return cell[1:] if cell.startswith("'") and _formula_like(cell.lstrip("'")) else cell


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    """``rows`` as CSV text (``\\n`` line ends), every cell made safe for spreadsheets."""
    out = io.StringIO()
    minimal = csv.writer(out, lineterminator="\n")
    # The writer quotes only the characters of its line terminator: a lone "\r" in a cell
    # would be left bare, and every reader splits the row there.
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        cells = [spreadsheet_cell(cell) for cell in row]
        (quoted if any("\r" in cell for cell in cells) else minimal).writerow(cells)
    return out.getvalue()
