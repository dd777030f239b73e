"""A fake LLM server speaking OpenAI Chat Completions, OpenAI Responses and Anthropic Messages.

The SDKs ride on ``httpx2``, which respx cannot intercept, so tests point the real SDKs at
this server on 127.0.0.1 instead of mocking them. Each scripted :class:`Reply` can misbehave
the way real servers do, on every protocol: errors with headers (429 + Retry-After, 529),
slow or stalled streams, cut connections and error events inside a 200 stream. It records
every request (path, headers, JSON body) and notices at once when a client hangs up, so
tests can assert what was sent and when a connection closed. Stdlib only; stopping never
hangs on a stream in flight.

With ``interrupt_requests=True`` the server behaves like llama-cpp-python's (whose
``--interrupt_requests`` is on by default): streamed chat requests are served one at a
time, and a request that arrives while another streams makes that stream end at its next
chunk with a clean ``data: [DONE]`` and no finish reason.

Routes: ``POST /v1/chat/completions`` (with per-token ``logprobs`` when the request asks),
``POST /v1/responses``, ``POST /v1/messages``, ``POST /v1/embeddings`` (OpenAI's shape; the
vectors come from :attr:`FakeLLM.embedder`) and ``GET /v1/models`` (Anthropic's paginated
shape when the request carries an ``anthropic-version`` header, OpenAI's otherwise). A
generation request without ``"stream": true`` gets the whole answer as one JSON object, as
the real APIs send it (a chat completion, a response, a message, each with its usage):
promptfoo never streams. The batch APIs of both providers: see ``tests.fake_batches``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fake_batches import FakeBatches

log = logging.getLogger(__name__)

DEFAULT_MODELS = ["fake-model", "fake-model-large"]

CHAT_PATH = "/v1/chat/completions"
RESPONSES_PATH = "/v1/responses"
MESSAGES_PATH = "/v1/messages"
MODELS_PATH = "/v1/models"
EMBEDDINGS_PATH = "/v1/embeddings"

# OpenAI's error "type" and "code" per status.
_OPENAI_ERRORS = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "permission_denied"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}
# Anthropic's error "type" per status (https://docs.anthropic.com/en/api/errors).
_ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class Reply:
    """One scripted answer: what to say, how fast, and how to fail (on any protocol)."""

    text: str = "Hello from the fake model."
    first_token_delay: float = 0.0
    tokens_per_second: float | None = None  # None = as fast as possible
    chunk: str = "word"  # "word" (split keeping spaces) or "char"
    status: int = 200  # non-200 -> the protocol's JSON error body
    error_message: str = "The fake server failed on purpose."
    error_type: str | None = None  # override the error's type/code (e.g. "overloaded_error")
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"retry-after": "3"}
    include_usage: bool = True  # Chat: when the client asks; others: usage fields at all
    input_tokens: int | None = None  # default: whitespace words of every message
    cached_tokens: int = 0  # part of the input served from the prompt cache
    reasoning_tokens: int = 0  # hidden reasoning tokens, counted in the output tokens
    # Thinking streamed before the text, at the reply's pace: Anthropic thinking deltas,
    # Responses reasoning-summary deltas, Chat ``reasoning_content`` (DeepSeek's way).
    thinking: str = ""
    cut_after_chunks: int | None = None  # drop the connection mid-stream
    stall_after_chunks: int | None = None  # go quiet (socket open) for stall_seconds
    stall_seconds: float = 0.0
    error_event_after_chunks: int | None = None  # an error inside the 200 stream
    error_event: str = "error"  # Responses: "error" or "response.failed"
    finish_reason: str | None = "stop"  # "stop"/"length"; None: the stream never finishes
    logprob: float = -0.5  # every token's log-probability, sent when the request asks
    # Tool calls after the text, each (name, arguments JSON text), streamed as each API
    # does with the arguments split every ``tool_chunk`` characters; several are parallel
    # calls. With calls the finish reason is the API's own (tool_calls, tool_use).
    tool_calls: list[tuple[str, str]] = field(default_factory=list)
    tool_chunk: int = 7

    def chunks(self) -> list[str]:
        return _split(self.text, self.chunk)

    def argument_pieces(self, arguments: str) -> list[str]:
        size = max(1, self.tool_chunk)
        return [arguments[i : i + size] for i in range(0, len(arguments), size)]

    def call_id(self, index: int, prefix: str) -> str:
        return f"{prefix}_fake{index}"


def _token_logprob(token: str, logprob: float) -> dict[str, Any]:
    """One entry of a Chat Completions answer's ``logprobs.content``."""
    return {"token": token, "logprob": logprob, "bytes": list(token.encode()), "top_logprobs": []}


def _split(text: str, mode: str) -> list[str]:
    if mode == "char":
        return list(text)
    # Split between whitespace and the next word, so "a b" -> ["a ", "b"].
    return [piece for piece in re.split(r"(?<=\s)(?=\S)", text) if piece]


