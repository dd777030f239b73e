"""The plan before an evaluation: requests, cache hits, calibrated tokens and cost."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptstudio.chat import Message
from promptstudio.evals.plan import (
    GUESSED_OUTPUT_TOKENS,
    Budget,
    ModelHistory,
    PlannedCell,
    plan_cells,
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
