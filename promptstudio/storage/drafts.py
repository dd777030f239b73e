"""Autosaved drafts: the editor's unsaved content, one per prompt.

The editor writes a draft every couple of seconds while the user types; saving a version
with the same content removes it. A draft remembers the latest version when it was written
(``base_version_id``): once a newer version exists the draft is stale and is never handed
back over it (:func:`load_draft`, :func:`list_drafts`), whatever the clocks say.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from promptstudio.storage.rows import Draft, draft_from
from promptstudio.storage.sql import (
    one,
    require_prompt,
    rows,
    scalar,
    serialise_content,
    utc_now,
)
from promptstudio.storage.transaction import transaction

_SELECT = """
    SELECT d.*, p.name AS prompt_name FROM drafts d JOIN prompts p ON p.id = d.prompt_id
"""
# A draft is fresh while no version was saved after it (ids only: no clock involved).
_FRESH = "d.base_version_id IS (SELECT max(id) FROM versions WHERE prompt_id = d.prompt_id)"


def save_draft(
    conn: sqlite3.Connection,
    prompt_id: int,
    template: str,
    variables: Mapping[str, Any],
    settings: Mapping[str, Any],
) -> None:
    """Keep the editor's content as the prompt's draft (one small upsert).

    Content identical to the latest version is not a draft: any draft is dropped instead.
    Writing unchanged content again leaves ``updated_at`` alone, so the time says when the
    text last changed. The draft remembers the latest version at the time, which is how
    :func:`list_drafts` knows whether it is newer than the history (no clock involved).
    """
    variables_json, settings_json, digest = serialise_content(
        template, variables, settings, "draft"
    )
    with transaction(conn):
        require_prompt(conn, prompt_id)
        write_draft(conn, prompt_id, template, variables_json, settings_json, digest)


def write_draft(
    conn: sqlite3.Connection,
    prompt_id: int,
    template: str,
    variables_json: str,
    settings_json: str,
    digest: str,
) -> None:
    """:func:`save_draft` on serialised content, inside the caller's transaction."""
    latest_id = scalar(conn, "SELECT max(id) FROM versions WHERE prompt_id = ?", (prompt_id,))
    same_id = scalar(
        conn,
        "SELECT max(id) FROM versions WHERE prompt_id = ? AND content_hash = ?",
        (prompt_id, digest),
    )
    if latest_id is not None and same_id == latest_id:
        conn.execute("DELETE FROM drafts WHERE prompt_id = ?", (prompt_id,))
        return
    conn.execute(
        """
        INSERT INTO drafts (prompt_id, template, variables, settings, content_hash,
                            base_version_id, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (prompt_id) DO UPDATE
        SET template = excluded.template, variables = excluded.variables,
            settings = excluded.settings, content_hash = excluded.content_hash,
            base_version_id = excluded.base_version_id, updated_at = excluded.updated_at
        WHERE drafts.content_hash != excluded.content_hash
           OR drafts.base_version_id IS NOT excluded.base_version_id
        """,
        (prompt_id, template, variables_json, settings_json, digest, latest_id, utc_now()),
    )


def load_draft(conn: sqlite3.Connection, prompt_id: int) -> Draft | None:
    """The prompt's draft, unless a version was saved after it was written.

    A stale draft (its base is no longer the latest version) holds edits that are older
    than the history: restoring it would replace newer work, so it is not returned.
    """
    row = one(conn, _SELECT + " WHERE d.prompt_id = ? AND " + _FRESH, (prompt_id,))
    return None if row is None else draft_from(row)


def discard_draft(conn: sqlite3.Connection, prompt_id: int) -> bool:
    """Forget the draft; False if there was none."""
    with transaction(conn):
        return conn.execute("DELETE FROM drafts WHERE prompt_id = ?", (prompt_id,)).rowcount > 0


def list_drafts(conn: sqlite3.Connection) -> list[Draft]:
    """Drafts worth restoring after a crash, newest first.

    A draft qualifies when no version was saved since it was written (its base is still
    the prompt's latest version) and its prompt is outside the trash.
    """
    found = rows(
        conn,
        _SELECT
        + """
        WHERE p.trashed_at IS NULL AND """
        + _FRESH
        + """
          AND NOT EXISTS (SELECT 1 FROM versions v
                          WHERE v.id = d.base_version_id AND v.content_hash = d.content_hash)
        ORDER BY d.updated_at DESC, d.prompt_id DESC
        """,
    )
    return [draft_from(r) for r in found]
