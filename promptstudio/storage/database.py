"""The one owner of the library's SQLite connection.

An ``sqlite3.Connection`` may only be used on the thread that created it, and SQLite
serializes writers anyway, so every access goes through a single worker thread (as Anki
does with its collection). Callers hand it a function: ``db.call(library.save_version,
...)`` from worker code, ``await db.acall(...)`` from the event loop.

Opening also guards the data: the file is checked (fully when it is small, after an
unclean shutdown, or when damage was seen before; see :data:`FULL_CHECK_MAX_BYTES`), a
damaged file is salvaged into a fresh one (:attr:`Database.recovery` says what happened),
and :meth:`Database.backup_if_due` keeps rotating daily backups.

Two helpers use connections of their own, never touching data through them: a
background thread that checkpoints the WAL and merges the search indexes' segments (so no
commit pays for either; see ``storage.search_upkeep``) and the backup, which copies a WAL
snapshot while the owner keeps working.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Concatenate, Literal, ParamSpec, TypeVar

from promptstudio.storage import backup, runs, schema, search_upkeep
from promptstudio.storage.errors import LibraryWriteError, StorageError
from promptstudio.storage.recovery import RecoveryReport, recover_library
from promptstudio.storage.transaction import transaction

__all__ = ["CheckMode", "Database", "RecoveryReport", "transaction"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
# SQLite result codes that mean "this file is not (or no longer) a database we can read".
_DAMAGED = {
    "SQLITE_NOTADB",
    "SQLITE_CORRUPT",
    "SQLITE_CORRUPT_VTAB",  # a damaged search index (FTS5)
    "SQLITE_CORRUPT_INDEX",
    "SQLITE_CORRUPT_SEQUENCE",
}
# How sqlite3 says a stored text is not UTF-8 (a damaged byte inside a row).
_NOT_UTF8 = "Could not decode to UTF-8"
# Result codes (and their extended forms) that mean "this could not be written", and why.
_WRITE_FAILURES = {
    "SQLITE_FULL": ("full", "the disk is full (or the library reached its size limit)"),
    "SQLITE_READONLY": ("read-only", "the library is read-only: check the permissions of the "
                        "file and its folder, or whether the disk is mounted read-only"),
    "SQLITE_PERM": ("read-only", "the operating system refused to let it be written"),
    "SQLITE_CANTOPEN": ("read-only", "SQLite could not open a file it needs beside the library"),
    "SQLITE_BUSY": ("locked", "another program kept the library locked"),
    "SQLITE_LOCKED": ("locked", "another program kept the library locked"),
    "SQLITE_IOERR": ("io", "the disk reported an input/output error"),
}  # fmt: skip
# What a write function stores, for "Could not store the answer ..." (else "the change").
_STORED = {
    "save_version": "the version",
    "restore_version": "the restored version",
    "record_run": "the run",
    "add_response": "the answer",
    "checkpoint_response": "the answer streamed so far",
    "finish_response": "the answer",
    "save_draft": "the unsaved changes (draft)",
    "save_eval_run": "the evaluation",
    "save_run": "the evaluation",
    "save_cases": "the test cases",
    "replace_cases": "the test cases",
    "import_documents": "the import",
    "cache_put": "a cached answer",
}

CheckMode = Literal["auto", "full", "light"]
# Up to this size "auto" runs the full PRAGMA quick_check at every open (about 1 ms per
# MB here, see docs/PERFORMANCE.md); a bigger library is checked fully only after an
# unclean shutdown or a sign of damage, and every day through its verified backup.
FULL_CHECK_MAX_BYTES = 16 * 1024 * 1024
# Written beside the library when damage is seen while running: the next open checks.
NEEDS_CHECK_SUFFIX = ".needs-check"
# The check of the small tables read first at start-up, whatever the mode.
_LIGHT_CHECK_TABLES = ("prompts", "folders", "prompt_tags", "labels", "drafts")


# WAL checkpoints (copying committed pages back into the file, with an fsync) run on a
# background connection every few seconds instead of inside whichever commit crossed
# SQLite's 1,000-page mark: there they cost that call up to 0.8 s here.
CHECKPOINT_INTERVAL_S = 2.0
# If the background checkpoints cannot keep up, the owner still checkpoints past this.
SAFETY_AUTOCHECKPOINT_PAGES = 8000
# Search indexes are merged soon after commits (a tenth of a second), a little each round
# (the rest next round), so that even a burst of saves leaves few segments to a commit.
MERGE_INTERVAL_S = 0.1
MERGE_BUDGET_S = 0.01
# While answers stream, merging waits until this long after the last partial answer was
# written: merge rounds competed with the streams for the CPU and raised the run board's
# stall p99 (docs/PERFORMANCE.md, "Run board"); segments left meanwhile merge afterwards.
MERGE_HOLD_S = 3.0


class _Checkpointer(threading.Thread):
    """Merges search-index segments and checkpoints the WAL in the background, on a
    connection that reads no data."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="promptstudio-db-checkpoint", daemon=True)
        self.path = path
        self._stopping = threading.Event()
        self.held_until = 0.0  # time.monotonic() before which no merge round runs

    def run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 200")
        except sqlite3.Error as exc:
            logger.warning("No background checkpoints for %s: %s", self.path, exc)
            return
        seen = None
        merging = True  # unmerged segments may be left from the last session
        dirty = True  # the WAL may hold frames to copy back
        next_checkpoint = time.monotonic() + CHECKPOINT_INTERVAL_S
        try:
            while not self._stopping.wait(min(MERGE_INTERVAL_S, CHECKPOINT_INTERVAL_S)):
                try:
                    # Changes when another connection committed: skip idle rounds.
                    (version,) = conn.execute("PRAGMA data_version").fetchone()
                    if version != seen:
                        seen = version
                        merging = dirty = True
                    if merging and time.monotonic() >= self.held_until:
                        merging = self._merge(conn)
                    if not dirty or time.monotonic() < next_checkpoint:
                        continue
                    next_checkpoint = time.monotonic() + CHECKPOINT_INTERVAL_S
                    busy, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    dirty = bool(busy) or frames != done
                except sqlite3.Error as exc:
                    logger.debug("Background checkpoint of %s failed: %s", self.path, exc)
        finally:
            conn.close()

    def _merge(self, conn: sqlite3.Connection) -> bool:
        """One round of search-index merging; True when work is left."""
        try:
            return search_upkeep.merge_some(conn, MERGE_BUDGET_S)
        except sqlite3.Error as exc:  # locked, read-only: commits merge when in crisis
            logger.debug("Search-index merge in %s failed: %s", self.path, exc)
            return False

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join()


