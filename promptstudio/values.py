"""Variable values typed as text: the CLI's ``--var NAME=VALUE`` and the variables form.

A value that parses as a JSON array, object, number or boolean is taken as that value, so
few-shot lists can be given as text; anything else stays a plain string.
"""

from __future__ import annotations

import json
from collections.abc import Mapping


def parse_value(text: str) -> object:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{-0123456789tf":
        return text
    try:
        value = json.loads(stripped)
    except ValueError:
        return text
    if isinstance(value, list | dict | bool | int | float):
        return value
    return text


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
    return name, parse_value(raw)


def parse_values(texts: Mapping[str, str]) -> dict[str, object]:
    return {name: parse_value(raw) for name, raw in texts.items()}
