"""A prompt's test cases: saved variable sets, with an optional expected answer and checks.

Cases belong to the prompt, not to a version, so every version is run on the same set.
Their order is the user's (``position``); values are checked for key-like fields like
every other JSON the library stores.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from promptstudio.storage.errors import NotFound, StorageError
from promptstudio.storage.rows import CaseRow
from promptstudio.storage.sql import (
    one,
    refuse_secrets,
    require_prompt,
    rows,
    stored_json,
    to_json,
    utc_now,
)
from promptstudio.storage.transaction import transaction

_COLUMNS = "id, prompt_id, position, vars, description, expected, asserts, threshold, generated"
_SAVED = ("position", "vars", "description", "expected", "asserts", "threshold")


def _case(row: sqlite3.Row) -> CaseRow:
    return CaseRow(
        id=row["id"],
        prompt_id=row["prompt_id"],
        position=row["position"],
        vars=stored_json(row["vars"], {}),
        description=row["description"],
        expected=row["expected"],
        asserts=stored_json(row["asserts"], []),
        threshold=row["threshold"],
        generated=bool(row["generated"]),
    )


def list_cases(conn: sqlite3.Connection, prompt_id: int) -> list[CaseRow]:
    """The prompt's cases in the user's order."""
    found = rows(
        conn,
        f"SELECT {_COLUMNS} FROM test_cases WHERE prompt_id = ? ORDER BY position, id",
        (prompt_id,),
    )
    return [_case(row) for row in found]


def get_case(conn: sqlite3.Connection, case_id: int) -> CaseRow:
    row = one(conn, f"SELECT {_COLUMNS} FROM test_cases WHERE id = ?", (case_id,))
    if row is None:
        raise NotFound(f"There is no test case with id {case_id}.")
    return _case(row)


def _checked(variables: Mapping[str, Any], asserts: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    if not isinstance(variables, Mapping):
        raise StorageError("A test case's variables must be a mapping of names to values.")
    if not all(isinstance(check, Mapping) for check in asserts):
        raise StorageError("A test case's checks must each be a mapping.")
    refuse_secrets(variables, "test case variables")
    refuse_secrets(list(asserts), "test case checks")
    return (
        to_json(dict(variables), "test case variables"),
        to_json([dict(check) for check in asserts], "test case checks"),
    )


def _threshold(value: object) -> float | None:
    """A case's threshold as stored: a finite number, else refused (None: none)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise StorageError(f"A test case's threshold must be a number, not {value!r}.")
    return float(value)


def add_case(
    conn: sqlite3.Connection,
    prompt_id: int,
    variables: Mapping[str, Any],
    *,
    description: str = "",
    expected: str | None = None,
    asserts: Sequence[Mapping[str, Any]] = (),
    threshold: float | None = None,
    generated: bool = False,
) -> CaseRow:
    """Append a case at the end of the prompt's list (``generated``: a model wrote it)."""
    vars_json, asserts_json = _checked(variables, asserts)
    now = utc_now()
    with transaction(conn):
        require_prompt(conn, prompt_id)
        cursor = conn.execute(
            """
            INSERT INTO test_cases (prompt_id, position, vars, description, expected, asserts,
                                    threshold, generated, created_at, updated_at)
            VALUES (?, (SELECT coalesce(max(position), -1) + 1 FROM test_cases
                        WHERE prompt_id = ?), ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                prompt_id,
                prompt_id,
                vars_json,
                description,
                expected,
                asserts_json,
                _threshold(threshold),
                int(generated),
                now,
                now,
            ),
        )
        case_id = cursor.lastrowid
        assert case_id is not None
        return get_case(conn, case_id)


def delete_case(conn: sqlite3.Connection, case_id: int) -> None:
    with transaction(conn):
        if conn.execute("DELETE FROM test_cases WHERE id = ?", (case_id,)).rowcount == 0:
            raise NotFound(f"There is no test case with id {case_id}.")


def replace_cases(
    conn: sqlite3.Connection, prompt_id: int, cases: Sequence[Mapping[str, Any]]
) -> list[CaseRow]:
    """Make ``cases`` the prompt's whole list, in one transaction (all or nothing).

    Each case is ``{"vars": {...}}`` with optional ``"description"``, ``"expected"`` and
    ``"assert"`` (the exchange formats' shape).
    """
    with transaction(conn):
        require_prompt(conn, prompt_id)
        conn.execute("DELETE FROM test_cases WHERE prompt_id = ?", (prompt_id,))
        for case in cases:
            expected = case.get("expected")
            add_case(
                conn,
                prompt_id,
                case.get("vars") or {},
                description=str(case.get("description") or ""),
                expected=None if expected is None else str(expected),
                asserts=case.get("assert") or (),
                threshold=case.get("threshold"),
            )
        return list_cases(conn, prompt_id)


def save_cases(
    conn: sqlite3.Connection, prompt_id: int, cases: Sequence[Mapping[str, Any]]
) -> list[CaseRow]:
    """Make ``cases`` the prompt's list, keeping each case's id (one transaction).

    Unlike :func:`replace_cases` a case given with its ``"id"`` keeps it, so evaluations of
    older versions still line up with it: it is updated in place, or made again with that
    id if it was deleted (an undone delete). Cases without an id are added, the prompt's
    cases not listed are deleted, and the list's order becomes the order.
    """
    with transaction(conn):
        require_prompt(conn, prompt_id)
        owned = {
            case_id
            for (case_id,) in conn.execute(
                "SELECT id FROM test_cases WHERE prompt_id = ?", (prompt_id,)
            )
        }
        kept: set[int] = set()
        now = utc_now()
        for position, case in enumerate(cases):
            expected = case.get("expected")
            vars_json, asserts_json = _checked(case.get("vars") or {}, case.get("assert") or ())
            values = (
                position,
                vars_json,
                str(case.get("description") or ""),
                None if expected is None else str(expected),
                asserts_json,
                _threshold(case.get("threshold")),
            )
            case_id = case.get("id")
            if case_id is not None and case_id not in owned:
                taken = conn.execute("SELECT 1 FROM test_cases WHERE id = ?", (case_id,))
                if taken.fetchone() is not None:
                    raise NotFound(f"Prompt {prompt_id} has no test case with id {case_id}.")
                conn.execute(
                    """
                    INSERT INTO test_cases (id, prompt_id, position, vars, description,
                                            expected, asserts, threshold, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    (case_id, prompt_id, *values, now, now),
                )
                owned.add(case_id)
                kept.add(case_id)
            elif case_id is not None:
                if case_id in kept:
                    raise StorageError(f"Test case {case_id} is listed twice.")
                kept.add(case_id)
                # Named placeholders with a mapping: sqlite3 refuses numbered ones with
                # a sequence from Python 3.14 (a DeprecationWarning since 3.12).
                conn.execute(
                    """
                    UPDATE test_cases SET position = :position, vars = :vars,
                        description = :description, expected = :expected, asserts = :asserts,
                        threshold = :threshold,
                        updated_at = CASE WHEN vars IS :vars AND description IS :description
                            AND expected IS :expected AND asserts IS :asserts
                            AND threshold IS :threshold
                            THEN updated_at ELSE :now END
                    WHERE id = :id
                    """,
                    dict(zip(_SAVED, values, strict=True), now=now, id=case_id),
                )
            else:
                conn.execute(
                    """
                    INSERT INTO test_cases (prompt_id, position, vars, description, expected,
                                            asserts, threshold, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    (prompt_id, *values, now, now),
                )
        for case_id in owned - kept:
            conn.execute("DELETE FROM test_cases WHERE id = ?", (case_id,))
        return list_cases(conn, prompt_id)
