"""A full disk or a read-only library: a typed error saying what was not stored, and why.

Tests run as root, where chmod does not stop writes, so SQLite is told directly:
``PRAGMA query_only`` refuses writes as a read-only file does (SQLITE_READONLY) and
``PRAGMA max_page_count`` makes the file full (SQLITE_FULL), exactly as a full disk would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promptstudio.storage import Database, LibraryWriteError, library
from tests.storage.helpers import answer


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def test_a_read_only_library_is_a_typed_error_naming_what_was_not_stored(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    db.call(library.save_version, prompt.id, "kept", {}, {})
    db.call(lambda conn: conn.execute("PRAGMA query_only = 1"))
    with pytest.raises(LibraryWriteError) as raised:
        db.call(library.save_version, prompt.id, "new text", {}, {})
    assert raised.value.reason == "read-only"
    assert raised.value.message.startswith("Could not store the version in the library ")
    assert "read-only" in raised.value.message
    db.call(lambda conn: conn.execute("PRAGMA query_only = 0"))
    assert [v.template for v in db.call(library.list_versions, prompt.id)] == ["kept"]
    db.call(library.save_version, prompt.id, "new text", {}, {})  # works again


def test_a_full_disk_is_a_typed_error_and_damages_nothing(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    version = db.call(library.save_version, prompt.id, "t", {}, {})
    run = db.call(library.record_run, version.id, {})
    db.call(library.add_response, run.id, **answer("first answer"))
    db.call(lambda conn: conn.execute("PRAGMA max_page_count = 1"))  # = its size now
    with pytest.raises(LibraryWriteError) as raised:
        db.call(library.add_response, run.id, **answer("x" * 50_000))
    assert raised.value.reason == "full"
    assert "Could not store the answer" in raised.value.message
    assert "disk is full" in raised.value.message
    assert [r.text for r in db.call(library.list_responses, run.id)] == ["first answer"]
    problems = db.call(lambda conn: conn.execute("PRAGMA integrity_check").fetchall())
    assert problems == [("ok",)]
