"""A prompt's test cases in and out of CSV and JSON Lines, the files test data lives in.

A case is a promptfoo ``tests`` entry: ``{"vars", "description"?, "expected"?, "assert"?,
"threshold"?}``.

CSV follows promptfoo's convention: one column per variable, then ``__description``,
``__threshold`` (the weighted score the case passes at, read as promptfoo reads it: a
number, an empty cell for none), ``__expected`` and ``__expected1``, ``__expected2``, ...
``__metadata:NAME`` columns (promptfoo's labels for filtering, which change nothing sent
or graded) are read past, as the JSON readers read past a test's ``metadata``;
``__prefix``/``__suffix`` (text promptfoo adds around one case's prompt) are refused,
since a case here cannot change the prompt. Each ``__expected`` cell holds a
check in the one-line shorthand of :mod:`promptstudio.evals.checks_text`
(``contains: Paris``); a cell that is not a check is the expected answer, as promptfoo
reads it as an ``equals`` check (trimmed, as promptfoo trims it). An expected answer
that itself reads as a check (``is-json``) therefore comes back as that check (one of
promptfoo's types not graded here too: kept, reported as not graded), and one read from
a file (``file://...``) is refused: the convention has no escape for either.
Cells are text, so variables come back as strings. Cells a spreadsheet would run as a
formula (``=HYPERLINK(...)``) are written with a quote before them and read back without
it (:mod:`promptstudio.csv_cells`).

JSON Lines holds one case per line in exactly the shape above; ``.json`` a list of cases
or a promptfoo-style ``{"tests": [...]}``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from promptstudio.csv_cells import cell_value, csv_text
from promptstudio.evals.checks_text import LINE_BREAK, format_check, parse_check, reads_as_check
from promptstudio.evals.graders import ASSERTION_TYPES, GraderError, check_assertion
from promptstudio.exchange.errors import ExchangeError
from promptstudio.exchange.library_io import write_text_atomically
from promptstudio.exchange.reading import MAX_IMPORT_BYTES, checked_text, too_big_message

log = logging.getLogger(__name__)

CASE_KEYS: Final = ("vars", "description", "expected", "assert", "threshold")
DESCRIPTION_COLUMN: Final = "__description"
EXPECTED_COLUMN: Final = "__expected"
THRESHOLD_COLUMN: Final = "__threshold"
METADATA_PREFIX: Final = "__metadata"  # __metadata:NAME, __metadata:NAME[]
_AROUND_THE_PROMPT: Final = ("__prefix", "__suffix")

_EXPECTED_N = re.compile(r"__expected\d+")
# promptfoo test fields a case here has no place for: read past, not refused.
_PROMPTFOO_ONLY_KEYS = frozenset({"metadata", "options", "provider", "providers", "providerOutput"})
# promptfoo's shorthands for a JavaScript check in __expected cells.
_JAVASCRIPT_SHORTHAND = re.compile(r"^(not-)?(?:fn|eval):")
# Checks promptfoo reads from a file: refused by name rather than kept as an expected
# answer nobody meant. promptfoo's other types read as checks, kept but not graded.
_PROMPTFOO_ONLY_CHECK = re.compile(r"file://")
_SUFFIXES_HELP = "test cases are kept in .csv, .jsonl, .ndjson or .json files."
_SPECIAL_COLUMNS_HELP = (
    f"the special columns are {DESCRIPTION_COLUMN}, {THRESHOLD_COLUMN}, {EXPECTED_COLUMN} and "
    f"{EXPECTED_COLUMN}1, {EXPECTED_COLUMN}2, ... (and promptfoo's {METADATA_PREFIX}:NAME, "
    "read past); every other column is a variable"
)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)  # strict: no NaN or Infinity


# ---- CSV ------------------------------------------------------------------------------


def cases_to_csv(cases: Sequence[Mapping[str, Any]], variables: Sequence[str] = ()) -> str:
    """``cases`` as CSV: variables (``variables`` first), then the special columns in use.

    Non-text variable values are written as compact JSON; a case without a variable gets
    an empty cell. Only ``__description``/``__expected`` columns some case fills are
    written, and as many ``__expectedN`` columns as the case with the most checks needs.
    """
    names = list(dict.fromkeys([*variables, *(name for case in cases for name in _vars(case))]))
    for name in names:
        if not name.strip() or name.startswith("__"):
            raise ExchangeError(
                f"The variable {name!r} cannot be a CSV column: {_SPECIAL_COLUMNS_HELP}."
            )
    described = any(case.get("description") for case in cases)
    limited = any(case.get("threshold") is not None for case in cases)
    answered = any(case.get("expected") for case in cases)
    checks = max((len(case.get("assert") or ()) for case in cases), default=0)
    header = [
        *names,
        *([DESCRIPTION_COLUMN] if described else []),
        *([THRESHOLD_COLUMN] if limited else []),
        *([EXPECTED_COLUMN] if answered else []),
        *(f"{EXPECTED_COLUMN}{number}" for number in range(1, checks + 1)),
    ]
    if not header:
        raise ExchangeError("There is nothing to write: no variables, answers or checks.")
    rows = [header]
    for number, case in enumerate(cases, start=1):
        row = [_cell(_vars(case).get(name, "")) for name in names]
        if described:
            row.append(str(case.get("description") or ""))
        if limited:
            row.append(_cell(case.get("threshold")) if case.get("threshold") is not None else "")
        if answered:
            row.append(_expected_cell(case.get("expected"), number))
        asserts = [format_check(check) for check in case.get("assert") or ()]
        rows.append(row + asserts + [""] * (checks - len(asserts)))
    return csv_text(rows)


def cases_from_csv(data: str | bytes) -> list[dict[str, Any]]:
    """The cases in a CSV file, read the way promptfoo reads one (see the module doc).

    The first non-blank row names the columns; blank lines are skipped, and a row shorter
    than the header is padded with empty cells. Errors carry the physical line where the
    bad row starts; "Row N" counts records as a spreadsheet shows them, header included.
    """
    text = checked_text(data)
    # The csv module refuses cells over 128 kB by default; a variable can be a document.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_IMPORT_BYTES))
    records = _records(text)
    for _, line, cells in records:
        if cells:
            columns = _columns(cells, line)
            break
    else:
        raise ExchangeError(
            "The file is empty: its first line should name the columns, like "
            "'question,__expected'.",
            line=1,
        )
    return [_case_from_row(columns, cells, line, row) for row, line, cells in records if cells]


def _records(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """``(record number, line where it starts, cells)`` for each record, blank ones too."""
    # strict: a quote left open would otherwise swallow the rest of the file silently.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start, number = 1, 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = "a quoted cell is never closed" if "end of data" in str(exc) else exc
            raise ExchangeError(f"This CSV row cannot be read: {reason}.", line=start) from None
        number += 1
        yield number, start, [cell_value(cell) for cell in cells]
        start = reader.line_num + 1


def _columns(cells: list[str], line: int) -> list[str]:
    seen: set[str] = set()
    for position, name in enumerate(cells, start=1):
        if not name.strip():
            raise ExchangeError(
                f"Column {position} of the header has no name: name it after a variable, "
                f"or {DESCRIPTION_COLUMN} or {EXPECTED_COLUMN}.",
                line=line,
            )
        if name in seen:
            raise ExchangeError(f"The header has two columns named {name!r}.", line=line)
        seen.add(name)
        special = name in (DESCRIPTION_COLUMN, EXPECTED_COLUMN, THRESHOLD_COLUMN) or (
            _EXPECTED_N.fullmatch(name) or _is_metadata(name)
        )
        if name in _AROUND_THE_PROMPT:
            where = "before" if name == "__prefix" else "after"
            raise ExchangeError(
                f"The column {name!r} is promptfoo's text added {where} one case's prompt; a "
                "case here cannot change the prompt: put that text into the template (or a "
                "variable the template uses) and remove the column.",
                line=line,
            )
        if name.startswith("__") and not special:
            raise ExchangeError(f"Unknown column {name!r}: {_SPECIAL_COLUMNS_HELP}.", line=line)
    return cells


def _case_from_row(columns: list[str], cells: list[str], line: int, row: int) -> dict[str, Any]:
    if len(cells) > len(columns):
        raise ExchangeError(
            f"Row {row} has {len(cells)} cells but the header has {len(columns)}.", line=line
        )
    variables: dict[str, str] = {}
    description, expected = "", None
    threshold: float | None = None
    checks: list[dict[str, Any]] = []
    for name, cell in zip(columns, cells + [""] * (len(columns) - len(cells)), strict=True):
        if name == DESCRIPTION_COLUMN:
            description = cell
        elif name == THRESHOLD_COLUMN:
            threshold = _threshold_cell(cell, row, line)
        elif _is_metadata(name):
            continue  # promptfoo's labels for filtering: nothing sent or graded
        elif not name.startswith("__"):
            variables[name] = cell
        elif cell.strip():
            try:
                check = _check_in_cell(cell)
            except GraderError as exc:
                raise ExchangeError(f"Row {row}, {name}: {exc.message}", line=line) from None
            if check is not None:
                checks.append(check)
            elif expected is None:  # trimmed, as promptfoo reads the cell
                expected = cell.strip()
            else:  # a second plain answer: promptfoo's reading, an equality check
                checks.append({"type": "equals", "value": cell.strip()})
    case = _case(variables, description, expected, checks)
    if threshold is not None:
        case["threshold"] = threshold
    return case


def _is_metadata(name: str) -> bool:
    return name == METADATA_PREFIX or name.startswith(METADATA_PREFIX + ":")


def _threshold_cell(cell: str, row: int, line: int) -> float | None:
    """A ``__threshold`` cell: a number (promptfoo's ``parseFloat``), or empty for none."""
    if not cell.strip():
        return None
    try:
        value = float(cell.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ExchangeError(
            f"Row {row}, {THRESHOLD_COLUMN}: {cell.strip()!r} is not a number (the weighted "
            "score of the case's checks it passes at, like 0.8).",
            line=line,
        )
    return value


def _check_in_cell(cell: str) -> dict[str, Any] | None:
    """The check an ``__expected`` cell holds, or None for an expected answer."""
    text = cell.strip()
    if text.startswith("grade:"):  # promptfoo's old name of llm-rubric
        text = "llm-rubric:" + text.removeprefix("grade:")
    text = _JAVASCRIPT_SHORTHAND.sub(r"\1javascript:", text)
    if _PROMPTFOO_ONLY_CHECK.match(text):
        raise GraderError(
            "Checks read from files are promptfoo's and cannot be read here; the types "
            f"graded here: {', '.join(ASSERTION_TYPES)}."
        )
    return parse_check(text) if reads_as_check(text) else None


def _expected_cell(expected: object, number: int) -> str:
    text = "" if expected is None else str(expected)
    if text and (reads_as_check(text) or _PROMPTFOO_ONLY_CHECK.match(text.strip())):
        log.warning("Case %d: its expected answer %r reads as a check in CSV", number, text)
    elif text != text.strip():
        log.warning("Case %d: CSV readers trim its expected answer %r", number, text)
    return text


def _cell(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# ---- JSON Lines and JSON --------------------------------------------------------------


def cases_to_jsonl(cases: Sequence[Mapping[str, Any]]) -> str:
    """One case per line, keys in the usual order (``vars``, ``description``, ...)."""
    return "".join(json.dumps(_shape(case), ensure_ascii=False) + "\n" for case in cases)


def cases_from_jsonl(data: str | bytes) -> list[dict[str, Any]]:
    """The cases in a JSON Lines file; a line of variables alone is a case of them."""
    cases = []
    for number, line in enumerate(LINE_BREAK.split(checked_text(data)), start=1):
        if line.strip():
            cases.append(_case_from_object(_decoded(line, number), "", number))
    return cases


def _cases_from_json(data: str | bytes) -> list[dict[str, Any]]:
    value = _decoded(checked_text(data), None)
    if isinstance(value, dict) and "tests" in value:
        value = value["tests"]
    if not isinstance(value, list):
        raise ExchangeError(
            "A .json file of test cases holds a list of cases, or an object with a "
            "'tests' list (promptfoo's).",
            line=1,
        )
    return [
        _case_from_object(item, f"Test case {number}: ", None)
        for number, item in enumerate(value, start=1)
    ]


def _decoded(text: str, line: int | None) -> Any:
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        where = line if line is not None else exc.lineno
        raise ExchangeError(f"This is not valid JSON: {exc.msg}.", line=where) from None
    except ValueError as exc:
        raise ExchangeError(f"This is not valid JSON: {exc}.", line=line) from None


def _case_from_object(value: object, where: str, line: int | None) -> dict[str, Any]:
    def fail(reason: str) -> ExchangeError:
        return ExchangeError(where + reason, line=line)

    if not isinstance(value, dict):
        raise fail('A test case must be a JSON object, like {"vars": {"question": "..."}}.')
    if not any(key in value for key in CASE_KEYS):
        return {"vars": value}  # variables alone
    for key in value:
        if key not in CASE_KEYS and key not in _PROMPTFOO_ONLY_KEYS:
            raise fail(
                f"Unknown key {key!r}: a test case holds vars, description, expected and "
                "assert (or is an object of variables alone)."
            )
    if skipped := sorted(set(value) & _PROMPTFOO_ONLY_KEYS):
        log.info("%sskipped promptfoo's %s (line %s)", where, ", ".join(skipped), line)
    variables = value.get("vars", {})
    if not isinstance(variables, dict):
        raise fail("'vars' must be an object of variable names and values.")
    texts = {key: value.get(key) for key in ("description", "expected")}
    metadata = value.get("metadata")
    if texts["expected"] is None and isinstance(metadata, dict):
        texts["expected"] = metadata.get("expected")  # where promptfoo configs keep it
    for key, text in texts.items():
        if text is not None and not isinstance(text, str):
            raise fail(f"'{key}' must be text.")
    checks = value.get("assert")
    if checks is not None and (
        not isinstance(checks, list) or not all(isinstance(check, dict) for check in checks)
    ):
        raise fail('\'assert\' must be a list of checks, like [{"type": "contains", ...}].')
    for number, check in enumerate(checks or [], start=1):
        try:
            check_assertion(check)
        except GraderError as exc:
            raise fail(f"Check {number}: {exc.message}") from None
    threshold = value.get("threshold")
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not math.isfinite(threshold)
    ):
        raise fail("'threshold' must be a number (the weighted score the case passes at).")
    return _shape({"vars": variables, **texts, "assert": checks, "threshold": threshold})


def _shape(case: Mapping[str, Any]) -> dict[str, Any]:
    """The case with only its own keys, in order; absent (None) ones left out."""
    shaped: dict[str, Any] = {"vars": dict(_vars(case))}
    for key in CASE_KEYS[1:]:
        if case.get(key) is not None:
            shaped[key] = case[key]
    return shaped


def _case(
    variables: dict[str, str], description: str, expected: str | None, checks: list[Any]
) -> dict[str, Any]:
    case: dict[str, Any] = {"vars": variables}
    if description:
        case["description"] = description
    if expected is not None:
        case["expected"] = expected
    if checks:
        case["assert"] = checks
    return case


def _vars(case: Mapping[str, Any]) -> Mapping[str, Any]:
    variables = case.get("vars")
    return variables if isinstance(variables, Mapping) else {}


# ---- files ----------------------------------------------------------------------------

_READERS: Final[dict[str, Callable[[str | bytes], list[dict[str, Any]]]]] = {
    ".csv": cases_from_csv,
    ".jsonl": cases_from_jsonl,
    ".ndjson": cases_from_jsonl,
    ".json": _cases_from_json,
}


def cases_from_file(path: Path) -> list[dict[str, Any]]:
    """The cases in ``path``, read by its suffix; errors name the file."""
    read = _READERS.get(path.suffix.lower())
    if read is None:
        raise ExchangeError(f"{path.name}: {_SUFFIXES_HELP}")
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:  # refused before reading it into memory
            raise ExchangeError(too_big_message(size))
        return read(path.read_bytes())
    except ExchangeError as exc:
        raise exc.in_file(path.name) from exc.__cause__
    except OSError as exc:
        raise ExchangeError(f"{path.name}: cannot be read ({exc.strerror or exc}).") from exc


def cases_to_file(
    path: Path, cases: Sequence[Mapping[str, Any]], variables: Sequence[str] = ()
) -> None:
    """Write ``cases`` to ``path`` in the format its suffix names, atomically."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = cases_to_csv(cases, variables)
    elif suffix in (".jsonl", ".ndjson"):
        text = cases_to_jsonl(cases)
    elif suffix == ".json":
        text = json.dumps([_shape(case) for case in cases], ensure_ascii=False, indent=2) + "\n"
    else:
        raise ExchangeError(f"{path.name}: {_SUFFIXES_HELP}")
    write_text_atomically(path, text)
