"""Prompts, their versions, runs and responses: plain functions over a connection.

Every function takes the connection first so callers run it on the database thread with
``db.call(library.save_version, prompt_id, ...)``. Each write is one transaction. Rows come
back as frozen dataclasses with JSON columns already decoded.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from promptstudio.storage.errors import NotFound, SecretFieldError, StorageError
from promptstudio.storage.transaction import transaction

VersionKind = Literal["save", "run", "import", "sample"]
VERSION_KINDS: tuple[str, ...] = get_args(VersionKind)

# Field names that mean "a credential", compared after lower-casing and dropping
# everything but letters and digits ("X-Api-Key" -> "xapikey").
_SECRET_NAMES = frozenset(
    {
        "key",
        "apikey",
        "xapikey",
        "authorization",
        "proxyauthorization",
        "secretkey",
        "clientsecret",
        "accesskey",
        "privatekey",
        "accesstoken",
        "authtoken",
        "bearertoken",
    }
)


@dataclass(frozen=True, slots=True)
class PromptRow:
    id: int
    name: str
    folder: str
    created_at: str
    updated_at: str
    trashed_at: str | None = None


@dataclass(frozen=True, slots=True)
class VersionRow:
    id: int
    prompt_id: int
    parent_id: int | None
    template: str
    variables: dict[str, Any]
    settings: dict[str, Any]
    message: str
    kind: str
    created_at: str
    content_hash: str = ""


@dataclass(frozen=True, slots=True)
class RunRow:
    id: int
    version_id: int
    variables: dict[str, Any]
    created_at: str


@dataclass(frozen=True, slots=True)
class ResponseRow:
    id: int
    run_id: int
    base_url: str
    model: str
    params: dict[str, Any]
    messages: list[dict[str, Any]]
    text: str
    status: str
    error: str | None
    finish_reason: str | None
    ttft_ms: float | None
    total_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    usage_estimated: bool
    cost: float | None
    created_at: str


# -- helpers ------------------------------------------------------------------------------


def utc_now() -> str:
    """ISO-8601 UTC with milliseconds; sorts as text in time order."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    # A cursor-level row factory: works whatever the connection's own factory is.
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return list(cursor.execute(sql, params))


