"""The streaming loop every SDK-backed provider shares: timeouts, retries, errors, usage.

A protocol module says how to build its SDK client, how to start the stream and what each
event means (:class:`SdkStreamProvider`; the events are read off the SDK's raw response,
see ``providers.sse``); this loop does the rest, the same way for all three APIs:

* the first-token timeout runs from the request to the first text (retries included), the
  idle timeout between events after that, or after the first thinking or reasoning delta
  (a model that thinks for minutes is not "not answering"); the SDK's own read timeout sits
  above both, as a backstop. Ours fire first, so a stall is reported as one;
* a failed opening is retried here, not by the SDKs (built with ``max_retries=0``): the
  policy is in ``providers.retries``, each wait announced first as a :class:`Retrying`.
  Once the stream has begun nothing is retried;
* failures become typed errors, text already yielded stays with the caller, and usage the
  server did not send is counted locally and marked estimated;
* one client per stream, closed when the stream ends or is cancelled, which closes the
  HTTP connection at once. Clients share one TLS context, so building one costs ~2 ms;
* a :class:`RequestSent` says when the first attempt went out (before any text): time to
  first token is counted from there. :meth:`SdkStreamProvider.warm_up` pays the SDK's
  first-use costs ahead of time, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx2

from promptstudio.providers.apis import Api, check_params
from promptstudio.providers.base import (
    ChatRequest,
    Endpoint,
    Finished,
    RequestSent,
    Retrying,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from promptstudio.providers.errors import ConnectionFailed, ModelNotFound, ProviderError
from promptstudio.providers.failures import (
    SdkErrorTypes,
    ended_early,
    first_token_timeout,
    map_sdk_error,
    stalled,
)
from promptstudio.providers.http_client import build_http_client, ssl_context
from promptstudio.providers.image_checks import check_images, refused_images
from promptstudio.providers.pricing import estimate_tokens
from promptstudio.providers.retries import RetryPolicy
from promptstudio.providers.tool_wire import tool_choice_problem

log = logging.getLogger(__name__)

# Sent as the key to servers that need none (Ollama, llama.cpp, LM Studio). Passing
# something also stops the SDKs from reading OPENAI_API_KEY / ANTHROPIC_API_KEY (or
# Anthropic's credential files) and sending the user's key to another server.
NO_KEY_PLACEHOLDER = "no-key-needed"


def sdk_client_options(
    endpoint: Endpoint, http_client: httpx2.AsyncClient, timeout: type[Any]
) -> dict[str, Any]:
    """Constructor arguments both SDK clients take alike. ``timeout`` is the SDK's own
    ``Timeout`` class; its read timeout is only a backstop for our per-wait timers."""
    read = max(endpoint.first_token_timeout, endpoint.idle_timeout) + 1.0
    return {
        "base_url": endpoint.base_url,
        "api_key": endpoint.api_key or NO_KEY_PLACEHOLDER,
        "max_retries": 0,  # ours: see providers.retries
        "timeout": timeout(
            connect=endpoint.connect_timeout,
            read=read,
            write=max(endpoint.connect_timeout, endpoint.idle_timeout),
            pool=endpoint.connect_timeout,
        ),
        "default_headers": endpoint.extra_headers or None,
        "http_client": http_client,
    }


@dataclass
class StreamState:
    """What a protocol learned from the stream so far."""

    usage: Usage | None = None  # final usage from the server
    input_tokens: int | None = None  # known early (Anthropic's message_start)
    cached_input_tokens: int | None = None
    finish_reason: str | None = None
    failure: ProviderError | None = None  # an error the server sent as an event
    # The model is producing, though no text yet (thinking or reasoning deltas): from here
    # on the idle timeout applies, not the first-token one.
    producing: bool = False
    logprobs: list[float] = field(default_factory=list)  # per token, when the API sends them
    # Tool-call pieces read from the last event, yielded after it (then cleared).
    tool_deltas: list[ToolCallDelta] = field(default_factory=list)
    # The stream's own key of each tool call (an index or an item id) -> our index.
    tool_index: dict[object, int] = field(default_factory=dict)

    def tool_delta(self, key: object, id: str = "", name: str = "", arguments: str = "") -> None:
        """Note a piece of the tool call the stream calls ``key``."""
        index = self.tool_index.setdefault(key, len(self.tool_index))
        self.tool_deltas.append(ToolCallDelta(index, id, name, arguments))
        self.producing = True


class SdkStreamProvider(ABC):
    """Streams one chat request over an official SDK; subclasses speak one API."""

    api: ClassVar[Api]
    errors: ClassVar[SdkErrorTypes]

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.endpoint!r})"

    # ---- what a protocol provides ------------------------------------------------------

    @abstractmethod
    def _http_client_class(self) -> Callable[..., httpx2.AsyncClient]:
        """The SDK's ``DefaultAsyncHttpxClient`` (keeps its defaults)."""

    @abstractmethod
    def _make_client(self, http_client: httpx2.AsyncClient) -> Any:
        """The SDK client for this endpoint, riding on ``http_client``."""

    @abstractmethod
    async def _open(self, client: Any, request: ChatRequest) -> Any:
        """Send the request; returns its stream of ``(event name, data)`` (has ``close()``)."""

    @abstractmethod
    def _on_event(self, event: Any, state: StreamState) -> str | None:
        """Record what ``event`` says in ``state``; return its text, if any."""

    def _check_request(self, request: ChatRequest) -> ProviderError | None:
        """A reason not to send ``request`` at all (beyond unsupported settings)."""
        return None

    @abstractmethod
    def _api_resource(self, client: Any) -> Any:
        """The SDK resource requests go through (the SDKs import it on first use)."""

    # ---- warming up ----------------------------------------------------------------------

    @classmethod
    def warm_up(cls) -> None:
        """Pay the SDK's first-use costs now: blocking, for a thread with no event loop.

        The first request in a process would otherwise import the API's resource module
        (~80 ms), anyio's asyncio backend that the HTTP stack connects with (~70 ms) and
        load the CA store (~50 ms), all on the event loop. Nothing is sent.
        """
        ssl_context()
        asyncio.run(cls(Endpoint("http://127.0.0.1"))._warm_up())

    async def _warm_up(self) -> None:
        import anyio

        client = self._make_client(await build_http_client(self._http_client_class()))
        try:
            self._api_resource(client)
            await anyio.sleep(0)  # loads anyio's backend for the running loop
        finally:
            await client.close()

    # ---- the loop ----------------------------------------------------------------------

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Yield text deltas, then usage, then Finished; or a StreamError, text kept."""
        endpoint = self.endpoint
        problem = self._precheck(request)
        if problem is not None:
            yield StreamError(problem)
            return

        loop = asyncio.get_running_loop()
        first_deadline = loop.time() + endpoint.first_token_timeout
        retries = RetryPolicy(endpoint.max_retries, first_deadline)
        sent = _SendClock()
        state = StreamState()
        deltas = 0
        failure: ProviderError | None = None
        client: Any = None
        sdk_stream: Any = None
        deadline: _Deadline | None = None
        log.debug("%s request to %s, model %s", self.api, endpoint.label, request.model)
        try:
            client = self._make_client(
                await build_http_client(self._http_client_class(), sent.on_request)
            )
            announced = False  # the RequestSent
            while True:
                retry: Retrying | None = None
                try:
                    async with asyncio.timeout_at(first_deadline):
                        sdk_stream = await self._open(client, request)
                except TimeoutError:
                    failure = first_token_timeout(endpoint)
                except self.errors.base as exc:
                    failure = map_sdk_error(exc, endpoint, request.model, self.errors, deltas=None)
                    retry = retries.after(failure, exc)
                    if retry is not None:
                        failure = None
                    elif isinstance(failure, ModelNotFound):
                        failure = await _offer_models(failure, endpoint, exc)
                if sent.at is not None and not announced:
                    announced = True
                    yield RequestSent(sent.at)
                if retry is None:
                    break
                yield retry
                await asyncio.sleep(retry.wait_seconds)

            deadline = _Deadline(loop)
            next_event = aiter(sdk_stream).__anext__ if sdk_stream is not None else None
            task = asyncio.current_task()
            assert task is not None
            cancelling = task.cancelling()
            while next_event is not None and failure is None:
                started = deltas or state.producing
                when = loop.time() + endpoint.idle_timeout if started else first_deadline
                error: BaseException | None = None
                try:
                    if not deadline.arm(when, task):
                        raise TimeoutError
                    event = await next_event()
                except StopAsyncIteration:
                    break
                except asyncio.CancelledError:
                    if not deadline.fired(task, cancelling):
                        raise  # cancelled from outside: not our timeout
                    error = TimeoutError()
                except (
                    TimeoutError,
                    self.errors.base,
                    httpx2.RequestError,
                    json.JSONDecodeError,
                ) as exc:
                    error = exc
                finally:
                    deadline.disarm()
                if error is not None:
                    if state.finish_reason is not None:
                        # The answer is complete; only trailing usage or the end went missing.
                        log.debug("%s: %s after the finish", endpoint.label, type(error).__name__)
                    else:
                        failure = self._stream_failure(error, request, deltas)
                    break
                try:
                    text = self._on_event(event, state)
                except (AttributeError, TypeError):  # a field of an unexpected shape
                    log.debug("%s: malformed event %.200r", endpoint.label, event, exc_info=True)
                    failure = ProviderError(
                        f"The server at {endpoint.label} sent a malformed stream "
                        "(an event of an unexpected shape)."
                    )
                    break
                if text:
                    deltas += 1
                    yield TextDelta(text)
                if state.tool_deltas:
                    for piece in state.tool_deltas:
                        yield piece
                    state.tool_deltas.clear()
                if state.failure is not None:
                    failure = state.failure
                    break

            if deadline is not None:
                deadline.close()
            if failure is None and state.finish_reason is None:
                failure = ended_early(endpoint, deltas, self.api)
            usage = self._final_usage(
                state, request, deltas, failed=failure is not None, api=self.api
            )
            # The end is told before the connection is closed: closing takes a few event-loop
            # turns, which are not the model's time (the run engine stops its clock here).
            if usage is not None:
                yield usage
            if failure is not None:
                failure = refused_images(failure, request, endpoint)
                log.debug("%s request to %s failed: %s", self.api, endpoint.label, failure)
                yield StreamError(failure)
            else:
                yield Finished(state.finish_reason or "unknown", tuple(state.logprobs) or None)
        finally:
            if deadline is not None:
                deadline.close()
            await _close(sdk_stream, client)

    def _precheck(self, request: ChatRequest) -> ProviderError | None:
        endpoint = self.endpoint
        if urlsplit(endpoint.base_url).scheme not in ("http", "https"):
            return ConnectionFailed(
                f"The base URL of {endpoint.label} must start with http:// or https://."
            )
        refused = check_params(self.api, endpoint.kind, request.params, endpoint.label)
        return (
            refused
            or tool_choice_problem(request)
            or check_images(request, self.api)
            or self._check_request(request)
        )

    def _stream_failure(
        self, exc: BaseException, request: ChatRequest, deltas: int
    ) -> ProviderError:
        endpoint = self.endpoint
        if isinstance(exc, TimeoutError):
            return first_token_timeout(endpoint) if deltas == 0 else stalled(endpoint, deltas)
        if isinstance(exc, json.JSONDecodeError):
            return ProviderError(
                f"The server at {endpoint.label} sent a malformed stream ({exc.msg})."
            )
        return map_sdk_error(exc, endpoint, request.model, self.errors, deltas=deltas)

    @staticmethod
    def _final_usage(
        state: StreamState, request: ChatRequest, deltas: int, *, failed: bool, api: str
    ) -> Usage | None:
        """The server's usage, else a local count marked estimated (None: nothing to count)."""
        if state.usage is not None:
            return state.usage
        if failed and not deltas and state.input_tokens is None:
            return None
        known_input = state.input_tokens
        return Usage(
            input_tokens=known_input
            if known_input is not None
            else estimate_tokens(request.messages, api),
            output_tokens=deltas,
            estimated=True,
            cached_input_tokens=state.cached_input_tokens,
        )


