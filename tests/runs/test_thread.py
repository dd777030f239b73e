"""A column's conversation: the next step goes through run_target and a RunSession, and
every step is stored with the run (issue 17, Conversations)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptstudio.chat import Message
from promptstudio.credentials import KeyStore
from promptstudio.providers import Endpoint, ModelPrice, PriceTable
from promptstudio.runs import RunSession, RunTarget, TargetStatus
from promptstudio.runs.columns import ColumnConfig, RunDefaults, run_target
from promptstudio.runs.stored import response_fields
from promptstudio.runs.thread import Thread, step_fields, stored_turns
from promptstudio.storage import Database, library
from promptstudio.storage.schema import MIGRATIONS
from tests.fake_llm import FakeLLM, Reply

PROMPT = (Message("system", "Be brief."), Message("user", "Name a colour."))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def column_target(server: FakeLLM, model: str = "gpt-test") -> RunTarget:
    """The column's request as every run makes it."""
    column = ColumnConfig(server.base_url, model)
    return run_target(column, [], KeyStore(), RunDefaults(max_retries=0))


def sent_turns(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of every message a Chat, Responses or Messages request carried."""
    turns: list[tuple[str, str]] = []
    if isinstance(body.get("system"), str):
        turns.append(("system", body["system"]))
    for item in body.get("messages") or body.get("input") or []:
        content = item["content"]
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content)
        turns.append((item["role"], content))
    if isinstance(body.get("instructions"), str):
        turns.insert(0, ("system", body["instructions"]))
    return turns


async def first_answer(messages: tuple[Message, ...], target: RunTarget) -> Thread:
    session = RunSession(messages, [target])
    results = await session.run()
    return Thread.from_answer(messages, results[target.key])


def test_two_steps_send_the_whole_history_in_order(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply("Blue."), times=1)
    fake_llm.script(Reply("Green."), times=1)
    fake_llm.script(Reply("Red."), times=1)
    target = column_target(fake_llm)

    async def converse() -> Thread:
        thread = await first_answer(PROMPT, target)
        assert thread.can_continue
        await thread.next_step([Message("user", "Another?")], target).run()
        await thread.next_step([Message("user", "One more?")], target).run()
        return thread

    thread = asyncio.run(converse())
    assert [s.result.text for s in thread.steps] == ["Blue.", "Green.", "Red."]
    assert all(s.result.status is TargetStatus.DONE for s in thread.steps)
    last = fake_llm.chat_requests()[-1].json
    assert sent_turns(last) == [
        ("system", "Be brief."),
        ("user", "Name a colour."),
        ("assistant", "Blue."),
        ("user", "Another?"),
        ("assistant", "Green."),
        ("user", "One more?"),
    ]
    assert [t.role for t in thread.history()][-2:] == ["user", "assistant"]


@pytest.mark.parametrize("api", ["responses", "messages"])
def test_the_history_goes_in_each_apis_own_format(fake_llm: FakeLLM, api: str) -> None:
    fake_llm.script(Reply("Blue."), times=1)
    fake_llm.script(Reply("Green."), times=1)
    if api == "messages":
        endpoint = Endpoint(fake_llm.anthropic_base_url, "k", kind="anthropic", max_retries=0)
        requests = fake_llm.messages_requests
    else:
        endpoint = Endpoint(fake_llm.base_url, "k", api="responses", max_retries=0)
        requests = fake_llm.responses_requests
    target = RunTarget("c1", endpoint, "model-x")

    async def converse() -> Thread:
        thread = await first_answer(PROMPT, target)
        await thread.next_step([Message("user", "Another?")], target).run()
        return thread

    thread = asyncio.run(converse())
    assert thread.steps[-1].result.text == "Green."
    assert sent_turns(requests()[-1].json) == [
        ("system", "Be brief."),
        ("user", "Name a colour."),
        ("assistant", "Blue."),
        ("user", "Another?"),
    ]


def test_cost_and_tokens_are_summed_over_the_steps(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply("one two", input_tokens=10), times=1)
    fake_llm.script(Reply("three four five", input_tokens=20), times=1)
    prices = PriceTable({"priced": ModelPrice(input=1.0, output=2.0)})
    target = column_target(fake_llm, "priced")

    async def converse() -> Thread:
        session = RunSession(PROMPT, [target], price_table=prices)
        thread = Thread.from_answer(PROMPT, (await session.run())[target.key])
        await thread.next_step([Message("user", "More")], target, price_table=prices).run()
        return thread

    thread = asyncio.run(converse())
    assert thread.input_tokens == 30
    assert thread.output_tokens == 2 + 3
    first, second = (s.result.cost for s in thread.steps)
    assert first is not None and second is not None
    assert thread.cost == pytest.approx(first + second)
    assert thread.to_dict()["steps"][1]["turns"] == [{"role": "user", "content": "More"}]


def test_a_step_can_be_stopped_and_keeps_its_text(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply("Blue."), times=1)
    fake_llm.script(Reply("tick " * 400, tokens_per_second=200), times=1)
    target = column_target(fake_llm)

    async def converse() -> Thread:
        thread = await first_answer(PROMPT, target)
        step = thread.next_step([Message("user", "Count")], target)
        running = asyncio.create_task(step.run())
        while not step.result.text:
            await asyncio.sleep(0.01)
        step.session.cancel()
        await running
        return thread

    thread = asyncio.run(converse())
    last = thread.steps[-1].result
    assert last.status is TargetStatus.CANCELLED
    assert last.text.startswith("tick")
    assert thread.can_continue  # a stopped answer with text can be continued too


def test_a_step_needs_a_turn() -> None:
    thread = Thread(PROMPT)
    assert not thread.can_continue
    target = RunTarget("c1", Endpoint("http://127.0.0.1:9/v1"), "m")
    with pytest.raises(ValueError):
        thread.next_step([], target)


def test_every_step_is_stored_with_its_run(fake_llm: FakeLLM, db: Database) -> None:
    fake_llm.script(Reply("Blue.", input_tokens=4), times=1)
    fake_llm.script(Reply("Green.", input_tokens=8), times=1)
    prices = PriceTable({"gpt-test": ModelPrice(input=1.0, output=1.0)})
    target = column_target(fake_llm)

    async def converse() -> Thread:
        session = RunSession(PROMPT, [target], price_table=prices)
        thread = Thread.from_answer(PROMPT, (await session.run())[target.key])
        await thread.next_step([Message("user", "Another?")], target, price_table=prices).run()
        return thread

    thread = asyncio.run(converse())
    prompt = db.call(library.create_prompt, "p")
    version = db.call(library.save_version, prompt.id, "t", {}, {})
    run = db.call(library.record_run, version.id, {})
    first = thread.steps[0].result
    response = db.call(library.add_response, run.id, **response_fields(first, PROMPT))
    for number, step in enumerate(thread.steps[1:], start=1):
        db.call(library.add_step, response.id, **step_fields(step, number))

    (stored,) = db.call(library.list_responses, run.id)
    assert [(s.step, s.text, s.turns) for s in stored.steps] == [
        (1, "Green.", [{"role": "user", "content": "Another?"}])
    ]
    assert stored.total_cost == pytest.approx(thread.cost)
    (with_runs,) = db.call(library.runs_for_version, version.id)
    assert with_runs.responses[0].steps == stored.steps
    turns = stored_turns(stored)
    assert turns == thread.history()
    # Deleting the prompt takes the steps with it.
    db.call(library.trash_prompt, prompt.id)
    db.call(library.delete_forever, prompt.id)
    count = db.call(lambda c: c.execute("SELECT count(*) FROM response_steps").fetchone()[0])
    assert count == 0


def test_runs_stored_before_conversations_load_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    # The file as the build before conversations left it: the migrations up to theirs.
    before = next(i for i, step in enumerate(MIGRATIONS) if "thread_steps" in step.__name__)
    conn = sqlite3.connect(path)
    for number, step in enumerate(MIGRATIONS[:before], start=1):
        step(conn)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.commit()
    conn.close()
    with Database(path) as db:  # migrates to now, then an answer stored as before
        prompt = db.call(library.create_prompt, "old")
        version = db.call(library.save_version, prompt.id, "t", {}, {})
        run = db.call(library.record_run, version.id, {})
        fields: dict[str, Any] = {
            "base_url": "u", "model": "m", "params": {}, "messages": [], "text": "old answer",
            "status": "done", "error": None, "finish_reason": "stop", "ttft_ms": 1.0,
            "total_ms": 2.0, "input_tokens": 1, "output_tokens": 2, "usage_estimated": False,
            "cost": 0.5,
        }  # fmt: skip
        db.call(library.add_response, run.id, **fields)
    with Database(path) as db:
        (answer,) = db.call(library.list_responses, run.id)
        assert (answer.text, answer.steps, answer.total_cost) == ("old answer", (), 0.5)
        (with_runs,) = db.call(library.runs_for_version, version.id)
        assert with_runs.responses == (answer,)
