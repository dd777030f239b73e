"""A prompt's version history: saving, restoring, labels and the history page.

History is append-only. Saving identical content does not pad it; restoring an old
version adds a new one on top (kind ``restore``) instead of rewriting anything; the
schema refuses updates to a saved version's content.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

from promptstudio.chat import Image
from promptstudio.storage.drafts import write_draft
from promptstudio.storage.errors import NotFound, StorageError
from promptstudio.storage.images import copy_images, same_images, store_images
from promptstudio.storage.rows import (
    LabelGate,
    LabelRow,
    VersionRow,
    VersionSummary,
    version_from,
)
from promptstudio.storage.sql import (
    clean_name,
    one,
    require_prompt,
    rows,
    scalar,
    serialise_content,
    split_list,
    stored_json,
    to_json,
    utc_now,
)
from promptstudio.storage.transaction import transaction

# "improved": an accepted rewrite ("Improve prompt"); "candidate": one of an optimisation's
# rewrites. Both hang off the version they rewrote (their parent), a branch in the history.
VersionKind = Literal["save", "run", "import", "sample", "restore", "copy", "improved", "candidate"]
VERSION_KINDS: tuple[str, ...] = get_args(VersionKind)

# What counts for "best cost / best time" in the history: finished, successful answers.
DONE_STATUS = "done"


def latest_version(conn: sqlite3.Connection, prompt_id: int) -> VersionRow | None:
    row = one(
        conn,
        "SELECT * FROM versions WHERE prompt_id = ? ORDER BY id DESC LIMIT 1",
        (prompt_id,),
    )
    return None if row is None else version_from(row)


def latest_version_id(conn: sqlite3.Connection, prompt_id: int) -> int | None:
    """Only the id: served from an index, without reading the (possibly huge) template."""
    value = scalar(conn, "SELECT max(id) FROM versions WHERE prompt_id = ?", (prompt_id,))
    return None if value is None else int(value)


def get_version(conn: sqlite3.Connection, version_id: int) -> VersionRow:
    row = one(conn, "SELECT * FROM versions WHERE id = ?", (version_id,))
    if row is None:
        raise NotFound(f"There is no version with id {version_id}.")
    return version_from(row)


def get_version_by_number(conn: sqlite3.Connection, prompt_id: int, number: int) -> VersionRow:
    """Version ``number`` (as shown: "v7") of the prompt."""
    row = one(
        conn, "SELECT * FROM versions WHERE prompt_id = ? AND number = ?", (prompt_id, number)
    )
    if row is None:
        raise NotFound(f"Prompt {prompt_id} has no version {number}.")
    return version_from(row)


def list_versions(conn: sqlite3.Connection, prompt_id: int) -> list[VersionRow]:
    """The prompt's history with full content, newest first (see :func:`version_history`)."""
    found = rows(conn, "SELECT * FROM versions WHERE prompt_id = ? ORDER BY id DESC", (prompt_id,))
    return [version_from(r) for r in found]


def count_versions(conn: sqlite3.Connection, prompt_id: int) -> int:
    return int(scalar(conn, "SELECT count(*) FROM versions WHERE prompt_id = ?", (prompt_id,)))


def insert_version(
    conn: sqlite3.Connection,
    prompt_id: int,
    *,
    template: str,
    variables: Mapping[str, Any],
    settings: Mapping[str, Any],
    message: str,
    kind: VersionKind,
    parent_id: int | None,
) -> int:
    """Append a version unconditionally; the caller holds the transaction. Returns its id."""
    if kind not in VERSION_KINDS:
        raise StorageError(f"Unknown version kind {kind!r}.")
    variables_json, settings_json, digest = serialise_content(template, variables, settings)
    return _insert(
        conn, prompt_id, template, variables_json, settings_json, digest, message, kind, parent_id
    )


def _insert(
    conn: sqlite3.Connection,
    prompt_id: int,
    template: str,
    variables_json: str,
    settings_json: str,
    digest: str,
    message: str,
    kind: str,
    parent_id: int | None,
) -> int:
    now = utc_now()
    cursor = conn.execute(
        """
        INSERT INTO versions (prompt_id, parent_id, template, variables, settings,
                              message, kind, content_hash, created_at, number)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,
                (SELECT coalesce(max(number), 0) + 1 FROM versions WHERE prompt_id = ?))
        """,
        (
            prompt_id,
            parent_id,
            template,
            variables_json,
            settings_json,
            message,
            kind,
            digest,
            now,
            prompt_id,
        ),
    )
    conn.execute("UPDATE prompts SET updated_at = ? WHERE id = ?", (now, prompt_id))
    # The draft holds nothing that is not now in the history.
    conn.execute("DELETE FROM drafts WHERE prompt_id = ? AND content_hash = ?", (prompt_id, digest))
    version_id = cursor.lastrowid
    assert version_id is not None
    return version_id


