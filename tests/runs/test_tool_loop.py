"""Mock tool results: the model calls a tool, the canned result goes back as each API
expects, and the next step streams; every step is stored with the run (issue 17, Tools)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from promptstudio.chat import Message, Text, ToolCall
from promptstudio.images import image_from_bytes
from promptstudio.providers import Endpoint, ModelPrice, PriceTable
from promptstudio.runs import RunSession, RunTarget, TargetStatus
from promptstudio.runs.stored import response_fields
from promptstudio.runs.thread import Thread, step_fields, stored_turns
from promptstudio.runs.tool_loop import mock_result, run_tool_loop
from promptstudio.storage import Database, library
from promptstudio.tools import ToolDef
from tests.fake_llm import FakeLLM, Reply
from tests.images import png
from tests.providers.helpers import PROTOCOLS, endpoint

ORDER = ToolDef(
    "get_order_status",
    "Look up an order",
    {"type": "object", "properties": {"order_id": {"type": "string"}}},
    mock='{"order_id": "{{ order_id }}", "status": "shipped"}',
)
PROMPT = (Message("system", "You are support."), Message("user", "Where is order A1?"))
PRICES = PriceTable({"fake-model": ModelPrice(input=1.0, output=2.0)})


def test_a_mock_is_a_template_over_the_arguments() -> None:
    call = ToolCall("c1", "get_order_status", '{"order_id": "A1"}')
    assert json.loads(mock_result([ORDER], call)) == {"order_id": "A1", "status": "shipped"}
    assert "no tool named" in mock_result([ORDER], ToolCall("c2", "nope", "{}"))
    plain = ToolDef("f", mock="")
    assert "no mock result" in mock_result([plain], ToolCall("c3", "f", "{}"))


def run_loop(server: FakeLLM, ep: Endpoint, max_steps: int = 5) -> Thread:
    target = RunTarget("col", ep, "fake-model")

    async def main() -> Thread:
        session = RunSession(PROMPT, [target], price_table=PRICES, tools=[ORDER])
        thread = Thread.from_answer(PROMPT, (await session.run())["col"])
        await run_tool_loop(
            thread,
            [ORDER],
            max_steps=max_steps,
            start_step=lambda turns: thread.next_step(
                turns, target, price_table=PRICES, tools=[ORDER]
            ),
        )
        return thread

    return asyncio.run(main())


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_two_step_mock_loop_on_each_api(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(
        Reply(text="", tool_calls=[("get_order_status", '{"order_id": "A1"}')]), times=1
    )
    fake_llm.script(Reply(text="Order A1 has shipped."))
    thread = run_loop(fake_llm, endpoint(fake_llm, protocol))
    assert [step.result.status for step in thread.steps] == [TargetStatus.DONE] * 2
    assert thread.steps[0].result.tool_calls[0].name == "get_order_status"
    assert thread.steps[1].result.text == "Order A1 has shipped."
    (tool_turn,) = thread.steps[1].turns
    assert json.loads(tool_turn.content) == {"order_id": "A1", "status": "shipped"}
    second = fake_llm.generation_requests()[1].json
    sent = json.dumps(second)
    assert '\\"status\\": \\"shipped\\"' in sent or '"status": "shipped"' in sent
    assert thread.cost == pytest.approx(sum(s.result.cost or 0 for s in thread.steps))
    assert thread.cost is not None and thread.cost > thread.steps[0].result.cost  # type: ignore[operator]


def test_the_loop_stops_at_max_steps(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="", tool_calls=[("get_order_status", '{"order_id": "A1"}')]))
    thread = run_loop(fake_llm, endpoint(fake_llm, "chat"), max_steps=3)
    assert len(thread.steps) == 3
    assert len(fake_llm.chat_requests()) == 3


def test_every_step_is_stored_with_its_calls(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.script(
        Reply(text="", tool_calls=[("get_order_status", '{"order_id": "A1"}')]), times=1
    )
    fake_llm.script(Reply(text="Shipped."))
    thread = run_loop(fake_llm, endpoint(fake_llm, "chat"))
    with Database(tmp_path / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "p")
        version = db.call(library.save_version, prompt.id, "t", {}, {})
        run = db.call(library.record_run, version.id, {})
        first = db.call(
            library.add_response, run.id, **response_fields(thread.steps[0].result, PROMPT)
        )
        db.call(library.add_step, first.id, **step_fields(thread.steps[1], 1))
        (answer,) = db.call(library.list_responses, run.id)
    assert answer.tool_calls[0]["function"]["name"] == "get_order_status"
    (step,) = answer.steps
    assert step.text == "Shipped." and step.turns[0]["role"] == "tool"
    assert answer.total_cost == pytest.approx(thread.cost)


def test_a_stored_tool_conversation_is_rebuilt_as_it_was_sent(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    image = image_from_bytes(png(3, 2), "label", "label.png", what="label.png")
    prompt = (PROMPT[0], Message.of("user", (Text("Where is the order on "), image)))
    fake_llm.script(
        Reply(text="Let me look.", tool_calls=[("get_order_status", '{"order_id": "A1"}')]),
        times=1,
    )
    fake_llm.script(Reply(text="Shipped."))
    target = RunTarget("col", endpoint(fake_llm, "chat"), "fake-model")

    async def converse() -> Thread:
        session = RunSession(prompt, [target], tools=[ORDER])
        thread = Thread.from_answer(prompt, (await session.run())["col"])
        await run_tool_loop(thread, [ORDER], start_step=lambda turns: thread.next_step(
            turns, target, tools=[ORDER]))  # fmt: skip
        return thread

    thread = asyncio.run(converse())
    with Database(tmp_path / "library.sqlite3") as db:
        version = db.call(library.save_version, db.call(library.create_prompt, "p").id, "t", {}, {})
        run = db.call(library.record_run, version.id, {})
        first = thread.steps[0].result
        response = db.call(library.add_response, run.id, **response_fields(first, prompt))
        db.call(library.add_step, response.id, **step_fields(thread.steps[1], 1))
        (answer,) = db.call(library.list_responses, run.id)
    turns = stored_turns(answer)
    # The assistant's tool call and the tool's result come back, in order.
    assert [t.role for t in turns] == ["system", "user", "assistant", "tool", "assistant"]
    assert turns[2:] == thread.history()[2:]
    assert turns[1].images[0].data == png(3, 2)
    # Sent again, the rebuilt conversation is the request the tool step sent, byte for byte.
    fake_llm.script(Reply(text="Again."))
    asyncio.run(RunSession(turns[:-1], [target], tools=[ORDER]).run())
    first_step, again = fake_llm.generation_requests()[1:]
    assert again.json["messages"] == first_step.json["messages"]
