r"""A case's checks as text, one per line: ``contains: Paris``, ``not-regex: ^\d+$``.

This is the shorthand of promptfoo's CSV ``__expected`` columns, and what people type in a
table cell: ``type`` alone (``is-json``), ``type: value``, or a whole assertion as one line
of JSON (``{"type": "llm-rubric", "value": "polite", "threshold": 0.8}``). A threshold may
also follow the type in parentheses, as promptfoo writes it (``latency(2000)``).

Writing is lossless: :func:`format_check` uses the short form only when :func:`parse_check`
reads it back identically (same keys, same value types), and the JSON form otherwise, so
``parse_checks(format_checks(checks)) == checks`` for every valid list.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from promptstudio.evals.graders import (
    ASSERTION_TYPES,
    NEGATION_PREFIX,
    UNGRADED_TYPES,
    GraderError,
    check_assertion,
)

log = logging.getLogger(__name__)

LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")
"""What ends a line of checks (and of a JSON Lines file): the three newline conventions."""

_NAME = re.compile(r"(?P<type>[^()\s]+)(?:\((?P<threshold>[^()]*)\))?")
_INTEGER = re.compile(r"[-+]?\d+")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_THRESHOLD_TYPES = frozenset({"latency", "cost"})  # the number after the colon is a threshold
_COUNT_TYPES = frozenset({"max-length", "min-length"})
_SCHEMA_TYPES = frozenset({"is-json", "contains-json"})
# Their value is an object when written as one (``is-sql: {"databaseType": "Sqlite"}``).
_OBJECT_TYPES = frozenset({"is-xml", "contains-xml", "is-sql", "contains-sql"})
# Characters str.splitlines() breaks at that JSON leaves unescaped: escaped, a JSON check
# stays one line in every editor and table cell.
_UNSPLIT = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class CheckLineError(GraderError):
    """A line of checks that cannot be read; ``line`` is 1-based, blank lines counted."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"Line {line}: {reason}")
        self.line = line
        self.reason = reason


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)  # strict: no NaN or Infinity


# ---- writing ------------------------------------------------------------------------


def format_check(assertion: Mapping[str, Any]) -> str:
    """``assertion`` as one line: the short form when it reads back identically, else JSON."""
    short = _short_form(assertion)
    if short is not None and len(short.splitlines()) == 1:
        try:
            if _canonical(_read(short)) == _canonical(assertion):
                return short
        except GraderError:
            pass
    return _json_line(assertion)


def format_checks(asserts: Sequence[Mapping[str, Any]]) -> str:
    """The checks one per line, in order (no trailing newline; empty for no checks)."""
    return "\n".join(format_check(assertion) for assertion in asserts)


def _short_form(assertion: Mapping[str, Any]) -> str | None:
    written = assertion.get("type")
    if not isinstance(written, str):
        return None
    others = set(assertion) - {"type"}
    if not others:
        return written
    key = "threshold" if _base(written) in _THRESHOLD_TYPES else "value"
    if others != {key}:
        return None
    value = assertion[key]
    return f"{written}: {value if isinstance(value, str) else _compact(value)}"


