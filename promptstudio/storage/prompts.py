"""Prompts in the library: names, folders, stars, tags and the trash.

Trashing only hides a prompt (its history stays and it can be restored); only
:func:`empty_trash` and :func:`delete_forever` remove data, and then everything that hangs
off the prompt goes with it (versions, runs, responses, labels, tags, draft).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable

from promptstudio.storage import versions
from promptstudio.storage.errors import NotFound, StorageError
from promptstudio.storage.rows import PromptRow, TagCount, prompt_from
from promptstudio.storage.sql import clean_name, like_pattern, one, require_prompt, rows, utc_now
from promptstudio.storage.transaction import transaction

logger = logging.getLogger(__name__)

_SELECT = """
    SELECT p.*,
           (SELECT group_concat(tag, char(31))
            FROM (SELECT tag FROM prompt_tags WHERE prompt_id = p.id
                  ORDER BY tag COLLATE NOCASE)) AS tags
    FROM prompts p
"""


def _sorted(prompts: Iterable[PromptRow]) -> list[PromptRow]:
    # Case-insensitive and Unicode-aware, which SQLite's NOCASE (ASCII only) is not.
    return sorted(prompts, key=lambda p: (p.folder.casefold(), p.name.casefold(), p.id))


# -- folders ------------------------------------------------------------------------------


def normalise_folder(path: str) -> str:
    """``' Work / Clients/ '`` -> ``'Work/Clients'``; ``''`` is the top level."""
    return "/".join(part.strip() for part in path.split("/") if part.strip())


def _ensure_folder(conn: sqlite3.Connection, path: str) -> None:
    parts = path.split("/") if path else []
    now = utc_now()
    for depth in range(1, len(parts) + 1):
        conn.execute(
            "INSERT OR IGNORE INTO folders (path, created_at) VALUES (?, ?)",
            ("/".join(parts[:depth]), now),
        )


def create_folder(conn: sqlite3.Connection, path: str) -> str:
    """Create a folder (and its parents) even before a prompt lives in it; idempotent."""
    folder = normalise_folder(path)
    if not folder:
        raise StorageError("A folder needs a name.")
    with transaction(conn):
        _ensure_folder(conn, folder)
    return folder


def list_folders(conn: sqlite3.Connection) -> list[str]:
    """Every folder path, parents before children, ignoring case."""
    paths = [path for (path,) in conn.execute("SELECT path FROM folders")]
    return sorted(paths, key=lambda p: ([part.casefold() for part in p.split("/")], p))


def _in_folder_sql(column: str) -> str:
    return f"({column} = ? OR {column} LIKE ? ESCAPE '\\')"


def _in_folder_params(folder: str) -> tuple[str, str]:
    return folder, like_pattern(folder + "/")[1:]  # 'folder/%' with wildcards escaped


def rename_folder(conn: sqlite3.Connection, old: str, new: str) -> int:
    """Rename or move a folder with its subfolders and prompts (trashed ones too).

    Renaming onto an existing folder merges the two. Returns how many prompts moved.
    """
    source, target = normalise_folder(old), normalise_folder(new)
    if not source or not target:
        raise StorageError("A folder needs a name.")
    if target == source or target.startswith(source + "/"):
        if target == source:
            return 0
        raise StorageError("A folder cannot be moved into itself.")
    with transaction(conn):
        if conn.execute("SELECT 1 FROM folders WHERE path = ?", (source,)).fetchone() is None:
            raise NotFound(f"There is no folder {source!r}.")
        cut = len(source)
        for (path,) in conn.execute(
            f"SELECT path FROM folders WHERE {_in_folder_sql('path')}", _in_folder_params(source)
        ).fetchall():
            _ensure_folder(conn, target + path[cut:])
        conn.execute(
            f"DELETE FROM folders WHERE {_in_folder_sql('path')}", _in_folder_params(source)
        )
        cursor = conn.execute(
            f"UPDATE prompts SET folder = ? || substr(folder, ?) WHERE {_in_folder_sql('folder')}",
            (target, cut + 1, *_in_folder_params(source)),
        )
        _ensure_folder(conn, target)
        return cursor.rowcount


def delete_folder(conn: sqlite3.Connection, path: str) -> None:
    """Remove an empty folder and its (empty) subfolders.

    A folder that still holds prompts outside the trash is refused. Trashed prompts keep
    their folder name: restoring one brings its folder back.
    """
    folder = normalise_folder(path)
    with transaction(conn):
        (count,) = conn.execute(
            f"SELECT count(*) FROM prompts WHERE trashed_at IS NULL AND {_in_folder_sql('folder')}",
            _in_folder_params(folder),
        ).fetchone()
        if count:
            raise StorageError(f"The folder {folder!r} is not empty ({count} prompts).")
        conn.execute(
            f"DELETE FROM folders WHERE {_in_folder_sql('path')}", _in_folder_params(folder)
        )


# -- prompts ------------------------------------------------------------------------------


def create_prompt(conn: sqlite3.Connection, name: str, folder: str = "") -> PromptRow:
    now = utc_now()
    folder = normalise_folder(folder)
    with transaction(conn):
        _ensure_folder(conn, folder)
        cursor = conn.execute(
            "INSERT INTO prompts (name, folder, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (clean_name(name), folder, now, now),
        )
        prompt_id = cursor.lastrowid
        assert prompt_id is not None
        return get_prompt(conn, prompt_id)


def get_prompt(conn: sqlite3.Connection, prompt_id: int) -> PromptRow:
    """The prompt, trashed or not; :class:`NotFound` if there is no such prompt."""
    row = one(conn, _SELECT + " WHERE p.id = ?", (prompt_id,))
    if row is None:
        raise NotFound(f"There is no prompt with id {prompt_id}.")
    return prompt_from(row)


def rename_prompt(conn: sqlite3.Connection, prompt_id: int, name: str) -> PromptRow:
    with transaction(conn):
        require_prompt(conn, prompt_id)
        conn.execute(
            "UPDATE prompts SET name = ?, updated_at = ? WHERE id = ?",
            (clean_name(name), utc_now(), prompt_id),
        )
        return get_prompt(conn, prompt_id)


def move_prompt(conn: sqlite3.Connection, prompt_id: int, folder: str) -> PromptRow:
    """Put the prompt in ``folder`` (created if needed; ``''`` is the top level)."""
    folder = normalise_folder(folder)
    with transaction(conn):
        require_prompt(conn, prompt_id)
        _ensure_folder(conn, folder)
        conn.execute("UPDATE prompts SET folder = ? WHERE id = ?", (folder, prompt_id))
        return get_prompt(conn, prompt_id)


def set_starred(conn: sqlite3.Connection, prompt_id: int, starred: bool = True) -> PromptRow:
    with transaction(conn):
        require_prompt(conn, prompt_id)
        conn.execute("UPDATE prompts SET starred = ? WHERE id = ?", (int(starred), prompt_id))
        return get_prompt(conn, prompt_id)


def _clean_tags(tags: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    cleaned: list[str] = []
    for tag in tags:
        text = " ".join(tag.split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            cleaned.append(text)
    return cleaned


def set_tags(conn: sqlite3.Connection, prompt_id: int, tags: Iterable[str]) -> PromptRow:
    """Replace the prompt's tags; blanks and case-insensitive repeats are dropped."""
    cleaned = _clean_tags(tags)
    with transaction(conn):
        require_prompt(conn, prompt_id)
        conn.execute("DELETE FROM prompt_tags WHERE prompt_id = ?", (prompt_id,))
        conn.executemany(
            "INSERT OR IGNORE INTO prompt_tags (prompt_id, tag) VALUES (?, ?)",
            [(prompt_id, tag) for tag in cleaned],
        )
        return get_prompt(conn, prompt_id)