class _Deadline:
    """The first-token and idle deadlines of one stream, cheap to move.

    ``asyncio.timeout_at`` around each chunk costs ~20 µs with a few streams running (a
    timer handle made and cancelled per chunk), more than everything else we do with a chunk
    (~18 µs, docs/PERFORMANCE.md). This keeps one timer per stream: the deadline is a
    float, and the timer re-arms itself when it fires before it. It interrupts only the
    stream's own wait for the SDK (between :meth:`arm` and :meth:`disarm`), never the
    consumer's code between events; :meth:`fired` tells its cancel from one that came from
    elsewhere, as ``asyncio.timeout`` does.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._when = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._scheduled_at = 0.0
        self._task: asyncio.Task[Any] | None = None
        self._waiting = False
        self._expired = False

    def arm(self, when: float, task: asyncio.Task[Any]) -> bool:
        """Cancel ``task`` if its wait lasts past ``when``; False when that is already past."""
        if self._loop.time() >= when:
            return False
        self._when = when
        self._task = task
        if self._handle is None or when < self._scheduled_at:
            self._schedule(when)
        self._waiting = True
        return True

    def disarm(self) -> None:
        self._waiting = False

    def fired(self, task: asyncio.Task[Any], cancelling: int) -> bool:
        """Whether the CancelledError ``task`` just got was ours (and only ours)."""
        return self._expired and task.uncancel() <= cancelling

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _schedule(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._scheduled_at = when
        self._handle = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        if not self._waiting:
            return  # the next arm() schedules it again
        if self._loop.time() < self._when:
            self._schedule(self._when)
            return
        self._expired = True
        assert self._task is not None
        self._task.cancel()


class _SendClock:
    """When the first attempt's request left the client (``time.perf_counter()``)."""

    def __init__(self) -> None:
        self.at: float | None = None

    async def on_request(self, request: httpx2.Request) -> None:
        if self.at is None:
            self.at = time.perf_counter()


async def _close(sdk_stream: Any, client: Any) -> None:
    """Close the stream and the client (and so the connection)."""
    try:
        if sdk_stream is not None:
            await sdk_stream.close()
    finally:
        if client is not None:
            await client.close()


async def _offer_models(
    error: ModelNotFound, endpoint: Endpoint, exc: BaseException
) -> ModelNotFound:
    """The same error, explained: a base URL missing /v1, or the models the server has."""
    from promptstudio.providers.models import explain_not_found

    request = getattr(getattr(exc, "response", None), "request", None)
    url = str(request.url) if request is not None else None
    return await explain_not_found(error, endpoint, url)
