"""The provider interface: a request goes in, a stream of events comes out.

A provider never raises out of :meth:`Provider.stream` for an expected failure: it yields
a :class:`StreamError` event carrying a typed :class:`ProviderError` and stops. Text that
arrived before a failure has already been yielded, so the caller keeps it.
Cancelling the consuming task closes the HTTP connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from promptstudio.chat import Message
from promptstudio.providers.errors import ProviderError


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to reach a provider. ``api_key`` lives only in memory."""

    base_url: str
    api_key: str | None = None
    kind: str = "openai-compatible"  # "openai", "anthropic", "openai-compatible"
    name: str = ""  # display name used in error messages; defaults to the base URL
    extra_headers: dict[str, str] = field(default_factory=dict)
    connect_timeout: float = 5.0
    first_token_timeout: float = 120.0
    idle_timeout: float = 60.0
    max_retries: int = 2

    @property
    def label(self) -> str:
        return self.name or self.base_url

    def __repr__(self) -> str:  # never show the key
        return f"Endpoint(base_url={self.base_url!r}, kind={self.kind!r}, name={self.name!r})"


@dataclass(frozen=True, slots=True)
class GenerationParams:
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("temperature", "top_p", "max_tokens", "seed"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.stop:
            out["stop"] = list(self.stop)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationParams:
        return cls(
            temperature=data.get("temperature"),
            top_p=data.get("top_p"),
            max_tokens=data.get("max_tokens"),
            stop=tuple(data.get("stop") or ()),
            seed=data.get("seed"),
        )


@dataclass(frozen=True, slots=True)
class ChatRequest:
    messages: tuple[Message, ...]
    model: str
    params: GenerationParams = GenerationParams()


# ---- stream events -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int | None
    output_tokens: int | None
    estimated: bool = False  # True when counted locally because the server sent none


@dataclass(frozen=True, slots=True)
class Finished:
    reason: str  # the server's finish reason ("stop", "length", ...) or "unknown"


@dataclass(frozen=True, slots=True)
class StreamError:
    error: ProviderError


StreamEvent = TextDelta | Usage | Finished | StreamError


class Provider(Protocol):
    """Anything that can stream a chat completion."""

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Yield events; ends after a :class:`Finished` or a :class:`StreamError`."""
        ...
