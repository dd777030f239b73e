"""Repeats: n samples of every case per model, each cached on its own, pass@k, pass^k, flaky."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from promptstudio.chat import Message
from promptstudio.evals import results
from promptstudio.evals.cache import MemoryCache, request_key
from promptstudio.evals.results import EvalCase
from promptstudio.evals.runner import EvalError, Evaluation
from promptstudio.providers import Endpoint
from promptstudio.runs import RunTarget
from tests.evals.test_runner import TEMPLATE, arithmetic, cases, target
from tests.fake_llm import FakeLLM, Reply


def test_three_repeats_send_three_requests_per_cell_and_a_rerun_sends_none(
    fake_llm: FakeLLM,
) -> None:
    fake_llm.respond(arithmetic())
    cache = MemoryCache()

    def evaluate() -> results.EvalRun:
        return asyncio.run(
            Evaluation(
                TEMPLATE, cases(2), [target(fake_llm, "good"), target(fake_llm, "other")],
                cache=cache, repeat=3,
            ).run()
        )  # fmt: skip

    first = evaluate()
    assert len(fake_llm.chat_requests()) == 2 * 2 * 3
    assert first.total == first.answers == 12 and first.repeat == 3
    assert [c.sample for c in first.samples("1", "good")] == [0, 1, 2]
    assert len(cache.answers) == 12  # a key per sample
    second = evaluate()
    assert len(fake_llm.chat_requests()) == 12  # nothing sent again
    assert all(c.cached for c in results.cells_in_order(second))
    assert len(results.cells_in_order(second)) == 12


def test_flaky_cases_and_pass_at_k_pass_hat_k(fake_llm: FakeLLM) -> None:
    """Case 1 always right, case 2 right on every other request: flaky."""
    asked: dict[str, int] = {}

    def respond(model: str, body: dict[str, Any]) -> Reply | None:
        text = body["messages"][-1]["content"]
        a = int(text.split()[2])
        asked[text] = asked.get(text, 0) + 1
        wrong = a == 1 and asked[text] % 2 == 0
        return Reply(text=str(2 * a + (1 if wrong else 0)))

    fake_llm.respond(respond)
    run = asyncio.run(Evaluation(TEMPLATE, cases(2), [target(fake_llm, "m")], repeat=4).run())
    [summary] = results.summarize(run)
    assert (summary.passed, summary.graded) == (6, 8)
    assert summary.flaky == 1 and summary.repeat == 4
    assert summary.pass_at_k == 1.0  # each case passed at least once
    assert summary.pass_hat_k == 0.5  # only case 1 passed all four
    assert summary.pass_interval is not None and summary.pass_interval.contains(0.75)
    assert results.case_outcomes(run, "m")["2"] == [True, False, True, False]


def test_without_repeats_the_cache_key_is_what_it_always_was() -> None:
    """Caches written before repeats existed still answer the first sample."""
    messages = [Message("user", "hi")]
    endpoint = Endpoint("http://h/v1")
    base = RunTarget("k", endpoint, "m")
    request = {
        "base_url": "http://h/v1", "kind": endpoint.kind, "api": endpoint.api, "model": "m",
        "params": base.params.to_dict(), "messages": [m.to_dict() for m in messages],
    }  # fmt: skip
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    before = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert request_key(base, messages) == request_key(base, messages, 0) == before
    keys = {request_key(base, messages, n) for n in range(5)}
    assert len(keys) == 5


def test_a_repeat_below_one_is_refused(fake_llm: FakeLLM) -> None:
    try:
        Evaluation(TEMPLATE, cases(1), [target(fake_llm, "m")], repeat=0)
    except EvalError as exc:
        assert "at least once" in exc.message
    else:
        raise AssertionError("repeat=0 was accepted")


def test_an_evaluation_without_repeats_stores_no_repeat_setting(fake_llm: FakeLLM) -> None:
    fake_llm.respond(arithmetic())
    one = EvalCase(key="1", position=0, vars={"a": 1, "b": 1}, expected="2")
    run = asyncio.run(Evaluation(TEMPLATE, [one], [target(fake_llm, "m")]).run())
    assert "repeat" not in run.settings and run.repeat == 1 and not run.more_samples
    assert run.cell("1", "m") is not None and run.cell("1", "m").sample == 0  # type: ignore[union-attr]
