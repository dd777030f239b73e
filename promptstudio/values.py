"""Variable values typed as text: the CLI's ``--var NAME=VALUE`` and the variables form.

A value that parses as a JSON array, object, number or boolean is taken as that value, so
few-shot lists can be given as text; anything else stays a plain string.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

#: The deepest nesting a parsed value may have. Deeper JSON is refused by ``--var`` and stays
#: text in the form: storing, hashing and rendering such a value would recurse too deeply.
MAX_DEPTH = 100


class TooDeep(ValueError):
    """JSON nested deeper than :data:`MAX_DEPTH`."""


def parse_value(text: str) -> object:
    try:
        return _typed(text)
    except TooDeep:
        return text


def _typed(text: str) -> object:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{-0123456789tf":
        return text
    try:
        value = json.loads(stripped)
    except RecursionError:
        raise TooDeep(f"JSON nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:
        return text
    if isinstance(value, list | dict) and _depth(value) > MAX_DEPTH:
        raise TooDeep(f"JSON nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, list | dict | bool | int | float):
        return value
    return text


def _depth(value: object) -> int:
    """How deeply lists and objects nest in ``value`` (iterative: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, list | dict):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            if level <= MAX_DEPTH:
                stack.extend((child, level + 1) for child in children)
    return deepest


def format_value(value: object) -> str:
    """The text that :func:`parse_value` turns back into ``value``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return json.dumps(value)


def parse_assignment(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` -> (name, parsed value). Raises ValueError with a plain message."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise ValueError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, _typed(raw)
    except TooDeep as exc:
        raise ValueError(f"{name}: {exc}") from None


def parse_values(texts: Mapping[str, str]) -> dict[str, object]:
    return {name: parse_value(raw) for name, raw in texts.items()}
