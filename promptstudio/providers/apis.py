"""Which wire API a target speaks, and which settings each API can carry.

Three APIs: OpenAI Chat Completions (``"chat"``, also spoken by Ollama, LM Studio, llama.cpp,
vLLM, OpenRouter, Groq, ...), OpenAI Responses (``"responses"``) and Anthropic Messages
(``"messages"``). An endpoint's ``api`` is ``"auto"``, ``"chat"`` or ``"responses"``:

* kind ``anthropic`` always speaks Messages (``api`` must be ``"auto"``);
* kind ``openai`` with ``"auto"`` speaks Responses for OpenAI's reasoning models (the o1, o3,
  o4 and gpt-5 families: reasoning effort and reasoning-token usage are first-class there)
  and Chat Completions for every other model;
* kind ``openai-compatible`` with ``"auto"`` speaks Chat Completions, which every compatible
  server implements; choose ``"responses"`` explicitly for servers that have it.

A setting the API cannot express is refused before sending (:func:`check_params`, a typed
``UnsupportedSetting``), so what the user set is what reaches the wire, or the run says why
not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from promptstudio.providers.base import PARAM_NAMES, GenerationParams
from promptstudio.providers.errors import ProviderError, UnsupportedSetting
from promptstudio.providers.param_rules import API_KINDS, PARAM_RULES

Api = Literal["chat", "responses", "messages"]
API_CHOICES = ("auto", "chat", "responses")
KINDS = ("openai", "anthropic", "openai-compatible")
REASONING_EFFORTS = ("low", "medium", "high")

API_TITLES: dict[str, str] = {
    "chat": "Chat Completions API",
    "responses": "Responses API",
    "messages": "Anthropic Messages API",
}

_REASONING_MODEL = re.compile(r"^(o[1-9]\d*|gpt-5)([-.:]|$)")

# Which settings each (API, kind) pair carries: read from the one parameter table.
_SUPPORTED: dict[tuple[str, str], frozenset[str]] = {
    pair: frozenset(name for name in PARAM_NAMES if PARAM_RULES[name].accepted_by(*pair))
    for pair in API_KINDS
}

_HINTS = {
    "thinking_budget": "; set a reasoning effort instead",
    "json_mode": "; give a JSON schema instead",
    "stop": "; Chat Completions has stop sequences",
}


def is_reasoning_model(model: str) -> bool:
    """OpenAI's reasoning families (o1, o3, o4-mini, gpt-5, ...), by name."""
    return bool(_REASONING_MODEL.match(model.strip().lower()))


def resolve_api(kind: str, api: str, model: str) -> Api:
    """The API a request to ``model`` on an endpoint of ``kind`` will speak."""
    if kind not in KINDS:
        raise ProviderError(f"Unknown provider kind '{kind}'.")
    if api not in API_CHOICES:
        raise ProviderError(f"Unknown API '{api}': choose auto, chat or responses.")
    if kind == "anthropic":
        if api != "auto":
            raise ProviderError("Anthropic endpoints speak the Messages API; set the API to auto.")
        return "messages"
    if api != "auto":
        return "chat" if api == "chat" else "responses"
    if kind == "openai" and is_reasoning_model(model):
        return "responses"
    return "chat"


def supported_params(api: str, kind: str) -> frozenset[str]:
    """Names of the :class:`GenerationParams` fields ``api`` can carry for ``kind``."""
    if api == "messages":
        return _SUPPORTED[("messages", "anthropic")]
    key = "openai" if kind == "openai" else "openai-compatible"
    return _SUPPORTED.get((api, key), frozenset())


def check_params(
    api: str, kind: str, params: GenerationParams, label: str
) -> UnsupportedSetting | None:
    """Why these settings cannot be sent to ``label`` over ``api``, or None when they can."""
    title = API_TITLES.get(api, api)
    allowed = supported_params(api, kind)
    refused = [name for name in params.set_names() if name not in allowed]
    if refused:
        names = ", ".join(refused)
        verb = "is" if len(refused) == 1 else "are"
        hint = _HINTS.get(refused[0], "") if len(refused) == 1 else ""
        return UnsupportedSetting(f"{names} {verb} not available on the {title} ({label}){hint}.")
    effort = params.reasoning_effort
    if effort is not None and effort not in REASONING_EFFORTS:
        return UnsupportedSetting(f"Reasoning effort must be low, medium or high, not '{effort}'.")
    if params.json_schema is not None and not params.json_schema:
        return UnsupportedSetting("The JSON schema is empty.")
    return None


def json_schema_wrapper(schema: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI's ``{"name", "schema", "strict"?}`` for a schema given bare or wrapped.

    A bare schema is named after its ``title`` (or "response"); strictness is left to the
    server's default unless the wrapper sets it.
    """
    if isinstance(schema.get("schema"), Mapping) and isinstance(schema.get("name"), str):
        return dict(schema)
    title = schema.get("title")
    name = "response"
    if isinstance(title, str) and title.strip():
        name = re.sub(r"[^A-Za-z0-9_-]", "_", title.strip())[:64]
    return {"name": name, "schema": dict(schema)}