@dataclass(frozen=True)
class SentStream:
    """The text chunks of one answer as the server sent them (``time.monotonic()``)."""

    model: str
    chunks: int
    first_at: float  # the first text chunk
    last_at: float  # the last one

    @property
    def tokens_per_second(self) -> float:
        """The rate the server actually sent at, counted as the run engine counts it."""
        seconds = self.last_at - self.first_at
        return (self.chunks - 1) / seconds if seconds > 0 else float("inf")


@dataclass
class RecordedRequest:
    method: str
    path: str  # with the query string, as sent
    headers: dict[str, str]  # lower-case names
    json: Any
    received_at: float = field(default_factory=time.monotonic)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connects when 8 streams open at once on a
    # busy machine (the client then waits for SYN retries); real servers queue more.
    request_queue_size = 64
    fake: FakeLLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-stream is normal here; keep stderr clean.
        log.debug("fake LLM: connection from %s ended with an error", client_address, exc_info=True)


class _ClientGone(Exception):
    """The client closed the connection while we were answering."""


class _Interrupted(Exception):
    """Another request is waiting (``interrupt_requests``): end this stream now."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    model = ""  # of the request being answered

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake LLM: " + format, *args)

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._track(self.connection, add=False)

    def handle(self) -> None:
        try:
            super().handle()
        except _ClientGone:
            self.close_connection = True
        except (OSError, ValueError):  # reset, broken pipe, closed by stop()
            self.close_connection = True

    @property
    def fake(self) -> FakeLLM:
        return self.server.fake

    @property
    def route(self) -> str:
        return urlsplit(self.path).path.rstrip("/")

    @property
    def anthropic_style(self) -> bool:
        return self.route == MESSAGES_PATH or "anthropic-version" in self.headers

    # ---- routing ---------------------------------------------------------------------

    def do_GET(self) -> None:
        self._record(None)
        if not self._authorized() or self.fake.batches.handle(self, "GET", b""):
            return
        if self.route != MODELS_PATH:
            self._send_not_found()
            return
        scripted = self.fake.models_reply
        if scripted is not None and scripted.status != 200:
            self._send_error_reply(scripted)
        elif scripted is not None and self._wait(scripted.first_token_delay):
            return
        elif self.anthropic_style:
            self._send_json(200, self._anthropic_models())
        else:
            data = [
                {"id": name, "object": "model", "created": 0, "owned_by": "fake"}
                for name in self.fake.models
            ]
            self._send_json(200, {"object": "list", "data": data})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self._record(body)
        if not self._authorized() or self.fake.batches.handle(self, "POST", raw):
            return
        route = self.route
        if route not in (CHAT_PATH, RESPONSES_PATH, MESSAGES_PATH, EMBEDDINGS_PATH):
            self._send_not_found()
            return
        if not isinstance(body, dict):
            self._send_error(400, "Body must be JSON.", None)
            return
        if route == EMBEDDINGS_PATH:
            self._embeddings(body)
            return
        model = self.model = str(body.get("model", ""))
        image_problem = _image_problem(route, body)
        if image_problem is None and _images(body) and model in self.fake.text_only_models:
            image_problem = self.fake.text_only_message
        if image_problem is not None:
            self._send_error(400, image_problem, None)
            return
        reply = self.fake._next_reply(model, body)
        if reply.status != 200:
            self._send_error_reply(reply)
        elif route == CHAT_PATH:
            if body.get("stream") and self.fake.interrupt_requests:
                self._stream_chat_interruptible(reply, body, model)
            elif body.get("stream"):
                self._stream_chat(reply, body, model)
            else:
                self._complete_chat(reply, body, model)
        elif route == RESPONSES_PATH and not body.get("stream"):
            self._complete_responses(reply, body, model)
        elif route == RESPONSES_PATH:
            self._stream_responses(reply, body, model)
        elif not body.get("stream"):
            self._complete_messages(reply, body, model)
        else:
            self._stream_messages(reply, body, model)

    # ---- plumbing --------------------------------------------------------------------

    def _record(self, body: Any) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.fake._record(RecordedRequest(self.command, self.path, headers, body))

    def _authorized(self) -> bool:
        wanted = self.fake.require_key
        if wanted is None:
            return True
        auth = self.headers.get("authorization") or ""
        given = auth.removeprefix("Bearer ").strip() if auth else ""
        given = given or (self.headers.get("x-api-key") or "").strip()
        if given == wanted:
            return True
        # Echo the key back, as careless servers do: the client must never show it.
        message = f"Incorrect API key provided: {given}." if given else "No API key provided."
        self._send_error(401, message, None)
        return False

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_not_found(self) -> None:
        """A plain-text 404 for unknown paths, as Ollama and most web servers send (or
        FastAPI's JSON one, as the llama.cpp server of llama-cpp-python sends)."""
        if self.fake.json_not_found:
            self._send_json(404, {"detail": "Not Found"})
            return
        data = b"404 page not found"
        self.send_response(404)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_error(
        self,
        status: int,
        message: str,
        error_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._send_json(status, self._error_body(status, message, error_type), headers)

    def _send_error_reply(self, reply: Reply) -> None:
        self._send_error(reply.status, reply.error_message, reply.error_type, reply.headers)

    def _error_body(self, status: int, message: str, error_type: str | None) -> dict[str, Any]:
        if self.anthropic_style:
            kind = error_type or _ANTHROPIC_ERRORS.get(status, "api_error")
            return {
                "type": "error",
                "error": {"type": kind, "message": message},
                "request_id": "req_fake",
            }
        kind, code = _OPENAI_ERRORS.get(status, ("server_error", None))
        if error_type is not None:
            kind = code = error_type
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}

    def _wait(self, seconds: float) -> bool:
        """Sleep unless the server stops or the client hangs up; True means give up."""
        if seconds <= 0:
            return False
        deadline = time.monotonic() + seconds
        while True:
            if self.fake._stopping.is_set():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            readable, _, _ = select.select([self.connection], [], [], min(remaining, 0.05))
            if readable and self._client_hung_up():
                return True

    def _client_hung_up(self) -> bool:
        """The socket turned readable mid-answer: EOF or reset means the client left."""
        try:
            data = self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if data:  # the client sent more (never expected mid-answer): keep going
            time.sleep(0.01)
            return False
        self.fake._hung_up()
        return True

    def _start_stream(self, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()

    def _sse(self, payload: Any, event: str | None = None) -> None:
        """One server-sent event: ``event:`` (when named) and ``data:`` lines."""
        if getattr(self, "_interruptible", False) and self.fake._someone_waiting():
            raise _Interrupted
        data = payload if isinstance(payload, str) else json.dumps(payload)
        head = f"event: {event}\n" if event else ""
        self._write_chunk(f"{head}data: {data}\n\n".encode())

    def _write_chunk(self, data: bytes) -> None:
        """One HTTP/1.1 chunk; an empty one ends the body."""
        try:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        except OSError as exc:
            self.fake._hung_up()
            raise _ClientGone from exc

    def _end_stream(self) -> None:
        self._write_chunk(b"")

    def _cut(self) -> None:
        """Drop the connection without ending the chunked body, like a crashed server."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _play(
        self,
        reply: Reply,
        pieces: list[str],
        send: Callable[[str], None],
        on_error: Callable[[], None],
    ) -> bool:
        """Send ``pieces`` at the reply's pace with its faults.

        True when the stream already ended (cut, error event, hang-up or stop): the caller
        then sends nothing more.
        """
        if self._wait(reply.first_token_delay):
            return True
        pause = 1.0 / reply.tokens_per_second if reply.tokens_per_second else 0.0
        # Paced by a schedule, not a sleep per token (each sleep overshoots, and at
        # 1,500 tok/s that would slow the stream by a fifth); a stall moves the schedule.
        due = first_at = time.monotonic()
        for sent, text in enumerate(pieces):
            if sent == reply.cut_after_chunks:
                self._cut()
                return True
            if sent == reply.error_event_after_chunks:
                on_error()
                return True
            if sent == reply.stall_after_chunks:
                if self._wait(reply.stall_seconds):
                    return True
                due = time.monotonic()
            if sent and self._wait(due - time.monotonic()):
                return True
            send(text)
            if not sent:
                due = first_at = time.monotonic()
            due += pause
        if pieces:
            self.fake._sent(SentStream(self.model, len(pieces), first_at, time.monotonic()))
        if reply.cut_after_chunks is not None:
            self._cut()
            return True
        if reply.error_event_after_chunks is not None:
            on_error()
            return True
        return False

    def _pace(self, reply: Reply, pieces: list[str], send: Callable[[str], None]) -> bool:
        """Send ``pieces`` at the reply's pace; True when the client left or we stop."""
        pause = 1.0 / reply.tokens_per_second if reply.tokens_per_second else 0.0
        for sent, piece in enumerate(pieces):
            if sent and self._wait(pause):
                return True
            send(piece)
        return False

    # ---- token counts ----------------------------------------------------------------

    def _input_tokens(self, reply: Reply, body: dict[str, Any]) -> int:
        if reply.input_tokens is not None:
            return reply.input_tokens
        words = sum(len(text.split()) for text in _texts(body))
        return words + IMAGE_TOKENS * len(_images(body))

    # ---- Embeddings ------------------------------------------------------------------

    def _embeddings(self, body: dict[str, Any]) -> None:
        """OpenAI's ``CreateEmbeddingResponse``: one vector per input, in input order."""
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            self._send_error(400, "'input' must be a string or a list of strings.", None)
            return
        scripted = self.fake.embeddings_reply
        if scripted is not None and scripted.status != 200:
            self._send_error_reply(scripted)
            return
        data = [
            {"object": "embedding", "index": index, "embedding": self.fake.embedder(text)}
            for index, text in enumerate(texts)
        ]
        tokens = sum(len(text.split()) for text in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        payload = {"object": "list", "data": data, "model": body.get("model", ""), "usage": usage}
        self._send_json(200, payload)

    # ---- Chat Completions ------------------------------------------------------------

    def _chat_usage(self, reply: Reply, body: dict[str, Any], sent: int) -> dict[str, Any]:
        prompt = self._input_tokens(reply, body)
        completion = sent + reply.reasoning_tokens
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
        }

    def _complete_chat(self, reply: Reply, body: dict[str, Any], model: str) -> None:
        if self._wait(reply.first_token_delay):
            return
        self._send_json(200, self._chat_completion(reply, body, model), reply.headers)

    def _chat_completion(self, reply: Reply, body: dict[str, Any], model: str) -> dict[str, Any]:
        """A whole ``chat.completion`` object (a non-streamed answer, or a batch line's)."""
        calls: dict[str, Any] = {}
        content: str | None = reply.text
        if reply.tool_calls:
            content = reply.text or None  # as OpenAI says it for an answer of calls only
            calls["tool_calls"] = [
                {
                    "id": reply.call_id(index, "call"),
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
                for index, (name, arguments) in enumerate(reply.tool_calls)
            ]
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": content, **calls},
            "logprobs": None,
            "finish_reason": "tool_calls" if reply.tool_calls else reply.finish_reason,
        }
        if body.get("logprobs") and content:  # as OpenAI gives them: one entry per token
            tokens = [_token_logprob(token, reply.logprob) for token in reply.chunks()]
            choice["logprobs"] = {"content": tokens, "refusal": None}
        payload = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [choice],
            "usage": self._chat_usage(reply, body, len(reply.chunks())),
        }
        return payload

    def _stream_chat_interruptible(self, reply: Reply, body: dict[str, Any], model: str) -> None:
        """llama-cpp-python's way: one stream at a time, and a newcomer ends the current one.

        Its server holds an outer lock only while a request waits for the inner one (held by
        the stream being served), and the stream checks the outer lock after each chunk.
        """
        fake = self.fake
        with fake._outer:
            fake._inner.acquire()
        try:
            self._interruptible = True
            try:
                self._stream_chat(reply, body, model)
            except _Interrupted:
                self._interruptible = False
                with fake._lock:
                    fake.interrupted += 1
                self._sse("[DONE]")
                self._end_stream()
        finally:
            self._interruptible = False
            fake._inner.release()

    def _stream_chat(self, reply: Reply, body: dict[str, Any], model: str) -> None:
        self._start_stream(reply)
        options = body.get("stream_options") or {}
        want_usage = bool(options.get("include_usage")) and reply.include_usage
        base: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        if want_usage:
            base["usage"] = None  # as OpenAI does on every chunk but the last

        def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            picked: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
            if body.get("logprobs") and delta.get("content"):
                token = delta["content"]
                picked["logprobs"] = {
                    "content": [_token_logprob(token, reply.logprob)],
                    "refusal": None,
                }
            return {**base, "choices": [picked]}

        def error_event() -> None:
            kind, code = _OPENAI_ERRORS.get(reply.status, ("server_error", "server_error"))
            if reply.error_type is not None:
                kind = code = reply.error_type
            error = {"message": reply.error_message, "type": kind, "param": None, "code": code}
            self._sse({"error": error})
            self._end_stream()

        self._sse(choice({"role": "assistant", "content": ""}))
        thinking = _split(reply.thinking, reply.chunk)
        if self._pace(reply, thinking, lambda t: self._sse(choice({"reasoning_content": t}))):
            return
        chunks = reply.chunks()
        if self._play(reply, chunks, lambda t: self._sse(choice({"content": t})), error_event):
            return
        for index, (name, arguments) in enumerate(reply.tool_calls):
            first = {
                "index": index,
                "id": reply.call_id(index, "call"),
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            self._sse(choice({"tool_calls": [first]}))
            for piece in reply.argument_pieces(arguments):
                more = {"index": index, "function": {"arguments": piece}}
                self._sse(choice({"tool_calls": [more]}))
        if reply.finish_reason is not None:
            finish = "tool_calls" if reply.tool_calls else reply.finish_reason
            self._sse(choice({}, finish))
        if want_usage:
            self._sse({**base, "choices": [], "usage": self._chat_usage(reply, body, len(chunks))})
        self._sse("[DONE]")
        self._end_stream()

    # ---- Responses -------------------------------------------------------------------

    def _stream_responses(self, reply: Reply, body: dict[str, Any], model: str) -> None:
        self._start_stream(reply)
        seq = iter(range(1_000_000))
        created = int(time.time())
        response = _response_object(body, model, created)
        item_id = "msg_fake"

        def event(kind: str, **fields: Any) -> None:
            self._sse({"type": kind, "sequence_number": next(seq), **fields}, event=kind)

        def error_event() -> None:
            code = reply.error_type or "server_error"
            if reply.error_event == "response.failed":
                failed = {**response, "status": "failed"}
                failed["error"] = {"code": code, "message": reply.error_message}
                event("response.failed", response=failed)
            else:
                event("error", code=code, message=reply.error_message, param=None)
            self._end_stream()

        event("response.created", response=response)
        event("response.in_progress", response=response)
        thinking = _split(reply.thinking, reply.chunk)
        if self._pace(
            reply,
            thinking,
            lambda piece: event(
                "response.reasoning_summary_text.delta",
                item_id="rs_fake",
                output_index=0,
                summary_index=0,
                delta=piece,
            ),
        ):
            return
        message = {
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        event("response.output_item.added", output_index=0, item=message)
        part = {"type": "output_text", "text": "", "annotations": []}
        event(
            "response.content_part.added",
            item_id=item_id,
            output_index=0,
            content_index=0,
            part=part,
        )

        def delta(text: str) -> None:
            event(
                "response.output_text.delta",
                item_id=item_id,
                output_index=0,
                content_index=0,
                delta=text,
                logprobs=[],
            )

        chunks = reply.chunks()
        if self._play(reply, chunks, delta, error_event):
            return
        if reply.finish_reason is None:  # the body ends without a final event
            self._end_stream()
            return
        text_part = {"type": "output_text", "text": reply.text, "annotations": []}
        event(
            "response.output_text.done",
            item_id=item_id,
            output_index=0,
            content_index=0,
            text=reply.text,
            logprobs=[],
        )
        event(
            "response.content_part.done",
            item_id=item_id,
            output_index=0,
            content_index=0,
            part=text_part,
        )
        done_item = {**message, "status": "completed", "content": [text_part]}
        event("response.output_item.done", output_index=0, item=done_item)
        calls = self._response_calls(reply, event, first_index=1)
        final = {**response, "output": [done_item, *calls]}
        if reply.include_usage:
            prompt = self._input_tokens(reply, body)
            output = len(chunks) + reply.reasoning_tokens
            final["usage"] = {
                "input_tokens": prompt,
                "input_tokens_details": {"cached_tokens": reply.cached_tokens},
                "output_tokens": output,
                "output_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
                "total_tokens": prompt + output,
            }
        if reply.finish_reason == "length":
            final.update(status="incomplete", incomplete_details={"reason": "max_output_tokens"})
            event("response.incomplete", response=final)
        else:
            final["status"] = "completed"
            event("response.completed", response=final)
        self._end_stream()

    def _response_calls(
        self, reply: Reply, event: Callable[..., None], first_index: int
    ) -> list[dict[str, Any]]:
        """Stream the reply's tool calls as Responses function-call items; the done items."""
        done: list[dict[str, Any]] = []
        for number, (name, arguments) in enumerate(reply.tool_calls):
            index = first_index + number
            item = {
                "id": reply.call_id(number, "fc"),
                "type": "function_call",
                "status": "in_progress",
                "arguments": "",
                "call_id": reply.call_id(number, "call"),
                "name": name,
            }
            event("response.output_item.added", output_index=index, item=item)
            for piece in reply.argument_pieces(arguments):
                event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=piece,
                )
            event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                name=name,
                arguments=arguments,
            )
            finished = {**item, "status": "completed", "arguments": arguments}
            event("response.output_item.done", output_index=index, item=finished)
            done.append(finished)
        return done

    # ---- Anthropic Messages ----------------------------------------------------------

    def _stream_messages(self, reply: Reply, body: dict[str, Any], model: str) -> None:
        self._start_stream(reply)
        prompt = self._input_tokens(reply, body)
        usage: dict[str, Any] = {
            "input_tokens": prompt - reply.cached_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": reply.cached_tokens,
            "output_tokens": 1,
        }
        start: dict[str, Any] = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": model,
            "stop_reason": None,
            "stop_sequence": None,
        }
        if reply.include_usage:
            start["usage"] = usage

        def event(kind: str, **fields: Any) -> None:
            self._sse({"type": kind, **fields}, event=kind)

        def error_event() -> None:
            kind = reply.error_type or "overloaded_error"
            error = {"type": kind, "message": reply.error_message}
            self._sse({"type": "error", "error": error}, event="error")
            self._end_stream()

        event("message_start", message=start)
        index = 0
        thinking = _split(reply.thinking, reply.chunk)
        if thinking:
            block = {"type": "thinking", "thinking": "", "signature": ""}
            event("content_block_start", index=0, content_block=block)
            if self._pace(
                reply,
                thinking,
                lambda piece: event(
                    "content_block_delta",
                    index=0,
                    delta={"type": "thinking_delta", "thinking": piece},
                ),
            ):
                return
            event(
                "content_block_delta",
                index=0,
                delta={"type": "signature_delta", "signature": "c2lnbmF0dXJl"},
            )
            event("content_block_stop", index=0)
            index = 1
        event("content_block_start", index=index, content_block={"type": "text", "text": ""})
        event("ping")

        def delta(text: str) -> None:
            event("content_block_delta", index=index, delta={"type": "text_delta", "text": text})

        chunks = reply.chunks()
        if self._play(reply, chunks, delta, error_event):
            return
        event("content_block_stop", index=index)
        for number, (name, arguments) in enumerate(reply.tool_calls):
            index += 1
            block = {"type": "tool_use", "id": reply.call_id(number, "toolu"), "name": name}
            event("content_block_start", index=index, content_block={**block, "input": {}})
            for piece in reply.argument_pieces(arguments):
                delta_json = {"type": "input_json_delta", "partial_json": piece}
                event("content_block_delta", index=index, delta=delta_json)
            event("content_block_stop", index=index)
        if reply.finish_reason is None:  # the body ends without message_delta/message_stop
            self._end_stream()
            return
        stop_reason = {"stop": "end_turn", "length": "max_tokens"}.get(
            reply.finish_reason, reply.finish_reason
        )
        if reply.tool_calls:
            stop_reason = "tool_use"
        fields: dict[str, Any] = {"delta": {"stop_reason": stop_reason, "stop_sequence": None}}
        if reply.include_usage:
            output = len(chunks) + len(thinking) + reply.reasoning_tokens
            details = {"thinking_tokens": len(thinking) + reply.reasoning_tokens}
            fields["usage"] = {"output_tokens": output, "output_tokens_details": details}
        event("message_delta", **fields)
        event("message_stop")
        self._end_stream()

    # ---- non-streaming answers (Responses and Messages; Chat's is _complete_chat) -----

    def _complete_responses(self, reply: Reply, body: dict[str, Any], model: str) -> None:
        """A whole ``response`` object, as ``POST /v1/responses`` without ``stream``."""
        if self._wait(reply.first_token_delay):
            return
        self._send_json(200, self._response(reply, body, model), reply.headers)

    def _response(self, reply: Reply, body: dict[str, Any], model: str) -> dict[str, Any]:
        text_part = {"type": "output_text", "text": reply.text, "annotations": []}
        message = {
            "id": "msg_fake",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [text_part],
        }
        calls = [
            {"id": reply.call_id(number, "fc"), "type": "function_call", "status": "completed",
             "arguments": arguments, "call_id": reply.call_id(number, "call"), "name": name}
            for number, (name, arguments) in enumerate(reply.tool_calls)
        ]  # fmt: skip
        incomplete = reply.finish_reason == "length"
        output = len(reply.chunks()) + reply.reasoning_tokens
        prompt = self._input_tokens(reply, body)
        payload = _response_object(body, model, int(time.time()))
        payload |= {
            "status": "incomplete" if incomplete else "completed",
            "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
            "output": [message, *calls] if reply.text or not calls else calls,
            "usage": {
                "input_tokens": prompt,
                "input_tokens_details": {
                    "cached_tokens": reply.cached_tokens,
                    "cache_write_tokens": 0,
                },
                "output_tokens": output,
                "output_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
                "total_tokens": prompt + output,
            }
            if reply.include_usage
            else None,
        }
        return payload

    def _complete_messages(self, reply: Reply, body: dict[str, Any], model: str) -> None:
        """A whole ``message`` object, as ``POST /v1/messages`` without ``stream``."""
        if self._wait(reply.first_token_delay):
            return
        self._send_json(200, self._message(reply, body, model), reply.headers)

    def _message(self, reply: Reply, body: dict[str, Any], model: str) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if reply.thinking:
            content.append(
                {"type": "thinking", "thinking": reply.thinking, "signature": "c2lnbmF0dXJl"}
            )
        if reply.text or not reply.tool_calls:
            content.append({"type": "text", "text": reply.text})
        for number, (name, arguments) in enumerate(reply.tool_calls):  # as the stream ends
            call = {"type": "tool_use", "id": reply.call_id(number, "toolu"), "name": name}
            content.append({**call, "input": json.loads(arguments or "{}")})
        prompt = self._input_tokens(reply, body)
        stop_reason = {"stop": "end_turn", "length": "max_tokens"}.get(
            reply.finish_reason or "stop", reply.finish_reason
        )
        if reply.tool_calls:
            stop_reason = "tool_use"
        output = len(reply.chunks()) + len(_split(reply.thinking, reply.chunk))
        payload = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "content": content,
            "model": model,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": prompt - reply.cached_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": reply.cached_tokens,
                "output_tokens": output + reply.reasoning_tokens,
            },
        }
        return payload

    def _anthropic_models(self) -> dict[str, Any]:
        query = parse_qs(urlsplit(self.path).query)
        limit = int((query.get("limit") or ["20"])[0])
        names = list(self.fake.models)
        after = (query.get("after_id") or [""])[0]
        start = names.index(after) + 1 if after in names else 0
        page = names[start : start + limit]
        data = [
            {
                "type": "model",
                "id": name,
                "display_name": name.replace("-", " ").title(),
                "created_at": "2025-01-01T00:00:00Z",
            }
            for name in page
        ]
        return {
            "data": data,
            "has_more": start + limit < len(names),
            "first_id": page[0] if page else None,
            "last_id": page[-1] if page else None,
        }


