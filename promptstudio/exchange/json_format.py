"""PromptStudio's own lossless format: one JSON object with ``"format_version": 1``.

The ``checked_*`` helpers validate the parts other imports share (Markdown's JSON blocks,
promptfoo tests), so every format refuses a malformed column or test case the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from promptstudio.exchange.document import (
    PromptDocument,
    column_from_dict,
    columns_from_dicts,
    columns_to_dicts,
    unknown_params,
)
from promptstudio.exchange.errors import ExchangeError
from promptstudio.exchange.image_exchange import images_from_json, images_to_json, sent_images
from promptstudio.exchange.reading import checked_text
from promptstudio.providers import GenerationParams
from promptstudio.providers.param_rules import ParamError, checked_params
from promptstudio.runs.columns import ColumnConfig
from promptstudio.tools import ToolDef, ToolsError, tools_from_data

FORMAT = "promptstudio.prompt"
FORMAT_VERSION = 1


def to_json(doc: PromptDocument) -> str:
    """The document as pretty, key-sorted JSON (stable, so the file diffs well in git)."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": doc.name,
        "description": doc.description,
        "folder": doc.folder,
        "tags": list(doc.tags),
        "template": doc.template,
        "variables": doc.variables,
        "columns": columns_to_dicts(doc.columns),
        "cases": doc.cases,
    }
    if doc.tools:
        data["tools"] = [tool.to_dict() for tool in doc.tools]
    if doc.versions is not None:
        data["versions"] = doc.versions
    images = doc.images or sent_images(doc.template, doc.variables)
    if images:
        data["images"] = images_to_json(images)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def from_json(data: str | bytes) -> PromptDocument:
    """A document from :func:`to_json` output; :class:`ExchangeError` for anything else.

    ``cases`` is optional (files written before test cases existed have none).
    """
    text = checked_text(data)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExchangeError(f"This is not valid JSON: {exc.msg}.", line=exc.lineno) from None
    except RecursionError:
        raise ExchangeError("The JSON is nested too deeply.") from None
    if not isinstance(raw, dict):
        raise ExchangeError("A PromptStudio prompt file holds one JSON object.", line=1)
    version = raw.get("format_version")
    if version != FORMAT_VERSION:
        raise ExchangeError(
            f"Unsupported format_version {version!r}: this PromptStudio reads version "
            f"{FORMAT_VERSION}."
        )
    versions = raw.get("versions")
    if versions is not None and not (
        isinstance(versions, list) and all(isinstance(v, dict) for v in versions)
    ):
        raise ExchangeError("'versions' must be a list of objects.")
    for number, old in enumerate(versions or [], start=1):
        settings = old.get("settings")
        if isinstance(settings, dict) and "columns" in settings:
            try:  # a stored version can be restored and run: the same rules hold
                checked_columns(settings["columns"])
            except ExchangeError as exc:
                raise ExchangeError(f"Stored version {number}: {exc}") from None
    notes: list[str] = []
    return PromptDocument(
        name=_text(raw, "name", required=True),
        description=_text(raw, "description"),
        folder=_text(raw, "folder"),
        tags=checked_tags(raw.get("tags", [])),
        template=_text(raw, "template", required=True),
        variables=_object(raw, "variables"),
        columns=checked_columns(raw.get("columns", []), notes),
        cases=checked_cases(raw.get("cases", [])),
        tools=checked_tools(raw.get("tools", [])),
        versions=versions,
        notes=notes,
        images=images_from_json(raw.get("images")),
    )


def checked_tools(value: object) -> list[ToolDef]:
    """``value`` as tool definitions, or :class:`ExchangeError` saying what is wrong."""
    try:
        return list(tools_from_data(value or []))
    except ToolsError as exc:
        raise ExchangeError(f"'tools': {exc.reason}.") from None


def checked_tags(value: object) -> list[str]:
    """``value`` as a list of tags, or :class:`ExchangeError`."""
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ExchangeError("'tags' must be a list of text.")
    return list(value)


