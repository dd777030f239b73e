"""A fake LLM server that speaks the OpenAI Chat Completions API over real HTTP.

The SDKs ride on ``httpx2``, which respx cannot intercept, so tests point the real SDK at
this server on 127.0.0.1 instead of mocking it. Each scripted :class:`Reply` can misbehave
the way real servers do: errors with headers, slow or stalled streams, cut connections and
error events inside a 200 stream. Stdlib only; stopping never hangs on a stream in flight.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_MODELS = ["fake-model", "fake-model-large"]

_ERROR_TYPES = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "permission_denied"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}


@dataclass
class Reply:
    """One scripted answer: what to say, how fast, and how to fail."""

    text: str = "Hello from the fake model."
    first_token_delay: float = 0.0
    tokens_per_second: float | None = None  # None = as fast as possible
    chunk: str = "word"  # "word" (split keeping spaces) or "char"
    status: int = 200  # non-200 -> JSON error body {"error": {"message", "type", "code"}}
    error_message: str = "The fake server failed on purpose."
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"retry-after": "3"}
    include_usage: bool = True  # send the usage chunk when the client asks for it
    cut_after_chunks: int | None = None  # drop the connection mid-stream, no [DONE]
    stall_after_chunks: int | None = None  # go quiet (socket open) for stall_seconds
    stall_seconds: float = 0.0
    error_event_after_chunks: int | None = None  # an error object inside the 200 stream
    finish_reason: str | None = "stop"  # None: the stream ends without a finish_reason

    def chunks(self) -> list[str]:
        if self.chunk == "char":
            return list(self.text)
        # Split between whitespace and the next word, so "a b" -> ["a ", "b"].
        return [piece for piece in re.split(r"(?<=\s)(?=\S)", self.text) if piece]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    json: Any
    received_at: float = field(default_factory=time.monotonic)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeLLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-stream is normal here; keep stderr clean.
        log.debug("fake LLM: connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

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
        except (OSError, ValueError):  # reset, broken pipe, closed by stop()
            self.close_connection = True

    # ---- routing ---------------------------------------------------------------------

    def do_GET(self) -> None:
        self._record(None)
        if not self._authorized():
            return
        if self.path.rstrip("/") == "/v1/models":
            data = [
                {"id": name, "object": "model", "created": 0, "owned_by": "fake"}
                for name in self.server.fake.models
            ]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_not_found()

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self._record(body)
        if not self._authorized():
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_not_found()
            return
        if not isinstance(body, dict):
            self._send_json(400, _error_body("Body must be JSON.", "invalid_request_error", None))
            return
        model = str(body.get("model", ""))
        reply = self.server.fake._next_reply(model)
        if reply.status != 200:
            self._send_error_reply(reply)
        elif body.get("stream"):
            self._stream(reply, body, model)
        else:
            self._complete(reply, body, model)

    # ---- helpers ---------------------------------------------------------------------

    def _record(self, body: Any) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.fake._record(RecordedRequest(self.command, self.path, headers, body))

    def _authorized(self) -> bool:
        wanted = self.server.fake.require_key
        if wanted is None:
            return True
        auth = self.headers.get("authorization") or ""
        given = auth.removeprefix("Bearer ").strip() if auth else ""
        given = given or (self.headers.get("x-api-key") or "").strip()
        if given == wanted:
            return True
        # Echo the key back, as careless servers do: the client must never show it.
        message = f"Incorrect API key provided: {given}." if given else "No API key provided."
        self._send_json(401, _error_body(message, "authentication_error", "invalid_api_key"))
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
        """A plain-text 404 for unknown paths, as Ollama and most web servers send."""
        data = b"404 page not found"
        self.send_response(404)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_error_reply(self, reply: Reply) -> None:
        kind, code = _ERROR_TYPES.get(reply.status, ("server_error", None))
        body = _error_body(reply.error_message, kind, code)
        self._send_json(reply.status, body, reply.headers)

    def _wait(self, seconds: float) -> bool:
        """Sleep unless the server stops first; True when it is time to give up."""
        return seconds > 0 and self.server.fake._stopping.wait(seconds)

    def _complete(self, reply: Reply, body: dict[str, Any], model: str) -> None:
        if self._wait(reply.first_token_delay):
            return
        chunks = reply.chunks()
        payload = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text},
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": _usage(body, len(chunks)),
        }
        self._send_json(200, payload, reply.headers)

    def _stream(self, reply: Reply, body: dict[str, Any], model: str) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()

        options = body.get("stream_options") or {}
        want_usage = bool(options.get("include_usage")) and reply.include_usage
        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        if want_usage:
            base["usage"] = None  # as OpenAI does on every chunk but the last

        def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        self._event(choice({"role": "assistant", "content": ""}))
        if self._wait(reply.first_token_delay):
            return
        chunks = reply.chunks()
        pause = 1.0 / reply.tokens_per_second if reply.tokens_per_second else 0.0
        for sent, text in enumerate(chunks):
            if sent == reply.cut_after_chunks:
                self._cut()
                return
            if sent == reply.error_event_after_chunks:
                self._error_event(reply)
                return
            if sent == reply.stall_after_chunks and self._wait(reply.stall_seconds):
                return
            if sent and self._wait(pause):
                return
            self._event(choice({"content": text}))
        sent = len(chunks)
        if reply.cut_after_chunks is not None and reply.cut_after_chunks >= sent:
            self._cut()
            return
        if reply.error_event_after_chunks is not None:
            self._error_event(reply)
            return
        if reply.finish_reason is not None:
            self._event(choice({}, reply.finish_reason))
        if want_usage:
            self._event({**base, "choices": [], "usage": _usage(body, sent)})
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")

    def _event(self, payload: dict[str, Any]) -> None:
        self._write_chunk(f"data: {json.dumps(payload)}\n\n".encode())

    def _write_chunk(self, data: bytes) -> None:
        """One HTTP/1.1 chunk; an empty one ends the body."""
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _error_event(self, reply: Reply) -> None:
        kind, code = _ERROR_TYPES.get(reply.status, ("server_error", "server_error"))
        self._event(_error_body(reply.error_message, kind, code))
        self._write_chunk(b"")

    def _cut(self) -> None:
        """Drop the connection without ending the chunked body, like a crashed server."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _error_body(message: str, kind: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _usage(body: dict[str, Any], completion_tokens: int) -> dict[str, int]:
    prompt_tokens = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            prompt_tokens += len(content.split())
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


class FakeLLM:
    """Serves scripted replies at ``base_url`` until :meth:`stop`."""

    def __init__(self, models: list[str] | None = None, require_key: str | None = None) -> None:
        self.models: list[str] = list(models if models is not None else DEFAULT_MODELS)
        self.require_key = require_key
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._replies: dict[str | None, Reply] = {}
        self._queues: dict[str | None, deque[Reply]] = {}
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeLLM is not started")
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/v1"

    def start(self) -> None:
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
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

    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/") == "/v1/chat/completions"]

    def _next_reply(self, model: str) -> Reply:
        with self._lock:
            for key in (model, None):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
                if key in self._replies:
                    return self._replies[key]
        return Reply()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def __enter__(self) -> FakeLLM:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
