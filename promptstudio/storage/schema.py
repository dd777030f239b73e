"""The library schema and its migrations, versioned by ``PRAGMA user_version``.

Step *n* of :data:`MIGRATIONS` (the steps are in :mod:`promptstudio.storage.migrations`)
turns a schema at version ``n - 1`` into version ``n``. Steps are append-only: once
released, a step never changes; a fix is a new step. Each step runs in its own transaction
together with the ``user_version`` bump, so a crash leaves the file at a version that exists
(the header change is transactional in SQLite).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3

from promptstudio.storage.errors import StorageError
from promptstudio.storage.migrations import (
    APPLICATION_ID,
    FTS_TABLES,
    MIGRATIONS,
    rebuild_search_index,
)
from promptstudio.storage.transaction import transaction

__all__ = [
    "APPLICATION_ID",
    "FTS_TABLES",
    "MIGRATIONS",
    "check_compatible",
    "migrate",
    "missing_parts",
    "rebuild_search_index",
    "schema_version",
    "user_version",
]

logger = logging.getLogger(__name__)


def schema_version() -> int:
    """The newest schema this build knows."""
    return len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_compatible(conn: sqlite3.Connection, *, where: str = "The library") -> None:
    """Refuse a file written by a newer PromptStudio or by another program.

    Opening a newer schema could silently lose data the newer version relies on, and
    migrating a stranger's database would add our tables to it.
    """
    version = user_version(conn)
    if version > schema_version():
        raise StorageError(
            f"{where} was written by a newer version of PromptStudio (schema {version}; "
            f"this version knows up to {schema_version()}). Update PromptStudio to open it."
        )
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app_id not in (0, APPLICATION_ID):
        raise StorageError(f"{where} is an SQLite database of another application.")
    if version == 0:
        (objects,) = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchone()
        if objects:
            raise StorageError(f"{where} is an SQLite database that PromptStudio did not create.")


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to :func:`schema_version`; return how many steps ran."""
    check_compatible(conn)
    applied = 0
    for number, step in enumerate(MIGRATIONS, start=1):
        if user_version(conn) >= number:
            continue
        with transaction(conn):
            # Read again under the write lock: another process may have migrated meanwhile.
            if user_version(conn) >= number:
                continue
            logger.info("Migrating the library schema to version %d", number)
            step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
        applied += 1
    return applied


def missing_parts(conn: sqlite3.Connection) -> list[str]:
    """Tables, views, columns, indexes and triggers of the current schema the file lacks.

    The schema is text inside the file (``sqlite_master``): a damaged byte there can
    rename a column or a table while every page still passes ``PRAGMA quick_check``, and
    reads then fail with "no such column". Compared by name with a fresh library's.
    """
    found = _shape(conn)
    problems = []
    for name, columns in _expected_shape().items():
        if name not in found:
            problems.append(f"the schema lacks the {name}")
        elif lost := sorted(columns - found[name]):
            problems.append(f"the schema's {name} lacks the column(s) {', '.join(lost)}")
    return problems


@functools.cache
def _expected_shape() -> dict[str, frozenset[str]]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(conn)
        return _shape(conn)
    finally:
        conn.close()


def _shape(conn: sqlite3.Connection) -> dict[str, frozenset[str]]:
    """``"table NAME"`` (``"view NAME"``...) -> its column names (none for indexes, triggers)."""
    shape: dict[str, frozenset[str]] = {}
    for kind, name in conn.execute("SELECT type, name FROM sqlite_master").fetchall():
        columns: frozenset[str] = frozenset()
        if kind in ("table", "view"):
            # A definition that cannot be read leaves every expected column missing.
            with contextlib.suppress(sqlite3.DatabaseError):
                columns = frozenset(row[1] for row in conn.execute(f'PRAGMA table_info("{name}")'))
        shape[f"{kind} {name}"] = columns
    return shape