def _one(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    rows = _rows(conn, sql, params)
    return rows[0] if rows else None


def _to_json(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StorageError(f"The {what} cannot be saved as JSON: {exc}") from exc


def _normalised_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _looks_secret(name: str) -> bool:
    normalised = _normalised_name(name)
    return normalised in _SECRET_NAMES or normalised.endswith("apikey")


def refuse_secrets(value: Any, what: str, _path: str = "") -> None:
    """Raise :class:`SecretFieldError` if any mapping inside ``value`` has a key-like field.

    Only field names are checked (values are user text and may legitimately discuss keys).
    """
    if isinstance(value, Mapping):
        for name, item in value.items():
            path = f"{_path}.{name}" if _path else str(name)
            if isinstance(name, str) and _looks_secret(name):
                raise SecretFieldError(
                    f"Refusing to save the {what}: the field {path!r} looks like a credential. "
                    "API keys belong in the keychain, not in the library."
                )
            refuse_secrets(item, what, path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            refuse_secrets(item, what, f"{_path}[{index}]")


def content_hash(template: str, variables: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    """SHA-256 over canonical JSON of what a version holds; key order does not matter."""
    canonical = json.dumps(
        {"template": template, "variables": dict(variables), "settings": dict(settings)},
        ensure_ascii=False,
        allow_nan=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _prompt(row: sqlite3.Row) -> PromptRow:
    return PromptRow(
        id=row["id"],
        name=row["name"],
        folder=row["folder"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        trashed_at=row["trashed_at"],
    )


def _version(row: sqlite3.Row) -> VersionRow:
    return VersionRow(
        id=row["id"],
        prompt_id=row["prompt_id"],
        parent_id=row["parent_id"],
        template=row["template"],
        variables=json.loads(row["variables"]),
        settings=json.loads(row["settings"]),
        message=row["message"],
        kind=row["kind"],
        created_at=row["created_at"],
        content_hash=row["content_hash"],
    )


def _run(row: sqlite3.Row) -> RunRow:
    return RunRow(
        id=row["id"],
        version_id=row["version_id"],
        variables=json.loads(row["variables"]),
        created_at=row["created_at"],
    )


def _response(row: sqlite3.Row) -> ResponseRow:
    return ResponseRow(
        id=row["id"],
        run_id=row["run_id"],
        base_url=row["base_url"],
        model=row["model"],
        params=json.loads(row["params"]),
        messages=json.loads(row["messages"]),
        text=row["text"],
        status=row["status"],
        error=row["error"],
        finish_reason=row["finish_reason"],
        ttft_ms=row["ttft_ms"],
        total_ms=row["total_ms"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        usage_estimated=bool(row["usage_estimated"]),
        cost=row["cost"],
        created_at=row["created_at"],
    )


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise StorageError("A prompt needs a name.")
    return cleaned


# -- prompts ------------------------------------------------------------------------------


def create_prompt(conn: sqlite3.Connection, name: str, folder: str = "") -> PromptRow:
    now = utc_now()
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO prompts (name, folder, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (_clean_name(name), folder.strip(), now, now),
        )
        prompt_id = cursor.lastrowid
        assert prompt_id is not None
        return get_prompt(conn, prompt_id)


def get_prompt(conn: sqlite3.Connection, prompt_id: int) -> PromptRow:
    """The prompt, trashed or not; :class:`NotFound` if there is no such prompt."""
    row = _one(conn, "SELECT * FROM prompts WHERE id = ?", (prompt_id,))
    if row is None:
        raise NotFound(f"There is no prompt with id {prompt_id}.")
    return _prompt(row)


def rename_prompt(conn: sqlite3.Connection, prompt_id: int, name: str) -> PromptRow:
    with transaction(conn):
        get_prompt(conn, prompt_id)
        conn.execute(
            "UPDATE prompts SET name = ?, updated_at = ? WHERE id = ?",
            (_clean_name(name), utc_now(), prompt_id),
        )
        return get_prompt(conn, prompt_id)


def trash_prompt(conn: sqlite3.Connection, prompt_id: int) -> None:
    """Hide the prompt from the library; its history stays, so it can come back."""
    with transaction(conn):
        get_prompt(conn, prompt_id)
        conn.execute(
            "UPDATE prompts SET trashed_at = ? WHERE id = ? AND trashed_at IS NULL",
            (utc_now(), prompt_id),
        )


def list_prompts(conn: sqlite3.Connection) -> list[PromptRow]:
    """Prompts not in the trash, by folder then name, ignoring case (Unicode-aware)."""
    prompts = [_prompt(r) for r in _rows(conn, "SELECT * FROM prompts WHERE trashed_at IS NULL")]
    prompts.sort(key=lambda p: (p.folder.casefold(), p.name.casefold(), p.id))
    return prompts


def count_prompts(conn: sqlite3.Connection, *, include_trashed: bool = False) -> int:
    sql = "SELECT count(*) FROM prompts"
    if not include_trashed:
        sql += " WHERE trashed_at IS NULL"
    return int(conn.execute(sql).fetchone()[0])


# -- versions -----------------------------------------------------------------------------


def latest_version(conn: sqlite3.Connection, prompt_id: int) -> VersionRow | None:
    row = _one(
        conn,
        "SELECT * FROM versions WHERE prompt_id = ? ORDER BY id DESC LIMIT 1",
        (prompt_id,),
    )
    return None if row is None else _version(row)


def get_version(conn: sqlite3.Connection, version_id: int) -> VersionRow:
    row = _one(conn, "SELECT * FROM versions WHERE id = ?", (version_id,))
    if row is None:
        raise NotFound(f"There is no version with id {version_id}.")
    return _version(row)


def list_versions(conn: sqlite3.Connection, prompt_id: int) -> list[VersionRow]:
    """The prompt's history, newest first."""
    rows = _rows(conn, "SELECT * FROM versions WHERE prompt_id = ? ORDER BY id DESC", (prompt_id,))
    return [_version(r) for r in rows]


def save_version(
    conn: sqlite3.Connection,
    prompt_id: int,
    template: str,
    variables: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    message: str = "",
    kind: VersionKind = "save",
) -> VersionRow:
    """Record the prompt's current content as a new version, unless nothing changed.

    If the latest version already holds identical content it is returned as is, so saving
    twice or running unchanged text does not pad the history; a new non-empty message is
    still attached to it.
    """
    if kind not in VERSION_KINDS:
        raise StorageError(f"Unknown version kind {kind!r}.")
    refuse_secrets(variables, "variables")
    refuse_secrets(settings, "settings")
    variables_json = _to_json(dict(variables), "variables")
    settings_json = _to_json(dict(settings), "settings")
    digest = content_hash(template, variables, settings)
    with transaction(conn):
        get_prompt(conn, prompt_id)
        latest = latest_version(conn, prompt_id)
        if latest is not None and latest.content_hash == digest:
            if message and message != latest.message:
                conn.execute("UPDATE versions SET message = ? WHERE id = ?", (message, latest.id))
                return get_version(conn, latest.id)
            return latest
        now = utc_now()
        cursor = conn.execute(
            """
            INSERT INTO versions (prompt_id, parent_id, template, variables, settings,
                                  message, kind, content_hash, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                prompt_id,
                None if latest is None else latest.id,
                template,
                variables_json,
                settings_json,
                message,
                kind,
                digest,
                now,
            ),
        )
        conn.execute("UPDATE prompts SET updated_at = ? WHERE id = ?", (now, prompt_id))
        version_id = cursor.lastrowid
        assert version_id is not None
        return get_version(conn, version_id)


# -- runs and responses -------------------------------------------------------------------


def record_run(conn: sqlite3.Connection, version_id: int, variables: Mapping[str, Any]) -> RunRow:
    """One press of Run: the version and the variable values it was rendered with."""
    refuse_secrets(variables, "run variables")
    variables_json = _to_json(dict(variables), "run variables")
    with transaction(conn):
        get_version(conn, version_id)
        cursor = conn.execute(
            "INSERT INTO runs (version_id, variables, created_at) VALUES (?, ?, ?)",
            (version_id, variables_json, utc_now()),
        )
        run_id = cursor.lastrowid
        assert run_id is not None
        row = _one(conn, "SELECT * FROM runs WHERE id = ?", (run_id,))
        assert row is not None
        return _run(row)


def add_response(
    conn: sqlite3.Connection,
    run_id: int,
    *,
    base_url: str,
    model: str,
    params: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]],
    text: str,
    status: str,
    error: str | None,
    finish_reason: str | None,
    ttft_ms: float | None,
    total_ms: float | None,
    input_tokens: int | None,
    output_tokens: int | None,
    usage_estimated: bool,
    cost: float | None = None,
) -> ResponseRow:
    """What one model answered in a run, with the exact messages it was sent."""
    refuse_secrets(params, "request parameters")
    refuse_secrets(list(messages), "messages")
    params_json = _to_json(dict(params), "request parameters")
    messages_json = _to_json([dict(m) for m in messages], "messages")
    with transaction(conn):
        if _one(conn, "SELECT id FROM runs WHERE id = ?", (run_id,)) is None:
            raise NotFound(f"There is no run with id {run_id}.")
        cursor = conn.execute(
            """
            INSERT INTO responses (run_id, base_url, model, params, messages, text, status,
                                   error, finish_reason, ttft_ms, total_ms, input_tokens,
                                   output_tokens, usage_estimated, cost, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                run_id,
                base_url,
                model,
                params_json,
                messages_json,
                text,
                status,
                error,
                finish_reason,
                ttft_ms,
                total_ms,
                input_tokens,
                output_tokens,
                int(bool(usage_estimated)),
                cost,
                utc_now(),
            ),
        )
        response_id = cursor.lastrowid
        assert response_id is not None
        row = _one(conn, "SELECT * FROM responses WHERE id = ?", (response_id,))
        assert row is not None
        return _response(row)


def list_runs(conn: sqlite3.Connection, version_id: int) -> list[RunRow]:
    """Runs of a version, newest first."""
    rows = _rows(conn, "SELECT * FROM runs WHERE version_id = ? ORDER BY id DESC", (version_id,))
    return [_run(r) for r in rows]


def list_responses(conn: sqlite3.Connection, run_id: int) -> list[ResponseRow]:
    """Responses of a run in the order they were added (the order of the run's columns)."""
    rows = _rows(conn, "SELECT * FROM responses WHERE run_id = ? ORDER BY id", (run_id,))
    return [_response(r) for r in rows]
