"""A person's verdict on an answer: 👍 (1), 👎 (-1) or none, with an optional note.

The rating is stored with the answer it judges, in the answer's own row: a run's
response (``responses``), an evaluation cell (``eval_results``) or a pinned answer
(``pinned_answers``). Deleting the answer deletes its rating. A rating with neither a
verdict nor a note is no rating (both columns go back to NULL).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from promptstudio.storage.errors import NotFound, StorageError
from promptstudio.storage.sql import rows
from promptstudio.storage.transaction import transaction

RatedKind = Literal["response", "eval_cell", "pin"]
GOOD = 1
BAD = -1
MAX_NOTE_CHARS = 10_000
_TABLES: dict[str, str] = {
    "response": "responses",
    "eval_cell": "eval_results",
    "pin": "pinned_answers",
}


@dataclass(frozen=True, slots=True)
class Rating:
    """``verdict`` is :data:`GOOD`, :data:`BAD` or None (only a note)."""

    verdict: int | None = None
    note: str = ""

    @property
    def empty(self) -> bool:
        return self.verdict is None and not self.note.strip()

    @property
    def passed(self) -> bool | None:
        """The verdict as a pass/fail, as graders give one (None: no verdict)."""
        return None if self.verdict is None else self.verdict == GOOD

    @property
    def label(self) -> str:
        """ "good", "bad" or "" (for exports)."""
        return {GOOD: "good", BAD: "bad"}.get(self.verdict or 0, "")


NO_RATING = Rating()


def rating_from(verdict: object, note: object) -> Rating:
    """A rating from its two stored columns (either may be NULL)."""
    value = verdict if verdict in (GOOD, BAD) else None
    return Rating(value if isinstance(value, int) else None, str(note or ""))


def _columns(rating: Rating) -> tuple[int | None, str | None]:
    if rating.verdict not in (GOOD, BAD, None):
        raise StorageError("A rating is 1 (good), -1 (bad) or none.")
    note = rating.note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise StorageError(f"A rating's note is at most {MAX_NOTE_CHARS:,} characters.")
    return rating.verdict, note or None


def set_rating(conn: sqlite3.Connection, kind: RatedKind, row_id: int, rating: Rating) -> Rating:
    """Rate the answer ``row_id`` of ``kind``; returns the rating as stored."""
    verdict, note = _columns(rating)
    with transaction(conn):
        changed = conn.execute(
            f"UPDATE {_TABLES[kind]} SET rating = ?, rating_note = ? WHERE id = ?",
            (verdict, note, row_id),
        ).rowcount
    if not changed:
        raise NotFound(f"The answer to rate is gone (no {kind.replace('_', ' ')} {row_id}).")
    return rating_from(verdict, note)


def get_rating(conn: sqlite3.Connection, kind: RatedKind, row_id: int) -> Rating:
    found = rows(conn, f"SELECT rating, rating_note FROM {_TABLES[kind]} WHERE id = ?", (row_id,))
    return rating_from(found[0]["rating"], found[0]["rating_note"]) if found else NO_RATING


def rate_eval_cell(
    conn: sqlite3.Connection, eval_run_id: int, case_key: str, column_key: str, rating: Rating
) -> Rating:
    """Rate one cell of a stored evaluation, found by its case and column."""
    found = rows(
        conn,
        "SELECT id FROM eval_results WHERE eval_run_id = ? AND case_key = ? AND column_key = ? "
        "ORDER BY id DESC LIMIT 1",
        (eval_run_id, case_key, column_key),
    )
    if not found:
        raise NotFound("That answer of the evaluation is not stored (it never ran).")
    return set_rating(conn, "eval_cell", found[0]["id"], rating)


def eval_ratings(conn: sqlite3.Connection, eval_run_id: int) -> dict[tuple[str, str], Rating]:
    """(case key, column key) -> rating, for the rated cells of one evaluation."""
    found = rows(
        conn,
        "SELECT case_key, column_key, rating, rating_note FROM eval_results "
        "WHERE eval_run_id = ? AND (rating IS NOT NULL OR rating_note IS NOT NULL)",
        (eval_run_id,),
    )
    return {
        (row["case_key"], row["column_key"]): rating_from(row["rating"], row["rating_note"])
        for row in found
    }


def pin_ratings(conn: sqlite3.Connection, prompt_id: int) -> dict[int, Rating]:
    """pin id -> rating, for the prompt's rated pins."""
    found = rows(
        conn,
        "SELECT id, rating, rating_note FROM pinned_answers WHERE prompt_id = ? "
        "AND (rating IS NOT NULL OR rating_note IS NOT NULL)",
        (prompt_id,),
    )
    return {row["id"]: rating_from(row["rating"], row["rating_note"]) for row in found}
