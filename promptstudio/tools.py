"""Tool definitions a prompt carries, and checks of the calls a model makes to them.

A tool is a name, a description and a JSON Schema for its arguments (what all three APIs
take, each in its own wrapping: see the providers). ``mock`` is the canned result the
playground sends back when the model calls it: JSON text, or a Jinja template over the
call's arguments. The tool list is edited as JSON text; :func:`parse_tools` reads it and
says where a problem is (line and column of the text), so the editor can mark the spot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from promptstudio.errors import PromptStudioError

__all__ = [
    "ToolDef",
    "ToolsError",
    "argument_error",
    "parse_tools",
    "text_with_tools",
    "tool_named",
    "tools_from_data",
    "tools_text",
]

_EMPTY_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}


class ToolsError(PromptStudioError):
    """The tool list is not usable; ``line`` and ``column`` (from 1) point at the spot."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.reason = message
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class ToolDef:
    """One function the model may call."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: dict(_EMPTY_PARAMETERS), hash=False)
    mock: str = ""  # the canned result: JSON text or a Jinja template over the arguments

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as the Tools panel shows it (``mock`` only when set)."""
        data: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
        }
        if self.mock:
            data["mock"] = self.mock
        return data

    def openai_function(self) -> dict[str, Any]:
        """The ``function`` object of OpenAI's Chat Completions tool (name, description,
        parameters)."""
        out: dict[str, Any] = {"name": self.name, "parameters": self.parameters}
        if self.description:
            out["description"] = self.description
        return out


def tools_text(tools: Iterable[ToolDef]) -> str:
    """The tool list as the panel's JSON text ("" for none)."""
    listed = [tool.to_dict() for tool in tools]
    return json.dumps(listed, indent=2, ensure_ascii=False) if listed else ""


def tools_from_data(data: Any) -> tuple[ToolDef, ...]:
    """Tools from stored or imported data (a list of tool objects, ours or OpenAI-shaped);
    :class:`ToolsError` (without a position) for anything else."""
    return _tools(data, {})


def parse_tools(text: str) -> tuple[ToolDef, ...]:
    """The tools in the panel's JSON ``text`` (empty: none). :class:`ToolsError` names the
    first problem with its line and column: JSON syntax, a missing name, a name used twice,
    or parameters that are not a valid JSON Schema (checked against its meta-schema)."""
    if not text.strip():
        return ()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolsError(exc.msg, exc.lineno, exc.colno) from None
    return _tools(data, _positions(text))


def argument_error(tool: ToolDef, arguments: str) -> str | None:
    """The first reason ``arguments`` (a call's JSON text) do not fit the tool's schema, or
    None when they do."""
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError as exc:
        return f"the arguments are not JSON ({exc.msg})"
    import jsonschema  # a tenth of a second to import: when a schema is first used

    try:
        validator = jsonschema.validators.validator_for(tool.parameters)(tool.parameters)
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    except jsonschema.SchemaError as exc:
        return f"the tool's schema is not valid ({exc.message})"
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


# ---- reading ---------------------------------------------------------------------------

Path = tuple[str | int, ...]


def _tools(data: Any, positions: dict[Path, tuple[int, int]]) -> tuple[ToolDef, ...]:
    def fail(message: str, path: Path) -> ToolsError:
        while path and path not in positions:
            path = path[:-1]
        return ToolsError(message, *positions.get(path, (1, 1)))

    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise fail("the tools are a JSON list of tool objects", ())
    tools: list[ToolDef] = []
    for index, item in enumerate(data):
        at: Path = (index,)
        if isinstance(item, dict) and isinstance(item.get("function"), dict):
            item, at = item["function"], (index, "function")  # OpenAI's wrapping
        if not isinstance(item, dict):
            raise fail("a tool is a JSON object with a name and parameters", at)
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise fail("a tool needs a name", at)
        if any(tool.name == name for tool in tools):
            raise fail(f"the name '{name}' is used twice", (*at, "name"))
        description = item.get("description", "")
        if not isinstance(description, str):
            raise fail("a description is a text", (*at, "description"))
        params = item.get("parameters", item.get("input_schema", _EMPTY_PARAMETERS))
        key = "parameters" if "parameters" in item else "input_schema"
        if not isinstance(params, dict):
            raise fail("parameters are a JSON Schema object", (*at, key))
        import jsonschema  # a tenth of a second to import: when a schema is first used

        try:
            jsonschema.validators.validator_for(params).check_schema(params)
        except jsonschema.SchemaError as exc:
            path = (*at, key, *exc.path)
            raise fail(f"not a valid JSON Schema: {exc.message}", path) from None
        mock = item.get("mock", "")
        if not isinstance(mock, str):
            mock = json.dumps(mock, ensure_ascii=False)
        tools.append(ToolDef(name.strip(), description, dict(params), mock))
    return tuple(tools)


_scanstring: Any = getattr(json.decoder, "scanstring")  # noqa: B009  # untyped in typeshed


def _positions(text: str) -> dict[Path, tuple[int, int]]:
    """Where each value of valid JSON ``text`` starts, as (line, column) by its path."""
    decoder = json.JSONDecoder()
    found: dict[Path, int] = {}
    spaces = " \t\n\r"

    def skip(i: int) -> int:
        while i < len(text) and text[i] in spaces:
            i += 1
        return i

    def value(i: int, path: Path) -> int:
        i = skip(i)
        found[path] = i
        if text[i] == "{":
            i = skip(i + 1)
            if text[i] == "}":
                return i + 1
            while True:
                key, i = _scanstring(text, skip(i) + 1)
                i = skip(skip(i) + 1)  # past ":"
                i = skip(value(i, (*path, key)))
                if text[i] == "}":
                    return i + 1
                i += 1  # ","
        if text[i] == "[":
            i = skip(i + 1)
            if text[i] == "]":
                return i + 1
            index = 0
            while True:
                i = skip(value(i, (*path, index)))
                index += 1
                if text[i] == "]":
                    return i + 1
                i += 1
        return decoder.raw_decode(text, i)[1]

    value(0, ())
    starts = [0]
    for number, char in enumerate(text):
        if char == "\n":
            starts.append(number + 1)

    def line_col(offset: int) -> tuple[int, int]:
        low, high = 0, len(starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low + 1, offset - starts[low] + 1

    return {path: line_col(offset) for path, offset in found.items()}


def tool_named(tools: Sequence[ToolDef], name: str) -> ToolDef | None:
    """The tool called ``name``, if the list has one."""
    return next((tool for tool in tools if tool.name == name), None)


TOOLS_HEADING = "── tools ──"


def text_with_tools(template: str, settings: Mapping[str, Any]) -> str:
    """What a version diff compares: the template, then the version's tools (if any) as
    the Tools panel shows them, so a changed schema shows as changed lines."""
    stored = settings.get("tools")
    if not stored:
        return template
    return f"{template}\n\n{TOOLS_HEADING}\n{json.dumps(stored, indent=2, ensure_ascii=False)}"