def _json_line(assertion: Mapping[str, Any]) -> str:
    ordered = {key: assertion[key] for key in sorted(assertion, key=lambda key: key != "type")}
    return _compact(ordered).translate(_UNSPLIT)


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _canonical(value: object) -> str:
    """Equal only when the JSON is: tells 2000 from 2000.0, and True from 1."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# ---- reading ------------------------------------------------------------------------


def parse_checks(text: str) -> list[dict[str, Any]]:
    """The checks in ``text``, one per line; blank lines are skipped.

    Raises :class:`CheckLineError` (a :class:`GraderError`) whose message starts with
    ``Line N:``, counting blank lines, so an editor can point at the line.
    """
    checks = []
    for number, line in enumerate(LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        try:
            checks.append(parse_check(line))
        except GraderError as exc:
            raise CheckLineError(number, exc.message) from exc
    return checks


def parse_check(line: str) -> dict[str, Any]:
    """The assertion one line of text stands for, checked with :func:`check_assertion`."""
    assertion = _read(line)
    check_assertion(assertion)
    return assertion


def reads_as_check(text: str) -> bool:
    """True when ``text`` is one line that names a known check type, valid or not.

    ``contains: x``, ``is-json``, ``latency(500)`` and ``{"type": "regex", ...}`` do;
    ``Paris``, ``Answer: 42`` and ``{"type": "object"}`` do not. A CSV ``__expected`` cell
    that reads as a check is one (and an error if malformed); any other is an answer.
    """
    line = text.strip()
    if not line or LINE_BREAK.search(line):
        return False
    if line.startswith("{"):
        try:
            data = _DECODER.decode(line)
        except ValueError:
            return False
        return isinstance(data, dict) and _is_known(data.get("type"))
    name = _NAME.fullmatch(line.partition(":")[0].strip())
    return name is not None and _is_known(name["type"])


def _read(line: str) -> dict[str, Any]:
    """The assertion in ``line``, not yet checked: only the syntax and value types."""
    text = line.rstrip()
    if not text:
        raise GraderError("The line is empty: write a check such as 'contains: Paris'.")
    if LINE_BREAK.search(text):
        raise GraderError("A check is one line; put each check on its own line.")
    head = text.lstrip()
    if head.startswith("{"):
        return _json_check(head, len(text) - len(head))
    return _short_check(text)


def _json_check(text: str, indent: int) -> dict[str, Any]:
    try:
        data = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise GraderError(
            f"The check is not valid JSON ({exc.msg}, at character {exc.pos + indent + 1})."
        ) from None
    except ValueError as exc:
        raise GraderError(f"The check is not valid JSON ({exc}).") from None
    assert isinstance(data, dict)  # the text starts with "{"
    return data


def _short_check(text: str) -> dict[str, Any]:
    head, _, rest = text.partition(":")
    name = _NAME.fullmatch(head.strip())
    if name is None or not _is_known(name["type"]):
        raise GraderError(_unknown_message(head.strip()))
    written = name["type"]
    assertion: dict[str, Any] = {"type": written}
    if name["threshold"] is not None:
        assertion["threshold"] = _number(written, name["threshold"].strip(), "threshold")
    value = rest.removeprefix(" ")  # "type: value", the way people write it
    if not value:
        return assertion
    base = _base(written)
    if base in _THRESHOLD_TYPES:
        if "threshold" in assertion:
            raise GraderError(f"'{written}' has two thresholds: give it once.")
        assertion["threshold"] = _number(written, value.strip(), "threshold")
    elif base in _COUNT_TYPES:
        assertion["value"] = _whole(written, value.strip())
    elif base == "word-count":
        stripped = value.strip()
        json_value = stripped.startswith("{")
        assertion["value"] = _json(written, stripped) if json_value else _whole(written, stripped)
    elif base in _SCHEMA_TYPES or (base in _OBJECT_TYPES and value.lstrip().startswith("{")):
        assertion["value"] = _json(written, value.strip())
    else:
        assertion["value"] = value
    return assertion


def _number(written: str, text: str, what: str) -> int | float:
    if _INTEGER.fullmatch(text):
        return int(text)
    if _NUMBER.fullmatch(text):
        return float(text)
    raise GraderError(
        f"The {what} of '{written}' must be a number, like 2000 or 0.5, not {text!r}."
    )


def _whole(written: str, text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise GraderError(f"The value of '{written}' must be a whole number ≥ 0, not {text!r}.")
    return int(text)


def _json(written: str, text: str) -> Any:
    try:
        return _DECODER.decode(text)
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise GraderError(f"The value of '{written}' is not valid JSON ({reason}).") from None


def _unknown_message(name: str) -> str:
    if not name:
        return "A check starts with its type, like 'contains: Paris'."
    first = name.split()[0]
    if first != name and _is_known(first):
        return f"Put a colon after the type: '{first}: {name[len(first) :].strip()}'."
    return (
        f"Unknown check type '{name}'. Known types: {', '.join(ASSERTION_TYPES)}; each can be "
        f"negated with '{NEGATION_PREFIX}'. Write a check as 'type: value', like "
        "'contains: Paris'."
    )


def _base(written: str) -> str:
    return written.removeprefix(NEGATION_PREFIX)


def _is_known(written: object) -> bool:
    """A type graded here, or one of promptfoo's that is kept but not graded."""
    return isinstance(written, str) and (
        _base(written) in ASSERTION_TYPES or _base(written) in UNGRADED_TYPES
    )