def checked_columns(
    value: object, notes: list[str] | None = None, *, check_settings: bool = True
) -> list[ColumnConfig]:
    """``value`` (JSON: a list of objects whose ``params`` is an object) as run columns
    whose settings keep the editor's rules (:func:`checked_settings`), or ExchangeError.
    ``check_settings=False`` takes the settings as they are (an export reading itself)."""
    if not isinstance(value, list) or not all(isinstance(column, dict) for column in value):
        raise ExchangeError("'columns' must be a list of objects.")
    for column in value:
        if "params" in column and not isinstance(column["params"], dict):
            raise ExchangeError("A column's 'params' must be an object.")
    return checked_settings(value, notes) if check_settings else columns_from_dicts(value)


def checked_settings(
    columns: list[dict[str, Any]], notes: list[str] | None = None
) -> list[ColumnConfig]:
    """``columns`` (JSON objects shaped like :meth:`ColumnConfig.to_dict`) as run columns
    whose settings the run column's editor could hold (:func:`checked_column`)."""
    return [checked_column(column, number, notes) for number, column in enumerate(columns, start=1)]


def checked_column(
    data: Mapping[str, Any], number: int, notes: list[str] | None = None
) -> ColumnConfig:
    """One column read from a file (a JSON object shaped like :meth:`ColumnConfig.to_dict`)
    as a run column, its settings checked by :func:`column_settings`."""
    params = data.get("params")
    column = column_from_dict({**data, "params": {}})
    what = column_label(number, column.model)
    if params is not None and not isinstance(params, dict):
        raise ExchangeError(f"{what}: 'params' must be an object.")
    column.params = column_settings(params or {}, what, notes)
    return column


def column_label(number: int, model: str) -> str:
    """How messages name a column read from a file: ``Run column 2 (model gpt-4o)``."""
    return f"Run column {number} (model {model or '?'})"


def column_settings(
    params: Mapping[str, Any], what: str, notes: list[str] | None = None
) -> GenerationParams:
    """A column's settings read from a file (by our names), checked by the rules of
    :data:`~promptstudio.providers.param_rules.PARAM_RULES` (the run column's editor's),
    or :class:`ExchangeError` naming the column (``what``), the setting and what it may
    be (the .prompty, JSON and Markdown readers' columns pass here). Names a run column
    has no place for are left out and named in ``notes``."""
    checked = checked_column_params(dict(params), what)
    dropped = unknown_params({"params": checked})
    if dropped and notes is not None:
        notes.append(f"{what}: {', '.join(dropped)} not kept (not a run setting).")
    return GenerationParams.from_dict(checked)


def checked_column_params(params: dict[str, Any], what: str) -> dict[str, Any]:
    """``params`` checked by the editor's rules; ExchangeError ``what, setting: ...``."""
    try:
        return checked_params(params)
    except ParamError as exc:
        raise ExchangeError(f"{what}, {exc}.") from None


def checked_cases(value: object) -> list[dict[str, Any]]:
    """``value`` as test cases, or :class:`ExchangeError` naming the first bad one.

    Each case is an object with a ``vars`` object; ``description`` must be text,
    ``expected`` text (or null) and ``assert`` a list of objects when present. Other keys
    are kept as they are.
    """
    if not isinstance(value, list):
        raise ExchangeError("'cases' must be a list of test cases.")
    for number, case in enumerate(value, start=1):
        if not isinstance(case, dict) or not isinstance(case.get("vars"), dict):
            raise ExchangeError(f"Test case {number} must be an object with a 'vars' object.")
        if not isinstance(case.get("description", ""), str):
            raise ExchangeError(f"The 'description' of test case {number} must be text.")
        if not isinstance(case.get("expected", ""), str | None):
            raise ExchangeError(f"The 'expected' answer of test case {number} must be text.")
        checks = case.get("assert", [])
        if not isinstance(checks, list) or not all(isinstance(check, dict) for check in checks):
            raise ExchangeError(f"The 'assert' of test case {number} must be a list of objects.")
    return list(value)


def _text(raw: dict[str, Any], key: str, *, required: bool = False) -> str:
    if key not in raw and not required:
        return ""
    value = raw.get(key)
    if not isinstance(value, str):
        raise ExchangeError(f"'{key}' must be text.")
    return value


def _object(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ExchangeError(f"'{key}' must be an object.")
    return value
