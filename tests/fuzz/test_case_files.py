"""Fuzzing the test-case files (CSV, JSON Lines, JSON) and storing what they give.

Only ExchangeError (or a list of cases) comes out of a reader; cases that were read are
then saved for a prompt, where only StorageError may refuse them, and a refused save
leaves the prompt's cases as they were.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from promptstudio.exchange.case_files import cases_from_file, cases_to_csv, cases_to_jsonl
from promptstudio.storage import Database, library
from tests.exchange.test_case_files import JSONL_CASES
from tests.fuzz.strategies import CSV, JSONL, as_bytes, mutated, soup, typed_or_success


def _csv_or_empty(cases: list[dict[str, Any]]) -> str:
    """The cases as CSV; "" for those CSV cannot hold (a variable named ``__x``)."""
    return typed_or_success(cases_to_csv, cases) or ""


CSV_FILES = st.one_of(
    soup(CSV),
    mutated(JSONL_CASES.map(_csv_or_empty), CSV),
    JSONL_CASES.map(_csv_or_empty),
)
JSONL_FILES = st.one_of(soup(JSONL), mutated(JSONL_CASES.map(cases_to_jsonl), JSONL))
JSON_FILES = st.one_of(
    soup(JSONL),
    mutated(JSONL_CASES.map(lambda cases: json.dumps({"tests": cases}, indent=1)), JSONL),
)


def check_cases(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        path = root / name
        path.write_bytes(data)
        cases = typed_or_success(cases_from_file, path)
        if cases is None:
            return
        assert all(isinstance(case, dict) and isinstance(case["vars"], dict) for case in cases)
        with Database(root / "library.sqlite3") as db:
            prompt = db.call(library.create_prompt, "p")
            db.call(library.add_case, prompt.id, {"kept": 1})
            saved = typed_or_success(db.call, library.replace_cases, prompt.id, cases)
            now = [case.vars for case in db.call(library.list_cases, prompt.id)]
            if saved is None:
                assert now == [{"kept": 1}], "a refused save changed the cases"
            else:
                assert len(now) == len(cases)


@given(as_bytes(CSV_FILES))
def test_csv_cases(data: bytes) -> None:
    check_cases("cases.csv", data)


@given(as_bytes(JSONL_FILES))
def test_jsonl_cases(data: bytes) -> None:
    check_cases("cases.jsonl", data)


@given(as_bytes(JSON_FILES))
def test_json_cases(data: bytes) -> None:
    check_cases("cases.json", data)
