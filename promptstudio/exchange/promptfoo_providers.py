"""A promptfoo config's ``providers`` as run columns (and the tools they declare).

The inverse of what :mod:`promptstudio.exchange.promptfoo_format` writes; part of
:mod:`promptstudio.exchange.promptfoo_import`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from promptstudio.exchange.document import ANTHROPIC_URL, OPENAI_URL
from promptstudio.exchange.errors import ExchangeError
from promptstudio.exchange.json_format import checked_column_params
from promptstudio.exchange.promptfoo_format import (
    _ANTHROPIC_PARAMS,
    _OLLAMA_PARAMS,
    _OPENAI_PARAMS,
    _SCHEMA_NAME,
)
from promptstudio.providers import GenerationParams
from promptstudio.runs.columns import ColumnConfig
from promptstudio.tools import ToolDef, ToolsError, tools_from_data

OLLAMA_URL = "http://localhost:11434/v1"
# promptfoo's OpenAI endpoints that are not chat: such providers are skipped on import.
_OPENAI_OTHER_ENDPOINTS = frozenset(
    {
        "completion",
        "embedding",
        "embeddings",
        "assistant",
        "realtime",
        "image",
        "moderation",
        "transcription",
        "tts",
        "speech",
        "video",
        "agents",
        "chatkit",
        "codex",
        "codex-sdk",
        "codex-app-server",
        "codex-desktop",
    }
)
# Provider config keys a column takes (or a key that is not imported: never stored).
_USED_CONFIG = frozenset(
    {*_OPENAI_PARAMS, *_ANTHROPIC_PARAMS, *_OLLAMA_PARAMS.values(), "response_format"}
    | {"stop_sequences", "thinking", "apiBaseUrl", "apiKey", "apiKeyEnvar", "apiKeyRequired"}
)
_PROFILE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def columns_from_providers(
    value: object, notes: list[str]
) -> list[tuple[ColumnConfig, list[str] | None]]:
    """A column per provider PromptStudio can run, with the provider's ``prompts`` filter
    (None: every prompt); providers left out and their transforms go into ``notes``."""
    if value is None:
        return []
    entries = value if isinstance(value, list) else [value]
    columns: list[tuple[ColumnConfig, list[str] | None]] = []
    skipped: list[str] = []
    for entry in entries:
        for provider_id, label, config, option in _provider_specs(entry):
            column = _column(provider_id, label, config)
            if column is None:
                skipped.append(provider_id)
                continue
            column.id = f"c{len(columns) + 1}"
            wanted = option.get("prompts")
            if isinstance(wanted, str):
                wanted = [wanted]
            columns.append((column, [str(name) for name in wanted] if wanted else None))
            if option.get("transform"):
                notes.append(
                    f"The transform of provider {provider_id} is left out: it is code promptfoo "
                    "runs on each answer, and PromptStudio keeps the answer as the model gave it."
                )
            unused = [key for key in config if key not in _USED_CONFIG]
            if config.get("passthrough") == {"logprobs": True}:  # what our export asks for
                unused.remove("passthrough")
            if unused:
                notes.append(
                    f"Settings of provider {provider_id} left out (a run column has no place "
                    f"for them): {', '.join(unused)}."
                )
    if skipped:
        notes.append(
            f"Provider{'s' if len(skipped) > 1 else ''} left out (no PromptStudio column can "
            f"run {'them' if len(skipped) > 1 else 'it'}): {', '.join(skipped)}."
        )
    return columns


def columns_for_prompt(
    columns: list[tuple[ColumnConfig, list[str] | None]], names: set[str]
) -> list[ColumnConfig]:
    """The columns whose provider runs the prompt known by ``names`` (its label, id, ...):
    promptfoo's per-provider ``prompts`` list, where ``name*`` matches by prefix."""

    def runs(wanted: list[str] | None) -> bool:
        if wanted is None:
            return True
        return any(
            name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern
            for pattern in wanted
            for name in names
        )

    return [copy.deepcopy(column) for column, wanted in columns if runs(wanted)]


def tools_from_providers(value: object) -> tuple[ToolDef, ...]:
    """The tools of the first provider config that has any (OpenAI's or Anthropic's shape;
    our export writes the same tools to every provider)."""
    entries = value if isinstance(value, list) else [value]
    for entry in entries:
        for provider_id, _label, config, _entry in _provider_specs(entry):
            if config.get("tools"):
                try:
                    return tools_from_data(config["tools"])
                except ToolsError as exc:
                    raise ExchangeError(f"Provider {provider_id}: tools: {exc.reason}.") from None
    return ()


