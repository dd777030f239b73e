"""Run one rendered prompt on many targets at once and keep live results for the UI.

Each target streams in its own asyncio task, so a slow or failing model never holds up
the others. Results are plain objects updated in place; ``on_update`` tells the UI what
changed and the UI repaints on its own timer, so the callback must stay cheap.

Times run from the moment the request is sent (the provider's :class:`RequestSent`):
the SDK is imported and warmed up before that, on a worker thread (``providers.prepare``),
and a target waiting for its turn at a server (``runs.limits``: a local server takes one
request at a time by default) is QUEUED, off the clock. Time to first token is the time
from the request to the first text, retries included.

While the provider waits to retry a target (429, 529, a refused connection, ...) its result
carries a :class:`RetryInfo` with the time the retry starts, for a countdown. With a
:class:`~promptstudio.providers.PriceTable` the result's ``cost`` is filled in as soon as
the usage is final (None for a model the table does not know).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from promptstudio.chat import Message, ToolCall
from promptstudio.providers import (
    ChatRequest,
    Endpoint,
    Finished,
    GenerationParams,
    PriceTable,
    Provider,
    ProviderError,
    RequestSent,
    Retrying,
    StreamCut,
    StreamError,
    TextDelta,
    ToolCallDelta,
    Usage,
    create_provider,
    prepare,
)
from promptstudio.runs.limits import ServerLimits
from promptstudio.tools import ToolDef

log = logging.getLogger(__name__)


class TargetStatus(StrEnum):
    QUEUED = "queued"
    WAITING = "waiting"  # request sent, no text yet
    STREAMING = "streaming"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in _FINAL


_FINAL = frozenset({TargetStatus.DONE, TargetStatus.FAILED, TargetStatus.CANCELLED})


@dataclass(frozen=True)
class RunTarget:
    """One model on one endpoint; ``key`` identifies it in results and callbacks."""

    key: str
    endpoint: Endpoint
    model: str
    params: GenerationParams = field(default_factory=GenerationParams)
    logprobs: bool = False  # ask for token log-probabilities (see ChatRequest)


@dataclass(frozen=True)
class RetryInfo:
    """The provider is waiting before retry ``attempt`` of ``max_retries``.

    ``resume_at`` is the ``time.monotonic()`` when the retry is sent: a countdown shows
    ``max(0, resume_at - time.monotonic())``.
    """

    attempt: int
    max_retries: int
    wait_seconds: float
    reason: str
    resume_at: float

    @property
    def seconds_left(self) -> float:
        return max(0.0, self.resume_at - time.monotonic())


@dataclass
class TargetResult:
    """What one target produced so far. Times are milliseconds from the request being sent.

    ``cost`` is in US dollars, set when the usage is final and the price table knows the
    model (estimated when ``usage.estimated``). ``retry`` is set while the provider waits to
    retry, and cleared when text arrives or the target ends.
    """

    target: RunTarget
    status: TargetStatus = TargetStatus.QUEUED
    ttft_ms: float | None = None
    total_ms: float | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    error: ProviderError | None = None
    cost: float | None = None
    retry: RetryInfo | None = None
    logprobs: tuple[float, ...] | None = None  # per token, when asked for and sent
    # The tool calls of the answer, growing as they stream (replaced whole, never mutated:
    # any thread may read the list).
    tool_calls: tuple[ToolCall, ...] = ()
    _started: float | None = field(default=None, init=False, repr=False)
    _parts: list[str] = field(default_factory=list, init=False, repr=False)
    _joined: tuple[int, str] = field(default=(0, ""), init=False, repr=False, compare=False)

    def add_tool_delta(self, delta: ToolCallDelta) -> None:
        """Merge a streamed piece of a tool call; only the streaming thread calls it."""
        calls = list(self.tool_calls)
        while len(calls) <= delta.index:
            calls.append(ToolCall("", ""))
        old = calls[delta.index]
        calls[delta.index] = ToolCall(
            old.id or delta.id, old.name or delta.name, old.arguments + delta.arguments
        )
        self.tool_calls = tuple(calls)

    def add_text(self, delta: str) -> None:
        """Append a streamed delta; only the thread streaming this target calls it."""
        self._parts.append(delta)

    @property
    def text(self) -> str:
        """Everything streamed so far (any thread; see :meth:`text_so_far`)."""
        return self.text_so_far()[0]

    def text_so_far(self) -> tuple[str, int]:
        """The text so far and how many deltas it holds, read from any thread.

        Deltas go into a list that only the streaming thread changes, by appending; reading
        never alters it (joining it in place on read lost the deltas appended meanwhile).
        A read joins the deltas since the previous read onto that read's text and keeps the
        pair ``(count, text)`` in one assignment, so readers on two threads (the GUI's
        timer, the checkpoints on the worker) each see a whole pair. For a 100,000-delta
        answer (~490 kB) a read costs ~40 µs where joining every delta again takes ~0.6 ms.
        """
        parts = self._parts
        count = len(parts)
        done, text = self._joined
        if done < count:
            text += "".join(parts[done:count])
            self._joined = (count, text)
        return text, count

    @property
    def output_chunks(self) -> int:
        """Number of text deltas received (what the UI shows while usage is unknown)."""
        return len(self._parts)

    @property
    def tokens_per_second(self) -> float | None:
        """Output tokens over the streaming time (first token to end); None until done."""
        if self.ttft_ms is None or self.total_ms is None:
            return None
        seconds = (self.total_ms - self.ttft_ms) / 1000
        tokens = self.output_chunks
        if self.usage is not None and self.usage.output_tokens is not None:
            tokens = self.usage.output_tokens
        if seconds <= 0 or tokens <= 1:
            return None
        # The first token's time belongs to TTFT, so count the tokens after it.
        return (tokens - 1) / seconds


UpdateCallback = Callable[[str, TargetResult, str], None]
"""(target key, the live result, the new text delta or "" for a status change)."""


class _CallbackFailed(Exception):
    pass


class RunSession:
    """One run of ``messages`` on ``targets``; call :meth:`run` once."""

    def __init__(
        self,
        messages: Sequence[Message],
        targets: Sequence[RunTarget],
        on_update: UpdateCallback | None = None,
        provider_factory: Callable[[Endpoint], Provider] = create_provider,
        price_table: PriceTable | None = None,
        limits: ServerLimits | None = None,
        tools: Sequence[ToolDef] = (),
    ) -> None:
        keys = [t.key for t in targets]
        if len(set(keys)) != len(keys):
            raise ValueError(f"target keys must be unique: {keys}")
        self.messages = tuple(messages)
        self.tools = tuple(tools)
        self.targets = tuple(targets)
        self.results: dict[str, TargetResult] = {t.key: TargetResult(t) for t in targets}
        self._on_update = on_update
        self._provider_factory = provider_factory
        self._price_table = price_table
        self._limits = limits if limits is not None else ServerLimits()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._started = False
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    async def run(self) -> dict[str, TargetResult]:
        """Stream all targets concurrently; returns when every one has ended.

        Provider failures end up in the results, never as exceptions. Cancelling the task
        that awaits this cancels every target and waits for them to close their streams.
        """
        if self._started:
            raise RuntimeError("a RunSession runs only once; make a new one")
        self._started = True
        self._running = True
        try:
            for key, result in self.results.items():
                if not result.status.finished:  # cancel() before run() leaves it CANCELLED
                    self._tasks[key] = asyncio.create_task(
                        self._run_target(result), name=f"run-target:{key}"
                    )
            tasks = list(self._tasks.values())
            try:
                if tasks:
                    await asyncio.wait(tasks)
            except asyncio.CancelledError:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
            for task in tasks:  # targets catch everything; anything left here is our bug
                if not task.cancelled() and task.exception() is not None:
                    log.error("target task %s crashed", task.get_name(), exc_info=task.exception())
        finally:
            self._running = False
        return self.results

    def cancel(self, key: str | None = None) -> None:
        """Stop one target (or all); its text so far is kept and it ends CANCELLED."""
        keys = list(self.results) if key is None else [key]
        for k in keys:
            result = self.results[k]
            if result.status.finished:
                continue
            result.total_ms = _ms_since(result._started)
            result.retry = None
            result.status = TargetStatus.CANCELLED
            task = self._tasks.get(k)
            if task is not None:
                task.cancel()
            self._notify(result, "", final=True)

    # ---- one target --------------------------------------------------------------------

    async def _run_target(self, result: TargetResult) -> None:
        target = result.target
        turn = self._limits.turn(target.endpoint)
        holding = False
        try:
            await prepare(target.endpoint, target.model)
            if turn is not None:
                if turn.locked():
                    self._notify(result, "")  # still QUEUED: say so while it waits
                await turn.acquire()
                holding = True
            result._started = time.perf_counter()  # until the provider says when it sent
            provider = self._provider_factory(target.endpoint)
            request = ChatRequest(
                self.messages, target.model, target.params, self.tools, target.logprobs
            )
            self._set_status(result, TargetStatus.WAITING)
            stream = provider.stream(request)
            try:
                async for event in stream:
                    # cancel() ran while events were buffered (the other final states are
                    # set below, followed by a break).
                    if result.status is TargetStatus.CANCELLED:
                        break
                    if isinstance(event, TextDelta):
                        if result.ttft_ms is None:
                            result.ttft_ms = _ms_since(result._started)
                            result.status = TargetStatus.STREAMING
                            result.retry = None
                        result.add_text(event.text)
                        self._notify(result, event.text)
                    elif isinstance(event, ToolCallDelta):
                        if result.ttft_ms is None:
                            result.ttft_ms = _ms_since(result._started)
                            result.status = TargetStatus.STREAMING
                            result.retry = None
                        result.add_tool_delta(event)
                        self._notify(result, "")
                    elif isinstance(event, RequestSent):
                        result._started = event.at
                    elif isinstance(event, Usage):
                        result.usage = event
                        if self._price_table is not None:
                            result.cost = self._price_table.cost(target.model, event)
                    elif isinstance(event, Retrying):
                        result.retry = RetryInfo(
                            attempt=event.attempt,
                            max_retries=event.max_retries,
                            wait_seconds=event.wait_seconds,
                            reason=event.reason,
                            resume_at=time.monotonic() + event.wait_seconds,
                        )
                        self._notify(result, "")
                    elif isinstance(event, Finished):
                        result.finish_reason = event.reason
                        result.logprobs = event.logprobs
                        self._end(result, TargetStatus.DONE)
                        break
                    elif isinstance(event, StreamError):
                        self._fail(result, event.error)
                        break
                else:
                    self._fail(result, StreamCut("The provider stopped without finishing."))
            finally:
                # Close the provider's stream (and its HTTP connection) right away.
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
        except asyncio.CancelledError:
            if not result.status.finished:  # run() itself was cancelled
                result.total_ms = _ms_since(result._started)
                result.retry = None
                result.status = TargetStatus.CANCELLED
                self._notify(result, "", final=True)
            raise
        except ProviderError as exc:
            self._fail(result, exc)
        except _CallbackFailed as exc:
            self._fail(result, ProviderError(f"Showing the result failed: {exc}"))
        except Exception as exc:
            log.exception("target %s (%s) failed unexpectedly", target.key, target.endpoint.label)
            self._fail(result, ProviderError(f"Unexpected error: {exc}"))
        finally:
            if holding:
                assert turn is not None
                turn.release()

    def _set_status(self, result: TargetResult, status: TargetStatus) -> None:
        result.status = status
        self._notify(result, "")

    def _end(self, result: TargetResult, status: TargetStatus) -> None:
        if result.status.finished:
            return
        result.total_ms = _ms_since(result._started)
        result.retry = None
        result.status = status
        self._notify(result, "", final=True)

    def _fail(self, result: TargetResult, error: ProviderError) -> None:
        if result.status.finished:
            return
        log.info("target %s failed: %s", result.target.key, error)
        result.error = error
        self._end(result, TargetStatus.FAILED)

    def _notify(self, result: TargetResult, delta: str, *, final: bool = False) -> None:
        """Call on_update; a failing callback fails its target, except for final states."""
        if self._on_update is None:
            return
        try:
            self._on_update(result.target.key, result, delta)
        except Exception as exc:
            log.exception("on_update failed for target %s", result.target.key)
            if not final:
                raise _CallbackFailed(str(exc) or type(exc).__name__) from exc


def _ms_since(start: float | None) -> float | None:
    """Milliseconds since ``start``; None for a target that never got to send."""
    return None if start is None else (time.perf_counter() - start) * 1000


__all__ = [
    "RetryInfo",
    "RunSession",
    "RunTarget",
    "TargetResult",
    "TargetStatus",
    "UpdateCallback",
]