def save_version(
    conn: sqlite3.Connection,
    prompt_id: int,
    template: str,
    variables: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    message: str = "",
    kind: VersionKind = "save",
    from_editor: bool = False,
    images: Sequence[Image] | None = None,
) -> VersionRow:
    """Record the prompt's current content as a new version, unless nothing changed.

    If the latest version already holds identical content it is returned as is, so saving
    twice does not pad the history; a new non-empty message is still attached to it. A
    ``run`` reuses *any* version with identical content, so switching back to an older
    text and running it files the run under that version instead of copying it.
    A draft holding the same content is discarded: it is now in the history.

    ``from_editor``: the content is what the editor holds now, so any draft (an earlier
    state of the same editor) is superseded in the same transaction: dropped, or, when a
    run reused an older version, replaced by this content so the editor comes back with it.

    ``images``: the images the content sends (rendered), stored by hash with a new
    version; a version with the same content but other images is not reused, so a changed
    image file makes a new version. None: not known (nothing stored, nothing compared).
    """
    if kind not in VERSION_KINDS:
        raise StorageError(f"Unknown version kind {kind!r}.")
    variables_json, settings_json, digest = serialise_content(template, variables, settings)
    with transaction(conn):
        require_prompt(conn, prompt_id)
        latest_id = latest_version_id(conn, prompt_id)
        # Both lookups are answered from indexes: no template is read to compare.
        same_id = scalar(
            conn,
            "SELECT max(id) FROM versions WHERE prompt_id = ? AND content_hash = ?",
            (prompt_id, digest),
        )
        if same_id is not None and images is not None and not same_images(conn, same_id, images):
            same_id = None  # the same text, other image bytes: a new version
        if same_id is not None and (same_id == latest_id or kind == "run"):
            if message:
                conn.execute(
                    "UPDATE versions SET message = ? WHERE id = ? AND message != ?",
                    (message, same_id, message),
                )
            conn.execute(
                "DELETE FROM drafts WHERE prompt_id = ? AND content_hash = ?", (prompt_id, digest)
            )
            version_id = same_id
        else:
            version_id = _insert(
                conn,
                prompt_id,
                template,
                variables_json,
                settings_json,
                digest,
                message,
                kind,
                latest_id,
            )
            store_images(conn, version_id, images or ())
        if from_editor:
            write_draft(conn, prompt_id, template, variables_json, settings_json, digest)
        return get_version(conn, version_id)


def branch_version(
    conn: sqlite3.Connection,
    parent_id: int,
    template: str,
    *,
    kind: VersionKind,
    message: str = "",
    variables: Mapping[str, Any] | None = None,
) -> VersionRow:
    """Save ``template`` as a new version whose parent is ``parent_id`` (not the newest):
    a rewrite of that version, on a branch of the history. Values and run settings are the
    parent's unless ``variables`` are given. Content the prompt already has as a version
    of this kind is that version (an optimisation proposing it twice adds nothing).
    """
    if kind not in VERSION_KINDS:
        raise StorageError(f"Unknown version kind {kind!r}.")
    with transaction(conn):
        parent = get_version(conn, parent_id)
        values = parent.variables if variables is None else variables
        variables_json, settings_json, digest = serialise_content(template, values, parent.settings)
        same = scalar(
            conn,
            "SELECT max(id) FROM versions WHERE prompt_id = ? AND content_hash = ? AND kind = ?",
            (parent.prompt_id, digest, kind),
        )
        if same is not None:
            return get_version(conn, int(same))
        new_id = _insert(
            conn, parent.prompt_id, template, variables_json, settings_json, digest,
            message, kind, parent.id,
        )  # fmt: skip
        return get_version(conn, new_id)


def restore_version(
    conn: sqlite3.Connection, version_id: int, *, message: str | None = None
) -> VersionRow:
    """Make an old version current again by saving its content as a NEW version.

    Its parent is the version that was current, so the history shows the detour; the
    default message says where it came from.
    """
    with transaction(conn):
        source = get_version(conn, version_id)
        new_id = _insert(
            conn,
            source.prompt_id,
            source.template,
            to_json(source.variables, "variables"),
            to_json(source.settings, "settings"),
            source.content_hash,
            f"Restored from version {source.number}" if message is None else message,
            "restore",
            latest_version_id(conn, source.prompt_id),
        )
        copy_images(conn, version_id, new_id)
        return get_version(conn, new_id)


# -- labels -------------------------------------------------------------------------------


def set_label(conn: sqlite3.Connection, prompt_id: int, name: str, version_id: int) -> LabelRow:
    """Point the label ``name`` ("prod", "best") at a version, moving it if it exists.

    A label name is unique per prompt, ignoring ASCII case.
    """
    label = clean_name(name, "A label")
    with transaction(conn):
        owner = scalar(conn, "SELECT prompt_id FROM versions WHERE id = ?", (version_id,))
        if owner is None:
            raise NotFound(f"There is no version with id {version_id}.")
        if owner != prompt_id:
            raise StorageError(f"Version {version_id} belongs to another prompt.")
        conn.execute(
            """
            INSERT INTO labels (prompt_id, name, version_id, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (prompt_id, name) DO UPDATE
            SET name = excluded.name, version_id = excluded.version_id,
                updated_at = excluded.updated_at
            """,
            (prompt_id, label, version_id, utc_now()),
        )
        row = one(conn, "SELECT * FROM labels WHERE prompt_id = ? AND name = ?", (prompt_id, label))
        assert row is not None
        return _label(row)


