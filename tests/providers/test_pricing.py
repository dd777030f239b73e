"""Costs from usage and the shipped price table: exact, snapshot and prefixed names."""

from __future__ import annotations

import re

import pytest

from promptstudio.chat import Message
from promptstudio.providers import ModelPrice, PriceTable, Usage, estimate_tokens

TABLE = PriceTable(
    {
        "gpt-4o-mini": ModelPrice(input=0.15, output=0.6, cached_input=0.075),
        "claude-3-5-haiku": ModelPrice(input=0.8, output=4.0, cached_input=0.08),
        "mistral-large": ModelPrice(input=2.0, output=6.0),
    }
)


def test_exact_name() -> None:
    cost = TABLE.cost("gpt-4o-mini", Usage(1_000_000, 1_000_000))
    assert cost == pytest.approx(0.75)


@pytest.mark.parametrize(
    "model",
    [
        "gpt-4o-mini-2024-07-18",
        "openai/gpt-4o-mini",
        "openai/gpt-4o-mini-2024-07-18",
        "GPT-4o-mini",
    ],
)
def test_snapshots_and_prefixes_match(model: str) -> None:
    assert TABLE.price_for(model) == TABLE.price_for("gpt-4o-mini")


def test_dated_anthropic_and_mistral_names() -> None:
    assert TABLE.price_for("claude-3-5-haiku-20241022") is not None
    assert TABLE.price_for("claude-3-5-haiku-latest") is not None
    assert TABLE.price_for("mistral-large-2411") is not None
    assert TABLE.price_for("mistral-large-latest") is not None


@pytest.mark.parametrize("model", ["gpt-4o-mini-audio-preview", "llama3", "gpt-4o", ""])
def test_unknown_models_cost_nothing_we_made_up(model: str) -> None:
    assert TABLE.price_for(model) is None
    assert TABLE.cost(model, Usage(100, 100)) is None
    assert TABLE.estimate(model, 100, 100) is None


def test_cached_tokens_are_billed_at_the_cached_price_once() -> None:
    usage = Usage(1_000_000, 0, cached_input_tokens=400_000)
    # 600k at 0.15 + 400k at 0.075 = 0.09 + 0.03
    assert TABLE.cost("gpt-4o-mini", usage) == pytest.approx(0.12)


def test_cached_tokens_without_a_cached_price_cost_the_input_price() -> None:
    usage = Usage(1_000_000, 0, cached_input_tokens=1_000_000)
    assert TABLE.cost("mistral-large", usage) == pytest.approx(2.0)


def test_reasoning_tokens_are_output_already() -> None:
    plain = TABLE.cost("gpt-4o-mini", Usage(0, 1000))
    with_reasoning = TABLE.cost("gpt-4o-mini", Usage(0, 1000, reasoning_tokens=800))
    assert plain == with_reasoning == pytest.approx(0.0006)


def test_unknown_counts_give_no_cost() -> None:
    assert TABLE.cost("gpt-4o-mini", Usage(None, 10)) is None
    assert TABLE.cost("gpt-4o-mini", Usage(10, None)) is None


def test_estimate_is_an_upper_bound() -> None:
    assert TABLE.estimate("gpt-4o-mini", 2000, 1000) == pytest.approx(
        (2000 * 0.15 + 1000 * 0.6) / 1e6
    )


def test_estimate_tokens_is_chars_over_four() -> None:
    assert estimate_tokens([Message("user", "abcd" * 10), Message("system", "x")]) == 11
    assert estimate_tokens([]) == 0


def test_shipped_table_loads_and_is_dated() -> None:
    table = PriceTable.load()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table.taken)
    assert "check" in table.source.lower()
    for name in ("gpt-4o-mini", "claude-sonnet-4-5", "mistral-large", "deepseek-chat"):
        assert table.price_for(name) is not None, name
    assert table.price_for("gemini-2.5-flash") is not None
    # A dated snapshot priced differently from its family is listed on its own.
    assert table.price_for("gpt-4o-2024-05-13") != table.price_for("gpt-4o-2024-08-06")
    assert table.price_for("gemma-3-270m") == ModelPrice(0.0, 0.0)  # the local model: free
    for name, price in table.models.items():
        if name == "gemma-3-270m":
            continue
        assert price.input > 0 and price.output > 0
        assert price.cached_input is None or price.cached_input <= price.input


def test_overrides_replace_and_add() -> None:
    table = PriceTable.load({"gpt-4o-mini": ModelPrice(1, 2), "my-local": ModelPrice(0, 0)})
    assert table.price_for("gpt-4o-mini") == ModelPrice(1, 2)
    assert table.cost("my-local", Usage(10, 10)) == 0.0
