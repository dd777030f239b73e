"""JSON in answers: strict parsing, the JSON values inside prose, where a value breaks a
schema, and the pretty view of an answer with where it stops being valid JSON.

The ``is-json`` and ``contains-json`` graders and the run column's JSON view all read
answers through here. jsonschema takes a fifth of a second to import, so it is imported
only when a schema is used.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

_MAX_JSON_STARTS = 10_000  # JSON decode attempts when searching a text for JSON values
_JSON_START = re.compile(r"[\[{]")
_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)\n?```", re.DOTALL)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def loads(text: str) -> Any:
    """Strict JSON: Python's NaN and Infinity extensions are refused."""
    return _DECODER.decode(text)


def json_values(text: str) -> list[Any]:
    """The JSON values in ``text``: all of it if it is JSON, else each object or array found
    in it (inside code fences, after prose ...), outermost only, in order."""
    try:
        return [loads(text)]
    except ValueError:
        pass
    found: list[Any] = []
    position = 0
    for _ in range(_MAX_JSON_STARTS):
        start = _JSON_START.search(text, position)
        if start is None:
            break
        try:
            value, end = _DECODER.raw_decode(text, start.start())
        except ValueError:
            position = start.start() + 1
            continue
        found.append(value)
        position = end
    return found


def _schema_error(validator: Validator, data: Any) -> ValidationError | None:
    import jsonschema

    return jsonschema.exceptions.best_match(validator.iter_errors(data))


def schema_problem(validator: Validator, data: Any) -> str | None:
    """Where ``data`` breaks the validator's schema (``at $.path, message``), or None."""
    error = _schema_error(validator, data)
    if error is None:
        return None
    return f"at {error.json_path}, {error.message}"


def format_json(text: str, schema: dict[str, Any] | None = None) -> tuple[str, str | None]:
    """Pretty JSON, or the text as it is and where it stops being JSON; with a schema,
    where the value breaks it.

    Models often wrap JSON in a Markdown fence; the fence is looked through.
    """
    body = text.strip()
    fenced = _FENCE.fullmatch(body)
    if fenced:
        body = fenced.group(1)
    if not body:
        return text, None
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        return text, f"Not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
    pretty = json.dumps(value, indent=2, ensure_ascii=False)
    if schema:
        import jsonschema

        error = _schema_error(jsonschema.validators.validator_for(schema)(schema), value)
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "the top level"
            return (
                pretty,
                f"Valid JSON, but not valid against the schema at {where}: {error.message}",
            )
    return pretty, None