def set_label_gate(
    conn: sqlite3.Connection, prompt_id: int, name: str, gate: LabelGate | None
) -> LabelRow:
    """Give the label a gate (None: take it away). The label must exist; whether its
    version meets the gate is :mod:`promptstudio.evals.gates`' to check."""
    if gate is not None and not 0.0 <= gate.pass_rate <= 1.0:
        raise StorageError(f"A gate's pass rate must be between 0 and 1, not {gate.pass_rate}.")
    models = to_json(list(gate.models) if gate else [], "gate models")
    with transaction(conn):
        cursor = conn.execute(
            """
            UPDATE labels SET gate_pass_rate = ?, gate_lower_bound = ?, gate_models = ?
            WHERE prompt_id = ? AND name = ?
            """,
            (
                None if gate is None else gate.pass_rate,
                int(gate is not None and gate.lower_bound),
                models,
                prompt_id,
                name.strip(),
            ),
        )
        if cursor.rowcount == 0:
            raise NotFound(f"Prompt {prompt_id} has no label {name.strip()!r}.")
        row = one(conn, "SELECT * FROM labels WHERE prompt_id = ? AND name = ?",
                  (prompt_id, name.strip()))  # fmt: skip
        assert row is not None
        return _label(row)


def get_label(conn: sqlite3.Connection, prompt_id: int, name: str) -> LabelRow | None:
    """The prompt's label ``name`` (ignoring ASCII case), or None."""
    row = one(
        conn, "SELECT * FROM labels WHERE prompt_id = ? AND name = ?", (prompt_id, name.strip())
    )
    return None if row is None else _label(row)


def remove_label(conn: sqlite3.Connection, prompt_id: int, name: str) -> bool:
    """Drop the label; False if the prompt had no such label."""
    with transaction(conn):
        cursor = conn.execute(
            "DELETE FROM labels WHERE prompt_id = ? AND name = ?", (prompt_id, name.strip())
        )
        return cursor.rowcount > 0


def list_labels(conn: sqlite3.Connection, prompt_id: int) -> list[LabelRow]:
    found = rows(conn, "SELECT * FROM labels WHERE prompt_id = ?", (prompt_id,))
    return sorted((_label(r) for r in found), key=lambda label: label.name.casefold())


def _label(row: sqlite3.Row) -> LabelRow:
    return LabelRow(
        prompt_id=row["prompt_id"],
        name=row["name"],
        version_id=row["version_id"],
        updated_at=row["updated_at"],
        gate=_gate(row),
    )


def _gate(row: sqlite3.Row) -> LabelGate | None:
    if row["gate_pass_rate"] is None:
        return None
    models = stored_json(row["gate_models"], [])
    return LabelGate(
        pass_rate=float(row["gate_pass_rate"]),
        lower_bound=bool(row["gate_lower_bound"]),
        models=tuple(str(model) for model in models) if isinstance(models, list) else (),
    )


# -- the history page ---------------------------------------------------------------------

_HISTORY = f"""
    WITH page AS (
        SELECT id, prompt_id, number, parent_id, kind, created_at, message
        FROM versions
        WHERE prompt_id = :prompt AND id < :before
        ORDER BY id DESC
        LIMIT :limit
    )
    SELECT page.*,
           (SELECT group_concat(name, char(31))
            FROM (SELECT name FROM labels WHERE version_id = page.id
                  ORDER BY name COLLATE NOCASE)) AS labels,
           count(DISTINCT r.id) AS run_count,
           count(s.id) AS response_count,
           min(CASE WHEN s.status = '{DONE_STATUS}' THEN s.cost END) AS best_cost,
           min(CASE WHEN s.status = '{DONE_STATUS}' THEN s.total_ms END) AS best_total_ms
    FROM page
    LEFT JOIN runs r ON r.version_id = page.id
    LEFT JOIN responses s ON s.run_id = r.id
    GROUP BY page.id
    ORDER BY page.id DESC
"""


def version_history(
    conn: sqlite3.Connection, prompt_id: int, *, limit: int = 200, before_id: int | None = None
) -> list[VersionSummary]:
    """One page of the history panel, newest first; pass the last id to get the next page.

    One query, served from covering indexes (no template is read), however long the
    history or large the templates.
    """
    params = {
        "prompt": prompt_id,
        "before": (1 << 63) - 1 if before_id is None else before_id,
        "limit": max(0, limit),
    }
    return [
        VersionSummary(
            id=row["id"],
            prompt_id=row["prompt_id"],
            number=row["number"] or 0,
            parent_id=row["parent_id"],
            kind=row["kind"],
            created_at=row["created_at"],
            message=row["message"],
            labels=split_list(row["labels"]),
            run_count=row["run_count"],
            response_count=row["response_count"],
            best_cost=row["best_cost"],
            best_total_ms=row["best_total_ms"],
        )
        for row in rows(conn, _HISTORY, params)
    ]
