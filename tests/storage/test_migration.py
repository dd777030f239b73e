"""Libraries written by every earlier schema open with all their data, searchable."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from promptstudio.storage import Database, library
from promptstudio.storage.schema import FTS_TABLES, MIGRATIONS, schema_version
from promptstudio.storage.transaction import transaction

T0 = "2026-01-01T10:00:00.000Z"
T1 = "2026-01-02T10:00:00.000Z"
# The tables and columns of schema 1; every later schema must keep them.
V1_TABLES = {
    "prompts": "id, name, folder, created_at, updated_at, trashed_at",
    "versions": "id, prompt_id, parent_id, template, variables, settings, message, kind, "
    "content_hash, created_at",
    "runs": "id, version_id, variables, created_at",
    "responses": "id, run_id, base_url, model, params, messages, text, status, error, "
    "finish_reason, ttft_ms, total_ms, input_tokens, output_tokens, usage_estimated, cost, "
    "created_at",
}


def build_library_at(path: Path, version: int) -> None:
    """A library file at schema ``version``, filled through schema 1's columns only."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for number, step in enumerate(MIGRATIONS[:version], start=1):
        with transaction(conn):
            step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
    prompts = [
        (1, "Summarise articles", "Work/Deep", T0, T1, None),
        (2, "Old experiment", "", T0, T1, T1),  # in the trash
        (3, "No versions yet", "Empty", T0, T0, None),
    ]
    versions: list[tuple[Any, ...]] = []
    parents: dict[int, int | None] = {1: None, 2: None}
    texts = [
        (1, "First draft: summarise {{ text }}"),
        (2, "Trashed prompt about zebras"),
        (1, "Second draft: summarise briefly {{ text }}"),
        (1, "Third draft: summarise in bullet points {{ text }}"),
        (2, "More zebras"),
    ]
    for vid, (pid, template) in enumerate(texts, start=1):
        digest = library.content_hash(template, {"text": "t"}, {})
        versions.append(
            (vid, pid, parents[pid], template, '{"text": "t"}', "{}", "", "save", digest, T0)
        )
        parents[pid] = vid
    runs = [(1, 3, '{"text": "a cat"}', T1)]
    responses = [
        (1, 1, "u", "gpt", "{}", "[]", "Cats purr loudly.", "done", None, "stop", 5.0, 50.0,
         3, 4, 0, 0.002, T1),
        (2, 1, "u", "other", "{}", "[]", "", "failed", "HTTP 500", None, None, 9.0,
         None, None, 0, None, T1),
    ]  # fmt: skip
    with transaction(conn):
        for table, data in (
            ("prompts", prompts),
            ("versions", versions),
            ("runs", runs),
            ("responses", responses),
        ):
            marks = ",".join("?" * len(data[0]))
            conn.executemany(f"INSERT INTO {table} ({V1_TABLES[table]}) VALUES ({marks})", data)
        if version >= 2:  # what schema 2's code wrote along with those columns
            conn.execute(
                "UPDATE versions SET number = (SELECT count(*) FROM versions AS earlier "
                "WHERE earlier.prompt_id = versions.prompt_id AND earlier.id <= versions.id)"
            )
            conn.executemany(
                "INSERT INTO folders (path, created_at) VALUES (?, ?)",
                [("Empty", T0), ("Work", T0), ("Work/Deep", T0)],
            )
    conn.close()


def dump_v1(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: conn.execute(f"SELECT {columns} FROM {table} ORDER BY id").fetchall()
        for table, columns in V1_TABLES.items()
    }


@pytest.mark.parametrize("version", range(1, schema_version()))
def test_an_older_library_keeps_everything(tmp_path: Path, version: int) -> None:
    path = tmp_path / "library.sqlite3"
    build_library_at(path, version)
    conn = sqlite3.connect(path)
    before = dump_v1(conn)
    conn.close()

    with Database(path) as db:
        assert db.call(lambda c: c.execute("PRAGMA user_version").fetchone()[0]) == (
            schema_version()
        )
        assert db.call(dump_v1) == before
        # Numbers follow each prompt's own order; folders and FTS come from old rows.
        assert [v.number for v in db.call(library.list_versions, 1)] == [3, 2, 1]
        assert [v.number for v in db.call(library.list_versions, 2)] == [2, 1]
        assert db.call(library.list_folders) == ["Empty", "Work", "Work/Deep"]
        prompt = db.call(library.get_prompt, 1)
        assert (prompt.starred, prompt.tags) == (False, ())
        hits = db.call(library.search, "summar")
        assert [(h.kind, h.prompt_id, h.version_number) for h in hits] == [
            ("prompt", 1, None),
            ("version", 1, 3),
        ]
        assert [h.kind for h in db.call(library.search, "purr")] == ["response"]
        assert db.call(library.search, "zebra") == []  # trashed
        db.call(library.restore_prompt, 2)
        assert [h.version_number for h in db.call(library.search, "zebra")] == [2]
        history = db.call(library.version_history, 1)
        assert [(h.number, h.run_count, h.best_cost) for h in history] == [
            (3, 0, None),
            (2, 1, 0.002),
            (1, 0, None),
        ]
        # The migrated library keeps working: numbering, triggers, restore.
        new = db.call(library.save_version, 1, "Fourth: summarise as a haiku", {}, {})
        assert (new.number, new.parent_id) == (4, 4)
        assert db.call(library.search, "haiku")[0].version_id == new.id
        assert db.call(library.restore_version, 1).number == 5

        def fts_ok(conn: sqlite3.Connection) -> None:
            for table in FTS_TABLES:
                conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")

        db.call(fts_ok)


def test_migration_runs_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "library.sqlite3"
    build_library_at(path, 1)
    caplog.set_level("INFO", logger="promptstudio.storage")
    Database(path).close()
    assert "migrated by" in caplog.text
    caplog.clear()
    Database(path).close()
    assert "Migrating" not in caplog.text
