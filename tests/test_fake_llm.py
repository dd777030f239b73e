"""The fake LLM server speaks the wire format the real SDK expects."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.fake_llm import FakeLLM, Reply

REPLY_ERROR = Reply().error_message
MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Say hello to me"},
]


def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def sse_data(body: str) -> list[str]:
    lines = [line for line in body.splitlines() if line]
    assert all(line.startswith("data: ") for line in lines), lines
    return [line.removeprefix("data: ") for line in lines]


def test_stream_follows_the_chat_completions_sse_format(fake_llm: FakeLLM) -> None:
    body = {
        "model": "m",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    status, text = post(f"{fake_llm.base_url}/chat/completions", body)
    assert status == 200
    data = sse_data(text)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    contents = [c["choices"][0]["delta"].get("content") for c in chunks[1:-2]]
    assert "".join(contents) == "Hello from the fake model."
    assert len(contents) == 5  # word chunks keep their spaces
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["prompt_tokens"] == 6  # whitespace words of all messages
    assert usage_chunk["usage"]["completion_tokens"] == 5
    assert fake_llm.requests[-1].json == body


def test_no_usage_chunk_unless_asked(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="ab", chunk="char"))
    body = {"model": "m", "messages": MESSAGES, "stream": True}
    _, text = post(f"{fake_llm.base_url}/chat/completions", body)
    chunks = [json.loads(d) for d in sse_data(text)[:-1]]
    assert all(c["choices"] for c in chunks)
    assert [c["choices"][0]["delta"].get("content") for c in chunks[1:3]] == ["a", "b"]


def test_real_sdk_streams_and_completes(fake_llm: FakeLLM) -> None:
    with openai.OpenAI(base_url=fake_llm.base_url, api_key="k", max_retries=0) as client:
        stream = client.chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "Hello from the fake model."
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5

        completion = client.chat.completions.create(model="m", messages=MESSAGES)
        assert completion.choices[0].message.content == "Hello from the fake model."
        assert completion.usage is not None and completion.usage.prompt_tokens == 6


def test_models_are_listed(fake_llm: FakeLLM) -> None:
    fake_llm.models = ["alpha", "beta"]
    with openai.OpenAI(base_url=fake_llm.base_url, api_key="k", max_retries=0) as client:
        assert [m.id for m in client.models.list()] == ["alpha", "beta"]


def test_required_key_gives_401_unless_bearer_or_x_api_key(fake_llm: FakeLLM) -> None:
    fake_llm.require_key = "secret-1"
    url = f"{fake_llm.base_url}/chat/completions"
    body = {"model": "m", "messages": MESSAGES}
    status, text = post(url, body)
    assert status == 401
    assert json.loads(text)["error"]["code"] == "invalid_api_key"
    assert post(url, body, {"authorization": "Bearer wrong"})[0] == 401
    assert post(url, body, {"authorization": "Bearer secret-1"})[0] == 200
    assert post(url, body, {"x-api-key": "secret-1"})[0] == 200


def test_scripted_errors_carry_json_body_and_headers(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=429, error_message="slow down", headers={"retry-after": "3"}))
    request = urllib.request.Request(
        f"{fake_llm.base_url}/chat/completions",
        data=json.dumps({"model": "m", "messages": MESSAGES}).encode(),
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 429
    assert info.value.headers["retry-after"] == "3"
    error = json.loads(info.value.read())["error"]
    assert error["message"] == "slow down"
    assert error["type"] == "rate_limit_error"


def test_script_queues_and_per_model_replies(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="always"))
    fake_llm.script(Reply(text="once"), times=1)
    fake_llm.script(Reply(text="for big"), model="big")
    url = f"{fake_llm.base_url}/chat/completions"

    def ask(model: str) -> str:
        _, text = post(url, {"model": model, "messages": MESSAGES})
        return str(json.loads(text)["choices"][0]["message"]["content"])

    assert [ask("m"), ask("m"), ask("big"), ask("m")] == ["once", "always", "for big", "always"]


def test_stop_does_not_hang_with_a_stream_in_flight(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(stall_after_chunks=1, stall_seconds=30))
    body = {"model": "m", "messages": MESSAGES, "stream": True}
    done = threading.Event()

    def client() -> None:
        with contextlib.suppress(OSError, http.client.HTTPException):
            post(f"{fake_llm.base_url}/chat/completions", body)
        done.set()

    threading.Thread(target=client, daemon=True).start()
    deadline = time.monotonic() + 5
    while not fake_llm.open_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    fake_llm.stop()
    assert time.monotonic() - started < 2
    assert done.wait(5)


# ---- Responses and Anthropic Messages ---------------------------------------------------


def sse_events(body: str) -> list[tuple[str | None, Any]]:
    """(event name, parsed data) pairs of a server-sent event stream."""
    events: list[tuple[str | None, Any]] = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        name = None
        data = None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
        events.append((name, data))
    return events


def test_responses_stream_shape(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(cached_tokens=2, reasoning_tokens=3))
    body = {"model": "o3", "input": MESSAGES, "stream": True}
    status, text = post(f"{fake_llm.base_url}/responses", body)
    assert status == 200
    events = sse_events(text)
    names = [name for name, _ in events]
    assert names[:2] == ["response.created", "response.in_progress"]
    assert names[-1] == "response.completed"
    assert all(name == data["type"] for name, data in events)
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    deltas = [d["delta"] for name, d in events if name == "response.output_text.delta"]
    assert "".join(deltas) == "Hello from the fake model."
    usage = events[-1][1]["response"]["usage"]
    assert usage == {
        "input_tokens": 6,
        "input_tokens_details": {"cached_tokens": 2},
        "output_tokens": 8,
        "output_tokens_details": {"reasoning_tokens": 3},
        "total_tokens": 14,
    }


@pytest.mark.parametrize("kind", ["error", "response.failed"])
def test_responses_error_events(fake_llm: FakeLLM, kind: str) -> None:
    fake_llm.script(Reply(error_event_after_chunks=1, error_event=kind, error_message="bad"))
    body = {"model": "m", "input": "hi", "stream": True}
    _, text = post(f"{fake_llm.base_url}/responses", body)
    name, data = sse_events(text)[-1]
    assert name == kind
    error = data if kind == "error" else data["response"]["error"]
    assert (error["code"], error["message"]) == ("server_error", "bad")


def test_messages_stream_shape(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="Hi there", cached_tokens=1))
    body = {
        "model": "claude",
        "max_tokens": 10,
        "system": "Be brief.",
        "messages": MESSAGES[1:],
        "stream": True,
    }
    status, text = post(f"{fake_llm.anthropic_base_url}/v1/messages", body)
    assert status == 200
    events = sse_events(text)
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0][1]["message"]["usage"]
    assert (start["input_tokens"], start["cache_read_input_tokens"]) == (5, 1)
    assert events[6][1]["delta"]["stop_reason"] == "end_turn"
    assert events[6][1]["usage"]["output_tokens"] == 2


def test_messages_error_event_and_http_errors(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(error_event_after_chunks=0), times=1)
    body = {"model": "m", "messages": [], "stream": True}
    _, text = post(f"{fake_llm.anthropic_base_url}/v1/messages", body)
    assert sse_events(text)[-1] == (
        "error",
        {"type": "error", "error": {"type": "overloaded_error", "message": REPLY_ERROR}},
    )
    fake_llm.script(Reply(status=529, error_message="Overloaded"))
    status, text = post(f"{fake_llm.anthropic_base_url}/v1/messages", {"model": "m"})
    assert status == 529
    assert json.loads(text)["error"] == {"type": "overloaded_error", "message": "Overloaded"}


def test_anthropic_models_shape(fake_llm: FakeLLM) -> None:
    fake_llm.models = ["a", "b", "c"]
    request = urllib.request.Request(
        f"{fake_llm.anthropic_base_url}/v1/models?limit=2", headers={"anthropic-version": "x"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        page = json.loads(response.read())
    assert page["has_more"] is True and (page["first_id"], page["last_id"]) == ("a", "b")
    assert set(page["data"][0]) == {"type", "id", "display_name", "created_at"}


def test_hangups_are_noticed_at_once(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(stall_after_chunks=1, stall_seconds=30))
    conn = http.client.HTTPConnection("127.0.0.1", fake_llm.port)
    conn.request("POST", "/v1/chat/completions", json.dumps({"model": "m", "stream": True}))
    response = conn.getresponse()
    response.read1(100)
    closed_at = time.monotonic()
    conn.sock.shutdown(2)
    conn.close()
    deadline = time.monotonic() + 2
    while not fake_llm.hangups and time.monotonic() < deadline:
        time.sleep(0.005)
    assert fake_llm.hangups and fake_llm.hangups[0] - closed_at < 0.1
    assert fake_llm.connections_opened == 1


def test_interrupt_requests_ends_the_earlier_stream_like_llama_cpp() -> None:
    """llama-cpp-python's server: a newcomer ends the stream being served with a clean
    [DONE] and no finish reason, then is served itself."""
    body = {"model": "m", "messages": MESSAGES, "stream": True}
    with FakeLLM(interrupt_requests=True) as server:
        server.script(Reply(text="one two three", first_token_delay=0.3))
        url = f"{server.base_url}/chat/completions"
        bodies: dict[str, str] = {}
        first = threading.Thread(target=lambda: bodies.update(first=post(url, body)[1]))
        first.start()
        while not server.chat_requests():
            time.sleep(0.005)
        time.sleep(0.05)  # the first is being served
        bodies["second"] = post(url, body)[1]
        first.join(5)
        assert server.interrupted == 1
    cut, whole = sse_data(bodies["first"]), sse_data(bodies["second"])
    assert cut[-1] == whole[-1] == "[DONE]"
    cut_chunks = [json.loads(d) for d in cut[:-1]]
    assert all(not c["choices"][0]["delta"].get("content") for c in cut_chunks)  # 0 tokens
    assert all(c["choices"][0]["finish_reason"] is None for c in cut_chunks)
    contents = [json.loads(d)["choices"] for d in whole[:-1]]
    assert "".join(c[0]["delta"].get("content") or "" for c in contents if c) == "one two three"


def test_non_streaming_answers_are_what_the_real_sdks_parse_strictly(fake_llm: FakeLLM) -> None:
    """promptfoo never streams: each whole answer validates against the SDK's own type."""
    from openai.types.chat import ChatCompletion
    from openai.types.responses import Response

    fake_llm.script(Reply(text="Paris is the capital.", cached_tokens=1, reasoning_tokens=2))
    with openai.OpenAI(base_url=fake_llm.base_url, api_key="k", max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(model="m", messages=MESSAGES)
        completion = ChatCompletion.model_validate(json.loads(raw.text))
        assert completion.choices[0].message.content == "Paris is the capital."
        assert completion.usage is not None
        assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (6, 6)

        raw_response = client.responses.with_raw_response.create(model="m", input="Say hi")
        response = Response.model_validate(json.loads(raw_response.text))
        assert response.output_text == "Paris is the capital."
        assert response.status == "completed"
        assert response.usage is not None and response.usage.output_tokens == 6
        assert raw_response.parse().output_text == "Paris is the capital."

    message = _whole_message(fake_llm)
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].type == "text"
    assert message.content[0].text == "Paris is the capital."
    assert (message.stop_reason, message.usage.output_tokens) == ("end_turn", 6)
    assert [request.json.get("stream") for request in fake_llm.generation_requests()] == [
        None,
        None,
        None,
    ]