def list_tags(conn: sqlite3.Connection) -> list[TagCount]:
    """Every tag in use outside the trash, with how many prompts carry it."""
    found = rows(
        conn,
        """
        SELECT t.tag AS tag, count(*) AS prompts
        FROM prompt_tags t JOIN prompts p ON p.id = t.prompt_id
        WHERE p.trashed_at IS NULL
        GROUP BY t.tag COLLATE NOCASE
        """,
    )
    tags = [TagCount(tag=row["tag"], prompts=row["prompts"]) for row in found]
    return sorted(tags, key=lambda t: (t.tag.casefold(), t.tag))


def list_prompts(
    conn: sqlite3.Connection,
    *,
    folder: str | None = None,
    include_subfolders: bool = False,
    tag: str | None = None,
    starred: bool | None = None,
) -> list[PromptRow]:
    """Prompts not in the trash, by folder then name, ignoring case (Unicode-aware).

    Filters combine: ``folder`` ('' is the top level), ``tag`` (ignoring case), ``starred``.
    """
    where = ["p.trashed_at IS NULL"]
    params: list[object] = []
    if folder is not None:
        folder = normalise_folder(folder)
        if include_subfolders and folder:
            where.append(_in_folder_sql("p.folder"))
            params += _in_folder_params(folder)
        elif not include_subfolders:
            where.append("p.folder = ?")
            params.append(folder)
    if tag is not None:
        where.append("EXISTS (SELECT 1 FROM prompt_tags WHERE prompt_id = p.id AND tag = ?)")
        params.append(tag.strip())
    if starred is not None:
        where.append("p.starred = ?")
        params.append(int(starred))
    return _sorted(
        prompt_from(r) for r in rows(conn, _SELECT + " WHERE " + " AND ".join(where), params)
    )


