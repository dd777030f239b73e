"""Checks of the tool calls in an answer, with promptfoo's names and meaning.

* ``is-valid-openai-tools-call``: the answer calls tools, each one the prompt defines,
  with arguments that validate against its JSON Schema.
* ``tool-call-f1``: F1 of the names of the tools called against the expected names
  (``value``: a list, or ``a, b``); passes at ``threshold`` (default 1: exactly those).
* ``contains-tool-call`` (ours; promptfoo has no check of arguments): the named tool was
  called with arguments containing the given JSON subset; ``value`` is
  ``{"name": ..., "arguments": {...}}``, or just a name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from promptstudio.evals import grading
from promptstudio.tools import argument_error, tool_named

if TYPE_CHECKING:
    from promptstudio.evals.grading import Answer, _Check, _Spec

TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "is-valid-openai-tools-call": "The answer calls the prompt's tools with arguments "
        "that fit their schemas.",
        "tool-call-f1": "F1 of the tools called against the expected names ≥ threshold "
        "(default 1).",
        "contains-tool-call": "The named tool was called with arguments containing a JSON "
        'subset (value: {"name": ..., "arguments": {...}}).',
    }
)


def check_value(spec: _Spec) -> None:
    """Raise ``GraderError`` for a value the check cannot use."""
    if spec.base == "tool-call-f1":
        _expected_names(spec)
    elif spec.base == "contains-tool-call":
        _wanted_call(spec)


def _expected_names(spec: _Spec) -> set[str]:
    value = spec.value
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise grading.GraderError(f"'{spec.written}' needs a 'value': the expected tool names.")
    found = {name.strip() for name in names if name.strip()}
    if not found:
        raise grading.GraderError(f"'{spec.written}' needs a 'value': the expected tool names.")
    return found


def _wanted_call(spec: _Spec) -> tuple[str, Any]:
    value = spec.value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            message = f"The value of '{spec.written}' is not JSON: {exc.msg}."
            raise grading.GraderError(message) from None
    if isinstance(value, str) and value.strip():
        return value.strip(), {}
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        return value["name"], value.get("arguments") or {}
    raise grading.GraderError(
        f"'{spec.written}' needs a 'value': a tool name, or "
        '{"name": ..., "arguments": {...}}.'
    )


def _valid_calls(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    if not answer.tool_calls:
        return grading._Check(False, "The answer calls no tool.")
    for call in answer.tool_calls:
        tool = tool_named(answer.tools, call.name)
        if tool is None:
            return grading._Check(False, f"The answer calls '{call.name}', which is no tool.")
        problem = argument_error(tool, call.arguments)
        if problem is not None:
            return grading._Check(False, f"The arguments of {call.name} do not fit: {problem}.")
    count = grading._plural(len(answer.tool_calls), "tool call")
    return grading._Check(True, f"{count}, each valid against its tool's schema.")


def _f1(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    wanted = _expected_names(spec)
    called = {call.name for call in answer.tool_calls}
    hits = len(wanted & called)
    precision = hits / len(called) if called else 0.0
    recall = hits / len(wanted)
    score = 2 * precision * recall / (precision + recall) if hits else 0.0
    threshold = spec.threshold if spec.threshold is not None else 1.0
    shown = ", ".join(sorted(called)) or "none"
    passed = score >= threshold
    sign = "≥" if passed else "<"
    return grading._Check(
        passed, f"Tool-call F1 {score:.2f} {sign} {threshold:g} (called: {shown}).", score
    )


def _contains_subset(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and _contains_subset(actual[key], item) for key, item in wanted.items()
        )
    if isinstance(wanted, list):
        return isinstance(actual, list) and all(
            any(_contains_subset(have, item) for have in actual) for item in wanted
        )
    return bool(actual == wanted)


def _contains_call(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    name, arguments = _wanted_call(spec)
    calls = [call for call in answer.tool_calls if call.name == name]
    if not calls:
        return grading._Check(False, f"The answer does not call {name}.")
    for call in calls:
        try:
            actual = json.loads(call.arguments or "{}")
        except json.JSONDecodeError:
            continue
        if _contains_subset(actual, arguments):
            return grading._Check(True, f"{name} was called with {call.arguments or '{}'}.")
    return grading._Check(
        False, f"{name} was called, but not with {json.dumps(arguments, ensure_ascii=False)}."
    )


GRADERS: Final[Mapping[str, Callable[[_Spec, Answer, str | None], _Check]]] = MappingProxyType(
    {
        "is-valid-openai-tools-call": _valid_calls,
        "tool-call-f1": _f1,
        "contains-tool-call": _contains_call,
    }
)
