"""What the library tree shows, read in one call on the database thread.

The GUI's tree reads the folders it has open (not the whole library), the starred
prompts and, once opened, the trash; with a tag filter, only the prompts with that tag and
the folders that lead to them. Expanding a folder or the trash later reads just that one
(``read_folder``, ``read_trash``). Writes to many prompts run as one call too (``for_each``).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from promptstudio.storage.prompts import (
    count_prompts,
    create_prompt,
    get_prompt,
    list_folders,
    list_prompts,
    list_trash,
    trash_prompt,
)
from promptstudio.storage.rows import PromptRow


@dataclass(frozen=True, slots=True)
class TreeSnapshot:
    """What one reload of the tree read."""

    folders: list[str]
    """The folders to show, parents before children."""
    prompts: dict[str, list[PromptRow]]
    """The prompts of every folder read so far ('' is the top level)."""
    starred: list[PromptRow]
    trash: list[PromptRow] | None
    """None: not read yet (the Trash was never expanded)."""
    trash_count: int
    """Every trashed prompt, whatever the filter: what "Empty trash" deletes."""
    all_folders: list[str]


def folder_sort_key(path: str) -> tuple[list[str], str]:
    return [part.casefold() for part in path.split("/")], path


def ancestors(path: str) -> list[str]:
    """``a/b/c`` gives ``a``, ``a/b``, ``a/b/c``; the top level ('') gives nothing."""
    parts = path.split("/") if path else []
    return ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def has_tag(row: PromptRow, tag: str) -> bool:
    """Whether ``row`` carries ``tag`` (ignoring case and surrounding spaces)."""
    wanted = tag.strip().casefold()
    return any(t.casefold() == wanted for t in row.tags)


def read_folder(conn: sqlite3.Connection, path: str, tag: str | None = None) -> list[PromptRow]:
    """What expanding a folder shows: the prompts right in ``path`` ('' is the top level),
    only those with ``tag`` if one is given."""
    return list_prompts(conn, folder=path, tag=tag)


def read_trash(conn: sqlite3.Connection, tag: str | None = None) -> list[PromptRow]:
    """What expanding the Trash shows: the trashed prompts, only those with ``tag`` if given."""
    rows = list_trash(conn)
    return rows if tag is None else [row for row in rows if has_tag(row, tag)]


def read_tree(
    conn: sqlite3.Connection, tag: str | None, opened: Collection[str], with_trash: bool
) -> TreeSnapshot:
    """The tree's visible part: the ``opened`` folders (with a ``tag``, every folder leading
    to a prompt with it) and, when ``with_trash``, the trash."""
    all_folders = list_folders(conn)
    trash_count = count_prompts(conn, include_trashed=True) - count_prompts(conn)
    if tag is not None:
        matching = list_prompts(conn, tag=tag)
        by_folder: dict[str, list[PromptRow]] = {"": []}
        for row in matching:
            by_folder.setdefault(row.folder, []).append(row)
        folders = sorted({a for f in by_folder for a in ancestors(f)}, key=folder_sort_key)
        prompts = {f: by_folder.get(f, []) for f in ["", *folders]}
        trash = read_trash(conn, tag)
        starred = [row for row in matching if row.starred]
        return TreeSnapshot(folders, prompts, starred, trash, trash_count, all_folders)
    existing = set(all_folders)
    wanted = ["", *sorted(set(opened) & existing, key=folder_sort_key)]
    prompts = {f: read_folder(conn, f) for f in wanted}
    return TreeSnapshot(
        folders=all_folders,
        prompts=prompts,
        starred=list_prompts(conn, starred=True),
        trash=list_trash(conn) if with_trash else None,
        trash_count=trash_count,
        all_folders=all_folders,
    )


def for_each(
    ids: Sequence[int], write: Callable[[sqlite3.Connection, int], object]
) -> Callable[[sqlite3.Connection], None]:
    """One database call that writes each prompt in turn."""

    def each(conn: sqlite3.Connection) -> None:
        for prompt_id in ids:
            write(conn, prompt_id)

    return each


def trash_and_get(conn: sqlite3.Connection, prompt_id: int) -> PromptRow:
    """Move a prompt to the trash and return its row as it is now."""
    trash_prompt(conn, prompt_id)
    return get_prompt(conn, prompt_id)


def create_untitled(conn: sqlite3.Connection, folder: str) -> PromptRow:
    """A new prompt "Untitled N" in ``folder``: the first N no prompt's name uses (any case)."""
    taken = {row.name.casefold() for row in list_prompts(conn)}
    number = next(n for n in itertools.count(1) if f"untitled {n}" not in taken)
    return create_prompt(conn, f"Untitled {number}", folder)
