"""OpenAI Responses API streaming through the official SDK.

The stream is typed events (``event:`` + ``data:``): text arrives in
``response.output_text.delta``, usage and the end in ``response.completed`` (or
``response.incomplete`` when a limit cut the answer short). Failures inside the stream,
``error`` and ``response.failed``, arrive as events, not exceptions; they become the same
typed errors as an HTTP failure. The request asks OpenAI not to store the response
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
from promptstudio.providers.failures import stream_error_event
from promptstudio.providers.openai_chat import OPENAI_ERRORS, make_openai_client
from promptstudio.providers.streaming import SdkStreamProvider, StreamState

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

    async def _open(self, client: openai.AsyncOpenAI, request: ChatRequest) -> Any:
        items: Any = [{"role": m.role, "content": m.content} for m in request.messages]
        return await client.responses.create(
            model=request.model,
            input=items,
            stream=True,
            store=False,
            **responses_params(request.params),
        )

    def _on_event(self, event: Any, state: StreamState) -> str | None:
        kind = getattr(event, "type", None)
        if kind == "response.output_text.delta":
            delta = getattr(event, "delta", None)
            return delta if isinstance(delta, str) else None
        if kind is not None and kind.startswith("response.reasoning"):
            state.producing = True  # reasoning (summary) deltas before the answer
        elif kind in ("response.completed", "response.incomplete"):
            response = event.response
            state.usage = _usage(getattr(response, "usage", None))
            if kind == "response.completed":
                state.finish_reason = "completed"
            else:
                details = getattr(response, "incomplete_details", None)
                state.finish_reason = getattr(details, "reason", None) or "incomplete"
        elif kind == "response.failed":
            error = getattr(event.response, "error", None)
            code = str(getattr(error, "code", "") or "")
            message = str(getattr(error, "message", "") or "")
            state.failure = stream_error_event(self.endpoint, code, message)
        elif kind == "error":
            code = str(getattr(event, "code", "") or "")
            message = str(getattr(event, "message", "") or "")
            state.failure = stream_error_event(self.endpoint, code, message)
        return None


def _usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    input_details = getattr(usage, "input_tokens_details", None)
    output_details = getattr(usage, "output_tokens_details", None)
    return Usage(
        usage.input_tokens,
        usage.output_tokens,
        cached_input_tokens=getattr(input_details, "cached_tokens", None),
        reasoning_tokens=getattr(output_details, "reasoning_tokens", None),
    )


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
