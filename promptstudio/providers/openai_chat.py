"""OpenAI Chat Completions through the official SDK, for OpenAI and compatible servers.

The loop (timeouts, retries, errors, usage) is shared: see ``providers.streaming``. This
module maps our settings to Chat Completions and reads its chunks: ``choices[0].delta``,
the ``finish_reason``, and the usage chunk that ``stream_options.include_usage`` asks for
(with cached and reasoning token details when the server reports them). The SDK sends the
request; the chunks are read as plain JSON off its raw response (``providers.sse``), and a
chunk carrying ``error`` is the server's error event, as the SDK would raise it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

import httpx2
import openai
from openai.types.chat import ChatCompletionMessageParam

from promptstudio.providers.apis import json_schema_wrapper
from promptstudio.providers.base import ChatRequest, Endpoint, GenerationParams, Usage
from promptstudio.providers.failures import SdkErrorTypes, error_fields, stream_error_event
from promptstudio.providers.sse import SseEventStream, open_event_stream
from promptstudio.providers.streaming import (
    NO_KEY_PLACEHOLDER,
    SdkStreamProvider,
    StreamState,
    sdk_client_options,
)
from promptstudio.providers.tool_wire import chat_tools

log = logging.getLogger(__name__)

OPENAI_ERRORS = SdkErrorTypes(
    base=openai.OpenAIError,
    api=openai.APIError,
    status=openai.APIStatusError,
    connection=openai.APIConnectionError,
    timeout=openai.APITimeoutError,
)

__all__ = [
    "NO_KEY_PLACEHOLDER",
    "OpenAIChatProvider",
    "chat_params",
    "chat_request",
    "make_openai_client",
]


class OpenAIChatProvider(SdkStreamProvider):
    """Streams chat completions from an ``openai`` or ``openai-compatible`` endpoint.

    ``max_tokens`` goes out as ``max_completion_tokens`` for kind ``"openai"`` (OpenAI
    rejects ``max_tokens`` for its reasoning models) and as ``max_tokens`` for compatible
    servers, most of which do not know the newer name. ``top_k`` goes to compatible
    servers as an extra body field (vLLM, llama.cpp, LM Studio and Ollama read it).
    """

    api = "chat"
    errors = OPENAI_ERRORS

    def _http_client_class(self) -> Callable[..., httpx2.AsyncClient]:
        return openai.DefaultAsyncHttpxClient

    def _make_client(self, http_client: httpx2.AsyncClient) -> openai.AsyncOpenAI:
        return make_openai_client(self.endpoint, http_client)

    def _api_resource(self, client: openai.AsyncOpenAI) -> Any:
        return client.chat.completions

    async def _open(self, client: openai.AsyncOpenAI, request: ChatRequest) -> SseEventStream:
        return await open_event_stream(
            client.chat.completions.with_streaming_response.create(
                stream=True,
                stream_options={"include_usage": True},
                **chat_request(request, self.endpoint.kind),
            )
        )

    def _on_event(self, event: tuple[str, Any], state: StreamState) -> str | None:
        chunk = event[1]
        error = chunk.get("error")
        if error:  # what the SDK raises as an APIError inside the stream
            state.failure = stream_error_event(self.endpoint, *error_fields(error))
            return None
        usage = chunk.get("usage")
        if usage:
            state.usage = _usage(usage)
        text = ""
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            if delta:
                content = delta.get("content")
                if content and isinstance(content, str):
                    text += content
                elif delta.get("reasoning_content") or delta.get("reasoning"):
                    # DeepSeek, vLLM, Ollama and others stream thinking this way.
                    state.producing = True
                for call in delta.get("tool_calls") or ():
                    function = call.get("function") or {}
                    state.tool_delta(
                        call.get("index", 0),
                        call.get("id") or "",
                        function.get("name") or "",
                        function.get("arguments") or "",
                    )
            reason = choice.get("finish_reason")
            if reason:
                state.finish_reason = reason
            logprobs = choice.get("logprobs")
            if logprobs:
                state.logprobs.extend(
                    float(item["logprob"]) for item in logprobs.get("content") or ()
                )
        return text or None


def _usage(usage: dict[str, Any]) -> Usage:
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return Usage(
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
        cached_input_tokens=prompt_details.get("cached_tokens"),
        reasoning_tokens=completion_details.get("reasoning_tokens"),
    )


def make_openai_client(endpoint: Endpoint, http_client: httpx2.AsyncClient) -> openai.AsyncOpenAI:
    """An ``AsyncOpenAI`` for ``endpoint``."""
    return openai.AsyncOpenAI(**sdk_client_options(endpoint, http_client, openai.Timeout))


def chat_request(request: ChatRequest, kind: str) -> dict[str, Any]:
    """The ``chat.completions.create`` arguments for ``request`` (streamed or batched)."""
    params = chat_params(request.params, kind)
    if request.logprobs:
        params["logprobs"] = True
    messages = [cast("ChatCompletionMessageParam", m.to_dict()) for m in request.messages]
    return {"model": request.model, "messages": messages, **params, **chat_tools(request)}


def chat_params(params: GenerationParams, kind: str) -> dict[str, Any]:
    """Our settings as ``chat.completions.create`` arguments (already checked as supported)."""
    out: dict[str, Any] = {}
    for key in ("temperature", "top_p", "seed", "reasoning_effort"):
        value = getattr(params, key)
        if value is not None:
            out[key] = value
    if params.stop:
        out["stop"] = list(params.stop)
    if params.max_tokens is not None:
        name = "max_completion_tokens" if kind == "openai" else "max_tokens"
        out[name] = params.max_tokens
    if params.json_schema is not None:
        wrapper = json_schema_wrapper(params.json_schema)
        out["response_format"] = {"type": "json_schema", "json_schema": wrapper}
    elif params.json_mode:
        out["response_format"] = {"type": "json_object"}
    if params.top_k is not None:
        out["extra_body"] = {"top_k": params.top_k}
    return out
