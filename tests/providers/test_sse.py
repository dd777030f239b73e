"""The SSE decoder the providers read streams with: the event-stream rules, at any split."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anthropic
import openai
import pytest

from promptstudio.chat import Message
from promptstudio.providers import Finished, StreamError, StreamEvent, Usage
from promptstudio.providers.sse import SseDecoder
from tests.fake_llm import FakeLLM, Reply
from tests.providers.helpers import (
    PROTOCOLS,
    collect,
    endpoint,
    endpoint_at,
    error_of,
    text_of,
    usage_of,
)


def decode(*reads: bytes) -> list[tuple[str, str]]:
    decoder = SseDecoder()
    events = [event for chunk in reads for event in decoder.feed(chunk)]
    return events + decoder.finish()


def every_split(body: bytes) -> Iterator[list[bytes]]:
    """``body`` cut once at every place, then in random small pieces."""
    for at in range(len(body) + 1):
        yield [body[:at], body[at:]]
    rng = random.Random(21)
    for _ in range(50):
        pieces, rest = [], body
        while rest:
            size = rng.randint(1, 7)
            pieces.append(rest[:size])
            rest = rest[size:]
        yield pieces


def test_plain_data_events() -> None:
    assert decode(b'data: {"a": 1}\n\ndata: {"a": 2}\n\n') == [("", '{"a": 1}'), ("", '{"a": 2}')]


def test_event_names_as_anthropic_and_responses_send_them() -> None:
    body = (
        b"event: message_start\ndata: {}\n\n"
        b'event: response.output_text.delta\ndata: {"delta": "x"}\n\n'
        b"data: unnamed\n\n"
    )
    assert decode(body) == [
        ("message_start", "{}"),
        ("response.output_text.delta", '{"delta": "x"}'),
        ("", "unnamed"),  # the name does not carry over to the next event
    ]


def test_comments_and_unknown_fields_are_skipped() -> None:
    body = b": keep-alive\n\n:another\ndata: x\nid: 7\nretry: 100\nfoo: bar\n\n"
    assert decode(body) == [("", "x")]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert decode(b"data: first\ndata:second\ndata:  third\n\n") == [
        ("", "first\nsecond\n third")  # one space after the colon is dropped, no more
    ]


def test_an_event_without_data_is_not_dispatched() -> None:
    assert decode(b"event: ping\n\ndata: x\n\n") == [("", "x")]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_any_line_ending(newline: bytes) -> None:
    body = b"event: e\ndata: 1\n\ndata: 2\n\n".replace(b"\n", newline)
    assert decode(body) == [("e", "1"), ("", "2")]


def test_a_final_event_without_the_blank_line() -> None:
    assert decode(b"data: 1\n\ndata: last\n") == [("", "1"), ("", "last")]
    assert decode(b"data: 1\n\nevent: e\ndata: last") == [("", "1"), ("e", "last")]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_any_split_across_network_reads(newline: bytes) -> None:
    body = (
        ": hello\n"
        "event: content_block_delta\n"
        'data: {"text": "héllo wörld ✓"}\n\n'
        "data: one\ndata: two\n\n"
        'data: {"done": true}'
    ).encode()
    body = body.replace(b"\n", newline)
    expected = decode(body)
    assert expected == [
        ("content_block_delta", '{"text": "héllo wörld ✓"}'),
        ("", "one\ntwo"),
        ("", '{"done": true}'),
    ]
    for reads in every_split(body):
        assert decode(*reads) == expected, reads


def test_events_come_out_as_soon_as_their_blank_line_arrives() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: 1\r\n\r") == [("", "1")]  # a CR ends the line; wait for no LF
    assert decoder.feed(b"\ndata: 2\r\n") == []  # that LF was the CR's pair, not a blank line
    assert decoder.feed(b"\r\n") == [("", "2")]


# ---- end to end: a server that splits its body at odd places --------------------------


def _fragmented_server(body: bytes) -> tuple[ThreadingHTTPServer, int]:
    """Answers every POST with ``body`` as SSE, written a few bytes at a time."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            rng = random.Random(7)
            rest = body
            while rest:
                size = rng.randint(1, 40)
                piece, rest = rest[:size], rest[size:]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.flush()
                time.sleep(0.0002)  # so that reads end where writes do
            self.wfile.write(b"0\r\n\r\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def _collect_from(body: bytes, protocol: str) -> list[StreamEvent]:
    """What the ``protocol`` provider makes of a server answering with ``body``."""
    server, port = _fragmented_server(body)
    try:
        return collect(endpoint_at(port, protocol))
    finally:
        server.shutdown()
        server.server_close()


def _chat_body(words: list[str]) -> bytes:
    lines = [": OPENROUTER PROCESSING", ""]
    for word in words:
        chunk = {"choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
        lines += [f"data: {json.dumps(chunk)}", ""]
    lines += [
        f"data: {json.dumps({'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'stop'}]})}",
        "",
    ]
    usage = {"prompt_tokens": 3, "completion_tokens": len(words)}
    lines += [f"data: {json.dumps({'choices': [], 'usage': usage})}", "", "data: [DONE]", ""]
    return "\r\n".join(lines).encode()


def _messages_body(words: list[str]) -> bytes:
    def event(kind: str, **fields: Any) -> list[str]:
        return [f"event: {kind}", f"data: {json.dumps({'type': kind, **fields})}", ""]

    lines = event("message_start", message={"usage": {"input_tokens": 3}})
    lines += event("ping")
    for word in words:
        lines += event("content_block_delta", index=0, delta={"type": "text_delta", "text": word})
    lines += event("message_delta", delta={"stop_reason": "end_turn"}, usage={"output_tokens": 9})
    lines += event("message_stop")[:-1]  # no blank line after the last event
    return "\r\n".join(lines).encode()


@pytest.mark.parametrize("protocol", ["chat", "messages"])
def test_providers_read_a_fragmented_crlf_stream(protocol: str) -> None:
    words = [f"wörd{i} " for i in range(25)]
    body = _chat_body(words) if protocol == "chat" else _messages_body(words)
    events = _collect_from(body, protocol)
    assert not isinstance(events[-1], StreamError), events[-1]
    assert text_of(events) == "".join(words)
    expected = Usage(3, len(words)) if protocol == "chat" else Usage(3, 9, cached_input_tokens=0)
    assert usage_of(events) == expected
    assert events[-1] == Finished("stop" if protocol == "chat" else "end_turn")


# ---- many small chunks: the same text and usage as the SDKs' typed streams -------------


async def _typed_sdk_stream(server: FakeLLM, protocol: str) -> tuple[str, tuple[Any, ...]]:
    """Text and usage as the SDK's own typed stream reads them (how we read before)."""
    messages: Any = [{"role": "user", "content": "Say hello to me"}]
    parts: list[str] = []
    if protocol == "messages":
        client: Any = anthropic.AsyncAnthropic(base_url=server.anthropic_base_url, api_key="k")
        stream: Any = await client.messages.create(
            model="fake-model", max_tokens=100, messages=messages, stream=True
        )
        usage: tuple[Any, ...] = ()
        async for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                parts.append(event.delta.text)
            elif event.type == "message_start":
                start = event.message.usage
                usage = (start.input_tokens + (start.cache_read_input_tokens or 0),)
            elif event.type == "message_delta":
                usage = (usage[0], event.usage.output_tokens)
    else:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="k")
        if protocol == "chat":
            stream = await client.chat.completions.create(
                model="fake-model",
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
            )
            async for chunk in stream:
                if chunk.usage is not None:
                    usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    parts.append(choice.delta.content or "")
        else:
            stream = await client.responses.create(model="fake-model", input=messages, stream=True)
            async for event in stream:
                if event.type == "response.output_text.delta":
                    parts.append(event.delta)
                elif event.type == "response.completed":
                    done = event.response.usage
                    usage = (done.input_tokens, done.output_tokens)
    await client.close()
    return "".join(parts), usage


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_many_small_chunks_give_the_sdks_text_and_usage(fake_llm: FakeLLM, protocol: str) -> None:
    text = "".join(f"Ünïcode wörd {i}, " for i in range(100))  # ~1,700 one-character chunks
    fake_llm.script(Reply(text=text, chunk="char", input_tokens=40, cached_tokens=8))
    expected_text, expected_usage = asyncio.run(_typed_sdk_stream(fake_llm, protocol))
    assert expected_text == text
    events = collect(endpoint(fake_llm, protocol), messages=(Message("user", "Say hello to me"),))
    assert text_of(events) == expected_text
    usage = usage_of(events)
    assert (usage.input_tokens, usage.output_tokens) == expected_usage == (40, len(text))
    assert usage.cached_input_tokens == 8 and not usage.estimated
    assert isinstance(events[-1], Finished)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_no_typed_sdk_model_is_built_per_chunk(
    fake_llm: FakeLLM, protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDKs only send the request; their per-chunk models (~90 µs each) are never built."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the SDK parsed a chunk")

    for client in (openai.AsyncOpenAI, anthropic.AsyncAnthropic):
        monkeypatch.setattr(client, "_process_response_data", refuse)
    fake_llm.script(Reply(text="one two three"))
    events = collect(endpoint(fake_llm, protocol))
    assert text_of(events) == "one two three"
    assert isinstance(events[-1], Finished)


@pytest.mark.parametrize(
    ("protocol", "body", "expected"),
    [
        ("chat", b'data: {"choices": "none"}\n\n', "malformed stream"),
        ("chat", b"data: {not json\n\n", "malformed stream"),
        ("responses", b"event: error\ndata: overloaded, try later\n\n", "overloaded, try later"),
        ("messages", b"event: error\ndata: <html>busy</html>\n\n", "<html>busy</html>"),
    ],
)
def test_odd_events_become_typed_errors(protocol: str, body: bytes, expected: str) -> None:
    events = _collect_from(body, protocol)
    assert expected in error_of(events).message
