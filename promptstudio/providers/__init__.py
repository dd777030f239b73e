"""Providers: stream a chat request to a model server and report typed events.

Three wire APIs through the official SDKs: OpenAI Chat Completions (OpenAI and every
compatible server), OpenAI Responses and Anthropic Messages. ``create_provider`` picks one
for an endpoint (``providers.apis`` says how). The SDK modules are imported on first use,
so importing this package (the UI does, for the types) stays fast: ``import openai`` alone
takes about half a second. ``prepare`` (or ``preload``) imports them ahead of a request,
on a worker thread, so no event loop and no time-to-first-token clock waits for them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from promptstudio.providers.apis import (
    API_CHOICES,
    KINDS,
    Api,
    check_params,
    is_reasoning_model,
    resolve_api,
    supported_params,
)
from promptstudio.providers.base import (
    ChatRequest,
    Endpoint,
    Finished,
    GenerationParams,
    Provider,
    RequestSent,
    Retrying,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
    is_local,
    server_key,
)
from promptstudio.providers.errors import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    ImagesRefused,
    ModelNotFound,
    Overloaded,
    PermissionDenied,
    ProviderError,
    RateLimited,
    ServerError,
    StreamCut,
    TimedOut,
    UnsupportedSetting,
)
from promptstudio.providers.models import ModelCache, list_models
from promptstudio.providers.pricing import ModelPrice, PriceTable, estimate_tokens
from promptstudio.providers.profiles import (
    PRESETS,
    DuplicateProfile,
    InvalidProfile,
    ProfileError,
    ProviderProfile,
    SecretInProfile,
    UnknownProfile,
)

if TYPE_CHECKING:
    from promptstudio.providers.streaming import SdkStreamProvider

log = logging.getLogger(__name__)

OPENAI_KINDS = frozenset({"openai", "openai-compatible"})

__all__ = [
    "API_CHOICES",
    "KINDS",
    "OPENAI_KINDS",
    "PRESETS",
    "Api",
    "AuthenticationFailed",
    "BadRequest",
    "ChatRequest",
    "ConnectionFailed",
    "DuplicateProfile",
    "Endpoint",
    "Finished",
    "GenerationParams",
    "ImagesRefused",
    "InvalidProfile",
    "ModelCache",
    "ModelNotFound",
    "ModelPrice",
    "Overloaded",
    "PermissionDenied",
    "PriceTable",
    "ProfileError",
    "Provider",
    "ProviderError",
    "ProviderProfile",
    "RateLimited",
    "RequestSent",
    "Retrying",
    "SecretInProfile",
    "ServerError",
    "StreamCut",
    "StreamError",
    "StreamEvent",
    "TextDelta",
    "TimedOut",
    "ToolCallDelta",
    "UnknownProfile",
    "UnsupportedSetting",
    "Usage",
    "check_params",
    "create_provider",
    "estimate_tokens",
    "is_local",
    "is_reasoning_model",
    "list_models",
    "preload",
    "prepare",
    "resolve_api",
    "server_key",
    "supported_params",
]


def create_provider(endpoint: Endpoint, api: str | None = None) -> Provider:
    """The provider for ``endpoint`` speaking ``api`` (default: the endpoint's own).

    With ``"auto"`` on kind ``openai`` the API depends on the model, so the provider picks
    per request. Raises ProviderError for a kind or API we cannot serve.
    """
    choice = api or endpoint.api
    if endpoint.kind not in KINDS:
        raise ProviderError(f"Unknown provider kind '{endpoint.kind}' for {endpoint.label}.")
    if endpoint.kind == "openai" and choice == "auto":
        return _ModelChosenProvider(endpoint)
    return _provider_for(endpoint, resolve_api(endpoint.kind, choice, ""))


def _provider_for(endpoint: Endpoint, chosen: Api) -> Provider:
    return _provider_class(chosen)(endpoint)


def _provider_class(chosen: Api) -> type[SdkStreamProvider]:
    """The class speaking ``chosen``; imports its SDK (``import anthropic``: ~1 s)."""
    if chosen == "messages":
        from promptstudio.providers.anthropic_messages import AnthropicMessagesProvider

        return AnthropicMessagesProvider
    if chosen == "responses":
        from promptstudio.providers.openai_responses import OpenAIResponsesProvider

        return OpenAIResponsesProvider
    from promptstudio.providers.openai_chat import OpenAIChatProvider

    return OpenAIChatProvider


_warmed: set[Api] = set()
_warming = threading.Lock()


def preload(endpoint: Endpoint, model: str = "") -> None:
    """Import the SDK a request to ``endpoint`` needs and pay its first-use costs.

    Blocking (up to ~1.5 s the first time, nothing after): call it on a thread with no
    event loop, e.g. through :func:`prepare`. An endpoint we cannot serve is left to
    :func:`create_provider` to explain.
    """
    try:
        chosen = resolve_api(endpoint.kind, endpoint.api, model)
    except ProviderError:
        return
    with _warming:
        if chosen not in _warmed:
            _provider_class(chosen).warm_up()
            _warmed.add(chosen)


async def prepare(endpoint: Endpoint, model: str = "") -> None:
    """:func:`preload` in a worker thread, so neither the clock nor the loop waits on it."""
    try:
        chosen = resolve_api(endpoint.kind, endpoint.api, model)
    except ProviderError:
        return
    if chosen in _warmed:
        return
    try:
        await asyncio.to_thread(preload, endpoint, model)
    except Exception:  # the request itself will say what is wrong
        log.warning("could not preload the SDK for %s", endpoint.label, exc_info=True)


class _ModelChosenProvider:
    """OpenAI with ``api="auto"``: Responses for reasoning models, Chat for the rest."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    def __repr__(self) -> str:
        return f"_ModelChosenProvider({self.endpoint!r})"

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        chosen = resolve_api(self.endpoint.kind, "auto", request.model)
        return _provider_for(self.endpoint, chosen).stream(request)
