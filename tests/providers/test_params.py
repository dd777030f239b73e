"""Settings reach the wire as set, in each API's own names; what an API lacks is refused."""

from __future__ import annotations

from typing import Any

import pytest

from promptstudio.chat import Message
from promptstudio.providers import (
    Finished,
    GenerationParams,
    UnsupportedSetting,
    check_params,
    supported_params,
)
from tests.fake_llm import FakeLLM
from tests.providers.helpers import MESSAGES, collect, endpoint, error_of, sent

SCHEMA: dict[str, Any] = {
    "title": "Greeting",
    "type": "object",
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
}


def body(server: FakeLLM, protocol: str) -> dict[str, Any]:
    requests = sent(server, protocol)
    assert len(requests) == 1
    data = requests[0].json
    assert isinstance(data, dict)
    return data


def test_chat_completions_openai(fake_llm: FakeLLM) -> None:
    params = GenerationParams(
        temperature=0.2,
        top_p=0.9,
        max_tokens=50,
        stop=("END",),
        seed=7,
        reasoning_effort="low",
        json_schema=SCHEMA,
    )
    collect(endpoint(fake_llm, "chat", kind="openai"), params=params)
    sent_body = body(fake_llm, "chat")
    assert sent_body["messages"] == [m.to_dict() for m in MESSAGES]
    assert sent_body["stream"] is True and sent_body["stream_options"] == {"include_usage": True}
    expected = {
        "temperature": 0.2,
        "top_p": 0.9,
        "max_completion_tokens": 50,
        "stop": ["END"],
        "seed": 7,
        "reasoning_effort": "low",
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "Greeting", "schema": SCHEMA},
        },
    }
    assert {k: sent_body[k] for k in expected} == expected
    assert "max_tokens" not in sent_body and "top_k" not in sent_body


def test_chat_completions_compatible_sends_top_k_and_max_tokens(fake_llm: FakeLLM) -> None:
    params = GenerationParams(max_tokens=50, top_k=40, json_mode=True)
    collect(endpoint(fake_llm, "chat"), params=params)
    sent_body = body(fake_llm, "chat")
    assert sent_body["max_tokens"] == 50 and "max_completion_tokens" not in sent_body
    assert sent_body["top_k"] == 40
    assert sent_body["response_format"] == {"type": "json_object"}


def test_a_wrapped_schema_is_sent_as_given(fake_llm: FakeLLM) -> None:
    wrapped = {"name": "reply", "schema": SCHEMA, "strict": True}
    collect(endpoint(fake_llm, "chat"), params=GenerationParams(json_schema=wrapped))
    assert body(fake_llm, "chat")["response_format"]["json_schema"] == wrapped


def test_responses(fake_llm: FakeLLM) -> None:
    params = GenerationParams(
        temperature=0.5, top_p=0.8, max_tokens=64, reasoning_effort="high", json_schema=SCHEMA
    )
    events = collect(endpoint(fake_llm, "responses"), params=params)
    assert events[-1] == Finished("completed")
    sent_body = body(fake_llm, "responses")
    assert sent_body["input"] == [m.to_dict() for m in MESSAGES]
    expected = {
        "model": "fake-model",
        "stream": True,
        "store": False,
        "temperature": 0.5,
        "top_p": 0.8,
        "max_output_tokens": 64,
        "reasoning": {"effort": "high"},
        "text": {"format": {"type": "json_schema", "name": "Greeting", "schema": SCHEMA}},
    }
    assert {k: sent_body[k] for k in expected} == expected


def test_responses_json_mode(fake_llm: FakeLLM) -> None:
    collect(endpoint(fake_llm, "responses"), params=GenerationParams(json_mode=True))
    assert body(fake_llm, "responses")["text"] == {"format": {"type": "json_object"}}


