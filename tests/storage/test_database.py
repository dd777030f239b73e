"""The database owner: opening, migrating, refusing bad files, one thread for all access."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from promptstudio.paths import data_dir, database_path
from promptstudio.storage import Database, StorageError, library, transaction
from promptstudio.storage import database as database_module
from promptstudio.storage.schema import APPLICATION_ID, MIGRATIONS, schema_version


def _pragma(conn: sqlite3.Connection, name: str) -> Any:
    return conn.execute(f"PRAGMA {name}").fetchone()[0]


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


@pytest.fixture
def db_path() -> Path:
    return database_path(data_dir())


def test_new_file_is_migrated_to_the_latest_schema(db_path: Path) -> None:
    with Database(db_path) as db:
        assert db.call(_pragma, "user_version") == len(MIGRATIONS) == schema_version()
        assert db.call(_pragma, "application_id") == APPLICATION_ID
        assert {"prompts", "versions", "runs", "responses"} <= db.call(_tables)


def test_an_empty_existing_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()
    with Database(path) as db:
        assert db.call(_pragma, "user_version") == schema_version()


def test_pragmas_are_set(db_path: Path) -> None:
    with Database(db_path) as db:
        assert db.call(_pragma, "journal_mode") == "wal"
        assert db.call(_pragma, "foreign_keys") == 1
        assert db.call(_pragma, "synchronous") == 1  # NORMAL
        assert db.call(_pragma, "busy_timeout") > 0


def test_reopening_keeps_data_and_runs_no_migration(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Database(db_path) as db:
        db.call(library.create_prompt, "Kept")
    caplog.set_level("INFO", logger="promptstudio.storage")
    with Database(db_path) as db:
        assert [p.name for p in db.call(library.list_prompts)] == ["Kept"]
        assert db.call(_pragma, "user_version") == schema_version()
    assert "Migrating" not in caplog.text


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    path.write_bytes(b"These are my notes, not a database.\n" * 200)
    with pytest.raises(StorageError, match="not an SQLite database") as info:
        Database(path, recover=False)
    assert str(path) in str(info.value)
    assert path.read_bytes().startswith(b"These are my notes")  # left untouched


def test_a_file_that_is_not_a_database_is_moved_aside_by_default(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    notes = b"These are my notes, not a database.\n" * 200
    path.write_bytes(notes)
    with Database(path) as db:
        assert db.recovery is not None
        assert db.recovery.moved_to.read_bytes() == notes  # kept, under a telling name
        assert db.call(library.count_prompts) == 0


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    Database(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema_version() + 1}")
    conn.close()
    with pytest.raises(StorageError, match="newer version of PromptStudio"):
        Database(path)


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "places.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE bookmarks (url TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="did not create"):
        Database(path)
    conn = sqlite3.connect(path)
    assert _tables(conn) == {"bookmarks"}
    conn.close()


def test_a_directory_in_the_way_gives_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    path.mkdir()
    with pytest.raises(StorageError, match="Could not open"):
        Database(path)


def test_close_is_idempotent_and_later_calls_fail_cleanly(db_path: Path) -> None:
    db = Database(db_path)
    db.close()
    db.close()
    assert db.closed
    with pytest.raises(StorageError, match="closed"):
        db.call(library.count_prompts)


def test_every_call_runs_on_the_owner_thread(db_path: Path) -> None:
    def thread_name(conn: sqlite3.Connection) -> str:
        return threading.current_thread().name

    with Database(db_path) as db:
        assert db.call(thread_name).startswith("promptstudio-db")


def test_calls_from_many_threads_are_serialized(db_path: Path) -> None:
    active = 0
    overlaps = 0
    guard = threading.Lock()

    def add(conn: sqlite3.Connection, name: str) -> None:
        nonlocal active, overlaps
        with guard:
            active += 1
            overlaps += active > 1
        try:
            library.create_prompt(conn, name)
        finally:
            with guard:
                active -= 1

    errors: list[BaseException] = []
    with Database(db_path) as db:

        def worker(n: int) -> None:
            try:
                for i in range(25):
                    db.call(add, f"t{n}-{i}")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert overlaps == 0
        assert db.call(library.count_prompts) == 100


def test_nested_call_from_the_owner_thread_does_not_deadlock(db_path: Path) -> None:
    with Database(db_path) as db:

        def outer(conn: sqlite3.Connection) -> int:
            return db.call(library.count_prompts) + 1

        assert db.call(outer) == 1


def test_acall_from_asyncio(db_path: Path) -> None:
    async def main(db: Database) -> list[str]:
        await asyncio.gather(*(db.acall(library.create_prompt, f"p{i}") for i in range(5)))
        return [p.name for p in await db.acall(library.list_prompts)]

    with Database(db_path) as db:
        assert asyncio.run(main(db)) == [f"p{i}" for i in range(5)]


def test_errors_propagate_to_the_caller(db_path: Path) -> None:
    def boom(conn: sqlite3.Connection) -> None:
        raise ValueError("boom")

    with Database(db_path) as db, pytest.raises(ValueError, match="boom"):
        db.call(boom)


def test_transaction_rolls_back_on_error_and_nests(db_path: Path) -> None:
    def work(conn: sqlite3.Connection) -> None:
        with transaction(conn):
            library.create_prompt(conn, "kept")
            with pytest.raises(RuntimeError), transaction(conn):
                library.create_prompt(conn, "inner, rolled back")
                raise RuntimeError
        with pytest.raises(RuntimeError), transaction(conn):
            library.create_prompt(conn, "outer, rolled back")
            raise RuntimeError
        assert not conn.in_transaction

    with Database(db_path) as db:
        db.call(work)
        assert [p.name for p in db.call(library.list_prompts)] == ["kept"]


def test_a_second_connection_sees_committed_writes(db_path: Path) -> None:
    with Database(db_path) as first, Database(db_path) as second:
        first.call(library.create_prompt, "shared")
        assert second.call(library.count_prompts) == 1


def _rows_in_main_file(path: Path, scratch: Path) -> int:
    """Prompts found in the database file alone, as if its WAL were lost."""
    shutil.copy(path, scratch)
    conn = sqlite3.connect(scratch)
    try:
        return int(conn.execute("SELECT count(*) FROM prompts").fetchone()[0])
    except sqlite3.DatabaseError:
        return -1  # copied mid-checkpoint: try again
    finally:
        conn.close()
        for leftover in scratch.parent.glob(scratch.name + "*"):
            leftover.unlink()


def test_the_wal_is_checkpointed_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits never pay for a checkpoint; a background connection copies pages back."""
    monkeypatch.setattr(database_module, "CHECKPOINT_INTERVAL_S", 0.02)
    path = tmp_path / "library.sqlite3"
    with Database(path) as db:
        checkpointer = db._checkpointer
        assert db.call(_pragma, "wal_autocheckpoint") == database_module.SAFETY_AUTOCHECKPOINT_PAGES
        db.call(library.create_prompt, "kept in the main file")
        deadline = time.monotonic() + 10
        while _rows_in_main_file(path, tmp_path / "scratch.sqlite3") != 1:
            assert time.monotonic() < deadline, "no checkpoint within 10 s"
            time.sleep(0.02)
    assert not path.with_name(path.name + "-wal").exists()  # a clean close removes it
    assert not checkpointer.is_alive()  # this library's thread (others' may still wind down)