def count_prompts(conn: sqlite3.Connection, *, include_trashed: bool = False) -> int:
    sql = "SELECT count(*) FROM prompts"
    if not include_trashed:
        sql += " WHERE trashed_at IS NULL"
    return int(conn.execute(sql).fetchone()[0])


def _unique_copy_name(conn: sqlite3.Connection, name: str) -> str:
    taken = {
        n.casefold() for (n,) in conn.execute("SELECT name FROM prompts WHERE trashed_at IS NULL")
    }
    candidate = f"{name} (copy)"
    number = 2
    while candidate.casefold() in taken:
        candidate = f"{name} (copy {number})"
        number += 1
    return candidate


def duplicate_prompt(
    conn: sqlite3.Connection, prompt_id: int, name: str | None = None
) -> PromptRow:
    """A new prompt "X (copy)" in the same folder, with X's tags, test cases and latest version.

    Only the latest version is copied (as the copy's first version, kind ``copy``): the
    copy starts its own history; the original's stays where it is.
    """
    with transaction(conn):
        original = get_prompt(conn, prompt_id)
        copy = create_prompt(conn, name or _unique_copy_name(conn, original.name), original.folder)
        set_tags(conn, copy.id, original.tags)
        latest = versions.latest_version(conn, prompt_id)
        if latest is not None:
            versions.insert_version(
                conn,
                copy.id,
                template=latest.template,
                variables=latest.variables,
                settings=latest.settings,
                message=f"Copied from “{original.name}” version {latest.number}",
                kind="copy",
                parent_id=None,
            )
        conn.execute(
            """
            INSERT INTO test_cases (prompt_id, position, vars, description, expected, asserts,
                                    threshold, created_at, updated_at)
            SELECT ?, position, vars, description, expected, asserts, threshold, created_at, ?
            FROM test_cases WHERE prompt_id = ? ORDER BY position, id
            """,
            (copy.id, utc_now(), prompt_id),
        )
        conn.execute(
            """
            INSERT INTO eval_settings (prompt_id, asserts, judge_prompt, judge_column, updated_at)
            SELECT ?, asserts, judge_prompt, judge_column, ? FROM eval_settings WHERE prompt_id = ?
            """,
            (copy.id, utc_now(), prompt_id),
        )
        return get_prompt(conn, copy.id)


# -- trash --------------------------------------------------------------------------------


def trash_prompt(conn: sqlite3.Connection, prompt_id: int) -> None:
    """Hide the prompt from the library; its history stays, so it can come back."""
    with transaction(conn):
        require_prompt(conn, prompt_id)
        conn.execute(
            "UPDATE prompts SET trashed_at = ? WHERE id = ? AND trashed_at IS NULL",
            (utc_now(), prompt_id),
        )


def restore_prompt(conn: sqlite3.Connection, prompt_id: int) -> PromptRow:
    """Take the prompt out of the trash, back into its folder (recreated if deleted)."""
    with transaction(conn):
        prompt = get_prompt(conn, prompt_id)
        _ensure_folder(conn, prompt.folder)
        conn.execute("UPDATE prompts SET trashed_at = NULL WHERE id = ?", (prompt_id,))
        return get_prompt(conn, prompt_id)


def list_trash(conn: sqlite3.Connection) -> list[PromptRow]:
    """Trashed prompts, most recently trashed first."""
    found = rows(
        conn, _SELECT + " WHERE p.trashed_at IS NOT NULL ORDER BY p.trashed_at DESC, p.id DESC"
    )
    return [prompt_from(r) for r in found]


def delete_forever(conn: sqlite3.Connection, prompt_id: int) -> None:
    """Delete one trashed prompt and everything recorded for it. Refused outside the trash."""
    with transaction(conn):
        prompt = get_prompt(conn, prompt_id)
        if prompt.trashed_at is None:
            raise StorageError(f"“{prompt.name}” is not in the trash; move it there first.")
        conn.execute("DELETE FROM prompts WHERE id = ?", (prompt_id,))
    logger.info("Deleted prompt %d for good", prompt_id)


def empty_trash(conn: sqlite3.Connection) -> int:
    """Delete every trashed prompt for good, with its history; return how many."""
    with transaction(conn):
        count = conn.execute("DELETE FROM prompts WHERE trashed_at IS NOT NULL").rowcount
    logger.info("Emptied the trash: %d prompts deleted for good", count)
    return count
