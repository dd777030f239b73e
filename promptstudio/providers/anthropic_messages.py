"""Anthropic Messages streaming through the official SDK.

The Messages API differs from Chat Completions in ways that matter here:

* system messages are a separate ``system`` field (ours are joined with blank lines);
* ``max_tokens`` is required: :data:`DEFAULT_MAX_TOKENS` when unset, plus the thinking
  budget when extended thinking is on (the budget must fit below ``max_tokens``);
* ``stop`` goes out as ``stop_sequences``; reasoning effort and a JSON schema go in
  ``output_config`` (``effort``, ``format``); extended thinking is
  ``thinking={"type": "enabled", "budget_tokens": N}``. JSON mode without a schema has no
  equivalent and is refused before sending. ``temperature``, ``top_p`` and ``top_k`` are
  not declared by anthropic 2.12's ``messages.create``, so they travel in ``extra_body``,
  exactly as set; models that reject them say so in a 400;
* usage: ``message_start`` carries the input (``input_tokens`` excludes the cache, so the
  cache counts are added back in), ``message_delta`` the cumulative output;
* ``ping`` keeps the connection alive; an ``error`` event inside the 200 stream
  (``overloaded_error`` most often) is the server's failure (the SDK raises it as a status
  error carrying 200). The SDK sends the request; the events are read as plain JSON off its
  raw response (``providers.sse``), and, as the SDK does, only named events count.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2

from promptstudio.providers.apis import json_schema_wrapper
from promptstudio.providers.base import ChatRequest, Endpoint, GenerationParams, Usage
from promptstudio.providers.errors import ProviderError, UnsupportedSetting
from promptstudio.providers.failures import SdkErrorTypes, error_fields, stream_error_event
from promptstudio.providers.sse import SseEventStream, open_event_stream
from promptstudio.providers.streaming import SdkStreamProvider, StreamState, sdk_client_options
from promptstudio.providers.tool_wire import anthropic_messages, anthropic_tools

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 4096

ANTHROPIC_ERRORS = SdkErrorTypes(
    base=anthropic.AnthropicError,
    api=anthropic.APIError,
    status=anthropic.APIStatusError,
    connection=anthropic.APIConnectionError,
    timeout=anthropic.APITimeoutError,
)


class AnthropicMessagesProvider(SdkStreamProvider):
    """Streams from Anthropic's ``POST /v1/messages`` (base URL without ``/v1``)."""

    api = "messages"
    errors = ANTHROPIC_ERRORS

    def _http_client_class(self) -> Callable[..., httpx2.AsyncClient]:
        return anthropic.DefaultAsyncHttpxClient

    def _make_client(self, http_client: httpx2.AsyncClient) -> anthropic.AsyncAnthropic:
        return make_anthropic_client(self.endpoint, http_client)

    def _check_request(self, request: ChatRequest) -> ProviderError | None:
        if not any(m.role != "system" for m in request.messages):
            return UnsupportedSetting(
                "The Anthropic Messages API needs at least one user message besides the system "
                "prompt."
            )
        return None

    def _api_resource(self, client: anthropic.AsyncAnthropic) -> Any:
        return client.messages

    async def _open(self, client: anthropic.AsyncAnthropic, request: ChatRequest) -> SseEventStream:
        return await open_event_stream(
            client.messages.with_streaming_response.create(stream=True, **messages_request(request))
        )

    def _on_event(self, event: tuple[str, Any], state: StreamState) -> str | None:
        name, data = event
        if name == "error":
            state.failure = stream_error_event(self.endpoint, *error_fields(data))
        elif name == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta":
                text = delta.get("text")
                return text if isinstance(text, str) else None
            if delta.get("type") == "input_json_delta":
                state.tool_delta(data.get("index"), arguments=delta.get("partial_json") or "")
                return None
            state.producing = True  # thinking (or signature) deltas: the model is working
        elif name == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") == "tool_use":
                state.tool_delta(data.get("index"), block.get("id") or "", block.get("name") or "")
        elif name == "message_start":
            usage = (data.get("message") or {}).get("usage")
            if usage:
                cached = usage.get("cache_read_input_tokens") or 0
                written = usage.get("cache_creation_input_tokens") or 0
                state.input_tokens = (usage.get("input_tokens") or 0) + cached + written
                state.cached_input_tokens = cached
        elif name == "message_delta":
            reason = (data.get("delta") or {}).get("stop_reason")
            if reason:
                state.finish_reason = reason
            usage = data.get("usage")
            if usage and state.input_tokens is not None:
                details = usage.get("output_tokens_details") or {}
                state.usage = Usage(
                    state.input_tokens,
                    usage.get("output_tokens"),
                    cached_input_tokens=state.cached_input_tokens,
                    reasoning_tokens=details.get("thinking_tokens"),
                )
        return None


def make_anthropic_client(
    endpoint: Endpoint, http_client: httpx2.AsyncClient
) -> anthropic.AsyncAnthropic:
    """An ``AsyncAnthropic`` for ``endpoint``."""
    return anthropic.AsyncAnthropic(**sdk_client_options(endpoint, http_client, anthropic.Timeout))


def messages_request(request: ChatRequest) -> dict[str, Any]:
    """The ``messages.create`` arguments for ``request`` (streamed or batched)."""
    system = "\n\n".join(m.content for m in request.messages if m.role == "system")
    messages: Any = anthropic_messages(request.messages)
    options = messages_params(request.params) | anthropic_tools(request)
    if system:
        options["system"] = system
    return {"model": request.model, "messages": messages, **options}


def messages_params(params: GenerationParams) -> dict[str, Any]:
    """Our settings as ``messages.create`` arguments (already checked as supported)."""
    max_tokens = params.max_tokens
    if max_tokens is None:
        max_tokens = DEFAULT_MAX_TOKENS + (params.thinking_budget or 0)
    out: dict[str, Any] = {"max_tokens": max_tokens}
    if params.stop:
        out["stop_sequences"] = list(params.stop)
    if params.thinking_budget is not None:
        out["thinking"] = {"type": "enabled", "budget_tokens": params.thinking_budget}
    output_config: dict[str, Any] = {}
    if params.reasoning_effort is not None:
        output_config["effort"] = params.reasoning_effort
    if params.json_schema is not None:
        schema = json_schema_wrapper(params.json_schema)["schema"]
        output_config["format"] = {"type": "json_schema", "schema": schema}
    if output_config:
        out["output_config"] = output_config
    sampling = {
        key: getattr(params, key)
        for key in ("temperature", "top_p", "top_k")
        if getattr(params, key) is not None
    }
    if sampling:
        out["extra_body"] = sampling
    return out