def test_anthropic_messages(fake_llm: FakeLLM) -> None:
    messages = (
        Message("system", "Be brief."),
        Message("system", "Answer in French."),
        Message("user", "Hi"),
        Message("assistant", "Bonjour"),
        Message("user", "Again"),
    )
    params = GenerationParams(
        temperature=0.3,
        top_p=0.95,
        top_k=20,
        max_tokens=300,
        stop=("###",),
        reasoning_effort="medium",
        json_schema=SCHEMA,
        thinking_budget=2048,
    )
    events = collect(endpoint(fake_llm, "messages"), params=params, messages=messages)
    assert events[-1] == Finished("end_turn")
    sent_body = body(fake_llm, "messages")
    expected = {
        "model": "fake-model",
        "stream": True,
        "system": "Be brief.\n\nAnswer in French.",
        "messages": [m.to_dict() for m in messages[2:]],
        "max_tokens": 300,
        "temperature": 0.3,
        "top_p": 0.95,
        "top_k": 20,
        "stop_sequences": ["###"],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "output_config": {"effort": "medium", "format": {"type": "json_schema", "schema": SCHEMA}},
    }
    assert {k: sent_body.get(k) for k in expected} == expected


def test_anthropic_max_tokens_default_leaves_room_for_thinking(fake_llm: FakeLLM) -> None:
    collect(endpoint(fake_llm, "messages"))
    collect(endpoint(fake_llm, "messages"), params=GenerationParams(thinking_budget=2000))
    plain, thinking = (r.json for r in sent(fake_llm, "messages"))
    assert plain["max_tokens"] == 4096 and "thinking" not in plain and "system" in plain
    assert thinking["max_tokens"] == 6096


def test_anthropic_headers(fake_llm: FakeLLM) -> None:
    collect(endpoint(fake_llm, "messages", api_key="sk-ant-x", extra_headers={"X-Team": "p"}))
    headers = sent(fake_llm, "messages")[0].headers
    assert headers["authorization"] == "Bearer sk-ant-x"
    assert "anthropic-version" in headers
    assert headers["x-team"] == "p"


@pytest.mark.parametrize(
    ("protocol", "kind", "params", "message"),
    [
        (
            "chat",
            "openai",
            GenerationParams(top_k=5),
            "top_k is not available on the Chat Completions API (Fake).",
        ),
        (
            "chat",
            "openai-compatible",
            GenerationParams(thinking_budget=1024),
            "thinking_budget is not available on the Chat Completions API (Fake); set a "
            "reasoning effort instead.",
        ),
        (
            "responses",
            "openai",
            GenerationParams(stop=("x",), seed=1),
            "stop, seed are not available on the Responses API (Fake).",
        ),
        (
            "messages",
            "anthropic",
            GenerationParams(json_mode=True),
            "json_mode is not available on the Anthropic Messages API (Fake); give a JSON "
            "schema instead.",
        ),
        (
            "messages",
            "anthropic",
            GenerationParams(seed=3),
            "seed is not available on the Anthropic Messages API (Fake).",
        ),
        (
            "chat",
            "openai",
            GenerationParams(reasoning_effort="extreme"),
            "Reasoning effort must be low, medium or high, not 'extreme'.",
        ),
    ],
)
def test_unsupported_settings_are_refused_before_sending(
    fake_llm: FakeLLM, protocol: str, kind: str, params: GenerationParams, message: str
) -> None:
    error = error_of(collect(endpoint(fake_llm, protocol, kind=kind), params=params))
    assert isinstance(error, UnsupportedSetting)
    assert error.status is None
    assert str(error) == message
    assert fake_llm.requests == []


def test_anthropic_needs_a_user_message(fake_llm: FakeLLM) -> None:
    events = collect(endpoint(fake_llm, "messages"), messages=(Message("system", "x"),))
    assert isinstance(error_of(events), UnsupportedSetting)
    assert fake_llm.requests == []


def test_supported_params_for_the_ui() -> None:
    assert "top_k" in supported_params("chat", "openai-compatible")
    assert "top_k" not in supported_params("chat", "openai")
    assert "thinking_budget" in supported_params("messages", "anthropic")
    assert "stop" not in supported_params("responses", "openai")
    assert check_params("chat", "openai", GenerationParams(temperature=1), "X") is None


def test_params_round_trip_through_dicts() -> None:
    params = GenerationParams(
        temperature=0.1,
        top_p=0.2,
        max_tokens=3,
        stop=("a", "b"),
        seed=4,
        top_k=5,
        reasoning_effort="low",
        json_mode=True,
        json_schema=SCHEMA,
        thinking_budget=1024,
    )
    data = params.to_dict()
    assert data["stop"] == ["a", "b"] and data["json_mode"] is True
    assert GenerationParams.from_dict(data) == params
    assert GenerationParams().to_dict() == {}
    assert GenerationParams.from_dict({"temperature": 0.5}) == GenerationParams(temperature=0.5)