def _response_object(body: dict[str, Any], model: str, created: int) -> dict[str, Any]:
    """A Responses API ``response`` in progress, echoing the request's settings."""
    return {
        "id": "resp_fake",
        "object": "response",
        "created_at": created,
        "status": "in_progress",
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": model,
        "output": [],
        "parallel_tool_calls": True,
        "reasoning": body.get("reasoning"),
        "temperature": body.get("temperature"),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": body.get("top_p"),
        "usage": None,
    }


#: Input tokens the fake server counts for every image (real servers count by pixels).
IMAGE_TOKENS = 85
_MEDIA_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def _contents(body: dict[str, Any]) -> list[Any]:
    items = body.get("messages")
    if items is None:
        items = body.get("input")
    if not isinstance(items, list):
        return []
    return [item.get("content") for item in items if isinstance(item, dict)]


def _images(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every image part of a Chat, Responses or Messages request body."""
    return [
        part
        for content in _contents(body)
        if isinstance(content, list)
        for part in content
        if isinstance(part, dict) and part.get("type") in ("image_url", "input_image", "image")
    ]


def _data_url_problem(url: object) -> str | None:
    if not isinstance(url, str) or not url:
        return "image URL must be a non-empty string"
    if url.startswith(("http://", "https://")):
        return None
    header, _, data = url.partition(",")
    if not header.startswith("data:image/") or not header.endswith(";base64") or not data:
        return f"Invalid image URL: expected a base64 data URL, got {url[:40]!r}"
    return None


def _image_problem(route: str, body: dict[str, Any]) -> str | None:
    """What the real API would say (400) about the image parts' shape, or None if valid.

    Chat: ``{"type": "image_url", "image_url": {"url": ...}}``; Responses: ``{"type":
    "input_image", "image_url": ..., "detail": ...}``; Messages: ``{"type": "image",
    "source": {"type": "base64", "media_type", "data"} | {"type": "url", "url"}}``.
    """
    wanted = {CHAT_PATH: "image_url", RESPONSES_PATH: "input_image", MESSAGES_PATH: "image"}
    for part in _images(body):
        kind = part["type"]
        if kind != wanted.get(route):
            return f"Invalid content part type {kind!r} for this API."
        if kind == "image_url":
            inner = part.get("image_url")
            if not isinstance(inner, dict):
                return "image_url must be an object with a url"
            problem = _data_url_problem(inner.get("url"))
        elif kind == "input_image":
            if part.get("detail") not in ("low", "high", "auto"):
                return "input_image.detail must be one of low, high, auto"
            problem = _data_url_problem(part.get("image_url"))
        else:
            source = part.get("source")
            if not isinstance(source, dict):
                return "image.source: Field required"
            if source.get("type") == "url":
                problem = _data_url_problem(source.get("url"))
            elif source.get("type") != "base64":
                return "image.source.type must be base64 or url"
            elif source.get("media_type") not in _MEDIA_TYPES:
                return "image.source.media_type: Input should be image/jpeg, image/png, ..."
            elif not isinstance(source.get("data"), str) or not source.get("data"):
                return "image.source.data: Field required"
            else:
                problem = None
        if problem is not None:
            return problem
    return None


def _texts(body: dict[str, Any]) -> list[str]:
    """Every string of prompt text in a Chat, Responses or Messages request body."""
    texts: list[str] = []

    def add(content: Any) -> None:
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])

    for key in ("system", "instructions"):
        add(body.get(key))
    items = body.get("messages")
    if items is None:
        items = body.get("input")
    if isinstance(items, str):
        texts.append(items)
    elif isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                add(item.get("content"))
    return texts


def word_vector(text: str, size: int = 32) -> list[float]:
    """A bag-of-words vector: texts sharing words point the same way (cosine > 0)."""
    vector = [0.0] * size
    for word in re.findall(r"\w+", text.lower()):
        vector[sum(word.encode()) % size] += 1.0
    return vector


class FakeLLM:
    """Serves scripted replies at ``base_url`` (OpenAI) and ``anthropic_base_url`` until stop."""

    def __init__(
        self,
        models: list[str] | None = None,
        require_key: str | None = None,
        *,
        interrupt_requests: bool = False,
    ) -> None:
        self.models: list[str] = list(models if models is not None else DEFAULT_MODELS)
        self.require_key = require_key
        # Like llama-cpp-python's server: see the module's docstring.
        self.interrupt_requests = interrupt_requests
        self.interrupted = 0  # streams ended early because another request came
        self._outer = threading.Lock()
        self._inner = threading.Lock()
        # /v1/models answers with this Reply's error status, or after its first_token_delay.
        self.models_reply: Reply | None = None
        self.json_not_found = False  # unknown paths answer {"detail": "Not Found"}
        # /v1/embeddings: each text's vector; an error status here fails every request.
        self.embedder: Callable[[str], list[float]] = word_vector
        self.embeddings_reply: Reply | None = None
        # Models that answer a request with images with 400, as text-only models do.
        self.text_only_models: set[str] = set()
        self.text_only_message = (
            "Invalid content type. image_url is only supported by certain models."
        )
        self.batches = FakeBatches(self)  # OpenAI's Batch API, Anthropic's Message Batches
        self.requests: list[RecordedRequest] = []
        self.hangups: list[float] = []  # time.monotonic() when a client left mid-answer
        self.sent: list[SentStream] = []  # every answer whose text was sent in full
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._replies: dict[str | None, Reply] = {}
        self._queues: dict[str | None, deque[Reply]] = {}
        self._responder: Callable[[str, dict[str, Any]], Reply | None] | None = None
        self._connections: set[socket.socket] = set()
        self._opened = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeLLM is not started")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL (with ``/v1``)."""
        return f"{self.root_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """The Anthropic-style base URL (without ``/v1``: the SDK adds it)."""
        return self.root_url

    def start(self, port: int = 0) -> None:
        """Serve on ``port`` (0: any free one)."""
        self._stopping.clear()
        server = _Server(("127.0.0.1", port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.name = "fake-llm"
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and hang up on every open connection, streams included."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def script(self, reply: Reply, model: str | None = None, times: int | None = None) -> None:
        """Answer ``model`` (None: any model) with ``reply``; ``times`` queues it for n uses."""
        with self._lock:
            if times is None:
                self._replies[model] = reply
            else:
                self._queues.setdefault(model, deque()).extend([reply] * times)

    @property
    def open_connections(self) -> int:
        """Client connections still open: shows whether a client hung up."""
        with self._lock:
            return len(self._connections)

    @property
    def connections_opened(self) -> int:
        """Connections accepted since start (a retry on a new connection counts again)."""
        with self._lock:
            return self._opened

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if urlsplit(r.path).path.rstrip("/") == path]

    def embeddings_requests(self) -> list[RecordedRequest]:
        return self.requests_to(EMBEDDINGS_PATH)

    def chat_requests(self) -> list[RecordedRequest]:
        return self.requests_to(CHAT_PATH)

    def responses_requests(self) -> list[RecordedRequest]:
        return self.requests_to(RESPONSES_PATH)

    def messages_requests(self) -> list[RecordedRequest]:
        return self.requests_to(MESSAGES_PATH)

    def generation_requests(self) -> list[RecordedRequest]:
        """Requests to any of the three generation endpoints, in order."""
        paths = (CHAT_PATH, RESPONSES_PATH, MESSAGES_PATH)
        with self._lock:
            return [r for r in self.requests if urlsplit(r.path).path.rstrip("/") in paths]

    def respond(self, responder: Callable[[str, dict[str, Any]], Reply | None] | None) -> None:
        """Choose replies by request: ``responder(model, body)`` is asked first (a reply
        that depends on the prompt); None from it falls back to the scripted replies."""
        with self._lock:
            self._responder = responder

    def _next_reply(self, model: str, body: dict[str, Any] | None = None) -> Reply:
        with self._lock:
            responder = self._responder
        if responder is not None and body is not None:
            chosen = responder(model, body)
            if chosen is not None:
                return chosen
        with self._lock:
            for key in (model, None):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
                if key in self._replies:
                    return self._replies[key]
        return Reply()

    def _someone_waiting(self) -> bool:
        return self._outer.locked()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _sent(self, stream: SentStream) -> None:
        with self._lock:
            self.sent.append(stream)

    def _hung_up(self) -> None:
        with self._lock:
            self.hangups.append(time.monotonic())

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
                self._opened += 1
            else:
                self._connections.discard(conn)

    def __enter__(self) -> FakeLLM:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
