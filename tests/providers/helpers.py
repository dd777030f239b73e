"""Shared helpers: one endpoint per protocol on the fake server, and event collectors."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from promptstudio.chat import Message
from promptstudio.providers import (
    ChatRequest,
    Endpoint,
    GenerationParams,
    ProviderError,
    Retrying,
    StreamError,
    StreamEvent,
    TextDelta,
    Usage,
    create_provider,
)
from tests.fake_llm import CHAT_PATH, MESSAGES_PATH, RESPONSES_PATH, FakeLLM, RecordedRequest

MESSAGES = (Message("system", "Be brief."), Message("user", "Say hello to me"))
KEY = "sk-test-very-secret-0123456789"
PROTOCOLS = ("chat", "responses", "messages")
PATHS = {"chat": CHAT_PATH, "responses": RESPONSES_PATH, "messages": MESSAGES_PATH}


def endpoint(server: FakeLLM, protocol: str = "chat", **overrides: Any) -> Endpoint:
    """The fake server as an endpoint speaking ``protocol``; no retries unless asked."""
    options: dict[str, Any] = {"name": "Fake", "max_retries": 0, "first_token_timeout": 5.0}
    if protocol == "chat":
        options.update(base_url=server.base_url, kind="openai-compatible", api="chat")
    elif protocol == "responses":
        options.update(base_url=server.base_url, kind="openai", api="responses")
    else:
        options.update(base_url=server.anthropic_base_url, kind="anthropic")
    options.update(overrides)
    return Endpoint(**options)


def endpoint_at(port: int, protocol: str = "chat", **overrides: Any) -> Endpoint:
    """Like :func:`endpoint`, for a server that is not (or not yet) running on ``port``."""
    base = f"http://127.0.0.1:{port}"
    options: dict[str, Any] = {"name": "Local", "max_retries": 0}
    if protocol == "chat":
        options.update(base_url=f"{base}/v1", kind="openai-compatible", api="chat")
    elif protocol == "responses":
        options.update(base_url=f"{base}/v1", kind="openai", api="responses")
    else:
        options.update(base_url=base, kind="anthropic")
    options.update(overrides)
    return Endpoint(**options)


def collect(
    ep: Endpoint,
    model: str = "fake-model",
    params: GenerationParams | None = None,
    messages: tuple[Message, ...] = MESSAGES,
) -> list[StreamEvent]:
    request = ChatRequest(messages, model, params or GenerationParams())

    async def main() -> list[StreamEvent]:
        return [event async for event in create_provider(ep).stream(request)]

    return asyncio.run(main())


def sent(server: FakeLLM, protocol: str) -> list[RecordedRequest]:
    return server.requests_to(PATHS[protocol])


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def error_of(events: list[StreamEvent]) -> ProviderError:
    assert isinstance(events[-1], StreamError), events
    return events[-1].error


def usage_of(events: list[StreamEvent]) -> Usage:
    usages = [e for e in events if isinstance(e, Usage)]
    assert len(usages) == 1, events
    return usages[0]


def retries_of(events: list[StreamEvent]) -> list[Retrying]:
    return [e for e in events if isinstance(e, Retrying)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
