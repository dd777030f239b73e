"""The tools migration comes after main's steps: a library from before tools (step 11,
images) gains the tool-call columns as step 12 and keeps its answers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from promptstudio.storage import Database, library
from promptstudio.storage.schema import MIGRATIONS, schema_version
from tests.storage.helpers import respond


def test_a_library_from_before_tools_gains_the_tool_call_columns_as_step_12(
    tmp_path: Path,
) -> None:
    names = [step.__name__ for step in MIGRATIONS]
    assert names[10:12] == ["_step_11_images", "_step_12_tool_calls"]  # later steps follow
    path = tmp_path / "library.sqlite3"
    with Database(path) as db:
        prompt = db.call(library.create_prompt, "old")
        version = db.call(library.save_version, prompt.id, "T", {}, {})
        kept = respond(db, version.id, "kept")
    conn = sqlite3.connect(path)  # as a library of step 11 was: no tool-call columns
    for table in ("responses", "response_steps"):
        conn.execute(f"ALTER TABLE {table} DROP COLUMN tool_calls")
    conn.execute("PRAGMA user_version = 11")
    conn.commit()
    conn.close()
    with Database(path) as db:
        assert db.call(lambda c: c.execute("PRAGMA user_version").fetchone()[0]) == schema_version()
        assert schema_version() >= 12
        for table in ("responses", "response_steps"):
            assert "tool_calls" in db.call(_columns, table)
        [answer] = db.call(library.list_responses, kept.run_id)
        assert answer.id == kept.id and answer.text == "kept" and answer.tool_calls == ()


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
