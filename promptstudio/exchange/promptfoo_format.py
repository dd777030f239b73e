"""promptfoo configs (``promptfooconfig.yaml``): written from a prompt, and read back.

Export: the template becomes one inline chat-format prompt (a JSON list of messages, split
at the role markers written in the template) labelled with the prompt's name, which
promptfoo renders with Nunjucks, Jinja2's close cousin. Each run column becomes a
provider, each test case a test (``description``, ``vars``, ``assert``, and the expected
answer in ``metadata.expected``); without test cases, one test holds the current
variables. Keys stay in the environment: promptfoo reads ``OPENAI_API_KEY`` and
``ANTHROPIC_API_KEY`` itself, and other OpenAI-compatible hosts name theirs in
``apiKeyEnvar``.

Reading them back is :mod:`promptstudio.exchange.promptfoo_import`.
"""

from __future__ import annotations

import json
from typing import Any

from promptstudio.chat import Role
from promptstudio.exchange.document import (
    ANTHROPIC_URL,
    PromptDocument,
    column_params,
    key_env_var,
    provider_kind,
)
from promptstudio.exchange.front_matter import dump_yaml
from promptstudio.exchange.image_exchange import content_parts, embedded
from promptstudio.runs.columns import ColumnConfig
from promptstudio.templating.roles import marker_role
from promptstudio.templating.source import normalise

_OPENAI_PARAMS = ("temperature", "max_tokens", "top_p", "stop", "seed", "reasoning_effort")
_ANTHROPIC_PARAMS = ("temperature", "max_tokens", "top_p", "top_k")
_OLLAMA_PARAMS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "seed": "seed",
    "stop": "stop",
    "max_tokens": "num_predict",
}
_SCHEMA_NAME = "response"  # the name a bare JSON Schema gets in OpenAI's wrapper


# ---- export --------------------------------------------------------------------------


def to_promptfoo(doc: PromptDocument) -> str:
    """The document as a ``promptfooconfig.yaml`` (keys in a fixed order)."""
    config: dict[str, Any] = {
        "description": doc.description or doc.name,
        "prompts": [{"label": doc.name, "raw": chat_prompt(doc.template)}],
        "providers": _providers(doc.columns),
        "tests": [_test(case) for case in doc.cases] or [{"vars": _embedded(doc.variables)}],
    }
    # A comment ends at any line break, and YAML refuses control characters.
    name = " ".join("".join(ch if ch.isprintable() else " " for ch in doc.name).split())
    header = f"# promptfoo config exported from PromptStudio: {name}\n"
    return header + dump_yaml(config)


def chat_prompt(template: str) -> str:
    """The template as promptfoo's chat format: a JSON list of ``{role, content}``."""
    turns: list[tuple[Role, list[str]]] = []
    # Line ends as the template engine reads them: a lone "\r" ends a line there too.
    for line in normalise(template).split("\n"):
        role = marker_role(line)
        if role is not None:
            turns.append((role, []))
        elif turns:
            turns[-1][1].append(line)
        elif line.strip():
            turns.append(("user", [line]))
    messages = [
        {"role": role, "content": content_parts("\n".join(lines).strip("\n"))}
        for role, lines in turns
    ]
    return json.dumps(messages, indent=2, ensure_ascii=False)


def _embedded(variables: dict[str, Any]) -> dict[str, Any]:
    """Values with image files as data URLs: promptfoo puts them into ``image_url`` parts."""
    return {name: embedded(value) for name, value in variables.items()}


def _test(case: dict[str, Any]) -> dict[str, Any]:
    """One test case in promptfoo's documented test keys."""
    test: dict[str, Any] = {}
    if case.get("description"):
        test["description"] = case["description"]
    test["vars"] = _embedded(dict(case.get("vars") or {}))
    if case.get("assert"):
        test["assert"] = list(case["assert"])
    if case.get("expected") is not None:
        # promptfoo has no "expected answer" key; metadata is its place for extra data.
        test["metadata"] = {"expected": case["expected"]}
    return test


def _providers(columns: list[ColumnConfig]) -> list[dict[str, Any]]:
    providers: list[dict[str, Any]] = []
    labels: set[str] = set()
    for index, column in enumerate(columns, start=1):
        kind = provider_kind(column)
        model = column.model
        params = column_params(column)
        base_url = column.base_url
        config: dict[str, Any]
        if kind == "anthropic":
            provider_id = f"anthropic:messages:{model}"
            config = {name: params[name] for name in _ANTHROPIC_PARAMS if name in params}
            if "stop" in params:
                config["stop_sequences"] = params["stop"]
            if params.get("thinking_budget") is not None:
                config["thinking"] = {"type": "enabled", "budget_tokens": params["thinking_budget"]}
            if base_url and base_url.rstrip("/") != ANTHROPIC_URL:
                config["apiBaseUrl"] = base_url
        elif kind == "ollama":
            provider_id = f"ollama:chat:{model}"
            config = {out: params[name] for name, out in _OLLAMA_PARAMS.items() if name in params}
        else:
            provider_id = f"openai:chat:{model}"
            config = {name: params[name] for name in _OPENAI_PARAMS if name in params}
            response_format = _response_format(params)
            if response_format:
                config["response_format"] = response_format
            if kind == "openai-compatible":
                config["apiBaseUrl"] = base_url
                env_var = key_env_var(base_url)
                if env_var:
                    config["apiKeyEnvar"] = env_var
        label = (column.profile or kind) + f" {model}"
        if label in labels:
            label = f"{label} #{index}"
        labels.add(label)
        entry: dict[str, Any] = {"id": provider_id, "label": label}
        if config:
            entry["config"] = config
        providers.append(entry)
    return providers


def _response_format(params: dict[str, Any]) -> dict[str, Any] | None:
    schema = params.get("json_schema")
    if isinstance(schema, dict):
        wrapped = schema if {"name", "schema"} <= schema.keys() else None
        return {
            "type": "json_schema",
            "json_schema": wrapped or {"name": _SCHEMA_NAME, "schema": schema},
        }
    if params.get("json_mode"):
        return {"type": "json_object"}
    return None
