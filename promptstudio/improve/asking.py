"""One request to a model, through the run engine like any run (retries, limits, costs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from promptstudio.chat import Message
from promptstudio.improve.errors import FeatureError
from promptstudio.providers import PriceTable
from promptstudio.runs import RunSession, RunTarget, ServerLimits, TargetStatus


@dataclass(frozen=True, slots=True)
class ModelReply:
    text: str
    cost: float | None = None


async def ask(
    target: RunTarget,
    messages: Sequence[Message],
    *,
    price_table: PriceTable | None = None,
    limits: ServerLimits | None = None,
) -> ModelReply:
    """The model's whole answer to ``messages``; a failed request is a :class:`FeatureError`.

    ``target`` comes from ``runs.columns.run_target`` (as every run's does), so the app,
    the evaluator and the CLI send the same request for the same column.
    """
    session = RunSession(messages, [target], price_table=price_table, limits=limits)
    result = (await session.run())[target.key]
    if result.error is not None:
        raise FeatureError(f"{target.model}: {result.error.message}")
    if result.status is not TargetStatus.DONE:
        raise FeatureError(f"{target.model}: the answer ended {result.status}")
    return ModelReply(result.text, result.cost)
