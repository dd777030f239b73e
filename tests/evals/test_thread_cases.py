"""Test cases that hold a thread: the evaluator sends the conversation and grades the final
answer (issue 17, Conversations)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from promptstudio.evals.results import DONE, EvalCase, EvalColumn
from promptstudio.evals.runner import EvalTarget, Evaluation
from promptstudio.providers import Endpoint
from tests.fake_llm import FakeLLM, Reply

THREAD = [
    {"role": "user", "content": "My name is Ada."},
    {"role": "assistant", "content": "Hello Ada!"},
    {"role": "user", "content": "What is my name?"},
]


def remembers(asked: str, body: dict[str, Any]) -> Reply:
    """Answers with the name only when the whole conversation came along."""
    said = " ".join(m["content"] for m in body["messages"])
    return Reply(text="Ada" if "My name is Ada." in said else "I do not know.")


@pytest.mark.parametrize(
    "template",
    [
        "system:\nYou remember names.\n{{ history }}",  # the template places the thread
        "system:\nYou remember names.",  # a thread the template does not use goes last
    ],
)
def test_a_case_with_a_thread_is_sent_whole_and_its_final_answer_graded(
    fake_llm: FakeLLM, template: str
) -> None:
    fake_llm.respond(remembers)
    endpoint = Endpoint(base_url=fake_llm.base_url, max_retries=0)
    column = EvalColumn(key="m", label="m", model="m", base_url=fake_llm.base_url)
    checks = ({"type": "equals", "value": "Ada"},)
    cases = [
        EvalCase(key="1", position=0, vars={"history": THREAD}, asserts=checks),
        EvalCase(key="2", position=1, vars={"history": THREAD[2:]}, asserts=checks),
    ]
    run = asyncio.run(Evaluation(template, cases, [EvalTarget(column, endpoint)]).run())
    passed = {cell.case_key: cell.passed for cell in run.cells.values()}
    assert passed == {"1": True, "2": False}
    assert all(cell.status == DONE for cell in run.cells.values())
    sent = [r.json["messages"] for r in fake_llm.chat_requests()]
    full = next(m for m in sent if len(m) == 4)
    assert [(m["role"], m["content"]) for m in full] == [
        ("system", "You remember names."),
        ("user", "My name is Ada."),
        ("assistant", "Hello Ada!"),
        ("user", "What is my name?"),
    ]
