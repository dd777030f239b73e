"""OpenAI Responses API streaming through the official SDK.

The stream is typed events (``event:`` + ``data:``): text arrives in
``response.output_text.delta``, usage and the end in ``response.completed`` (or
``response.incomplete`` when a limit cut the answer short). Failures inside the stream,
``error`` and ``response.failed``, arrive as events, not exceptions; they become the same
typed errors as an HTTP failure. The SDK sends the request; the events are read as plain
JSON off its raw response (``providers.sse``). The request asks OpenAI not to store the response
(``store: false``): we never chain responses, and a prompt IDE should not leave copies of
experiments on the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx2
import openai

from promptstudio.providers.apis import json_schema_wrapper
from promptstudio.providers.base import ChatRequest, GenerationParams, Usage
from promptstudio.providers.failures import error_fields, stream_error_event
from promptstudio.providers.openai_chat import OPENAI_ERRORS, make_openai_client
from promptstudio.providers.sse import SseEventStream, open_event_stream
from promptstudio.providers.streaming import SdkStreamProvider, StreamState
from promptstudio.providers.tool_wire import responses_input, responses_tools

log = logging.getLogger(__name__)


class OpenAIResponsesProvider(SdkStreamProvider):
    """Streams from ``POST /responses`` (OpenAI, or a compatible server that has it)."""

    api = "responses"
    errors = OPENAI_ERRORS

    def _http_client_class(self) -> Callable[..., httpx2.AsyncClient]:
        return openai.DefaultAsyncHttpxClient

    def _make_client(self, http_client: httpx2.AsyncClient) -> openai.AsyncOpenAI:
        return make_openai_client(self.endpoint, http_client)

    def _api_resource(self, client: openai.AsyncOpenAI) -> Any:
        return client.responses

    async def _open(self, client: openai.AsyncOpenAI, request: ChatRequest) -> SseEventStream:
        return await open_event_stream(
            client.responses.with_streaming_response.create(
                stream=True, **responses_request(request)
            )
        )

    def _on_event(self, event: tuple[str, Any], state: StreamState) -> str | None:
        data = event[1]
        if event[0] == "error" and isinstance(data, str):  # not JSON: the server's own words
            state.failure = stream_error_event(self.endpoint, *error_fields(data))
            return None
        kind = data.get("type")
        if kind == "response.output_text.delta":
            delta = data.get("delta")
            return delta if isinstance(delta, str) else None
        if not isinstance(kind, str):
            return None
        if kind == "response.output_item.added":
            item = data.get("item") or {}
            if item.get("type") == "function_call":
                key = item.get("id") or data.get("output_index")
                name, arguments = item.get("name") or "", item.get("arguments") or ""
                state.tool_delta(key, item.get("call_id") or "", name, arguments)
        elif kind == "response.function_call_arguments.delta":
            key = data.get("item_id") or data.get("output_index")
            state.tool_delta(key, arguments=data.get("delta") or "")
        elif kind.startswith("response.reasoning"):
            state.producing = True  # reasoning (summary) deltas before the answer
        elif kind in ("response.completed", "response.incomplete"):
            response = data.get("response") or {}
            state.usage = _usage(response.get("usage"))
            if kind == "response.completed":
                state.finish_reason = "completed"
            else:
                details = response.get("incomplete_details") or {}
                state.finish_reason = details.get("reason") or "incomplete"
        elif kind == "response.failed":
            error = (data.get("response") or {}).get("error") or {}
            code = str(error.get("code") or "")
            message = str(error.get("message") or "")
            state.failure = stream_error_event(self.endpoint, code, message)
        elif kind == "error":
            code = str(data.get("code") or "")
            message = str(data.get("message") or "")
            state.failure = stream_error_event(self.endpoint, code, message)
        return None


def _usage(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    input_details = usage.get("input_tokens_details") or {}
    output_details = usage.get("output_tokens_details") or {}
    return Usage(
        usage.get("input_tokens"),
        usage.get("output_tokens"),
        cached_input_tokens=input_details.get("cached_tokens"),
        reasoning_tokens=output_details.get("reasoning_tokens"),
    )


def responses_request(request: ChatRequest) -> dict[str, Any]:
    """The ``responses.create`` arguments for ``request`` (streamed or batched)."""
    items: Any = responses_input(request.messages)
    return {
        "model": request.model,
        "input": items,
        "store": False,
        **responses_params(request.params),
        **responses_tools(request),
    }


def responses_params(params: GenerationParams) -> dict[str, Any]:
    """Our settings as ``responses.create`` arguments (already checked as supported)."""
    out: dict[str, Any] = {}
    for key in ("temperature", "top_p"):
        value = getattr(params, key)
        if value is not None:
            out[key] = value
    if params.max_tokens is not None:
        out["max_output_tokens"] = params.max_tokens
    if params.reasoning_effort is not None:
        out["reasoning"] = {"effort": params.reasoning_effort}
    if params.json_schema is not None:
        out["text"] = {"format": {"type": "json_schema", **json_schema_wrapper(params.json_schema)}}
    elif params.json_mode:
        out["text"] = {"format": {"type": "json_object"}}
    return out
