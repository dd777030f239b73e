"""The plan before an evaluation: requests, cache hits, calibrated tokens and cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from promptstudio.chat import Message
from promptstudio.evals.plan import (
    GUESSED_OUTPUT_TOKENS,
    Budget,
    ModelHistory,
    PlannedCell,
    evaluation_cells,
    plan_cells,
    plan_evaluation,
    read_history,
)
from promptstudio.providers import PriceTable
from promptstudio.providers.pricing import ModelPrice
from promptstudio.storage import Database, library
from tests.fake_llm import FakeLLM
from tests.storage.helpers import respond

PRICES = PriceTable({"big": ModelPrice(input=2.0, output=8.0)})
HELLO = (Message("user", "x" * 400),)  # 100 tokens at characters / 4


def test_counts_requests_cache_hits_and_cost_per_model_and_in_total() -> None:
    cells = [
        PlannedCell("a", HELLO),
        PlannedCell("a", HELLO, cached=True),
        PlannedCell("a", None),  # does not render: nothing sent
        PlannedCell("b", HELLO),
    ]
    plan = plan_cells(cells, [("a", "Big", "big", 50), ("b", "Local", "llama", None)], {}, PRICES)
    big, local = plan.models
    assert (big.requests, big.cached, big.unrenderable) == (1, 1, 1)
    assert (big.input_tokens, big.output_tokens) == (100, 50)
    assert big.cost == pytest.approx((100 * 2.0 + 50 * 8.0) / 1e6)
    assert "max_tokens 50" in big.output_basis and "no past answers" in big.input_basis
    assert local.cost is None and local.output_tokens == GUESSED_OUTPUT_TOKENS
    assert "a guess" in local.output_basis
    assert (plan.requests, plan.cached, plan.cost) == (2, 1, pytest.approx(big.cost))
    text = "\n".join(plan.lines())
    assert "unknown for Local (no price)" in text and "1 from the cache (free)" in text


def test_tokens_are_calibrated_by_the_models_past_answers(tmp_path: Path) -> None:
    with Database(tmp_path / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "p")
        other = db.call(library.create_prompt, "other")
        version = db.call(library.save_version, prompt.id, "T", {}, {})
        elsewhere = db.call(library.save_version, other.id, "T", {}, {})
        sent = [{"role": "user", "content": "y" * 200}]  # estimated 50 tokens
        # the server counted 60 and 70: 130 / 100 = 1.3
        respond(db, elsewhere.id, "a", model="big", messages=sent, input_tokens=60,
                output_tokens=999)  # fmt: skip
        respond(db, version.id, "b", model="big", messages=sent, input_tokens=70,
                output_tokens=30)  # fmt: skip
        respond(
            db,
            version.id,
            "c",
            model="big",
            messages=sent,
            input_tokens=70,
            output_tokens=11,
            usage_estimated=True,
        )  # fmt: skip  (not calibrated on)
        history = db.call(read_history, ["big", "new"], prompt.id)
    big = history["big"]
    assert big.calibrated_on == 2 and big.ratio == pytest.approx(1.3)
    # answer lengths come from this prompt only
    assert (big.answers_to_prompt, big.mean_output) == (2, 21)
    assert history["new"] == ModelHistory()
    plan = plan_cells([PlannedCell("a", HELLO)], [("a", "Big", "big", None)], history, PRICES)
    [model] = plan.models
    assert (model.input_tokens, model.output_tokens) == (130, 21)
    assert "× 1.30, calibrated on 2 past answers of big" in model.input_basis
    assert "mean of 2 past answers of big to this prompt" in model.output_basis


def test_the_budget_holds_in_flight_estimates_and_counts_real_costs() -> None:
    budget = Budget(0.10, {"a": 0.04})
    first, second = budget.reserve("a"), budget.reserve("a")
    assert (first, second) == (0.04, 0.04)
    assert budget.reserve("a") is None and budget.stopped  # 0.12 would exceed
    budget = Budget(0.10, {"a": 0.04})
    held = budget.reserve("a")
    assert held is not None
    budget.settle(held, 0.01)  # cheaper than feared
    assert budget.spent == pytest.approx(0.01) and budget.in_flight == 0
    assert budget.reserve("a") == 0.04 and budget.reserve("unpriced") == 0.0
    assert "spent of $0.1000" in budget.describe()


def test_every_repeat_is_planned_and_found_in_the_cache_after_a_run(fake_llm: FakeLLM) -> None:
    import asyncio

    from promptstudio.evals.cache import MemoryCache
    from promptstudio.evals.plan import evaluation_cells, plan_evaluation
    from promptstudio.evals.results import EvalCase
    from promptstudio.evals.runner import Evaluation
    from tests.evals.test_runner import arithmetic, target

    fake_llm.respond(arithmetic())
    cache = MemoryCache()
    cases = [EvalCase(key="1", position=0, vars={"a": 1, "b": 1}, expected="2")]

    def evaluation() -> Evaluation:
        return Evaluation(
            "user:\nWhat is {{ a }} + {{ b }}?", cases, [target(fake_llm, "m")],
            cache=cache, repeat=3,
        )  # fmt: skip

    before = plan_evaluation(evaluation(), {})
    assert (before.requests, before.cached) == (3, 0)
    asyncio.run(evaluation().run())
    keys = {key for _, key in evaluation_cells(evaluation()) if key}
    after = plan_evaluation(evaluation(), {}, keys & set(cache.answers))
    assert (after.requests, after.cached) == (0, 3)


def _judged_evaluation(server: FakeLLM, **options: Any) -> Any:
    """Two cases on two columns, judged: rubrics on both, g-eval and select-best on one."""
    from promptstudio.evals.results import EvalCase
    from promptstudio.evals.runner import Evaluation, JudgeSettings
    from promptstudio.providers import Endpoint, GenerationParams
    from tests.evals.test_runner import target

    rubric = {"type": "llm-rubric", "value": "Answers {{ a }} + {{ b }} correctly"}
    cases = [
        EvalCase("1", 0, {"a": 1, "b": 1}, asserts=(rubric, {"type": "g-eval", "value": "Terse"})),
        EvalCase("2", 1, {"a": 2, "b": 2}, asserts=(rubric, {"type": "contains", "value": "4"},
                                                    {"type": "not-select-best", "value": "Terse"})),
    ]  # fmt: skip
    judge = JudgeSettings(
        Endpoint(base_url=server.base_url, max_retries=0),
        "judge",
        params=GenerationParams(max_tokens=20),
    )
    return Evaluation(
        "user:\nWhat is {{ a }} + {{ b }}?",
        cases,
        [target(server, "big"), target(server, "small")],
        judge=judge,
        price_table=PriceTable({"judge": ModelPrice(input=1000.0, output=2000.0)}),
        **options,
    )


def test_the_judges_requests_are_planned_with_their_tokens_and_cost(fake_llm: FakeLLM) -> None:
    from promptstudio.evals.plan import JUDGE_KEY, plan_evaluation, planned_models

    evaluation = _judged_evaluation(fake_llm)
    assert planned_models(evaluation) == ["big", "small", "judge"]
    plan = plan_evaluation(evaluation, {})
    judge = plan.models[-1]
    # rubrics: 2 cases × 2 columns; g-eval: 2 questions × 2 columns; select-best: once
    assert (judge.key, judge.label, judge.requests, judge.cached) == (
        JUDGE_KEY,
        "judge judge",
        9,
        0,
    )
    assert judge.output_tokens == 9 * 20 and "max_tokens 20" in judge.output_basis
    # each request holds its prompt and the answer graded (256 guessed output tokens)
    assert judge.input_tokens > 9 * GUESSED_OUTPUT_TOKENS
    assert "the answer it grades" in judge.input_basis
    assert judge.cost == pytest.approx((judge.input_tokens * 1000 + 180 * 2000) / 1e6)
    assert plan.cost == pytest.approx(judge.cost) and plan.requests == 4 + 9
    text = "\n".join(plan.lines())
    assert "judge judge: 9 requests" in text and "not in this plan" not in text
    assert Budget.from_plan(1.0, plan).estimates[JUDGE_KEY] == judge.per_request_cost
    # with a cache, g-eval's first question (the same criteria) is asked once
    from promptstudio.evals.cache import MemoryCache

    cached = plan_evaluation(_judged_evaluation(fake_llm, cache=MemoryCache()), {})
    assert cached.models[-1].requests == 8
    # answers from the cache have their judge replies cached too
    everything = {key for _, key in evaluation_cells(evaluation) if key}
    warm = plan_evaluation(_judged_evaluation(fake_llm, cache=MemoryCache()), {}, everything)
    assert (warm.requests, warm.cached, warm.models[-1].cached) == (0, 4 + 8, 8)


def test_the_budget_stops_before_a_judge_request_would_exceed_it(fake_llm: FakeLLM) -> None:
    import asyncio
    import json

    from tests.fake_llm import Reply

    def respond(model: str, body: dict[str, Any]) -> Reply | None:
        if model != "judge":
            return Reply(text="4")
        return Reply(text=json.dumps({"reason": "ok", "score": 1, "pass": True}))

    fake_llm.respond(respond)
    evaluation = _judged_evaluation(fake_llm)
    plan = plan_evaluation(evaluation, {})
    judge = plan.models[-1]
    assert judge.per_request_cost is not None
    # the answers are free; each judge request holds its estimate while it runs
    evaluation.budget = Budget.from_plan(judge.per_request_cost * 1.5, plan)
    run = asyncio.run(evaluation.run())
    assert evaluation.budget.stopped and evaluation.budget.spent <= evaluation.budget.limit
    assert run.settings["stopped_for_budget"]["spent"] <= evaluation.budget.limit
    asked = [r for r in fake_llm.chat_requests() if r.json["model"] == "judge"]
    assert 0 < len(asked) < 9


def test_evaluation_answers_calibrate_the_plan_too(fake_llm: FakeLLM, tmp_path: Path) -> None:
    import asyncio

    from promptstudio.evals.results import EvalCase
    from promptstudio.evals.runner import Evaluation
    from promptstudio.evals.store import load_run, save_run
    from tests.evals.test_runner import target
    from tests.fake_llm import Reply

    fake_llm.respond(lambda model, body: Reply(text="2", input_tokens=30))
    cases = [EvalCase(str(n), n, {"a": "y" * 80}) for n in range(3)]  # 20 tokens estimated
    evaluation = Evaluation("user:\n{{ a }}", cases, [target(fake_llm, "big")])
    run = asyncio.run(evaluation.run())
    assert {cell.input_estimate for cell in run.cells.values()} == {20}
    path = tmp_path / "library.sqlite3"
    with Database(path) as db:
        prompt = db.call(library.create_prompt, "p")
        version = db.call(library.save_version, prompt.id, "user:\n{{ a }}", {}, {})
        saved = db.call(save_run, version.id, run)
        assert saved.id is not None
    with Database(path) as db:
        assert {c.input_estimate for c in db.call(load_run, saved.id).cells.values()} == {20}
        history = db.call(read_history, ["big", "other"], prompt.id)
    # the evaluation's answers give this prompt's answer lengths
    assert history["big"].answers_to_prompt == 3
    # no run ever answered: the evaluation's three answers calibrate (30 / 20 each)
    assert history["big"].calibrated_on == 3 and history["big"].ratio == pytest.approx(1.5)
    assert history["other"].calibrated_on == 0
    plan = plan_cells([PlannedCell("a", HELLO)], [("a", "Big", "big", None)], history, PRICES)
    assert plan.models[0].input_tokens == 150
    assert "calibrated on 3 past answers of big" in plan.models[0].input_basis


def test_a_run_plan_counts_images_as_each_columns_api_does() -> None:
    from promptstudio.evals.plan import plan_run
    from promptstudio.images import image_from_bytes
    from promptstudio.providers import Endpoint
    from promptstudio.runs import RunTarget
    from tests.images import png

    image = image_from_bytes(png(1024, 1024), "", "p.png", what="p")
    messages = [Message.of("user", (image,))]
    targets = [
        RunTarget("gpt", Endpoint("https://api.openai.com/v1", kind="openai"), "gpt"),
        RunTarget("claude", Endpoint("https://api.anthropic.com", kind="anthropic"), "claude"),
    ]
    gpt, claude = plan_run(messages, targets, {}, None).models
    assert gpt.input_tokens == 765  # OpenAI: 4 tiles of 512 px + 85
    assert claude.input_tokens == 1399  # Anthropic: 1024 x 1024 / 750