class _Damaged(Exception):
    """The file failed a check or SQLite called it corrupt / not a database."""


class Database:
    """The library file, opened, checked, configured and migrated on a dedicated thread.

    ``check`` chooses how much of the file is verified at open ("auto": see
    :data:`FULL_CHECK_MAX_BYTES`). With ``recover`` (the default) a damaged file is moved
    aside and salvaged instead of refusing to open; :attr:`recovery` then holds the
    report to show the user. Opening the recovered file later is clean.
    """

    def __init__(self, path: Path, *, check: CheckMode = "auto", recover: bool = True) -> None:
        self.path = Path(path)
        self.recovery: RecoveryReport | None = None
        """Set when this open found the file damaged and salvaged it."""
        self.fully_checked = False
        """Whether this open ran the full ``PRAGMA quick_check``."""
        self.damage: str | None = None
        """Set when damage is noticed while running; the next open checks and repairs."""
        self.interrupted = 0
        """Answers this open found cut off mid-stream by a process that died (now marked)."""
        self._check = check
        self._recover = recover
        self._conn: sqlite3.Connection | None = None
        self._owner: threading.Thread | None = None
        self._lock = threading.Lock()
        self._backup_lock = threading.Lock()
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="promptstudio-db")
        try:
            self._executor.submit(self._open).result()
        except BaseException:
            self._executor.shutdown(wait=True)
            self._closed = True
            raise
        self._checkpointer = _Checkpointer(self.path)
        self._checkpointer.start()

    # -- owner thread -------------------------------------------------------------------

    @property
    def needs_check_marker(self) -> Path:
        return self.path.with_name(self.path.name + NEEDS_CHECK_SUFFIX)

    @property
    def backups_dir(self) -> Path:
        return backup.backups_dir(self.path)

    def _wants_full_check(self) -> bool:
        if self._check != "auto":
            return self._check == "full"
        try:
            size = self.path.stat().st_size
        except OSError:
            return False  # a new library
        wal = self.path.with_name(self.path.name + "-wal")
        unclean = wal.exists() and wal.stat().st_size > 0  # or another process has it open
        return size <= FULL_CHECK_MAX_BYTES or unclean or self.needs_check_marker.exists()

    def _open(self) -> None:
        self._owner = threading.current_thread()
        try:
            self._conn = self._connect(full_check=self._wants_full_check())
        except _Damaged as damage:
            if not self._recover:
                raise StorageError(
                    f"The library file {self.path} is not an SQLite database or is damaged "
                    f"({damage}). Move it aside to start a new library."
                ) from damage
            self.recovery = recover_library(self.path, reason=str(damage), backups=self.backups_dir)
            self._conn = self._connect(full_check=False)  # passed integrity_check when built
        with contextlib.suppress(FileNotFoundError):
            self.needs_check_marker.unlink()
        try:
            self.interrupted = runs.mark_interrupted(self._conn)
        except sqlite3.Error as exc:  # e.g. a read-only library: they stay 'streaming'
            logger.warning("Could not mark interrupted answers in %s: %s", self.path, exc)
        if self.interrupted:
            logger.info("%d answer(s) had been cut off mid-stream", self.interrupted)

    def _connect(self, *, full_check: bool) -> sqlite3.Connection:
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
            conn.execute(f"PRAGMA wal_autocheckpoint = {SAFETY_AUTOCHECKPOINT_PAGES}")
            problems = _integrity(conn, full=full_check)
            if not problems and self.needs_check_marker.exists():
                problems = _search_index_problems(conn)  # damage seen may be in one
            if problems:
                raise _Damaged(problems[0].splitlines()[-1][:200])
            self.fully_checked = full_check
            applied = schema.migrate(conn)
            lacking = schema.missing_parts(conn)
            if lacking:
                raise _Damaged(lacking[0][:200])
            try:
                search_upkeep.defer_merges(conn)
            except sqlite3.OperationalError as exc:  # read-only: commits merge as before
                logger.warning("Search-index merges stay in commits for %s: %s", self.path, exc)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, UnicodeDecodeError):
                # SQLite's message quotes the damaged schema text, which is not UTF-8.
                raise _Damaged("the schema is damaged (its text is not UTF-8)") from exc
            if isinstance(exc, sqlite3.Error):
                if getattr(exc, "sqlite_errorname", "") in _DAMAGED:
                    raise _Damaged(str(exc)) from exc
                raise StorageError(f"Could not open the library file {self.path}: {exc}") from exc
            raise
        if applied:
            logger.info("Library %s migrated by %d step(s)", self.path, applied)
        return conn

    def _mark_damaged(self, reason: str) -> None:
        """Remember damage seen while running, so the next open checks and repairs."""
        logger.error("The library %s looks damaged: %s", self.path, reason)
        self.damage = reason
        try:
            self.needs_check_marker.write_text(reason + "\n", encoding="utf-8")
        except OSError as exc:
            logger.warning("Could not write %s: %s", self.needs_check_marker, exc)

    def _run(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        if self._conn is None:
            raise StorageError("The library is closed.")
        try:
            try:
                return fn(self._conn, *args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not str(exc).startswith(_NOT_UTF8):
                    raise
                # A damaged byte inside stored text (the page itself is sound, so no check
                # finds it): read it again with U+FFFD in its place rather than fail forever.
                logger.warning("Text in the library %s is not UTF-8: %s", self.path, exc)
                return self._with_replaced_text(fn, *args, **kwargs)
        except UnicodeEncodeError as exc:
            # A lone surrogate (a "\ud800" escape in an imported JSON or YAML file) is not
            # Unicode: SQLite cannot store it, and nothing of the call was.
            bad = ascii(exc.object[exc.start : exc.end]) if isinstance(exc.object, str) else ""
            raise StorageError(
                f"The text cannot be stored: it holds {bad or 'a character'}, an unpaired "
                "surrogate, which is not valid Unicode."
            ) from exc
        except sqlite3.DatabaseError as exc:
            failure = write_failure(exc)
            if failure is not None:
                reason, why = failure
                what = _STORED.get(getattr(fn, "__name__", ""), "the change")
                raise LibraryWriteError(
                    f"Could not store {what} in the library {self.path}: {why}. "
                    "Nothing else was changed.",
                    reason,
                ) from exc
            if getattr(exc, "sqlite_errorname", "") not in _DAMAGED:
                raise
            self._mark_damaged(str(exc))
            raise StorageError(
                f"The library file {self.path} is damaged ({exc}). Restart PromptStudio: "
                "it will check the file and recover what can be read."
            ) from exc

    def _with_replaced_text(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        assert self._conn is not None
        self._conn.text_factory = _replacing_decode
        try:
            return fn(self._conn, *args, **kwargs)
        finally:
            self._conn.text_factory = str

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

    def submit(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Future[T]:
        """Queue ``fn(conn, ...)`` on the owner thread without waiting for it (jobs run in
        the order they were queued); the future holds its result or its typed error."""
        return self._submit(fn, *args, **kwargs)

    def hold_merges(self, seconds: float = MERGE_HOLD_S) -> None:
        """Answers are streaming into the library: no search-index merge for ``seconds``
        (each call extends the hold; merging picks up by itself once they stop)."""
        self._checkpointer.held_until = time.monotonic() + seconds

    @property
    def merges_held(self) -> bool:
        return time.monotonic() < self._checkpointer.held_until

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

    # -- backups ------------------------------------------------------------------------

    def list_backups(self) -> list[Path]:
        """Finished backups, oldest first."""
        return backup.list_backups(self.backups_dir)

    def backup_if_due(self, max_age: timedelta = timedelta(days=1), keep: int = 7) -> Path | None:
        """Back up unless the newest backup is younger than ``max_age``; keep ``keep``.

        Call it from a worker (or :meth:`abackup_if_due`): it waits for the copy.
        """
        newest = self.list_backups()
        when = backup.backup_time(newest[-1]) if newest else None
        if when is not None and datetime.now() - when < max_age:
            return None
        return self.backup_now(keep=keep)

    async def abackup_if_due(
        self, max_age: timedelta = timedelta(days=1), keep: int = 7
    ) -> Path | None:
        return await asyncio.to_thread(self.backup_if_due, max_age, keep)

    def backup_now(self, keep: int = 7) -> Path:
        """Copy the library into the backups folder, verify the copy, drop the oldest.

        Runs on the calling thread, with read-only connections of its own: copying and
        checking a big library takes seconds, and the owner thread stays free for the
        app meanwhile (a WAL snapshot is read; writes go on). A copy that fails the
        check means the library itself is damaged: it is deleted, :attr:`damage` is set
        and the next open repairs the library.
        """
        with self._backup_lock:
            folder = self.backups_dir
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / backup.backup_name(datetime.now())
            if final.exists():
                return final
            partial = final.with_name(final.name + ".partial")
            if self._closed:
                raise StorageError("The library is closed.")
            try:
                backup.copy_library(self.path, partial)
                problems = backup.verify(partial)
                if problems:
                    self._mark_damaged(f"the backup copy failed its check: {problems[0]}")
                    raise StorageError(
                        f"The library file {self.path} is damaged ({problems[0]}); no backup "
                        "was made. Restart PromptStudio to recover what can be read."
                    )
                os.replace(partial, final)
            except (OSError, sqlite3.Error) as exc:
                raise StorageError(f"Could not back up the library to {final}: {exc}") from exc
            finally:
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()
            for old in backup.prune(folder, keep):
                logger.info("Deleted the old backup %s", old)
            logger.info("Backed up the library to %s", final)
            return final

    def close(self) -> None:
        """Finish queued work, close the connection and stop the thread. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        # First, so the owner's connection is the last one and removes the WAL on close.
        self._checkpointer.stop()
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
            # Bounded: ANALYZE samples at most this many rows per index on a big library.
            conn.execute("PRAGMA analysis_limit = 400")
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


def write_failure(exc: sqlite3.Error) -> tuple[str, str] | None:
    """(reason, explanation) when ``exc`` says a write could not be done, else None."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    for code, failure in _WRITE_FAILURES.items():
        if name == code or name.startswith(code + "_"):
            return failure
    return None


def _replacing_decode(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _integrity(conn: sqlite3.Connection, *, full: bool) -> list[str]:
    """Problems found by ``PRAGMA quick_check``: the whole file, or the small tables."""
    if full:
        return _problems(conn, "PRAGMA quick_check")
    tables = {
        name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    problems: list[str] = []
    for table in _LIGHT_CHECK_TABLES:
        if table in tables:
            problems += _problems(conn, f"PRAGMA quick_check({table})")
    return problems


def _search_index_problems(conn: sqlite3.Connection) -> list[str]:
    """FTS5's own check of each search index (``quick_check`` cannot see inside one)."""
    problems = []
    for table in schema.FTS_TABLES:
        try:
            conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):  # an older schema, migrated later
                problems.append(f"the search index {table} is damaged ({exc})")
        except sqlite3.DatabaseError as exc:
            problems.append(f"the search index {table} is damaged ({exc})")
    return problems


def _problems(conn: sqlite3.Connection, pragma: str) -> list[str]:
    found = [str(row[0]) for row in conn.execute(pragma)]
    return [] if found == ["ok"] else found