def test_a_non_streamed_chat_answer_carries_logprobs_when_asked_as_openai_gives_them(
    fake_llm: FakeLLM,
) -> None:
    """promptfoo's perplexity checks ask for them without streaming."""
    from openai.types.chat import ChatCompletion

    fake_llm.script(Reply(text="It is Rome.", logprob=-0.25))
    with openai.OpenAI(base_url=fake_llm.base_url, api_key="k", max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="m", messages=MESSAGES, logprobs=True
        )
        completion = ChatCompletion.model_validate(json.loads(raw.text))
        logprobs = completion.choices[0].logprobs
        assert logprobs is not None and logprobs.content is not None
        assert "".join(entry.token for entry in logprobs.content) == "It is Rome."
        assert {entry.logprob for entry in logprobs.content} == {-0.25}
        plain = client.chat.completions.create(model="m", messages=MESSAGES)
        assert plain.choices[0].logprobs is None


def test_non_streamed_answers_carry_tool_calls_in_each_apis_shape(fake_llm: FakeLLM) -> None:
    from openai.types.chat import ChatCompletion
    from openai.types.responses import Response

    fake_llm.script(Reply(text="", tool_calls=[("get_weather", '{"city": "Rome"}')]))
    with openai.OpenAI(base_url=fake_llm.base_url, api_key="k", max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(model="m", messages=MESSAGES)
        choice = ChatCompletion.model_validate(json.loads(raw.text)).choices[0]
        assert choice.finish_reason == "tool_calls" and choice.message.tool_calls is not None
        [made] = choice.message.tool_calls
        assert made.type == "function" and made.function.name == "get_weather"
        raw_response = client.responses.with_raw_response.create(model="m", input="Say hi")
        [call] = Response.model_validate(json.loads(raw_response.text)).output
        assert call.type == "function_call"
        assert (call.name, call.arguments) == ("get_weather", '{"city": "Rome"}')
    message = _whole_message(fake_llm)
    assert message.stop_reason == "tool_use"
    [block] = message.content
    assert block.type == "tool_use"
    assert (block.name, block.input) == ("get_weather", {"city": "Rome"})


def _whole_message(fake_llm: FakeLLM) -> Any:
    """A non-streamed Anthropic answer, validated against the SDK's own type."""
    import anthropic
    from anthropic.types import Message

    with anthropic.Anthropic(
        base_url=fake_llm.anthropic_base_url, api_key="k", max_retries=0
    ) as claude:
        raw_message = claude.messages.with_raw_response.create(
            model="c", max_tokens=10, messages=[{"role": "user", "content": "Say hi"}]
        )
        return Message.model_validate(json.loads(raw_message.http_response.text))
