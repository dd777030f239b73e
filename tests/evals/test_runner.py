"""Evaluations: cases × models through the real SDK against the fake server, graded."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from promptstudio.evals import results
from promptstudio.evals.cache import MemoryCache, request_key
from promptstudio.evals.results import CANCELLED, DONE, FAILED, EvalCase, EvalColumn
from promptstudio.evals.runner import (
    EvalError,
    EvalTarget,
    Evaluation,
    JudgeSettings,
    effective_checks,
    is_local,
    server_key,
)
from promptstudio.providers import (
    ChatRequest,
    Endpoint,
    GenerationParams,
    ModelPrice,
    PriceTable,
    Provider,
    StreamEvent,
    create_provider,
)
from promptstudio.runs import RunTarget
from tests.fake_llm import FakeLLM, Reply

TEMPLATE = "user:\nWhat is {{ a }} + {{ b }}? Answer with the number only."


def cases(count: int = 4) -> list[EvalCase]:
    return [
        EvalCase(key=str(n + 1), position=n, vars={"a": n, "b": n}, expected=str(2 * n))
        for n in range(count)
    ]


def target(server: FakeLLM, model: str, key: str | None = None, **options: Any) -> EvalTarget:
    endpoint = Endpoint(base_url=server.base_url, max_retries=0, **options)
    column = EvalColumn(key=key or model, label=model, model=model, base_url=server.base_url)
    return EvalTarget(column, endpoint)


def arithmetic(wrong_on: set[int] | None = None, model: str = "bad") -> Any:
    """Answers "a + b" correctly; ``model`` answers wrongly when a is in ``wrong_on``."""

    def respond(asked: str, body: dict[str, Any]) -> Reply | None:
        text = body["messages"][-1]["content"]
        if not text.startswith("What is"):
            return None
        a = int(text.split()[2])
        answer = 2 * a
        if asked == model and wrong_on and a in wrong_on:
            answer += 1
        return Reply(text=str(answer))

    return respond


def test_every_case_on_every_model_is_graded(fake_llm: FakeLLM) -> None:
    fake_llm.respond(arithmetic(wrong_on={1, 3}))
    seen: list[results.CellResult] = []
    evaluation = Evaluation(
        TEMPLATE,
        cases(),
        [target(fake_llm, "good"), target(fake_llm, "bad")],
        on_cell=seen.append,
    )
    run = asyncio.run(evaluation.run())

    assert run.status == DONE and len(seen) == run.total == 8
    assert [run.cell(str(n), "good").passed for n in range(1, 5)] == [True] * 4  # type: ignore[union-attr]
    assert [run.cell(str(n), "bad").passed for n in range(1, 5)] == [True, False, True, False]  # type: ignore[union-attr]
    wrong = run.cell("2", "bad")
    assert wrong is not None and wrong.text == "3" and wrong.grades[0].grader == "equals"
    good, bad = results.summarize(run)
    assert (good.pass_rate, bad.pass_rate) == (1.0, 0.5)
    assert bad.passed == 2 and bad.graded == 4 and bad.failed_requests == 0
    assert good.mean_latency_ms is not None and good.p95_latency_ms is not None
    assert len(fake_llm.chat_requests()) == 8


def test_a_rerun_is_served_from_the_cache_at_no_cost_unless_fresh(fake_llm: FakeLLM) -> None:
    fake_llm.respond(arithmetic())
    cache = MemoryCache()
    prices = PriceTable({"good": ModelPrice(input=1000.0, output=1000.0)})

    def evaluate(fresh: bool = False) -> results.EvalRun:
        return asyncio.run(
            Evaluation(
                TEMPLATE, cases(3), [target(fake_llm, "good")], cache=cache, fresh=fresh,
                price_table=prices,
            ).run()
        )  # fmt: skip

    first = evaluate()
    assert len(fake_llm.chat_requests()) == 3 and len(cache.answers) == 3
    assert all(c.cost and c.cost > 0 and not c.cached for c in first.cells.values())

    second = evaluate()
    assert len(fake_llm.chat_requests()) == 3  # nothing sent
    cell = second.cell("2", "good")
    assert cell is not None and cell.cached and cell.cost == 0.0 and cell.passed
    assert cell.latency_ms == first.cell("2", "good").latency_ms  # type: ignore[union-attr]
    assert results.summarize(second)[0].total_cost == 0.0

    third = evaluate(fresh=True)
    assert len(fake_llm.chat_requests()) == 6
    assert not any(c.cached for c in third.cells.values())


def test_the_cache_key_is_the_whole_request_and_never_the_api_key() -> None:
    from promptstudio.chat import Message

    messages = [Message("user", "hi")]
    base = RunTarget("k", Endpoint("http://h/v1", api_key="sk-one"), "m")
    same = RunTarget("other", Endpoint("http://h/v1/", api_key="sk-two"), "m")
    assert request_key(base, messages) == request_key(same, messages)
    hotter = RunTarget("k", base.endpoint, "m", GenerationParams(temperature=1.0))
    assert request_key(hotter, messages) != request_key(base, messages)
    assert request_key(base, [Message("user", "hi!")]) != request_key(base, messages)
    assert request_key(RunTarget("k", base.endpoint, "m2"), messages) != request_key(base, messages)


class _Counting:
    """Wraps real providers and records how many streams were open at once."""

    def __init__(self) -> None:
        self.open = 0
        self.most = 0
        self.lock = threading.Lock()

    def factory(self, endpoint: Endpoint) -> Provider:
        inner = create_provider(endpoint)
        counter = self

        class Counted:
            async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
                with counter.lock:
                    counter.open += 1
                    counter.most = max(counter.most, counter.open)
                try:
                    async for event in inner.stream(request):
                        yield event
                finally:
                    with counter.lock:
                        counter.open -= 1

            def __getattr__(self, name: str) -> Any:
                return getattr(inner, name)

        return Counted()


@pytest.mark.parametrize("limit", [1, 3])
def test_a_server_gets_at_most_its_limit_of_requests_at_once(fake_llm: FakeLLM, limit: int) -> None:
    fake_llm.script(Reply(text="slow answer", first_token_delay=0.05))
    counting = _Counting()
    run = asyncio.run(
        Evaluation(
            TEMPLATE, cases(4), [target(fake_llm, "m1"), target(fake_llm, "m2")],
            local_limit=limit, provider_factory=counting.factory,
        ).run()
    )  # fmt: skip
    assert all(c.status == DONE for c in run.cells.values()) and len(run.cells) == 8
    assert counting.most == limit


def test_local_servers_are_recognised() -> None:
    assert is_local(Endpoint("http://127.0.0.1:11434/v1"))
    assert is_local(Endpoint("http://localhost:1234/v1"))
    assert is_local(Endpoint("http://[::1]:8080/v1"))
    assert not is_local(Endpoint("https://api.openai.com/v1"))
    assert server_key(Endpoint("http://LOCALHOST:1234/v1")) == "http://localhost:1234"


def test_a_failing_model_or_case_fails_only_its_cells(fake_llm: FakeLLM) -> None:
    answers = arithmetic()
    fake_llm.respond(lambda model, body: None if model == "broken" else answers(model, body))
    fake_llm.script(Reply(status=500), model="broken")
    broken_case = EvalCase(key="9", position=4, vars={"b": 1}, expected="x")  # no "a" anywhere
    template = TEMPLATE
    only_a = EvalCase(key="8", position=3, vars={"a": 1}, expected="2")  # no "b": from values
    run = asyncio.run(
        Evaluation(
            template, [*cases(2), only_a, broken_case],
            [target(fake_llm, "good"), target(fake_llm, "broken")], values={"b": 1},
        ).run()
    )  # fmt: skip
    broken = run.cell("1", "broken")
    assert broken is not None and broken.status == FAILED and broken.passed is False
    assert broken.error and "500" in broken.error
    assert run.cell("8", "good").passed  # type: ignore[union-attr]
    bad_template = run.cell("9", "good")
    assert bad_template is not None and bad_template.status == FAILED
    assert "does not render" in (bad_template.error or "")
    summary = {s.column_key: s for s in results.summarize(run)}
    assert summary["broken"].failed_requests == 4 and summary["broken"].pass_rate == 0.0


def test_a_judge_grades_rubrics_and_its_replies_are_cached_too(fake_llm: FakeLLM) -> None:
    def respond(model: str, body: dict[str, Any]) -> Reply | None:
        if model != "judge":
            return Reply(text="Bonjour, mon ami !")
        asked = body["messages"][-1]["content"]
        verdict = {"reason": "French and friendly.", "score": 0.9, "pass": "Bonjour" in asked}
        return Reply(text=json.dumps(verdict))

    fake_llm.respond(respond)
    case = EvalCase(
        key="1", position=0, vars={"a": 1, "b": 1},
        asserts=(
            {"type": "llm-rubric", "value": "Is in French"},
            {"type": "icontains", "value": "bonjour"},
        ),
    )  # fmt: skip
    judge = JudgeSettings(Endpoint(base_url=fake_llm.base_url, max_retries=0), "judge")
    cache = MemoryCache()

    def evaluate() -> results.CellResult:
        evaluation = Evaluation(
            TEMPLATE, [case], [target(fake_llm, "writer")], judge=judge, cache=cache
        )
        cell = asyncio.run(evaluation.run()).cell("1", "writer")
        assert cell is not None
        return cell

    cell = evaluate()
    rubric, contains = cell.grades
    assert cell.passed and rubric.passed and rubric.score == 0.9
    assert rubric.details["reason"] == "French and friendly." and contains.passed
    sent = len(fake_llm.chat_requests())
    assert sent == 2  # the answer and the judge
    again = evaluate()
    assert again.cached and again.grades[0].score == 0.9
    assert len(fake_llm.chat_requests()) == sent


def test_a_judge_that_fails_fails_the_check_not_the_evaluation(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="some answer"))
    fake_llm.script(Reply(status=401), model="judge")
    case = EvalCase(key="1", position=0, vars={"a": 1, "b": 2},
                    asserts=({"type": "llm-rubric", "value": "Is correct"},))  # fmt: skip
    judge = JudgeSettings(Endpoint(base_url=fake_llm.base_url, max_retries=0), "judge")
    run = asyncio.run(Evaluation(TEMPLATE, [case], [target(fake_llm, "w")], judge=judge).run())
    cell = run.cell("1", "w")
    assert cell is not None and cell.status == DONE and cell.passed is False
    assert "judge" in cell.grades[0].reason.lower() and "error" in cell.grades[0].details


def test_setup_problems_are_refused_before_anything_is_sent(fake_llm: FakeLLM) -> None:
    rubric = EvalCase(key="1", position=0, asserts=({"type": "llm-rubric", "value": "x"},))
    with pytest.raises(EvalError, match="judge"):
        Evaluation(TEMPLATE, [rubric], [target(fake_llm, "m")])
    bad_regex = EvalCase(key="2", position=1, description="the regex one",
                         asserts=({"type": "regex", "value": "(unclosed"},))  # fmt: skip
    with pytest.raises(EvalError, match="the regex one"):
        Evaluation(TEMPLATE, [bad_regex], [target(fake_llm, "m")])
    with pytest.raises(EvalError, match="Case 1"):
        Evaluation(TEMPLATE, [EvalCase("3", 0)], [target(fake_llm, "m")],
                   for_every_case=[{"type": "no-such-check"}])  # fmt: skip
    assert fake_llm.chat_requests() == []


def test_a_check_not_graded_here_is_reported_on_its_case_and_the_rest_runs(
    fake_llm: FakeLLM,
) -> None:
    fake_llm.respond(arithmetic())
    code = {"type": "javascript", "value": "output.length < 3"}
    mixed = EvalCase("1", 0, vars={"a": 1, "b": 1},
                     asserts=(code, {"type": "contains", "value": "2"}))  # fmt: skip
    only_code = EvalCase("2", 1, vars={"a": 2, "b": 2}, asserts=({"type": "not-classifier"},))
    plain = EvalCase("3", 2, vars={"a": 3, "b": 3}, expected="6")

    run = asyncio.run(
        Evaluation(TEMPLATE, [mixed, only_code, plain], [target(fake_llm, "m")]).run()
    )

    assert [run.cell(key, "m").passed for key in "123"] == [True, None, True]  # type: ignore[union-attr]
    cell = run.cell("1", "m")
    assert cell is not None
    skipped, graded = cell.grades
    assert (skipped.grader, skipped.graded) == ("javascript", False)
    assert skipped.reason == (
        "Not graded: JavaScript checks are not supported in PromptStudio; use 'python'."
    )
    assert graded.graded and cell.graded == (graded,)
    assert results.grade_from_dict(results.grade_to_dict(skipped)) == skipped
    [summary] = results.summarize(run)
    assert (summary.graded, summary.passed) == (2, 2)


def test_a_checks_value_is_rendered_with_the_cases_variables_as_promptfoo_does(
    fake_llm: FakeLLM,
) -> None:
    fake_llm.respond(arithmetic())
    code = {"type": "javascript", "value": "output == '{{ want }}'"}
    sums = EvalCase("1", 0, vars={"a": 2, "b": 2, "want": "4"},
                    asserts=({"type": "equals", "value": "{{ a + b }}"},
                             {"type": "contains", "value": "{{ want }}"}, code))  # fmt: skip
    broken = EvalCase("2", 1, vars={"a": 1, "b": 1},
                      asserts=({"type": "contains", "value": "{{ missing }}"},))  # fmt: skip

    run = asyncio.run(Evaluation(TEMPLATE, [sums, broken], [target(fake_llm, "m")]).run())

    cell, failed = run.cell("1", "m"), run.cell("2", "m")
    assert cell is not None and failed is not None
    assert cell.passed is True and [g.graded for g in cell.grades] == [True, True, False]
    assert failed.passed is False
    assert failed.grades[0].reason.startswith("Its value does not render for this case (1:")


def test_checks_for_every_case_come_first_and_expected_means_equals() -> None:
    every = [{"type": "latency", "threshold": 5000}]
    plain = EvalCase("1", 0, expected="4")
    own = EvalCase("2", 1, expected="4", asserts=({"type": "contains", "value": "4"},))
    nothing = EvalCase("3", 2)
    assert effective_checks(plain, every) == [*every, {"type": "equals"}]
    assert effective_checks(own, every) == [*every, {"type": "contains", "value": "4"}]
    assert effective_checks(nothing) == []


def test_cancel_keeps_finished_cells_and_marks_the_rest(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="quick"), model="fast")
    fake_llm.script(Reply(text="slow " * 100, tokens_per_second=20), model="slow")

    async def main() -> results.EvalRun:
        evaluation = Evaluation(
            TEMPLATE, cases(3), [target(fake_llm, "fast"), target(fake_llm, "slow")],
            local_limit=4,
        )  # fmt: skip
        task = asyncio.create_task(evaluation.run())
        while sum(1 for c in evaluation.result.cells.values() if c.column_key == "fast") < 3:
            await asyncio.sleep(0.01)
        evaluation.cancel()
        return await task

    run = asyncio.run(main())
    assert run.status == CANCELLED and len(run.cells) == 6
    assert {c.status for k, c in run.cells.items() if k[1] == "fast"} == {DONE}
    slow = [c for k, c in run.cells.items() if k[1] == "slow"]
    assert {c.status for c in slow} == {CANCELLED} and all(c.passed is None for c in slow)
    assert results.summarize(run)[1].graded == 0


def test_unique_column_keys_are_required(fake_llm: FakeLLM) -> None:
    with pytest.raises(ValueError, match="unique"):
        Evaluation(TEMPLATE, cases(1), [target(fake_llm, "m", "k"), target(fake_llm, "n", "k")])


def test_a_big_evaluation_runs_on_a_few_workers_and_stops_them(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="4"))

    async def main() -> tuple[int, results.EvalRun]:
        evaluation = Evaluation(
            TEMPLATE, cases(5000), [target(fake_llm, "a"), target(fake_llm, "b")], local_limit=2
        )
        task = asyncio.create_task(evaluation.run())
        most = 0
        while evaluation.done < 20:
            most = max(most, len(asyncio.all_tasks()))
            await asyncio.sleep(0.005)
        evaluation.cancel()
        return most, await task

    most, run = asyncio.run(main())
    # main, run(), two workers and what each request needs: not a task per cell (10,000)
    assert most <= 20
    assert run.status == CANCELLED
    assert 20 <= len(run.cells) < 30  # what finished and what was cut off; no more started
    assert all(cell.status in (DONE, CANCELLED) for cell in run.cells.values())


def test_finish_reason_checks_see_why_the_answer_stopped_live_and_from_the_cache(
    fake_llm: FakeLLM,
) -> None:
    fake_llm.script(Reply(text="A long answer that runs", finish_reason="length"))
    cache = MemoryCache()
    checks = ({"type": "finish-reason", "value": "length"},)
    one = [EvalCase(key="1", position=0, vars={"a": 1, "b": 1}, asserts=checks)]

    def evaluate() -> results.CellResult:
        run = asyncio.run(Evaluation(TEMPLATE, one, [target(fake_llm, "m")], cache=cache).run())
        cell = run.cell("1", "m")
        assert cell is not None
        return cell

    live = evaluate()
    assert live.passed, live.grades
    cached = evaluate()
    assert cached.cached and cached.passed, cached.grades
    assert len(fake_llm.chat_requests()) == 1
