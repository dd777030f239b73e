"""Rotating, verified backups in <data dir>/backups."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from promptstudio.storage import Database, StorageError, library
from promptstudio.storage.backup import backup_name
from tests.storage.test_recovery import corrupt_pages, needs_dbstat


def _fill(db: Database, count: int = 30) -> None:
    prompt = db.call(library.create_prompt, "backed up")
    for i in range(count):
        db.call(library.save_version, prompt.id, f"template {i} " + "words " * 200, {}, {})


def _fake_old_backups(db: Database, ages_in_days: list[int]) -> list[Path]:
    """Real backup files carrying older names, as earlier days would have left them."""
    made = db.backup_now()
    paths = []
    for age in ages_in_days:
        path = made.with_name(backup_name(datetime.now() - timedelta(days=age)))
        shutil.copy(made, path)
        paths.append(path)
    made.unlink()
    return paths


def test_a_backup_is_a_checked_single_file_with_the_data(tmp_path: Path) -> None:
    with Database(tmp_path / "library.sqlite3") as db:
        _fill(db)
        made = db.backup_if_due()
        assert made is not None
        assert made.parent == tmp_path / "backups"
        assert made.name.startswith("library-") and made.suffix == ".sqlite3"
        assert db.list_backups() == [made]
    assert [p.name for p in made.parent.iterdir()] == [made.name]  # no -wal, no .partial
    conn = sqlite3.connect(made)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT count(*) FROM versions").fetchone()[0] == 30
    conn.close()
    with Database(made) as restored:  # a backup opens as a library
        assert [p.name for p in restored.call(library.list_prompts)] == ["backed up"]
        assert restored.call(library.search, "template 29")


def test_at_most_one_backup_a_day(tmp_path: Path) -> None:
    with Database(tmp_path / "library.sqlite3") as db:
        _fill(db, 2)
        db.backup_now()
        assert db.backup_if_due() is None
        assert len(db.list_backups()) == 1
    with Database(tmp_path / "library.sqlite3") as db:
        old = _fake_old_backups(db, [2])
        for path in db.list_backups():
            if path not in old:
                path.unlink()
        assert db.backup_if_due() is not None  # the newest is two days old
        assert len(db.list_backups()) == 2


def test_rotation_keeps_the_newest(tmp_path: Path) -> None:
    with Database(tmp_path / "library.sqlite3") as db:
        _fill(db, 2)
        old = _fake_old_backups(db, [9, 8, 7, 6, 5, 4, 3, 2])
        newest = db.backup_if_due(keep=3)
        assert newest is not None
        assert db.list_backups() == [old[-2], old[-1], newest]
        assert not old[0].exists()


def test_backup_from_asyncio(tmp_path: Path) -> None:
    async def main(db: Database) -> Path | None:
        return await db.abackup_if_due()

    with Database(tmp_path / "library.sqlite3") as db:
        _fill(db, 2)
        made = asyncio.run(main(db))
        assert made is not None and made.exists()


@needs_dbstat
def test_a_damaged_library_never_replaces_a_good_backup(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    with Database(path) as db:
        _fill(db, 60)
        good = _fake_old_backups(db, [3])
    corrupt_pages(path, "versions", skip=5)
    with Database(path, check="light") as db:  # opened without noticing
        with pytest.raises(StorageError, match="damaged"):
            db.backup_if_due(keep=1)
        assert db.list_backups() == good  # kept, not rotated out
        assert db.damage is not None
        assert db.needs_check_marker.exists()
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [good[0].name]
    with Database(path) as db:
        assert db.recovery is not None
        assert db.recovery.latest_backup == good[0]
