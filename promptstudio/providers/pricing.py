"""What a run cost, from the token usage and a table of published prices.

Prices are US dollars per million tokens, shipped in ``promptstudio.resources/prices.json``
with the date they were taken; the user can override or add models. A model we have no
price for costs ``None``, never a guess. Names match exactly first, then without a
provider prefix (OpenRouter's ``openai/gpt-4o-mini``), then without a dated snapshot or
``-latest`` suffix (``gpt-4o-mini-2024-07-18``, ``claude-3-5-haiku-20241022``,
``mistral-large-2411``).

Cached input tokens are billed at the cached price (the input price when the table has
none, an upper bound) and are not billed again as plain input. Reasoning tokens are part
of the output tokens and billed as output, as the providers do. A batch (OpenAI's
Batch API, Anthropic's Message Batches) is billed at ``batch`` times the price, per provider
kind (half, at both). Long-context tiers
(Gemini 2.5 Pro above 200k tokens, ...) and Anthropic's cache writes (we never ask for
them) are not modelled.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from promptstudio.chat import Message
from promptstudio.errors import PromptStudioError
from promptstudio.images import estimate_image_tokens
from promptstudio.providers.base import Usage

log = logging.getLogger(__name__)

PRICES_FILE = "prices.json"
_PER = 1_000_000
# Batches cost half the price at OpenAI and at Anthropic (the shipped table says so too).
BATCH_SHARE = {"openai": 0.5, "anthropic": 0.5}
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest)$")


class PriceTableError(PromptStudioError):
    """The price table could not be read."""


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """US dollars per million tokens."""

    input: float
    output: float
    cached_input: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelPrice:
        cached = data.get("cached_input")
        return cls(
            input=float(data["input"]),
            output=float(data["output"]),
            cached_input=None if cached is None else float(cached),
        )


def estimate_tokens(messages: Iterable[Message], api: str = "messages") -> int:
    """A rough token count: characters / 4, plus each image's estimate as ``api`` counts
    images (OpenAI's tiles or Anthropic's pixels), rounded up.

    Good to a few tens of percent for English prose; code and other languages differ. Used
    for estimates before a run and when a server reports no usage (marked estimated).
    Images count by their pixel size (:func:`~promptstudio.images.estimate_image_tokens`).
    """
    total = 0.0
    for message in messages:
        total += len(message.content) / 4
        total += sum(estimate_image_tokens(image, api) for image in message.images)
    return math.ceil(total)


class PriceTable:
    """Prices by model name; :meth:`cost` and :meth:`estimate` in US dollars."""

    def __init__(
        self,
        models: Mapping[str, ModelPrice],
        *,
        taken: str = "",
        source: str = "",
        batch: Mapping[str, float] | None = None,
    ) -> None:
        self.models = {name.lower(): price for name, price in models.items()}
        self.taken = taken
        self.source = source
        # Provider kind -> the share of the price a batch costs; kinds without batches absent.
        self.batch = dict(BATCH_SHARE if batch is None else batch)

    def batch_share(self, kind: str) -> float | None:
        """What a batch costs at ``kind``'s provider, as a share of the price (None: none)."""
        return self.batch.get(kind)

    def for_batch(self, kind: str) -> PriceTable:
        """This table at ``kind``'s batch price (the same table where it has no batches)."""
        share = self.batch_share(kind)
        if share is None:
            return self
        models = {
            name: ModelPrice(
                price.input * share,
                price.output * share,
                None if price.cached_input is None else price.cached_input * share,
            )
            for name, price in self.models.items()
        }
        return PriceTable(models, taken=self.taken, source=self.source, batch=self.batch)

    @classmethod
    def load(cls, overrides: Mapping[str, ModelPrice] | None = None) -> PriceTable:
        """The shipped table, with ``overrides`` replacing or adding models."""
        try:
            text = resources.files("promptstudio.resources").joinpath(PRICES_FILE).read_text()
            data = json.loads(text)
            models = {name: ModelPrice.from_dict(p) for name, p in data["models"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PriceTableError(f"The price table {PRICES_FILE} is unreadable: {exc}") from exc
        models.update(overrides or {})
        batch = {str(kind): float(share) for kind, share in (data.get("batch") or {}).items()}
        taken, source = str(data.get("taken", "")), str(data.get("source", ""))
        return cls(models, taken=taken, source=source, batch=batch)

    def price_for(self, model: str) -> ModelPrice | None:
        """The price of ``model``, or None when the table does not know it."""
        for name in _candidates(model):
            price = self.models.get(name)
            if price is not None:
                return price
        return None

    def cost(self, model: str, usage: Usage) -> float | None:
        """Dollars for ``usage``; None for an unknown model or unknown token counts."""
        price = self.price_for(model)
        if price is None or usage.input_tokens is None or usage.output_tokens is None:
            return None
        cached = min(max(usage.cached_input_tokens or 0, 0), usage.input_tokens)
        cached_price = price.input if price.cached_input is None else price.cached_input
        dollars = (
            (usage.input_tokens - cached) * price.input
            + cached * cached_price
            + usage.output_tokens * price.output
        )
        return dollars / _PER

    def estimate(self, model: str, input_tokens: int, max_output_tokens: int) -> float | None:
        """An upper bound before the run: every input token uncached, the full output used."""
        price = self.price_for(model)
        if price is None:
            return None
        return (input_tokens * price.input + max_output_tokens * price.output) / _PER


def _candidates(model: str) -> list[str]:
    """Names to look up, most specific first."""
    name = model.strip().lower()
    names = [name]
    if "/" in name:  # OpenRouter and similar: "openai/gpt-4o-mini"
        names.append(name.rsplit("/", 1)[1])
    for candidate in list(names):
        bare = _SNAPSHOT.sub("", candidate)
        if bare != candidate:
            names.append(bare)
    return names


def parse_price_overrides(text: str) -> dict[str, ModelPrice]:
    """User prices, one model a line: ``model: input, output[, cached input]`` in US dollars
    per million tokens; ``#`` starts a comment. Raises ValueError naming the bad line."""
    prices: dict[str, ModelPrice] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        model, sep, figures = line.rpartition(":")
        parts = [part.strip() for part in figures.split(",")]
        try:
            if not sep or not model.strip() or len(parts) not in (2, 3):
                raise ValueError
            values = [float(part) for part in parts]
            if any(value < 0 or value != value for value in values):
                raise ValueError
        except ValueError:
            raise ValueError(
                f"Price line {number} should read 'model: input, output[, cached input]' "
                f"in dollars per million tokens, e.g. 'my-model: 0.5, 1.5'; got {raw.strip()!r}."
            ) from None
        prices[model.strip()] = ModelPrice(
            values[0], values[1], values[2] if len(values) > 2 else None
        )
    return prices
