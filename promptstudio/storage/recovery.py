"""Salvage a damaged library into a fresh file, so a bad disk block never loses everything.

The damaged file is kept (renamed ``library.sqlite3.corrupt-YYYYMMDD-HHMMSS``), never
deleted. Rows are read table by table with scans that stop at the first unreadable page;
the unread gap between a forward and a backward scan is bisected, and small gaps are read
row by row, so one bad page costs the rows on it and no more. Rows that come back
garbled (a timestamp that is not one, a missing required value) are dropped; rows whose
parent was lost are re-attached to placeholders ("Recovered prompt 12") instead of
being thrown away. The search index is rebuilt from the recovered rows.

The fresh file is built beside the library and swapped in with one atomic rename, after
it passed ``PRAGMA integrity_check``: a crash mid-recovery leaves the damaged file in
place, to be recovered again at the next start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from promptstudio.storage import schema
from promptstudio.storage.errors import StorageError
from promptstudio.storage.sql import utc_now

logger = logging.getLogger(__name__)

# Parents before children, so the report reads naturally; fix-ups run after all tables.
TABLES = (
    "prompts",
    "folders",
    "prompt_tags",
    "versions",
    "labels",
    "drafts",
    "test_cases",
    "runs",
    "responses",
    "eval_settings",
    "eval_runs",
    "eval_results",
    "response_cache",
    "pinned_answers",
    "response_steps",
    "eval_batches",
    "eval_batch_items",
)
_JSON_COLUMNS = {
    ("versions", "variables"): "{}",
    ("versions", "settings"): "{}",
    ("drafts", "variables"): "{}",
    ("drafts", "settings"): "{}",
    ("runs", "variables"): "{}",
    ("responses", "params"): "{}",
    ("responses", "messages"): "[]",
    ("response_steps", "turns"): "[]",
    ("test_cases", "vars"): "{}",
    ("test_cases", "asserts"): "[]",
    ("eval_runs", "columns"): "[]",
    ("eval_runs", "cases"): "[]",
    ("eval_runs", "settings"): "{}",
    ("eval_results", "grades"): "[]",
    ("eval_settings", "asserts"): "[]",
}
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
_MAX_ROWID = (1 << 63) - 1
_POINT_READ_WIDTH = 64  # gaps this narrow are read one rowid at a time
_BUDGET = 20_000  # scans + point reads per table; bounds the time spent on a wrecked table
RECOVERED_FOLDER = "Recovered"
# What reading a damaged file raises: SQLite's errors, or UnicodeDecodeError when the
# message of one quotes damaged text (sqlite3 cannot decode it to build the exception).
_READ_ERRORS = (sqlite3.DatabaseError, UnicodeDecodeError)


@dataclass(frozen=True, slots=True)
class TableRecovery:
    table: str
    recovered: int
    """Rows copied into the new library (including repaired ones)."""
    dropped: int
    """Rows that were read but unusable: garbled, or their parent was lost for good."""
    unreadable: tuple[tuple[int, int], ...]
    """Inclusive rowid ranges where reading failed; rows there (if any) are lost."""
    lost: int | None = None
    """Rows known to be lost, or None when that cannot be known.

    Known for versions only: they are numbered 1, 2, 3 ... per prompt and never deleted
    one by one, so a missing number is a lost version (a lost newest version leaves no
    gap and is not counted). A damaged page can also drop rows without any read error,
    so for other tables no count is claimed.
    """


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """What happened to a damaged library: tell the user, point them to the kept file."""

    original: Path
    moved_to: Path
    reason: str
    tables: tuple[TableRecovery, ...]
    schema_readable: bool
    placeholders: int
    """Prompts or versions created to hold rows whose parent was lost."""
    latest_backup: Path | None
    finished_at: str

    @property
    def rows_recovered(self) -> int:
        return sum(t.recovered for t in self.tables)

    @property
    def complete(self) -> bool:
        """True when no read failed and no row is known to be lost."""
        return self.schema_readable and all(
            not t.unreadable and not t.dropped and not t.lost for t in self.tables
        )

    def table(self, name: str) -> TableRecovery | None:
        return next((t for t in self.tables if t.table == name), None)

    def summary(self) -> str:
        """A few lines for the user."""
        counts = ", ".join(
            f"{t.recovered} {t.table}"
            for t in self.tables
            if t.table in {"prompts", "versions", "responses"}
        )
        lines = [
            f"The library file was damaged ({self.reason}).",
            f"The damaged file was kept as {self.moved_to}.",
            f"Recovered {counts}." if self.schema_readable else "Nothing could be read from it.",
        ]
        versions = self.table("versions")
        if versions is not None and versions.lost:
            lines.append(f"{versions.lost} versions could not be read and are missing.")
        elif not self.complete:
            lines.append("Some rows could not be read and are missing.")
        if self.latest_backup is not None:
            lines.append(f"The newest backup is {self.latest_backup}.")
        return "\n".join(lines)


@dataclass
class _Progress:
    recovered: int = 0
    dropped: int = 0
    unreadable: list[tuple[int, int]] = field(default_factory=list)
    budget: int = _BUDGET


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- reading a damaged file ---------------------------------------------------------------


class _Reader:
    """Reads what it can of one table, working around unreadable pages."""

    def __init__(self, conn: sqlite3.Connection, table: str, columns: list[str]) -> None:
        self.conn = conn
        select = ", ".join(f'"{c}"' for c in columns)
        base = f'SELECT rowid, {select} FROM "{table}" NOT INDEXED'
        self.forward = base + " WHERE rowid BETWEEN ? AND ? ORDER BY rowid"
        self.backward = base + " WHERE rowid BETWEEN ? AND ? ORDER BY rowid DESC"
        self.point = base + " WHERE rowid = ?"

    def rows(self, progress: _Progress) -> Iterator[tuple[Any, ...]]:
        pending = [(1 - (1 << 63), _MAX_ROWID)]
        while pending:
            lo, hi = pending.pop()
            if progress.budget <= 0:
                progress.unreadable.append((lo, hi))
                continue
            if hi - lo < _POINT_READ_WIDTH:
                yield from self._point_reads(lo, hi, progress)
                continue
            progress.budget -= 2
            # Forward until the first unreadable page, then backward from the top of the
            # range: a backward scan that finishes has seen every row the forward one
            # missed. Only if both stop early is the gap between them bisected.
            low_end = lo - 1
            try:
                for row in self.conn.execute(self.forward, (lo, hi)):
                    if row[0] > low_end:  # a lower rowid out of order is a damaged cell
                        low_end = row[0]
                        yield row
            except _READ_ERRORS:
                pass
            high_end = hi + 1
            try:
                for row in self.conn.execute(self.backward, (low_end + 1, hi)):
                    if low_end < row[0] < high_end:
                        high_end = row[0]
                        yield row
                continue
            except _READ_ERRORS:
                pass
            gap_lo, gap_hi = low_end + 1, high_end - 1
            if gap_lo > gap_hi:
                continue
            middle = gap_lo + (gap_hi - gap_lo) // 2
            pending += [(middle + 1, gap_hi), (gap_lo, middle)]

    def _point_reads(self, lo: int, hi: int, progress: _Progress) -> Iterator[tuple[Any, ...]]:
        bad_from: int | None = None
        for rowid in range(lo, hi + 1):
            progress.budget -= 1
            try:
                row = self.conn.execute(self.point, (rowid,)).fetchone()
            except _READ_ERRORS:
                bad_from = rowid if bad_from is None else bad_from
                continue
            if bad_from is not None:
                progress.unreadable.append((bad_from, rowid - 1))
                bad_from = None
            if row is not None:
                yield row
        if bad_from is not None:
            progress.unreadable.append((bad_from, hi))


def _literal(default: str) -> Any:
    """A column default as PRAGMA table_info shows it (``0``, ``''``) as a Python value."""
    if len(default) >= 2 and default[0] == default[-1] == "'":
        return default[1:-1].replace("''", "'")
    try:
        return int(default)
    except ValueError:
        return float(default)


def _clean(
    table: str, columns: list[str], info: dict[str, tuple[str, bool, Any]], row: tuple[Any, ...]
) -> tuple[Any, ...] | None:
    """The row fit for the new schema, or None if it is garbled beyond use."""
    values = list(row[1:])
    for i, name in enumerate(columns):
        declared, notnull, default = info[name]
        value = values[i]
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if (table, name) in _JSON_COLUMNS:
            try:
                json.loads(value) if isinstance(value, str) else None
            except ValueError:
                value = None
            if not isinstance(value, str):
                value = _JSON_COLUMNS[(table, name)]
        if value is None:
            if notnull:
                if default is None:
                    return None
                value = _literal(default)
            values[i] = value
            continue
        if declared == "INTEGER" and not isinstance(value, int):
            return None
        if declared == "REAL" and not isinstance(value, int | float):
            return None
        if declared == "TEXT" and not isinstance(value, str):
            value = str(value)
        if name.endswith("_at") and not _TIMESTAMP.match(value):
            return None
        values[i] = value
    return tuple(values)


def _exists(conn: sqlite3.Connection, table: str) -> bool:
    try:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
    except _READ_ERRORS:
        return True  # listed or not, we cannot tell: count it as unreadable
    return found is not None


def _copy_table(
    source: sqlite3.Connection, target: sqlite3.Connection, table: str
) -> TableRecovery:
    progress = _Progress()
    info = {
        row[1]: (str(row[2]).upper(), bool(row[3]), row[4])
        for row in target.execute(f'PRAGMA table_info("{table}")')
    }
    if not _exists(source, table):
        return TableRecovery(table, 0, 0, ())  # an older schema without this table
    try:
        present = {row[1] for row in source.execute(f'PRAGMA table_info("{table}")')}
    except _READ_ERRORS:
        present = set()
    columns = [c for c in info if c in present]
    if not columns:
        return TableRecovery(table, 0, 0, ((1, _MAX_ROWID),))
    placeholders = ", ".join("?" * len(columns))
    names = ", ".join(f'"{c}"' for c in columns)
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({placeholders})'
    for row in _Reader(source, table, columns).rows(progress):
        cleaned = _clean(table, columns, info, row)
        if cleaned is None:
            progress.dropped += 1
            continue
        try:
            target.execute(insert, cleaned)
        except sqlite3.IntegrityError:
            if table == "versions" and "number" in columns:
                # A clashing version number: keep the row, number it afresh later.
                fixed = list(cleaned)
                fixed[columns.index("number")] = None
                try:
                    target.execute(insert, fixed)
                except sqlite3.IntegrityError:
                    progress.dropped += 1
                    continue
            else:
                progress.dropped += 1
                continue
        progress.recovered += 1
    return TableRecovery(table, progress.recovered, progress.dropped, _merge(progress.unreadable))


def _merge(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple(merged)


# -- repairing what was read --------------------------------------------------------------


def _fix_up(conn: sqlite3.Connection) -> tuple[int, dict[str, int]]:
    """Re-attach orphans to placeholders, drop what cannot be re-attached, renumber."""
    now = utc_now()
    dropped: dict[str, int] = {}
    placeholders = 0
    # Drafts too: a draft is unsaved typing, worth a placeholder prompt of its own.
    lost_prompts = [
        pid
        for (pid,) in conn.execute(
            """
            SELECT prompt_id FROM versions WHERE prompt_id NOT IN (SELECT id FROM prompts)
            UNION
            SELECT prompt_id FROM drafts WHERE prompt_id NOT IN (SELECT id FROM prompts)
            """
        )
    ]
    for pid in lost_prompts:
        conn.execute(
            "INSERT INTO prompts (id, name, folder, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (pid, f"Recovered prompt {pid}", RECOVERED_FOLDER, now, now),
        )
    placeholders += len(lost_prompts)
    lost_versions = [
        vid
        for (vid,) in conn.execute(
            "SELECT DISTINCT version_id FROM runs WHERE version_id NOT IN (SELECT id FROM versions)"
        )
    ]
    if lost_versions:
        cursor = conn.execute(
            "INSERT INTO prompts (name, folder, created_at, updated_at) VALUES (?, ?, ?, ?)",
            ("Recovered runs", RECOVERED_FOLDER, now, now),
        )
        holder = cursor.lastrowid
        for number, vid in enumerate(lost_versions, start=1):
            conn.execute(
                """
                INSERT INTO versions (id, prompt_id, template, variables, settings, message,
                                      kind, content_hash, created_at, number)
                VALUES (?, ?, '', '{}', '{}', ?, 'import', '', ?, ?)
                """,
                (vid, holder, "Recovered: the version these runs used could not be read.", now,
                 number),
            )  # fmt: skip
        placeholders += 1 + len(lost_versions)
    orphans = {
        "responses": "run_id NOT IN (SELECT id FROM runs)",
        "response_steps": "response_id NOT IN (SELECT id FROM responses)",
        "labels": "prompt_id NOT IN (SELECT id FROM prompts) OR version_id NOT IN "
        "(SELECT id FROM versions WHERE versions.prompt_id = labels.prompt_id)",
        "prompt_tags": "prompt_id NOT IN (SELECT id FROM prompts)",
        "test_cases": "prompt_id NOT IN (SELECT id FROM prompts)",
        "eval_settings": "prompt_id NOT IN (SELECT id FROM prompts)",
        "pinned_answers": "prompt_id NOT IN (SELECT id FROM prompts)",
        "eval_runs": "version_id NOT IN (SELECT id FROM versions WHERE versions.prompt_id = "
        "eval_runs.prompt_id)",
        "eval_results": "eval_run_id NOT IN (SELECT id FROM eval_runs)",
        "eval_batches": "eval_run_id NOT IN (SELECT id FROM eval_runs)",
        "eval_batch_items": "batch_id NOT IN (SELECT id FROM eval_batches)",
    }
    for table, condition in orphans.items():
        dropped[table] = conn.execute(f"DELETE FROM {table} WHERE {condition}").rowcount
    conn.execute(
        "UPDATE versions SET parent_id = NULL WHERE parent_id NOT IN (SELECT id FROM versions)"
    )
    conn.execute(
        "UPDATE drafts SET base_version_id = NULL "
        "WHERE base_version_id NOT IN (SELECT id FROM versions)"
    )
    for vid, pid in conn.execute(
        "SELECT id, prompt_id FROM versions WHERE number IS NULL ORDER BY id"
    ).fetchall():
        conn.execute(
            "UPDATE versions SET number = (SELECT coalesce(max(number), 0) + 1 FROM versions "
            "WHERE prompt_id = ?) WHERE id = ?",
            (pid, vid),
        )
    for (folder,) in conn.execute("SELECT DISTINCT folder FROM prompts").fetchall():
        parts = folder.split("/")
        for depth in range(1, len(parts) + 1):
            if parts[depth - 1]:
                conn.execute(
                    "INSERT OR IGNORE INTO folders (path, created_at) VALUES (?, ?)",
                    ("/".join(parts[:depth]), now),
                )
    return placeholders, dropped


def _numbering_gaps(conn: sqlite3.Connection) -> int:
    """Versions missing from their prompt's 1..n numbering (read before any renumbering)."""
    found = conn.execute(
        """
        SELECT coalesce(sum(highest - present), 0) FROM (
            SELECT max(number) AS highest, count(DISTINCT number) AS present
            FROM versions WHERE number IS NOT NULL GROUP BY prompt_id)
        """
    ).fetchone()[0]
    return int(found)


