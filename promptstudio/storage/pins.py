"""Answers pinned beside the run board: they belong to their prompt and outlive a restart.

A pin is a copy of the answer's text as it was shown (it stays when later runs replace the
column's answer), with the label and detail its tab shows. Deleting the prompt deletes
its pins.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from promptstudio.storage.sql import require_prompt, rows, utc_now
from promptstudio.storage.transaction import transaction


@dataclass(frozen=True, slots=True)
class PinRow:
    id: int
    prompt_id: int
    label: str  # what the tab says, e.g. "llama3.2 · 14:03:12"
    detail: str  # its tooltip, e.g. "llama3.2 at http://localhost:11434/v1"
    text: str
    created_at: str


_COLUMNS = "id, prompt_id, label, detail, text, created_at"


def pin_answer(
    conn: sqlite3.Connection, prompt_id: int, label: str, detail: str, text: str
) -> PinRow:
    """Keep ``text`` pinned to the prompt; returns the stored pin."""
    created = utc_now()
    with transaction(conn):
        require_prompt(conn, prompt_id)
        cursor = conn.execute(
            "INSERT INTO pinned_answers (prompt_id, label, detail, text, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (prompt_id, label, detail, text, created),
        )
    assert cursor.lastrowid is not None
    return PinRow(cursor.lastrowid, prompt_id, label, detail, text, created)


def list_pins(conn: sqlite3.Connection, prompt_id: int) -> list[PinRow]:
    """The prompt's pins, oldest first (the order of their tabs)."""
    found = rows(
        conn, f"SELECT {_COLUMNS} FROM pinned_answers WHERE prompt_id = ? ORDER BY id", (prompt_id,)
    )
    return [PinRow(**dict(row)) for row in found]


def unpin(conn: sqlite3.Connection, pin_id: int) -> bool:
    """Forget a pin; False if it was already gone."""
    with transaction(conn):
        return conn.execute("DELETE FROM pinned_answers WHERE id = ?", (pin_id,)).rowcount > 0
