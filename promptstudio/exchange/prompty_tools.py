"""Tools in Prompty v2: ``tools`` entries of ``kind: function`` with Prompty properties.

Prompty describes a function's parameters as properties (``name``, ``kind``,
``description``, ``required``, ``enumValues``, ``items``, ``properties``), which its
runtime turns into the JSON Schema it sends (``_tools_to_wire``: an object of those
properties, the ``required`` ones listed). The export writes that form, so the Prompty
runtime sends the tools as PromptStudio does for the schemas properties can say; the exact
schema and the mock result travel in ``metadata.promptstudio.tools``, so a PromptStudio
export reads back unchanged. Tools of other kinds (MCP, OpenAPI, ...) are not kept.
"""

from __future__ import annotations

from typing import Any

from promptstudio.exchange.errors import ExchangeError
from promptstudio.exchange.prompty_schema import KINDS, object_schema, properties_list
from promptstudio.tools import ToolDef, ToolsError, tools_from_data


def tools_to_prompty(tools: list[ToolDef]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(``tools`` for the front matter, what ``metadata.promptstudio.tools`` keeps)."""
    written: list[dict[str, Any]] = []
    exact: dict[str, Any] = {}
    for tool in tools:
        entry: dict[str, Any] = {"name": tool.name, "kind": "function"}
        if tool.description:
            entry["description"] = tool.description
        schema = tool.parameters
        listed = schema.get("required")
        required: list[Any] = listed if isinstance(listed, list) else []
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            entry["parameters"] = [
                _property(name, spec, name in required) for name, spec in properties.items()
            ]
        written.append(entry)
        kept: dict[str, Any] = {"parameters": schema}
        if tool.mock:
            kept["mock"] = tool.mock
        exact[tool.name] = kept
    return written, exact


def _property(name: str, schema: object, required: bool) -> dict[str, Any]:
    spec = schema if isinstance(schema, dict) else {}
    json_type = spec.get("type")
    if isinstance(json_type, list):
        json_type = next((t for t in json_type if t != "null"), None)
    prop: dict[str, Any] = {"name": name, "kind": KINDS.get(str(json_type), "string")}
    if spec.get("description"):
        prop["description"] = str(spec["description"])
    if isinstance(spec.get("enum"), list):
        prop["enumValues"] = list(spec["enum"])
    if prop["kind"] == "array" and isinstance(spec.get("items"), dict):
        items = _property("items", spec["items"], False)
        prop["items"] = {k: v for k, v in items.items() if k not in ("name", "required")}
    if prop["kind"] == "object" and isinstance(spec.get("properties"), dict):
        listed = spec.get("required")
        inner: list[Any] = listed if isinstance(listed, list) else []
        prop["properties"] = [
            _property(key, value, key in inner) for key, value in spec["properties"].items()
        ]
    if required:
        prop["required"] = True
    return prop


def tools_from_prompty(value: object, exact: object, notes: list[str]) -> list[ToolDef]:
    """The function tools of a Prompty file (``exact``: what our export kept of them)."""
    if not value:
        return []
    if isinstance(value, dict):
        value = [
            {"name": name, **(spec if isinstance(spec, dict) else {"kind": spec})}
            for name, spec in value.items()
        ]
    if not isinstance(value, list):
        raise ExchangeError("'tools' must be a list of tools.")
    kept = exact if isinstance(exact, dict) else {}
    read: list[dict[str, Any]] = []
    skipped: list[str] = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ExchangeError("Each of 'tools' needs a 'name'.")
        if item.get("kind", "function") != "function":
            skipped.append(f"{item['name']} ({item.get('kind')})")
            continue
        ours = kept.get(item["name"])
        ours = ours if isinstance(ours, dict) else {}
        parameters = ours.get("parameters")
        if not isinstance(parameters, dict):
            listed = properties_list(item.get("parameters") or [], "parameters")
            parameters = object_schema(listed, strict=False)
        read.append(
            {
                "name": item["name"],
                "description": str(item.get("description") or ""),
                "parameters": parameters,
                "mock": ours.get("mock", ""),
            }
        )
    if skipped:
        notes.append(f"Tools not kept (only kind: function is): {', '.join(skipped)}.")
    try:
        return list(tools_from_data(read))
    except ToolsError as exc:
        raise ExchangeError(f"tools: {exc.reason}.") from None
