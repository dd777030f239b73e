"""Provider batches through the official SDKs: OpenAI's Batch API and Anthropic's Message Batches.

A batch line's body is made by the same function that makes the streamed request
(``chat_request``, ``responses_request``, ``messages_request``), after the same checks
(unsupported settings, images, tool choice), so a cell sent by batch asks exactly what a
live run would; only ``stream`` is left out, and the SDKs' ``extra_body`` is merged into the
body, as the SDKs do on the wire.

OpenAI: the lines go up as one JSONL file (Files API, purpose ``batch``), the batch is
created for ``/v1/chat/completions`` or ``/v1/responses`` with a 24 h window, and when it
has ended its output and error files are read back by ``custom_id``. Anthropic: the
requests go in the create call (``/v1/messages/batches``) and the results come as JSONL
from the batch's ``results_url``. Every SDK failure becomes a typed ``ProviderError``.
Keys come with the endpoint (in memory) and go nowhere else.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from promptstudio.providers.apis import Api, resolve_api
from promptstudio.providers.base import ChatRequest, Endpoint, Usage
from promptstudio.providers.errors import ModelNotFound, ProviderError
from promptstudio.providers.failures import map_sdk_error
from promptstudio.providers.http_client import build_http_client

log = logging.getLogger(__name__)

ENDPOINTS: dict[str, str] = {"chat": "/v1/chat/completions", "responses": "/v1/responses"}
# States after which a batch changes no more (OpenAI's and Anthropic's words).
ENDED = frozenset({"completed", "failed", "expired", "cancelled", "ended"})

__all__ = [
    "ENDED",
    "BatchClient",
    "BatchLine",
    "BatchNotOffered",
    "BatchStatus",
    "LineResult",
    "batch_api",
    "batch_body",
    "batch_unsupported",
]


class BatchNotOffered(ProviderError):
    """The server has no batch API (a local server, or one that answers 404 for it)."""


@dataclass(frozen=True)
class BatchLine:
    """One request of a batch: its ``custom_id`` and the body sent."""

    custom_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class BatchStatus:
    """A batch as the provider reports it (``state`` in the provider's own word)."""

    remote_id: str
    state: str
    done: int = 0
    failed: int = 0
    total: int = 0
    error: str | None = None  # why the batch as a whole failed, expired or was cancelled
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    def counts(self) -> dict[str, int]:
        return {"done": self.done, "failed": self.failed, "total": self.total}


@dataclass(frozen=True)
class LineResult:
    """One request's outcome: the answer, or why there is none."""

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    error: str | None = None
    # In any API's shape; ``chat.ToolCall.from_dict`` reads each.
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


def batch_api(endpoint: Endpoint, model: str) -> Api:
    """Which API a batch to ``endpoint`` speaks for ``model`` (as a live request would)."""
    return resolve_api(endpoint.kind, endpoint.api, model)


def batch_unsupported(endpoint: Endpoint) -> str | None:
    """Why a column at ``endpoint`` cannot be sent as a batch (None: it can be tried; a
    server without ``/v1/batches`` says so when asked, see :meth:`BatchClient.check`)."""
    if endpoint.kind not in ("openai", "openai-compatible", "anthropic"):
        return f"{endpoint.label} ({endpoint.kind}) has no batch API."
    return None


def batch_body(endpoint: Endpoint, request: ChatRequest) -> tuple[Api, dict[str, Any]]:
    """(the API, the JSON body of one batch line) for ``request``, checked as a live
    request is; raises the live request's ``ProviderError`` for what it would refuse."""
    from promptstudio.providers import _provider_class

    api = batch_api(endpoint, request.model)
    problem = _provider_class(api)(endpoint)._precheck(request)
    if problem is not None:
        raise problem
    if api == "messages":
        from promptstudio.providers.anthropic_messages import messages_request

        arguments = messages_request(request)
    elif api == "responses":
        from promptstudio.providers.openai_responses import responses_request

        arguments = responses_request(request)
    else:
        from promptstudio.providers.openai_chat import chat_request

        arguments = chat_request(request, endpoint.kind)
    extra = arguments.pop("extra_body", None) or {}
    return api, {**arguments, **extra}


class BatchClient:
    """Create, poll, cancel and read back batches at one endpoint, through its SDK."""

    def __init__(self, endpoint: Endpoint, api: Api) -> None:
        self.endpoint = endpoint
        self.api = api

    async def check(self) -> None:
        """Raise :class:`BatchNotOffered` when the server has no batch API (asks for one
        batch of the list: nothing is created)."""
        async with self._client() as client:
            if self.api == "messages":
                await client.messages.batches.list(limit=1)
            else:
                await client.batches.list(limit=1)

    async def find(self, marker: str) -> BatchStatus | None:
        """The batch created with ``metadata.promptstudio_batch == marker``, if any (OpenAI
        keeps metadata; Anthropic's batches have none, so None there)."""
        if self.api == "messages":
            return None
        async with self._client() as client:
            page = await client.batches.list(limit=100)
            for batch in page.data:
                if (batch.metadata or {}).get("promptstudio_batch") == marker:
                    return _openai_status(batch)
        return None

    async def submit(self, lines: Sequence[BatchLine], metadata: dict[str, str]) -> BatchStatus:
        """Upload and create the batch; returns its first status."""
        async with self._client() as client:
            if self.api == "messages":
                requests: Any = [
                    {"custom_id": line.custom_id, "params": line.body} for line in lines
                ]
                batch = await client.messages.batches.create(requests=requests)
                return _anthropic_status(batch)
            data = "".join(
                json.dumps(
                    {
                        "custom_id": line.custom_id,
                        "method": "POST",
                        "url": ENDPOINTS[self.api],
                        "body": line.body,
                    },
                    ensure_ascii=False,
                )
                + "\n"
                for line in lines
            ).encode("utf-8")
            uploaded = await client.files.create(
                file=("promptstudio-batch.jsonl", data), purpose="batch"
            )
            batch = await client.batches.create(
                input_file_id=uploaded.id,
                endpoint=ENDPOINTS[self.api],  # type: ignore[arg-type]
                completion_window="24h",
                metadata=metadata,
            )
            return _openai_status(batch)

    async def retrieve(self, remote_id: str) -> BatchStatus:
        async with self._client() as client:
            if self.api == "messages":
                return _anthropic_status(await client.messages.batches.retrieve(remote_id))
            return _openai_status(await client.batches.retrieve(remote_id))

    async def cancel(self, remote_id: str) -> BatchStatus:
        async with self._client() as client:
            if self.api == "messages":
                return _anthropic_status(await client.messages.batches.cancel(remote_id))
            return _openai_status(await client.batches.cancel(remote_id))

    async def results(self, status: BatchStatus) -> tuple[dict[str, LineResult], list[str]]:
        """Every answered or failed line by ``custom_id``, and the lines that could not be
        read (each a sentence)."""
        texts: list[str] = []
        async with self._client() as client:
            if self.api == "messages":
                if status.state == "ended":
                    raw = await client.messages.batches.with_raw_response.results(status.remote_id)
                    texts.append((await raw.http_response.aread()).decode("utf-8", "replace"))
            else:
                for file_id in (status.output_file_id, status.error_file_id):
                    if file_id:
                        content = await client.files.content(file_id)
                        texts.append(content.text)
        found: dict[str, LineResult] = {}
        unreadable: list[str] = []
        for text in texts:
            for number, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    custom_id = str(item["custom_id"])
                    found[custom_id] = (
                        _anthropic_line(item) if self.api == "messages" else self._openai_line(item)
                    )
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    unreadable.append(f"line {number} of the results could not be read ({exc})")
        return found, unreadable

    # ---- the SDK clients -------------------------------------------------------------

    def _client(self) -> _SdkClient:
        return _SdkClient(self.endpoint, self.api)

    def _openai_line(self, item: dict[str, Any]) -> LineResult:
        error = item.get("error")
        response = item.get("response") or {}
        if error:
            return LineResult(error=_error_text(error, item))
        body = response.get("body") or {}
        status = response.get("status_code")
        if status != 200:
            inner = body.get("error") if isinstance(body, dict) else None
            return LineResult(error=f"HTTP {status}: {_error_text(inner or body, item)}")
        if self.api == "responses":
            return _responses_answer(body)
        return _chat_answer(body)


class _SdkClient:
    """``async with``: the SDK client for one endpoint; SDK failures as ``ProviderError``."""

    def __init__(self, endpoint: Endpoint, api: Api) -> None:
        self.endpoint = endpoint
        self.api = api
        self.client: Any = None

    async def __aenter__(self) -> Any:
        from promptstudio.providers.streaming import sdk_client_options

        if self.api == "messages":
            import anthropic

            http = await build_http_client(anthropic.DefaultAsyncHttpxClient)
            options = sdk_client_options(self.endpoint, http, anthropic.Timeout)
            self.client = anthropic.AsyncAnthropic(**options)
        else:
            import openai

            http = await build_http_client(openai.DefaultAsyncHttpxClient)
            self.client = openai.AsyncOpenAI(
                **sdk_client_options(self.endpoint, http, openai.Timeout)
            )
        return self.client

    async def __aexit__(self, kind: type[BaseException] | None, exc: Any, tb: Any) -> None:
        await self.client.close()
        if exc is None or isinstance(exc, ProviderError) or not isinstance(exc, Exception):
            return
        if self.api == "messages":
            from promptstudio.providers.anthropic_messages import ANTHROPIC_ERRORS as types
        else:
            from promptstudio.providers.openai_chat import OPENAI_ERRORS as types
        if not isinstance(exc, types.base):
            return
        mapped = map_sdk_error(exc, self.endpoint, None, types, deltas=None)
        if isinstance(mapped, ModelNotFound) or getattr(exc, "status_code", None) == 404:
            path = "/v1/messages/batches" if self.api == "messages" else "/v1/batches"
            raise BatchNotOffered(
                f"{self.endpoint.label} does not offer batches ({path} answered 404): send this "
                "evaluation live instead.",
                status=404,
            ) from exc
        raise mapped from exc


def _openai_status(batch: Any) -> BatchStatus:
    counts = batch.request_counts
    error = None
    if batch.status == "failed":
        problems = (
            [e.message or e.code or "" for e in (batch.errors.data or ())] if batch.errors else []
        )
        error = "The batch failed validation: " + (
            "; ".join(p for p in problems if p) or "no reason given"
        )
    elif batch.status == "expired":
        error = "The batch expired: its 24-hour window ended before every request ran."
    elif batch.status == "cancelled":
        error = "The batch was cancelled."
    return BatchStatus(
        remote_id=batch.id,
        state=batch.status,
        done=counts.completed if counts else 0,
        failed=counts.failed if counts else 0,
        total=counts.total if counts else 0,
        error=error,
        input_file_id=batch.input_file_id,
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
    )


def _anthropic_status(batch: Any) -> BatchStatus:
    counts = batch.request_counts
    total = counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
    error = None
    if counts.expired:
        error = f"{counts.expired} requests expired: the batch's 24-hour window ended first."
    elif counts.canceled:
        error = f"{counts.canceled} requests were cancelled."
    return BatchStatus(
        remote_id=batch.id,
        state=batch.processing_status,
        done=counts.succeeded,
        failed=counts.errored + counts.canceled + counts.expired,
        total=total,
        error=error,
    )


def _error_text(error: Any, item: dict[str, Any]) -> str:
    if isinstance(error, dict):
        code = str(error.get("code") or error.get("type") or "")
        message = str(error.get("message") or "")
        if code == "batch_expired":
            return "The batch expired before this request ran (24-hour window)."
        if code == "batch_cancelled":
            return "The batch was cancelled before this request ran."
        return f"{message} ({code})" if code and message else message or code or "failed"
    return str(error)


def _chat_answer(body: dict[str, Any]) -> LineResult:
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    usage = body.get("usage") or {}
    details = usage.get("prompt_tokens_details") or {}
    calls = message.get("tool_calls") or []
    return LineResult(
        text=message.get("content") or "",
        finish_reason=choice.get("finish_reason"),
        usage=Usage(
            usage.get("prompt_tokens"),
            usage.get("completion_tokens"),
            cached_input_tokens=details.get("cached_tokens"),
        ),
        tool_calls=[dict(call) for call in calls],
    )


def _responses_answer(body: dict[str, Any]) -> LineResult:
    texts = [
        part.get("text") or ""
        for item in body.get("output") or ()
        if item.get("type") == "message"
        for part in item.get("content") or ()
        if part.get("type") == "output_text"
    ]
    calls = [
        {
            "id": item.get("call_id") or "",
            "name": item.get("name") or "",
            "arguments": item.get("arguments") or "",
        }
        for item in body.get("output") or ()
        if item.get("type") == "function_call"
    ]
    usage = body.get("usage") or {}
    details = usage.get("input_tokens_details") or {}
    status = body.get("status")
    reason = (
        "completed"
        if status == "completed"
        else ((body.get("incomplete_details") or {}).get("reason") or status)
    )
    return LineResult(
        text="".join(texts),
        finish_reason=reason,
        usage=Usage(
            usage.get("input_tokens"),
            usage.get("output_tokens"),
            cached_input_tokens=details.get("cached_tokens"),
        ),
        tool_calls=calls,
    )


def _anthropic_line(item: dict[str, Any]) -> LineResult:
    result = item["result"]
    kind = result.get("type")
    if kind == "succeeded":
        message = result["message"]
        usage = message.get("usage") or {}
        cached = usage.get("cache_read_input_tokens") or 0
        written = usage.get("cache_creation_input_tokens") or 0
        text = "".join(
            b.get("text") or "" for b in message.get("content") or () if b.get("type") == "text"
        )
        calls = [
            {"id": b.get("id") or "", "name": b.get("name") or "", "arguments": b.get("input")}
            for b in message.get("content") or ()
            if b.get("type") == "tool_use"
        ]
        return LineResult(
            text=text,
            finish_reason=message.get("stop_reason"),
            tool_calls=calls,
            usage=Usage(
                (usage.get("input_tokens") or 0) + cached + written,
                usage.get("output_tokens"),
                cached_input_tokens=cached,
            ),
        )
    if kind == "errored":
        error = (result.get("error") or {}).get("error") or result.get("error") or {}
        return LineResult(error=_error_text(error, item))
    if kind == "expired":
        return LineResult(error="The batch expired before this request ran (24-hour window).")
    if kind == "canceled":
        return LineResult(error="The batch was cancelled before this request ran.")
    raise ValueError(f"unknown result type {kind!r}")
