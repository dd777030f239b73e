"""Small helpers shared by the storage modules: row access, timestamps, JSON, hashing.

Kept apart from the modules that use them so ``prompts``, ``versions``, ``runs`` and
``search`` can import them without importing each other.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from promptstudio.storage.errors import NotFound, SecretFieldError, StorageError

logger = logging.getLogger(__name__)

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

# Joins lists in one column (group_concat) without clashing with user text.
LIST_SEPARATOR = "\x1f"


def utc_now() -> str:
    """ISO-8601 UTC with milliseconds; sorts as text in time order."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Params = Sequence[Any] | Mapping[str, Any]


def rows(conn: sqlite3.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    # A cursor-level row factory: works whatever the connection's own factory is.
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return list(cursor.execute(sql, params))


def one(conn: sqlite3.Connection, sql: str, params: Params = ()) -> sqlite3.Row | None:
    found = rows(conn, sql, params)
    return found[0] if found else None


def scalar(conn: sqlite3.Connection, sql: str, params: Params = ()) -> Any:
    row = conn.execute(sql, params).fetchone()
    return None if row is None else row[0]


def split_list(value: str | None) -> tuple[str, ...]:
    """Undo ``group_concat(x, char(31))``."""
    return tuple(value.split(LIST_SEPARATOR)) if value else ()


def to_json(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StorageError(f"The {what} cannot be saved as JSON: {exc}") from exc


def stored_json(text: str | None, default: dict[str, Any] | list[Any]) -> Any:
    """A JSON column's value, or ``default`` when damage to the file made it unreadable.

    A changed byte inside a row passes SQLite's checks, so the row is read with its
    damaged field emptied (as recovery would) rather than failing every read.
    """
    try:
        value = json.loads(text) if text is not None else None
    except ValueError as exc:
        value = exc
    if not isinstance(value, type(default)):
        logger.warning("A stored JSON value is damaged (%.80r); read as %r", value, default)
        return default
    return value


def _normalised_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


_SCALARS = (str, int, float, type(None))
_PLAIN = frozenset({str, int, float, bool, type(None)})  # scalars, told by type alone


@functools.lru_cache(maxsize=4096)  # the same few names recur in every case and cell
def _looks_secret(name: str) -> bool:
    normalised = _normalised_name(name)
    return normalised in _SECRET_NAMES or normalised.endswith("apikey")


def _field_names(value: Any) -> set[Any]:
    """Every mapping key anywhere inside ``value`` (an explicit stack: no recursion)."""
    names: set[Any] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict or isinstance(item, Mapping):
            names.update(item.keys())
            item = item.values()
        elif not isinstance(item, list | tuple):
            continue
        for inner in item:
            if type(inner) not in _PLAIN and not isinstance(inner, _SCALARS):
                stack.append(inner)
    return names


def refuse_secrets(value: Any, what: str, _path: str = "") -> None:
    """Raise :class:`SecretFieldError` if any mapping inside ``value`` has a key-like field.

    Only field names are checked (values are user text and may legitimately discuss keys).
    Each distinct name is judged once; the slow walk that names the path runs only when one
    looks like a credential (131k stored cases are checked in a fraction of a second).
    """
    if not _path and not any(
        isinstance(name, str) and _looks_secret(name) for name in _field_names(value)
    ):
        return
    if isinstance(value, Mapping):
        for name, item in value.items():
            if isinstance(name, str) and _looks_secret(name):
                path = f"{_path}.{name}" if _path else name
                raise SecretFieldError(
                    f"Refusing to save the {what}: the field {path!r} looks like a credential. "
                    "API keys belong in the keychain, not in the library."
                )
            if not isinstance(item, _SCALARS):  # cheap first: most values are text
                refuse_secrets(item, what, f"{_path}.{name}" if _path else str(name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if not isinstance(item, _SCALARS):
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


def require_prompt(conn: sqlite3.Connection, prompt_id: int) -> None:
    """:class:`NotFound` unless the prompt exists (trashed or not)."""
    if scalar(conn, "SELECT 1 FROM prompts WHERE id = ?", (prompt_id,)) is None:
        raise NotFound(f"There is no prompt with id {prompt_id}.")


def clean_name(name: str, what: str = "A prompt") -> str:
    cleaned = name.strip()
    if not cleaned:
        raise StorageError(f"{what} needs a name.")
    return cleaned


def like_pattern(text: str) -> str:
    """``%text%`` for ``LIKE ... ESCAPE '\\'`` with the wildcards in ``text`` escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def serialise_content(
    template: str, variables: Mapping[str, Any], settings: Mapping[str, Any], what: str = ""
) -> tuple[str, str, str]:
    """Check for secrets, serialise, and hash a version's or draft's content.

    Returns (variables JSON, settings JSON, content hash); ``what`` names the kind of
    content in error messages ("draft variables", ...)."""
    prefix = f"{what} " if what else ""
    refuse_secrets(variables, f"{prefix}variables")
    refuse_secrets(settings, f"{prefix}settings")
    return (
        to_json(dict(variables), f"{prefix}variables"),
        to_json(dict(settings), f"{prefix}settings"),
        content_hash(template, variables, settings),
    )
