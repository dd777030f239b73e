"""A judge on a local server takes turns with the other requests there (issue 14)."""

from __future__ import annotations

import asyncio
import json

from promptstudio.chat import Message
from promptstudio.evals import GradeResult, grade_with_judge, judge_with_endpoint
from promptstudio.providers import Endpoint
from promptstudio.runs import RunSession, RunTarget, ServerLimits, TargetResult, TargetStatus
from tests.evals.test_graders import ANSWER, RUBRIC
from tests.fake_llm import FakeLLM, Reply

ESSAY = "a long answer that takes a while " * 8


def test_a_judge_waits_for_its_turn_instead_of_cutting_off_a_run() -> None:
    """llama.cpp's server ends the stream it serves when another request arrives; with the
    app's limits passed, the judge's request waits until the run's answer has finished."""
    verdict = json.dumps({"reason": "Right.", "score": 1.0, "pass": True})
    with FakeLLM(interrupt_requests=True) as server:
        server.script(Reply(text=ESSAY, tokens_per_second=80), model="writer")
        server.script(Reply(text=verdict), model="judge-model")
        endpoint = Endpoint(base_url=server.base_url, name="local", max_retries=0)
        limits = ServerLimits()  # the app's: one request at a time to a local server

        async def scenario() -> tuple[TargetResult, GradeResult]:
            run = RunSession(
                (Message("user", "Write an essay"),),
                [RunTarget("essay", endpoint, "writer")],
                limits=limits,
            )
            writing = asyncio.create_task(run.run())
            while not server.chat_requests():  # the run's answer is streaming
                await asyncio.sleep(0.01)
            judge = await judge_with_endpoint(endpoint, "judge-model", limits=limits)
            graded = await grade_with_judge(RUBRIC, ANSWER, judge=judge)
            return (await writing)["essay"], graded

        essay, graded = asyncio.run(scenario())
        assert server.interrupted == 0
    assert essay.status is TargetStatus.DONE and essay.text == ESSAY
    assert graded.passed is True
    assert [request.json["model"] for request in server.chat_requests()] == [
        "writer", "judge-model"
    ]  # fmt: skip
