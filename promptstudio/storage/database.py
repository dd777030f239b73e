"""The one owner of the library's SQLite connection.

An ``sqlite3.Connection`` may only be used on the thread that created it, and SQLite
serializes writers anyway, so every access goes through a single worker thread (as Anki
does with its collection). Callers hand it a function: ``db.call(library.save_version,
...)`` from worker code, ``await db.acall(...)`` from the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Concatenate, ParamSpec, TypeVar

from promptstudio.storage import schema
from promptstudio.storage.errors import StorageError
from promptstudio.storage.transaction import transaction

__all__ = ["Database", "transaction"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
# SQLite result codes that mean "this file is not (or no longer) a database we can read".
_DAMAGED = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}


class Database:
    """The library file, opened, configured and migrated on a dedicated thread."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._owner: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="promptstudio-db")
        try:
            self._executor.submit(self._open).result()
        except BaseException:
            self._executor.shutdown(wait=True)
            self._closed = True
            raise

    # -- owner thread -------------------------------------------------------------------

    def _open(self) -> None:
        self._owner = threading.current_thread()
        where = f"The library file {self.path}"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"Could not open the library file {self.path}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # The first read of the header: fails here if the file is not a database.
            schema.check_compatible(conn, where=where)
            (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if str(mode).lower() != "wal":
                logger.warning("WAL is not available for %s; journal mode is %s", self.path, mode)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            applied = schema.migrate(conn)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise self._open_error(exc) from exc
            raise
        if applied:
            logger.info("Library %s migrated by %d step(s)", self.path, applied)
        self._conn = conn

    def _open_error(self, exc: sqlite3.Error) -> StorageError:
        if getattr(exc, "sqlite_errorname", "") in _DAMAGED:
            return StorageError(
                f"The library file {self.path} is not an SQLite database or is damaged "
                f"({exc}). Move it aside to start a new library."
            )
        return StorageError(f"Could not open the library file {self.path}: {exc}")

    def _run(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        if self._conn is None:
            raise StorageError("The library is closed.")
        return fn(self._conn, *args, **kwargs)

    def _on_owner(self) -> bool:
        return threading.current_thread() is self._owner

    # -- any thread ---------------------------------------------------------------------

    def _submit(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Future[T]:
        def job() -> T:
            return self._run(fn, *args, **kwargs)

        with self._lock:
            if self._closed:
                raise StorageError("The library is closed.")
            return self._executor.submit(job)

    def call(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``fn(conn, *args, **kwargs)`` on the owner thread and wait for its result."""
        if self._on_owner():
            # Called from inside another call: queueing would wait on ourselves forever.
            return self._run(fn, *args, **kwargs)
        return self._submit(fn, *args, **kwargs).result()

    async def acall(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Like :meth:`call`, but awaitable, so the event loop stays responsive."""
        return await asyncio.wrap_future(self._submit(fn, *args, **kwargs))

    def close(self) -> None:
        """Finish queued work, close the connection and stop the thread. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._on_owner():
            self._close_connection()
            self._executor.shutdown(wait=False)
            return
        self._executor.submit(self._close_connection).result()
        self._executor.shutdown(wait=True)

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute("PRAGMA optimize")
        except sqlite3.Error as exc:
            logger.debug("PRAGMA optimize failed on close: %s", exc)
        conn.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"Database({str(self.path)!r}, {state})"
