"""Search-index merges happen in idle time, never in a save, and never hide a saved text."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from promptstudio.storage import Database, library
from promptstudio.storage import database as database_module
from promptstudio.storage.search_upkeep import CRISIS_MERGE, IDLE_MERGED, merge_some


def _config(conn: sqlite3.Connection, table: str) -> dict[str, object]:
    return dict(conn.execute(f"SELECT k, v FROM {table}_config").fetchall())


def _leaves(conn: sqlite3.Connection) -> int:
    """Rows of the indexes' segment data: one or more per unmerged segment."""
    return sum(
        int(conn.execute(f"SELECT count(*) FROM {table}_data").fetchone()[0])
        for table in IDLE_MERGED
    )


def _no_idle_merges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database_module, "CHECKPOINT_INTERVAL_S", 3600.0)
    monkeypatch.setattr(database_module, "MERGE_INTERVAL_S", 3600.0)


def _found(db: Database, word: str) -> list[str]:
    return [hit.prompt_name for hit in db.call(library.search, word)]


def test_commits_leave_merging_to_idle_time(tmp_path: Path) -> None:
    with Database(tmp_path / "library.sqlite3") as db:
        for table in IDLE_MERGED:
            config = db.call(_config, table)
            assert config.get("automerge") == 0, table
            assert config.get("crisismerge") == CRISIS_MERGE[table], table


def test_a_search_right_after_a_save_finds_it_merged_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_idle_merges(monkeypatch)
    with Database(tmp_path / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "Edited often")
        for i in range(40):
            db.call(library.save_version, prompt.id, f"Write about kumquat{i:03d} now.", {}, {})
            assert _found(db, f"kumquat{i:03d}") == ["Edited often"], i
        unmerged = db.call(_leaves)
        while db.call(merge_some, 0.05):
            pass
        assert db.call(_leaves) < unmerged  # the segments were merged ...
        for i in (0, 17, 39):  # ... and every version is still found
            assert _found(db, f"kumquat{i:03d}") == ["Edited often"]
        db.call(
            lambda conn: [
                conn.execute(f"INSERT INTO {t}({t}) VALUES ('integrity-check')")
                for t in IDLE_MERGED
            ]
        )


def test_the_background_connection_merges_what_saves_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "library.sqlite3"
    _no_idle_merges(monkeypatch)
    with Database(path) as db:
        prompt = db.call(library.create_prompt, "Edited often")
        for i in range(30):
            db.call(library.save_version, prompt.id, f"Version {i} of the text.", {}, {})
        saved = db.call(_leaves)
    monkeypatch.setattr(database_module, "MERGE_INTERVAL_S", 0.02)
    with Database(path) as db:  # the segments left unmerged by the last session
        deadline = time.monotonic() + 10
        while db.call(_leaves) >= saved:
            assert time.monotonic() < deadline, "no merge within 10 s"
            time.sleep(0.02)
        assert _found(db, "Version 29") == ["Edited often"]


def test_merges_wait_while_answers_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Merge rounds competed with streaming for the CPU (the run board's stall): while
    answers are written (``hold_merges``, renewed at each partial answer) none runs; once
    the hold runs out, the segments left meanwhile are merged."""
    monkeypatch.setattr(database_module, "MERGE_INTERVAL_S", 0.02)
    with Database(tmp_path / "library.sqlite3") as db:
        db.hold_merges(1.5)
        assert db.merges_held
        prompt = db.call(library.create_prompt, "Streamed into")
        for i in range(30):
            db.call(library.save_version, prompt.id, f"Answer part {i} so far.", {}, {})
        left = db.call(_leaves)
        held_until = time.monotonic() + 1.0  # well inside the hold, with the saves' time
        while time.monotonic() < held_until and db.merges_held:
            assert db.call(_leaves) == left, "merged while held"
            time.sleep(0.05)
        deadline = time.monotonic() + 10
        while db.call(_leaves) >= left:
            assert time.monotonic() < deadline, "no merge within 10 s after the hold"
            time.sleep(0.02)
        assert not db.merges_held
        assert _found(db, "part 29") == ["Streamed into"]
