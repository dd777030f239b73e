"""Tool calls on each API's wire: definitions and choice out, streamed calls in, turns back.

The fake server's streams are checked against the SDKs' own stream helpers (which build
typed pydantic objects from the events), so our fake and our parser agree with the SDKs.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest

from promptstudio.chat import Message, ToolCall
from promptstudio.providers import (
    ChatRequest,
    Finished,
    GenerationParams,
    StreamEvent,
    ToolCallDelta,
    UnsupportedSetting,
)
from promptstudio.tools import ToolDef
from tests.fake_llm import FakeLLM, Reply
from tests.providers.helpers import KEY, MESSAGES, PROTOCOLS, endpoint, error_of, sent

WEATHER = ToolDef(
    "get_weather",
    "The weather in a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = ToolDef("get_time", "The time in a zone", {"type": "object", "properties": {}})
CALLS = [("get_weather", '{"city": "Paris", "unit": "celsius"}'), ("get_time", '{"zone": "CET"}')]
FINISH = {"chat": "tool_calls", "responses": "completed", "messages": "tool_use"}


def stream(
    ep: Any, params: GenerationParams | None = None, messages: tuple[Message, ...] = MESSAGES
) -> list[StreamEvent]:
    import asyncio

    from promptstudio.providers import create_provider

    request = ChatRequest(messages, "fake-model", params or GenerationParams(), (WEATHER, TIME))

    async def main() -> list[StreamEvent]:
        return [event async for event in create_provider(ep).stream(request)]

    return asyncio.run(main())


def calls_of(events: list[StreamEvent]) -> list[tuple[str, str, str]]:
    calls: dict[int, list[str]] = {}
    for event in events:
        if isinstance(event, ToolCallDelta):
            call = calls.setdefault(event.index, ["", "", ""])
            call[0] = call[0] or event.id
            call[1] = call[1] or event.name
            call[2] += event.arguments
    return [tuple(calls[i]) for i in sorted(calls)]  # type: ignore[misc]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_parallel_calls_with_split_arguments_arrive_whole(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(text="", tool_calls=CALLS, tool_chunk=5))
    events = stream(endpoint(fake_llm, protocol))
    pieces = [e for e in events if isinstance(e, ToolCallDelta)]
    assert len(pieces) > 4  # the arguments really came in several pieces
    calls = calls_of(events)
    assert [(name, json.loads(args)) for _id, name, args in calls] == [
        ("get_weather", {"city": "Paris", "unit": "celsius"}),
        ("get_time", {"zone": "CET"}),
    ]
    assert all(call_id for call_id, _n, _a in calls)
    assert events[-1] == Finished(FINISH[protocol])


def test_chat_sends_tools_choice_and_parallel(fake_llm: FakeLLM) -> None:
    params = GenerationParams(tool_choice="get_weather", parallel_tool_calls="no")
    stream(endpoint(fake_llm, "chat"), params)
    body = sent(fake_llm, "chat")[0].json
    assert body["tools"][0] == {"type": "function", "function": WEATHER.openai_function()}
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["parallel_tool_calls"] is False


def test_responses_sends_function_tools(fake_llm: FakeLLM) -> None:
    stream(endpoint(fake_llm, "responses"), GenerationParams(tool_choice="required"))
    body = sent(fake_llm, "responses")[0].json
    assert body["tools"][0] == {
        "type": "function",
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": WEATHER.parameters,
        "strict": False,
    }
    assert body["tool_choice"] == "required"


def test_anthropic_sends_input_schema_and_choice(fake_llm: FakeLLM) -> None:
    params = GenerationParams(tool_choice="required", parallel_tool_calls="no")
    stream(endpoint(fake_llm, "messages"), params)
    body = sent(fake_llm, "messages")[0].json
    assert body["tools"][0] == {
        "name": "get_weather",
        "description": "The weather in a city",
        "input_schema": WEATHER.parameters,
    }
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}


def test_no_tools_sends_no_tool_fields(fake_llm: FakeLLM) -> None:
    import asyncio

    from promptstudio.providers import create_provider

    request = ChatRequest(MESSAGES, "fake-model", GenerationParams(tool_choice="auto"))

    async def main() -> None:
        async for _event in create_provider(endpoint(fake_llm, "chat")).stream(request):
            pass

    asyncio.run(main())
    body = sent(fake_llm, "chat")[0].json
    assert "tools" not in body and "tool_choice" not in body


def test_a_named_choice_of_no_tool_is_refused_before_sending(fake_llm: FakeLLM) -> None:
    events = stream(endpoint(fake_llm, "chat"), GenerationParams(tool_choice="nope"))
    assert isinstance(error_of(events), UnsupportedSetting)
    assert sent(fake_llm, "chat") == []


HISTORY = (
    Message("system", "Be brief."),
    Message("user", "Weather and time?"),
    Message(
        "assistant",
        "",
        tool_calls=(
            ToolCall("call_1", "get_weather", '{"city": "Paris"}'),
            ToolCall("call_2", "get_time", "{}"),
        ),
    ),
    Message("tool", '{"temp": 21}', tool_call_id="call_1"),
    Message("tool", "12:00", tool_call_id="call_2"),
)


def test_chat_history_carries_tool_calls_and_role_tool(fake_llm: FakeLLM) -> None:
    stream(endpoint(fake_llm, "chat"), messages=HISTORY)
    messages = sent(fake_llm, "chat")[0].json["messages"]
    assert messages[2]["tool_calls"][0] == {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    assert messages[3] == {"role": "tool", "content": '{"temp": 21}', "tool_call_id": "call_1"}


def test_responses_history_has_function_call_items(fake_llm: FakeLLM) -> None:
    stream(endpoint(fake_llm, "responses"), messages=HISTORY)
    items = sent(fake_llm, "responses")[0].json["input"]
    assert items[2] == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
    }
    assert items[4] == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": '{"temp": 21}',
    }


def test_anthropic_history_has_tool_use_and_one_result_turn(fake_llm: FakeLLM) -> None:
    stream(endpoint(fake_llm, "messages"), messages=HISTORY)
    messages = sent(fake_llm, "messages")[0].json["messages"]
    assert messages[1]["content"][0] == {
        "type": "tool_use",
        "id": "call_1",
        "name": "get_weather",
        "input": {"city": "Paris"},
    }
    assert messages[2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "call_1", "content": '{"temp": 21}'},
            {"type": "tool_result", "tool_use_id": "call_2", "content": "12:00"},
        ],
    }


# ---- the fake streams as the real APIs do: the SDKs' own stream helpers agree ----------


def test_chat_stream_accumulates_in_the_openai_sdk(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="", tool_calls=CALLS, tool_chunk=4))
    client = openai.OpenAI(base_url=fake_llm.base_url, api_key=KEY, max_retries=0)
    tools: Any = [{"type": "function", "function": WEATHER.openai_function()}]
    with client.chat.completions.stream(
        model="fake-model", messages=[{"role": "user", "content": "hi"}], tools=tools
    ) as events:
        final = events.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert [(c.function.name, c.function.arguments) for c in calls] == CALLS
    assert final.choices[0].finish_reason == "tool_calls"


def test_responses_stream_accumulates_in_the_openai_sdk(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="", tool_calls=CALLS, tool_chunk=4))
    client = openai.OpenAI(base_url=fake_llm.base_url, api_key=KEY, max_retries=0)
    with client.responses.stream(model="fake-model", input="hi") as events:
        final = events.get_final_response()
    calls = [item for item in final.output if item.type == "function_call"]
    assert [(c.name, c.arguments) for c in calls] == CALLS


def test_messages_stream_accumulates_in_the_anthropic_sdk(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="", tool_calls=CALLS, tool_chunk=4))
    client = anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key=KEY, max_retries=0)
    with client.messages.stream(
        model="fake-model", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as events:
        final = events.get_final_message()
    uses = [block for block in final.content if block.type == "tool_use"]
    assert [(u.name, u.input) for u in uses] == [(n, json.loads(a)) for n, a in CALLS]
    assert final.stop_reason == "tool_use"


# ---- with images: a prompt with image parts keeps them beside the tools ------------------


@pytest.mark.parametrize("protocol", ["chat", "responses", "messages"])
def test_an_image_prompt_with_tools_and_tool_turns_sends_both(
    fake_llm: FakeLLM, protocol: str
) -> None:
    from tests.providers.test_images import EXPECTED, image_prompt, user_message

    call = ToolCall("call_1", "get_weather", '{"city": "Paris"}')
    history = (
        *image_prompt(),
        Message("assistant", "", tool_calls=(call,)),
        Message("tool", '{"temp": 21}', tool_call_id="call_1"),
    )
    stream(endpoint(fake_llm, protocol), messages=history)
    [request] = sent(fake_llm, protocol)
    assert [t.get("name") or t["function"]["name"] for t in request.json["tools"]] == [
        "get_weather",
        "get_time",
    ]
    assert user_message(request.json)["content"] == EXPECTED[protocol]
    wire = json.dumps(request.json)
    assert "call_1" in wire and '{\\"temp\\": 21}' in wire
