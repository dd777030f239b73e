"""Optimisation reports, kept with the prompt (the rounds as JSON) so they can be shown
and exported again later."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from promptstudio.storage.errors import NotFound
from promptstudio.storage.sql import one, require_prompt, rows, utc_now
from promptstudio.storage.transaction import transaction


@dataclass(frozen=True, slots=True)
class OptimisationRow:
    id: int
    prompt_id: int
    version_id: int | None
    chosen_version_id: int | None
    stopped: str
    report: dict[str, Any]
    created_at: str


def save_optimisation(
    conn: sqlite3.Connection,
    prompt_id: int,
    version_id: int | None,
    chosen_version_id: int | None,
    stopped: str,
    report: dict[str, Any],
) -> OptimisationRow:
    with transaction(conn):
        require_prompt(conn, prompt_id)
        cursor = conn.execute(
            """
            INSERT INTO optimisations (prompt_id, version_id, chosen_version_id, stopped,
                                       report, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            (prompt_id, version_id, chosen_version_id, stopped,
             json.dumps(report, ensure_ascii=False), utc_now()),
        )  # fmt: skip
        assert cursor.lastrowid is not None
        return get_optimisation(conn, cursor.lastrowid)


def get_optimisation(conn: sqlite3.Connection, optimisation_id: int) -> OptimisationRow:
    row = one(conn, "SELECT * FROM optimisations WHERE id = ?", (optimisation_id,))
    if row is None:
        raise NotFound(f"There is no optimisation with id {optimisation_id}.")
    return _row(row)


def list_optimisations(conn: sqlite3.Connection, prompt_id: int) -> list[OptimisationRow]:
    """The prompt's optimisations, newest first."""
    found = rows(
        conn, "SELECT * FROM optimisations WHERE prompt_id = ? ORDER BY id DESC", (prompt_id,)
    )
    return [_row(r) for r in found]


def _row(row: sqlite3.Row) -> OptimisationRow:
    return OptimisationRow(
        id=row["id"],
        prompt_id=row["prompt_id"],
        version_id=row["version_id"],
        chosen_version_id=row["chosen_version_id"],
        stopped=row["stopped"],
        report=json.loads(row["report"]),
        created_at=row["created_at"],
    )
