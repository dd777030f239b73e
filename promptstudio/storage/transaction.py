"""Explicit transactions for connections opened with ``isolation_level=None``.

Python 3.11's ``sqlite3`` has no ``autocommit`` attribute, so we issue ``BEGIN IMMEDIATE``
ourselves: it takes the write lock up front, which turns a would-be deadlock between two
writers into a plain wait bounded by ``busy_timeout``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

_SAVEPOINT = "promptstudio_nested"


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in one transaction: commit on success, roll back on any exception.

    Nested use becomes a SAVEPOINT, so write functions compose (installing the samples
    calls ``create_prompt`` and ``save_version`` inside one outer transaction).
    """
    if conn.in_transaction:
        conn.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            yield conn
        except BaseException:
            conn.execute(f"ROLLBACK TO {_SAVEPOINT}")
            conn.execute(f"RELEASE {_SAVEPOINT}")
            raise
        conn.execute(f"RELEASE {_SAVEPOINT}")
        return

    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