def _has_numbers(source_path: Path, readable: bool) -> bool:
    """Whether the damaged file's schema numbered its versions (schema 2 and later)."""
    conn = _open_source(source_path) if readable else None
    if conn is None:
        return False
    try:
        return any(row[1] == "number" for row in conn.execute("PRAGMA table_info(versions)"))
    except _READ_ERRORS:
        return False
    finally:
        conn.close()


# -- the whole procedure ------------------------------------------------------------------


def _open_source(path: Path) -> sqlite3.Connection | None:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.text_factory = lambda data: data.decode("utf-8", "replace")
        conn.execute("PRAGMA cell_size_check = ON")
        # Tolerates a file shorter than its header says (truncated); nothing is written.
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except _READ_ERRORS as exc:
        logger.warning("The damaged library's schema cannot be read: %s", exc)
        return None


def _build(source_path: Path, target_path: Path) -> tuple[list[TableRecovery], bool, int]:
    for stale in [target_path, *_sidecars(target_path)]:
        _unlink(stale)
    target = sqlite3.connect(target_path, isolation_level=None)
    try:
        target.execute("PRAGMA journal_mode = MEMORY")
        target.execute("PRAGMA synchronous = OFF")
        schema.migrate(target)
        # Bulk-load without triggers; they come back below and the index is rebuilt once.
        triggers = target.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
        for name, _sql in triggers:
            target.execute(f'DROP TRIGGER "{name}"')
        source = _open_source(source_path)
        readable = source is not None
        results: list[TableRecovery] = []
        target.execute("BEGIN")
        if source is not None:
            try:
                results = [_copy_table(source, target, table) for table in TABLES]
            finally:
                source.close()
        lost_versions = _numbering_gaps(target) if _has_numbers(source_path, readable) else None
        placeholders, dropped = _fix_up(target)
        results = [
            TableRecovery(r.table, r.recovered - dropped.get(r.table, 0),
                          r.dropped + dropped.get(r.table, 0), r.unreadable,
                          lost_versions if r.table == "versions" else None)
            for r in results
        ]  # fmt: skip
        for _name, sql in triggers:
            target.execute(sql)
        schema.rebuild_search_index(target)
        target.execute("COMMIT")
        problems = target.execute("PRAGMA foreign_key_check").fetchall()
        check = [r[0] for r in target.execute("PRAGMA integrity_check").fetchall()]
        if problems or check != ["ok"]:
            raise StorageError(
                f"The recovered library failed its own check ({problems[:3] or check[:3]})."
            )
        target.execute("PRAGMA journal_mode = WAL")
    finally:
        target.close()
    with open(target_path, "rb+") as handle:
        os.fsync(handle.fileno())
    return results, readable, placeholders


