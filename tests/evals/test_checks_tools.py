"""The tool-call checks, graded on answers with calls."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from promptstudio.chat import ToolCall
from promptstudio.evals.graders import Answer, GraderError, check_assertion, grade
from promptstudio.evals.results import EvalCase, EvalColumn
from promptstudio.evals.runner import EvalTarget, Evaluation
from promptstudio.providers import Endpoint
from promptstudio.runs import RunSession, RunTarget
from promptstudio.runs.thread import Thread
from promptstudio.runs.tool_loop import run_tool_loop
from promptstudio.samples import Sample, install_samples, load_samples
from promptstudio.storage import Database, library
from promptstudio.templating import render_messages
from promptstudio.tools import ToolDef, tools_from_data
from tests.fake_llm import FakeLLM, Reply

ORDER = ToolDef(
    "get_order_status",
    "Look up an order",
    {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
)
REFUND = ToolDef("refund", "Refund an order", {"type": "object"})


def answer(*calls: tuple[str, str]) -> Answer:
    made = tuple(ToolCall(f"c{n}", name, args) for n, (name, args) in enumerate(calls))
    return Answer("", tool_calls=made, tools=(ORDER, REFUND), finish_reason="tool_calls")


def test_valid_tools_call_checks_every_call_against_its_schema() -> None:
    check = {"type": "is-valid-openai-tools-call"}
    assert grade(check, answer(("get_order_status", '{"order_id": "A1"}'))).passed
    bad = grade(check, answer(("get_order_status", '{"order_id": 7}')))
    assert not bad.passed and "order_id" in bad.reason
    assert not grade(check, answer(("launch", "{}"))).passed
    assert not grade(check, Answer("just text")).passed


def test_tool_call_f1_scores_the_names() -> None:
    both = answer(("get_order_status", "{}"), ("refund", "{}"))
    check = {"type": "tool-call-f1", "value": ["get_order_status"]}
    result = grade(check, both)
    assert result.score == pytest.approx(2 / 3) and not result.passed
    assert grade({**check, "threshold": 0.6}, both).passed
    assert grade({"type": "tool-call-f1", "value": "refund, get_order_status"}, both).score == 1


def test_contains_tool_call_matches_a_json_subset() -> None:
    called = answer(("get_order_status", '{"order_id": "A1", "verbose": true}'))
    check = {
        "type": "contains-tool-call",
        "value": {"name": "get_order_status", "arguments": {"order_id": "A1"}},
    }
    assert grade(check, called).passed
    other = {**check, "value": {"name": "get_order_status", "arguments": {"order_id": "B2"}}}
    assert not grade(other, called).passed
    assert grade({"type": "contains-tool-call", "value": "get_order_status"}, called).passed
    assert not grade({"type": "contains-tool-call", "value": "refund"}, called).passed


def test_finish_reason_reads_tool_calls_and_tool_use() -> None:
    check = {"type": "finish-reason", "value": "tool_calls"}
    assert grade(check, answer(("refund", "{}"))).passed
    assert grade(check, Answer("", finish_reason="tool_use")).passed


def test_malformed_tool_checks_are_refused() -> None:
    with pytest.raises(GraderError):
        check_assertion({"type": "tool-call-f1"})
    with pytest.raises(GraderError):
        check_assertion({"type": "contains-tool-call", "value": {"arguments": {}}})


# ---- the sample: the support agent looks orders up, simulated and evaluated ------------


def _support_agent() -> tuple[Sample, tuple[ToolDef, ...]]:
    (agent,) = [s for s in load_samples() if s.tools]
    return agent, tools_from_data(agent.tools)


def test_the_support_agent_sample_is_installed_with_its_tool_and_cases(tmp_path: Path) -> None:
    with Database(tmp_path / "library.sqlite3") as db:
        db.call(install_samples)
        prompt = next(p for p in db.call(library.list_prompts) if p.name.startswith("Support"))
        version = db.call(library.latest_version, prompt.id)
        cases = db.call(library.list_cases, prompt.id)
    assert version is not None
    (tool,) = tools_from_data(version.settings["tools"])
    assert tool.name == "get_order_status" and tool.mock
    assert "get_order_status" in version.template
    assert cases[0].description.startswith("An order question")


def test_the_sample_looks_up_the_order_in_the_playground(fake_llm: FakeLLM) -> None:
    agent, tools = _support_agent()
    case = agent.cases[0]
    messages = render_messages(agent.template, {**agent.variables, **case["vars"]})
    fake_llm.script(
        Reply(text="", tool_calls=[("get_order_status", '{"order_id": "LN-48213"}')]), times=1
    )
    fake_llm.script(Reply(text="Your order LN-48213 has shipped with DHL."))
    target = RunTarget("col", Endpoint(fake_llm.base_url, max_retries=0), "fake-model")

    async def main() -> Thread:
        session = RunSession(messages, [target], tools=tools)
        thread = Thread.from_answer(messages, (await session.run())["col"])
        await run_tool_loop(
            thread, tools, start_step=lambda turns: thread.next_step(turns, target, tools=tools)
        )
        return thread

    thread = asyncio.run(main())
    result_turn = thread.steps[1].turns[0]
    assert json.loads(result_turn.content)["status"] == "shipped"  # the simulated order system
    assert "shipped" in thread.steps[1].result.text


def test_the_sample_is_checked_in_an_evaluation(fake_llm: FakeLLM) -> None:
    agent, tools = _support_agent()

    def respond(_model: str, body: dict[str, Any]) -> Reply:
        if "LN-48213" in body["messages"][-1]["content"]:  # the customer asks about it
            return Reply(text="", tool_calls=[("get_order_status", '{"order_id": "LN-48213"}')])
        return Reply(text="Please update to 4.2.1, then sync again.")

    fake_llm.respond(respond)
    cases = [
        EvalCase(str(n), n, vars=dict(c["vars"]), description=c["description"],
                 asserts=tuple(c["assert"]))
        for n, c in enumerate(agent.cases)
    ]  # fmt: skip
    endpoint = Endpoint(fake_llm.base_url, max_retries=0)
    column = EvalColumn(key="m", label="m", model="m", base_url=fake_llm.base_url)
    evaluation = Evaluation(
        agent.template,
        cases,
        [EvalTarget(column, endpoint)],
        values=agent.variables,
        tool_defs=tools,
    )
    run = asyncio.run(evaluation.run())
    cells = [run.cells[(case.key, "m")] for case in cases]
    assert [cell.passed for cell in cells] == [True, True], [c.grades for c in cells]
    assert fake_llm.chat_requests()[0].json["tools"][0]["function"]["name"] == "get_order_status"
    # The cell keeps the calls its answer made (the grid shows them).
    called = [(c.name, c.arguments) for cell in cells for c in cell.tool_calls]
    assert ("get_order_status", '{"order_id": "LN-48213"}') in called


def test_repeats_send_the_tools_each_time_and_the_judge_gets_none(fake_llm: FakeLLM) -> None:
    from promptstudio.evals.cache import MemoryCache, request_key
    from promptstudio.evals.runner import JudgeSettings

    def respond(model: str, _body: dict[str, Any]) -> Reply:
        if model == "judge":
            return Reply(text=json.dumps({"reason": "ok", "score": 1, "pass": True}))
        return Reply(text="", tool_calls=[("get_order_status", '{"order_id": "A1"}')])

    fake_llm.respond(respond)
    endpoint = Endpoint(fake_llm.base_url, max_retries=0)
    column = EvalColumn(key="m", label="m", model="m", base_url=fake_llm.base_url)
    case = EvalCase(
        "1", 0, asserts=({"type": "llm-rubric", "value": "Looks the order up"},
                         {"type": "contains-tool-call", "value": {"name": "get_order_status"}})
    )  # fmt: skip
    cache = MemoryCache()
    evaluation = Evaluation(
        "user:\nWhere is order A1?", [case], [EvalTarget(column, endpoint)],
        judge=JudgeSettings(endpoint, "judge"), cache=cache, repeat=2, tool_defs=(ORDER,),
    )  # fmt: skip
    run = asyncio.run(evaluation.run())
    cells = run.samples("1", "m")
    assert len(cells) == 2 and all(cell.passed for cell in cells), [c.grades for c in cells]
    requests = fake_llm.chat_requests()
    answers = [r.json for r in requests if r.json["model"] == "m"]
    judged = [r.json for r in requests if r.json["model"] == "judge"]
    assert len(answers) == 2 and all(
        a["tools"][0]["function"]["name"] == ORDER.name for a in answers
    )
    assert judged and all("tools" not in j for j in judged)
    # Each repeat is cached under its own key, and a key with tools is not one without.
    target = RunTarget("m", endpoint, "m")
    messages = render_messages("user:\nWhere is order A1?", {})
    with_tools = {request_key(target, messages, n, (ORDER,)) for n in range(2)}
    assert len(with_tools) == 2 and request_key(target, messages) not in with_tools
    assert with_tools <= set(cache.answers)


def test_an_answer_with_tool_calls_is_never_served_from_the_library_without_them(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    """The library's cache has no place for tool calls: such an answer is asked again, so a
    rerun grades the calls the model made (it graded "called: none" from the cache)."""
    from promptstudio.evals.cache import LibraryCache

    fake_llm.script(Reply(text="", tool_calls=[("get_order_status", '{"order_id": "A1"}')]))
    endpoint = Endpoint(fake_llm.base_url, max_retries=0)
    column = EvalColumn(key="m", label="m", model="m", base_url=fake_llm.base_url)
    case = EvalCase("1", 0, asserts=({"type": "tool-call-f1", "value": ["get_order_status"]},))
    with Database(tmp_path / "library.sqlite3") as db:
        for rerun in (False, True):
            evaluation = Evaluation(
                "user:\nWhere is order A1?", [case], [EvalTarget(column, endpoint)],
                cache=LibraryCache(db), tool_defs=(ORDER,),
            )  # fmt: skip
            cell = asyncio.run(evaluation.run()).cells[("1", "m")]
            assert cell.passed is True, (rerun, cell.grades)
            assert [call.name for call in cell.tool_calls] == ["get_order_status"]
    assert len(fake_llm.chat_requests()) == 2
