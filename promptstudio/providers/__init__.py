"""Providers: stream a chat request to a model server and report typed events.

``create_provider`` picks the implementation for an endpoint's kind. The SDK modules are
imported on first use, so importing this package (the UI does, for the types) stays fast:
``import openai`` alone takes about half a second.
"""

from __future__ import annotations

from promptstudio.providers.base import (
    ChatRequest,
    Endpoint,
    Finished,
    GenerationParams,
    Provider,
    StreamError,
    StreamEvent,
    TextDelta,
    Usage,
)
from promptstudio.providers.errors import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    ModelNotFound,
    PermissionDenied,
    ProviderError,
    RateLimited,
    ServerError,
    StreamCut,
    TimedOut,
)

OPENAI_KINDS = frozenset({"openai", "openai-compatible"})

__all__ = [
    "OPENAI_KINDS",
    "AuthenticationFailed",
    "BadRequest",
    "ChatRequest",
    "ConnectionFailed",
    "Endpoint",
    "Finished",
    "GenerationParams",
    "ModelNotFound",
    "PermissionDenied",
    "Provider",
    "ProviderError",
    "RateLimited",
    "ServerError",
    "StreamCut",
    "StreamError",
    "StreamEvent",
    "TextDelta",
    "TimedOut",
    "Usage",
    "create_provider",
]


def create_provider(endpoint: Endpoint) -> Provider:
    """The provider for ``endpoint.kind``; raises ProviderError for a kind we cannot serve."""
    if endpoint.kind in OPENAI_KINDS:
        from promptstudio.providers.openai_chat import OpenAIChatProvider

        return OpenAIChatProvider(endpoint)
    if endpoint.kind == "anthropic":
        raise ProviderError("Anthropic support is not available yet.")
    raise ProviderError(f"Unknown provider kind '{endpoint.kind}' for {endpoint.label}.")
