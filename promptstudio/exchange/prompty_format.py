"""Prompty files (``.prompty``): YAML front matter, then the template with role markers.

Writes the current Prompty v2 schema (``model.id/provider/connection/options``, ``inputs``
as a list of properties, ``template.format/parser``); reads v2 and v1
(``model.configuration/parameters``, ``inputs`` as a mapping, ``sample``). PromptStudio's
own extras (folder, column ids, further columns) travel in ``metadata.promptstudio``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from promptstudio.exchange.document import (
    ANTHROPIC_URL,
    OPENAI_URL,
    PromptDocument,
    column_params,
    columns_to_dicts,
    key_env_var,
    provider_kind,
)
from promptstudio.exchange.errors import ExchangeError
from promptstudio.exchange.front_matter import dump_front_matter, split_front_matter
from promptstudio.exchange.json_format import checked_settings
from promptstudio.exchange.reading import checked_text
from promptstudio.runs.columns import ColumnConfig

# Our parameter names → Prompty v2 ``model.options`` names.
OPTION_NAMES: dict[str, str] = {
    "temperature": "temperature",
    "max_tokens": "maxOutputTokens",
    "top_p": "topP",
    "stop": "stopSequences",
    "seed": "seed",
    "top_k": "topK",
    "reasoning_effort": "reasoningEffort",
    "frequency_penalty": "frequencyPenalty",
    "presence_penalty": "presencePenalty",
}
_PARAM_NAMES = {option: param for param, option in OPTION_NAMES.items()}


def to_prompty(doc: PromptDocument) -> str:
    """The document as a Prompty v2 file (the first column becomes ``model``)."""
    front: dict[str, Any] = {"name": doc.name}
    if doc.description:
        front["description"] = doc.description
    extras: dict[str, Any] = {}
    if doc.folder:
        extras["folder"] = doc.folder
    if doc.columns:
        first = doc.columns[0]
        extras["column"] = {"id": first.id, "profile": first.profile}
        if len(doc.columns) > 1:
            extras["moreColumns"] = columns_to_dicts(doc.columns[1:])
    metadata: dict[str, Any] = {"tags": list(doc.tags)}
    if extras:
        metadata["promptstudio"] = extras
    front["metadata"] = metadata
    if doc.columns:
        front["model"] = _model(doc.columns[0])
    if doc.variables:
        front["inputs"] = [_input(name, value) for name, value in doc.variables.items()]
    front["template"] = {"format": {"kind": "jinja2"}, "parser": {"kind": "prompty"}}
    return dump_front_matter(front, doc.template)


def _model(column: ColumnConfig) -> dict[str, Any]:
    kind = provider_kind(column)
    base_url = column.base_url
    model: dict[str, Any] = {
        "id": column.model,
        "provider": "anthropic" if kind == "anthropic" else "openai",
        "apiType": "chat",
    }
    env_var = (
        key_env_var(base_url)
        if base_url
        else ("ANTHROPIC_API_KEY" if kind == "anthropic" else "OPENAI_API_KEY")
    )
    connection: dict[str, Any] = {"kind": "key" if env_var else "anonymous"}
    if base_url not in (OPENAI_URL, ANTHROPIC_URL, ""):
        connection["endpoint"] = base_url
    if env_var:
        # A reference Prompty resolves when it runs; the key itself is never written.
        connection["apiKey"] = "${env:" + env_var + "}"
    model["connection"] = connection
    options: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, value in column_params(column).items():
        if name in OPTION_NAMES:
            options[OPTION_NAMES[name]] = value
        else:
            extra[name] = value
    if extra:
        options["additionalProperties"] = extra
    if options:
        model["options"] = options
    return model


def _input(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "kind": _kind(value), "default": value} | (
        {"items": {"kind": _items_kind(value)}} if isinstance(value, list) else {}
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def _items_kind(values: list[Any]) -> str:
    kinds = {_kind(value) for value in values}
    return kinds.pop() if len(kinds) == 1 else "object"


def from_prompty(data: str | bytes, *, name: str = "") -> PromptDocument:
    """A document from a Prompty v2 or v1 file; :class:`ExchangeError` when it can't be read.

    Also read, as the Prompty runtime reads them: a file that is only a body (no front
    matter; ``name`` names it), ``model: gpt-4o`` as a bare model id, and ``${env:VAR}``
    or ``${env:VAR:default}`` in an endpoint (resolved now; a key never is: keys are not
    read from the file at all).
    """
    text = checked_text(data)
    if text.split("\n", 1)[0].rstrip() != "---":
        return PromptDocument(name=name or "Imported prompt", template=text)
    front, body = split_front_matter(text)
    if isinstance(front.get("model"), str):
        front["model"] = {"id": front["model"]}
    metadata = _mapping(front, "metadata")
    extras = metadata.get("promptstudio")
    extras = extras if isinstance(extras, dict) else {}
    tags = metadata.get("tags", front.get("tags", []))
    if not isinstance(tags, list):
        raise ExchangeError("'metadata.tags' must be a list.")
    columns: list[dict[str, Any]] = []
    model = _mapping(front, "model")
    if model:
        column = (
            _column_v2(model)
            if "configuration" not in model and "parameters" not in model
            else _column_v1(model)
        )
        first = extras.get("column")
        if isinstance(first, dict):
            column = {**column, **{k: v for k, v in first.items() if k in ("id", "profile")}}
        columns.append(column)
    more = extras.get("moreColumns", [])
    if isinstance(more, list):
        columns.extend(column for column in more if isinstance(column, dict))
    notes: list[str] = []
    return PromptDocument(
        name=str(front.get("name") or name or "Imported prompt"),
        description=str(front.get("description") or ""),
        folder=str(extras.get("folder") or ""),
        tags=[str(tag) for tag in tags],
        template=body,
        variables=_variables(front),
        columns=checked_settings(columns, notes),
        notes=notes,
    )


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ExchangeError(f"'{key}' must be a mapping.")
    return value


def _column_v2(model: dict[str, Any]) -> dict[str, Any]:
    provider = str(model.get("provider") or "openai")
    connection = _mapping(model, "connection")
    default = ANTHROPIC_URL if provider == "anthropic" else OPENAI_URL
    params: dict[str, Any] = {}
    for name, value in _mapping(model, "options").items():
        if name == "additionalProperties" and isinstance(value, dict):
            params.update(value)
        else:
            params[_PARAM_NAMES.get(name, name)] = value
    return {
        "profile": provider
        if provider in ("openai", "anthropic") and "endpoint" not in connection
        else "",
        "base_url": _resolved(connection.get("endpoint")) or default,
        "model": str(model.get("id") or ""),
        "params": params,
    }


def _column_v1(model: dict[str, Any]) -> dict[str, Any]:
    configuration = _mapping(model, "configuration")
    kind = str(configuration.get("type") or "openai")
    name = (
        configuration.get("azure_deployment")
        or configuration.get("name")
        or configuration.get("model")
        or ""
    )
    base_url = (
        _resolved(configuration.get("azure_endpoint"))
        or _resolved(configuration.get("base_url"))
        or OPENAI_URL
    )
    return {
        "profile": "openai" if kind == "openai" and base_url == OPENAI_URL else "",
        "base_url": str(base_url),
        "model": str(name),
        "params": dict(_mapping(model, "parameters")),
    }


_ENV_REFERENCE = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}$")


def _resolved(value: object) -> str:
    """An endpoint as text, with a whole-value ``${env:VAR[:default]}`` looked up now.

    Only a web address is taken from the environment: a file naming ``${env:OPENAI_API_KEY}``
    as its endpoint would otherwise store the key as a URL and send it with every request.
    """
    text = str(value or "").strip()
    found = _ENV_REFERENCE.match(text)
    if found is None:
        return text
    resolved = os.environ.get(found.group(1), found.group(2) or "").strip()
    if resolved and not resolved.lower().startswith(("http://", "https://")):
        raise ExchangeError(
            f"The endpoint {text} does not hold a web address (http:// or https://) in this "
            "environment, so it is not used; name the server's URL in the file instead."
        )
    return resolved


def _variables(front: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    inputs = front.get("inputs")
    if isinstance(inputs, list):  # v2: a list of properties
        for item in inputs:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ExchangeError("Each entry of 'inputs' needs a 'name'.")
            variables[item["name"]] = item.get("default", item.get("example", ""))
    elif isinstance(inputs, dict):  # v1: name → {type, default, sample} or a plain value
        for name, spec in inputs.items():
            if isinstance(spec, dict):
                variables[name] = spec.get("default", spec.get("sample", ""))
            else:
                variables[name] = spec
    elif inputs is not None:
        raise ExchangeError("'inputs' must be a list or a mapping.")
    sample = front.get("sample")
    if isinstance(sample, dict):  # v1 sample values win over defaults
        variables.update(sample)
    return variables
