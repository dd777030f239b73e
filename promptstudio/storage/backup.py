"""Rotating backups of the library in ``<data dir>/backups/library-YYYYMMDD-HHMMSS.sqlite3``.

A backup is a page-by-page copy made with SQLite's online backup API from a read-only
connection of its own (one consistent snapshot, without holding up the app's writes),
switched to a plain rollback journal so it is one self-contained
file, and checked with ``PRAGMA integrity_check`` before it gets its final name. Because
the copy is exact, a failed check means the library itself is damaged: the bad copy is
deleted so it never pushes a good backup out of the rotation.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
from datetime import datetime
from pathlib import Path

logger = logging.getLogger(__name__)

BACKUP_DIR = "backups"
_NAME = re.compile(r"library-(\d{8}-\d{6})\.sqlite3")
_STAMP = "%Y%m%d-%H%M%S"


def backups_dir(library: Path) -> Path:
    return library.parent / BACKUP_DIR


def backup_name(when: datetime) -> str:
    return f"library-{when.strftime(_STAMP)}.sqlite3"


def list_backups(folder: Path) -> list[Path]:
    """Finished backups, oldest first (the names sort by time)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _NAME.fullmatch(p.name) and p.is_file())


def backup_time(path: Path) -> datetime | None:
    match = _NAME.fullmatch(path.name)
    return None if match is None else datetime.strptime(match.group(1), _STAMP)


def copy_library(library: Path, destination: Path) -> None:
    """Copy ``library`` into ``destination`` through a read-only connection of its own.

    The copy is one backup step, so it reads one consistent snapshot; in WAL mode that
    read does not block the app's writes, which is why this does not use the owner's
    connection (copying 650 MB takes about 3 s; see docs/PERFORMANCE.md).
    """
    with contextlib.suppress(FileNotFoundError):
        destination.unlink()
    source = sqlite3.connect(f"{library.resolve().as_uri()}?mode=ro", uri=True)
    try:
        source.execute("PRAGMA busy_timeout = 5000")
        target = sqlite3.connect(destination)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
        finally:
            target.close()
    finally:
        source.close()


def verify(path: Path) -> list[str]:
    """``PRAGMA integrity_check`` of a backup file: ``[]`` when it is sound."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        found = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        found = [str(exc)]
    finally:
        conn.close()
    return [] if found == ["ok"] else found


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups; return what was deleted."""
    removed = list_backups(folder)[: -max(1, keep)]
    for path in removed:
        try:
            path.unlink()
        except OSError as exc:
            logger.warning("Could not delete the old backup %s: %s", path, exc)
    return removed