def _tool_params(config: dict[str, Any]) -> dict[str, Any]:
    """``tool_choice`` and ``parallel_tool_calls`` as run settings, from either vendor's
    shape (``{"type": "function", "function": {"name"}}``, ``{"type": "any"}``, ...)."""
    params: dict[str, Any] = {}
    choice = config.get("tool_choice")
    if isinstance(choice, str):
        params["tool_choice"] = choice
    elif isinstance(choice, dict):
        kind = choice.get("type")
        named = choice.get("name") or (choice.get("function") or {}).get("name")
        words = {"any": "required", "auto": "auto", "none": "none"}
        params["tool_choice"] = named if kind in ("function", "tool") else words.get(str(kind))
        if choice.get("disable_parallel_tool_use"):
            params["parallel_tool_calls"] = "no"
    if isinstance(config.get("parallel_tool_calls"), bool):
        params["parallel_tool_calls"] = "yes" if config["parallel_tool_calls"] else "no"
    return {name: value for name, value in params.items() if value}


def _provider_specs(entry: object) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """``(id, label, config, entry)`` for a provider entry; nothing for a shape we can't read."""
    if isinstance(entry, str):
        return [(entry, "", {}, {})]
    if not isinstance(entry, dict):
        return []
    if isinstance(entry.get("id"), str):
        options = [(entry["id"], entry)]
    else:  # {"openai:chat:gpt-4o": {"config": {...}}}
        options = [
            (str(value.get("id") or key), value)
            for key, value in entry.items()
            if isinstance(value, dict)
        ]
    specs = []
    for provider_id, option in options:
        label = option.get("label")
        config = option.get("config")
        specs.append(
            (
                provider_id,
                label if isinstance(label, str) else "",
                config if isinstance(config, dict) else {},
                option,
            )
        )
    return specs


def _column(provider_id: str, label: str, config: dict[str, Any]) -> ColumnConfig | None:
    """A run column inverting what :func:`_providers` writes; None for other providers."""
    parsed = _vendor_and_model(provider_id)
    if parsed is None:
        return None
    vendor, model = parsed
    params: dict[str, Any]
    api_base = config.get("apiBaseUrl")
    api_base = api_base if isinstance(api_base, str) and api_base else None
    if vendor == "anthropic":
        params = {name: config[name] for name in _ANTHROPIC_PARAMS if name in config}
        if "stop_sequences" in config:
            params["stop"] = config["stop_sequences"]
        thinking = config.get("thinking")
        if isinstance(thinking, dict) and thinking.get("type") == "enabled":
            params["thinking_budget"] = thinking.get("budget_tokens")
        profile, base_url = "anthropic", api_base or ANTHROPIC_URL
    elif vendor == "ollama":
        params = {name: config[out] for name, out in _OLLAMA_PARAMS.items() if out in config}
        profile, base_url = "ollama", OLLAMA_URL
    else:
        params = {name: config[name] for name in _OPENAI_PARAMS if name in config}
        params.update(_params_from_response_format(config.get("response_format")))
        custom = api_base is not None and api_base.rstrip("/") != OPENAI_URL
        profile = "" if custom else "openai"
        base_url = api_base if custom and api_base else OPENAI_URL
    params.update(_tool_params(config))
    return ColumnConfig(
        profile=_profile_in_label(label, model) or profile,
        base_url=base_url,
        model=model,
        params=GenerationParams.from_dict(checked_column_params(params, f"Provider {provider_id}")),
    )


def _vendor_and_model(provider_id: str) -> tuple[str, str] | None:
    vendor, _, rest = provider_id.partition(":")
    endpoint, has_model, model = rest.partition(":")
    if not rest:
        return None
    if vendor == "openai":
        if endpoint in ("chat", "responses"):
            return ("openai", model) if has_model else None
        return None if endpoint in _OPENAI_OTHER_ENDPOINTS else ("openai", rest)
    if vendor == "anthropic" and endpoint == "messages" and has_model:
        return "anthropic", model
    if vendor == "ollama":
        if endpoint == "chat":
            return ("ollama", model) if has_model else None
        return None if endpoint in ("completion", "embedding", "embeddings") else ("ollama", rest)
    return None


def _params_from_response_format(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    if value.get("type") == "json_object":
        return {"json_mode": True}
    schema = value.get("json_schema")
    if value.get("type") == "json_schema" and isinstance(schema, dict):
        if set(schema) == {"name", "schema"} and schema["name"] == _SCHEMA_NAME:
            return {"json_schema": schema["schema"]}
        return {"json_schema": schema}
    return {}


def _profile_in_label(label: str, model: str) -> str:
    """The profile id in a label our export wrote (``"<profile> <model>[ #n]"``), or ""."""
    profile, space, rest = label.partition(" ")
    if not space or not _PROFILE_ID.match(profile) or profile == "openai-compatible":
        return ""
    return profile if re.sub(r" #\d+$", "", rest) == model or rest == model else ""
