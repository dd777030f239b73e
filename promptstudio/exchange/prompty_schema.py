"""Prompty ``outputs`` (structured output) as the JSON-schema response format, and back.

The schema is the one the Prompty runtime sends for ``outputs`` (its OpenAI executor's
``response_format``): an object of the output properties, all listed as required, those
not ``required`` nullable, ``additionalProperties: false`` at every object, wrapped as
``{"name": "structured_output", "strict": true, "schema": ...}``.
"""

from __future__ import annotations

from typing import Any

from promptstudio.exchange.errors import ExchangeError

SCHEMA_NAME = "structured_output"
_JSON_TYPES = {
    "string": "string",
    "integer": "integer",
    "float": "number",
    "number": "number",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}
KINDS = {"string": "string", "integer": "integer", "number": "float", "boolean": "boolean",
         "array": "array", "object": "object"}  # fmt: skip
"""A JSON Schema type's Prompty kind."""


def properties_list(value: object, what: str) -> list[dict[str, Any]]:
    """Prompty properties as a list of mappings with a ``name`` (v2 writes a list, v1 a
    mapping of name to property)."""
    if isinstance(value, dict):
        value = [
            {"name": name, **(spec if isinstance(spec, dict) else {"kind": "string"})}
            for name, spec in value.items()
        ]
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and isinstance(item.get("name"), str) for item in value
    ):
        raise ExchangeError(f"'{what}' must be a list of properties, each with a 'name'.")
    return value


def outputs_schema(outputs: object) -> dict[str, Any]:
    """The response format ``GenerationParams.json_schema`` holds for ``outputs``."""
    schema = object_schema(properties_list(outputs, "outputs"), strict=True)
    return {"name": SCHEMA_NAME, "strict": True, "schema": schema}


def property_schema(
    prop: dict[str, Any], *, strict: bool, optional: bool = False
) -> dict[str, Any]:
    """The JSON Schema of one Prompty property. ``strict`` (structured output): objects list
    every property as required, the ``optional`` ones (and ``nullable``) accept null, and
    allow no others; otherwise (a tool's parameters) only the ``required`` ones are listed."""
    kind = str(prop.get("kind") or prop.get("type") or "")
    json_type = _JSON_TYPES.get(kind)
    schema: dict[str, Any] = {"type": json_type} if json_type else {}
    if prop.get("description"):
        schema["description"] = str(prop["description"])
    if isinstance(prop.get("enumValues"), list):
        schema["enum"] = list(prop["enumValues"])
    if kind == "array":
        items = prop.get("items")
        schema["items"] = (
            property_schema(items, strict=strict) if isinstance(items, dict) else {"type": "string"}
        )
    if kind == "object":
        inner = properties_list(prop.get("properties") or [], "properties")
        schema.update(object_schema(inner, strict=strict))
    if strict and (prop.get("nullable") or optional):
        if isinstance(schema.get("type"), str):
            schema["type"] = [schema["type"], "null"]
        if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
            schema["enum"].append(None)
    return schema


def object_schema(properties: list[dict[str, Any]], *, strict: bool) -> dict[str, Any]:
    """The JSON Schema of an object of Prompty ``properties`` (see :func:`property_schema`)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            prop["name"]: property_schema(prop, strict=strict, optional=not prop.get("required"))
            for prop in properties
        },
    }
    required = [prop["name"] for prop in properties if strict or prop.get("required")]
    if required:
        schema["required"] = required
    if strict:
        schema["additionalProperties"] = False
    return schema


def schema_outputs(json_schema: object) -> list[dict[str, Any]] | None:
    """``outputs`` for a response format :func:`outputs_schema` could have made; None for
    any other schema (it then travels as a setting)."""
    if not isinstance(json_schema, dict) or json_schema.get("name") != SCHEMA_NAME:
        return None
    schema = json_schema.get("schema")
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return None
    outputs = [_property(name, spec) for name, spec in schema["properties"].items()]
    if any(output is None for output in outputs):
        return None
    found = [output for output in outputs if output is not None]
    return found if outputs_schema(found) == json_schema else None


def _property(name: str, schema: object) -> dict[str, Any] | None:
    if not isinstance(schema, dict):
        return None
    json_type = schema.get("type")
    nullable = isinstance(json_type, list) and "null" in json_type
    if isinstance(json_type, list):
        json_type = next((t for t in json_type if t != "null"), None)
    kind = KINDS.get(str(json_type))
    if kind is None:
        return None
    prop: dict[str, Any] = {"name": name, "kind": kind}
    if schema.get("description"):
        prop["description"] = schema["description"]
    if isinstance(schema.get("enum"), list):
        prop["enumValues"] = [value for value in schema["enum"] if value is not None]
    if kind == "array" and isinstance(schema.get("items"), dict):
        items = _property("items", schema["items"])
        if items is None:
            return None
        prop["items"] = {k: v for k, v in items.items() if k != "name"}
    if kind == "object":
        inner = schema.get("properties") or {}
        if not isinstance(inner, dict):
            return None
        found = [_property(key, value) for key, value in inner.items()]
        if any(item is None for item in found):
            return None
        prop["properties"] = found
    if not nullable:
        prop["required"] = True
    return prop
