"""The library schema and its migrations, versioned by ``PRAGMA user_version``.

Step *n* of :data:`MIGRATIONS` turns a schema at version ``n - 1`` into version ``n``.
Steps are append-only: once released, a step never changes; a fix is a new step. Each step
runs in its own transaction together with the ``user_version`` bump, so a crash leaves the
file at a version that exists (the header change is transactional in SQLite).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from promptstudio.storage.errors import StorageError
from promptstudio.storage.transaction import transaction

logger = logging.getLogger(__name__)

# "PSTD": marks the file as ours, so we never add tables to another program's database.
APPLICATION_ID = 0x50535444


def _step_1_initial(conn: sqlite3.Connection) -> None:
    """Prompts, their version history, runs and the responses of each run."""
    statements = [
        f"PRAGMA application_id = {APPLICATION_ID}",
        """
        CREATE TABLE prompts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            folder TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            trashed_at TEXT
        )
        """,
        """
        CREATE TABLE versions (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
            parent_id INTEGER REFERENCES versions(id),
            template TEXT NOT NULL,
            variables TEXT NOT NULL,  -- JSON object
            settings TEXT NOT NULL,  -- JSON object: run columns, params
            message TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,  -- 'save' | 'run' | 'import' | 'sample'
            content_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX versions_by_prompt ON versions(prompt_id, id)",
        "CREATE INDEX versions_by_hash ON versions(prompt_id, content_hash)",
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
            variables TEXT NOT NULL,  -- JSON object
            created_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX runs_by_version ON runs(version_id, id)",
        """
        CREATE TABLE responses (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            base_url TEXT NOT NULL,
            model TEXT NOT NULL,
            params TEXT NOT NULL,  -- JSON object
            messages TEXT NOT NULL,  -- JSON of the exact messages sent
            text TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            finish_reason TEXT,
            ttft_ms REAL,
            total_ms REAL,
            input_tokens INTEGER,
            output_tokens INTEGER,
            usage_estimated INTEGER NOT NULL DEFAULT 0,
            cost REAL,
            created_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX responses_by_run ON responses(run_id, id)",
    ]
    for statement in statements:
        conn.execute(statement)


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _step_1_initial,
]


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