def _keep_damaged(path: Path) -> Path:
    """Give the damaged file (and its WAL) a name that says so; never delete it."""
    moved = path.with_name(f"{path.name}.corrupt-{_stamp()}")
    number = 2
    while moved.exists():
        moved = path.with_name(f"{path.name}.corrupt-{_stamp()}-{number}")
        number += 1
    try:
        os.link(path, moved)  # the library name keeps pointing at it until the swap
    except OSError:
        shutil.copy2(path, moved)
    for sidecar, suffix in zip(_sidecars(path), ("-wal", "-shm", "-journal"), strict=True):
        if sidecar.exists():
            os.replace(sidecar, moved.with_name(moved.name + suffix))
    return moved


def recover_library(path: Path, *, reason: str, backups: Path | None = None) -> RecoveryReport:
    """Salvage ``path`` into a fresh library at the same place; keep the damaged file."""
    path = Path(path)
    logger.error("The library %s is damaged (%s); recovering what can be read", path, reason)
    building = path.with_name(path.name + ".recovering")
    try:
        tables, readable, placeholders = _build(path, building)
        moved = _keep_damaged(path)
        os.replace(building, path)
        _fsync_dir(path.parent)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(
            f"The library file {path} is damaged and could not be recovered ({exc}). "
            "Free some disk space or move the file aside, then start again."
        ) from exc
    newest = None
    if backups is not None and backups.is_dir():
        found = sorted(backups.glob("library-*.sqlite3"))
        newest = found[-1] if found else None
    report = RecoveryReport(
        original=path,
        moved_to=moved,
        reason=reason,
        tables=tuple(tables),
        schema_readable=readable,
        placeholders=placeholders,
        latest_backup=newest,
        finished_at=utc_now(),
    )
    logger.warning("Library recovery finished: %s", report.summary().replace("\n", " "))
    return report
