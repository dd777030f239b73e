"""Server-sent events, read straight off the SDK's raw HTTP response with little work each.

The SDKs' typed streams cost ~180 µs a chunk on this machine (their SSE decoder, then a
pydantic model per chunk), enough to make the client, not the model, the limit of a
measured speed with a few fast streams. The providers therefore send their requests
through the SDKs (auth, errors, our retry loop) but read the body here: the bytes are split
into lines and events as the HTML standard's event-stream rules say, and each event's data
is decoded with the standard library's C-accelerated JSON decoder, nothing more. Each
protocol reads the plain dicts in ``_on_event``.

Rules kept (https://html.spec.whatwg.org/multipage/server-sent-events.html): lines end in
LF, CR or CRLF, even when a CRLF is split across two network reads; a line starting with
``:`` is a comment; ``data:`` lines of one event are joined with newlines; one space after
the colon is dropped; an event is dispatched at a blank line, or at the end of the body
(servers that omit the last blank line are common and the SDKs accept it too); an event
with no data is not dispatched. ``id`` and ``retry`` are ignored (we never reconnect).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx2

__all__ = ["SseDecoder", "SseEventStream", "open_event_stream"]

# What OpenAI-style servers send after the last chunk; the SDKs stop there too.
DONE = "[DONE]"

SseEvent = tuple[str, str]
"""(event name, or "" when the event has none; data)."""


class SseDecoder:
    """Bytes in, whole events out: :meth:`feed` each network read, :meth:`finish` at the end."""

    __slots__ = ("_data", "_event", "_skip_lf", "_tail")

    def __init__(self) -> None:
        self._tail = b""  # an unfinished line
        self._skip_lf = False  # the last read ended in CR: an LF first in the next is its pair
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """The events completed by ``chunk``."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 10:  # b"\n"
                chunk = chunk[1:]
        buffer = self._tail + chunk if self._tail else chunk
        if b"\r" in buffer:
            self._skip_lf = buffer.endswith(b"\r")
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._tail = lines.pop()
        return self._lines(lines)

    def finish(self) -> list[SseEvent]:
        """The events left when the body ends: an unfinished line, an undispatched event."""
        tail, self._tail = self._tail, b""
        self._skip_lf = False
        # The end of the body ends the last line and the last event.
        return self._lines([tail, b""] if tail else [b""])

    def _lines(self, lines: list[bytes]) -> list[SseEvent]:
        events: list[SseEvent] = []
        data = self._data
        for raw in lines:
            if not raw:
                if data:
                    events.append((self._event, "\n".join(data)))
                    data.clear()
                self._event = ""
                continue
            line = raw.decode("utf-8", "replace")
            name, colon, value = line.partition(":")
            if not name:
                continue  # ":" starts a comment (keep-alives)
            if colon and value.startswith(" "):
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                self._event = value
            # "id", "retry" and unknown fields are ignored.
        return events


class SseEventStream:
    """The events of one streamed response as ``(event name, decoded JSON data)``.

    Iterating raises what the transport raises (``httpx2.RequestError`` and its timeouts)
    and ``json.JSONDecodeError`` for data that is not JSON, except in an ``error`` event,
    whose raw text is passed on as a string (a server's plain-text explanation).
    The OpenAI-style ``[DONE]`` ends the stream. :meth:`close` closes the response (and,
    with the client, the connection).
    """

    def __init__(self, response: httpx2.Response) -> None:
        self._response = response
        self._chunks: AsyncIterator[bytes] = response.aiter_bytes()
        self._decoder = SseDecoder()
        self._pending: deque[SseEvent] = deque()
        self._ended = False

    def __aiter__(self) -> SseEventStream:
        return self

    async def __anext__(self) -> tuple[str, Any]:
        pending = self._pending
        while not pending:
            if self._ended:
                raise StopAsyncIteration
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                self._ended = True
                pending.extend(self._decoder.finish())
            else:
                pending.extend(self._decoder.feed(chunk))
        name, data = pending.popleft()
        if not data:  # an empty "data:" says nothing (the SDKs would fail or skip it)
            return await self.__anext__()
        if data.startswith(DONE):
            self._ended = True
            pending.clear()
            raise StopAsyncIteration
        try:
            return name, json.loads(data)
        except json.JSONDecodeError:
            if name == "error":
                return name, data
            raise

    async def close(self) -> None:
        """End the body's reader now (not when it is collected), then the response."""
        try:
            aclose = getattr(self._chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            await self._response.aclose()


async def open_event_stream(streamed: AbstractAsyncContextManager[Any]) -> SseEventStream:
    """Send the request of an SDK's ``with_streaming_response`` call; read its events.

    The SDK sends it, with its auth and headers, and raises its typed errors for a failed
    status before returning; the body is left unread for us.
    """
    response = await streamed.__aenter__()
    return SseEventStream(response.http_response)
