"""``promptstudio run --tool-steps N``: answer the model's tool calls with the prompt's mock
results, as the board's automatic mode does, up to N answers per model in all; each step
is recorded with the run and ``--json`` shows every step (``conversation``) and the sums."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from typing import Any

from promptstudio.providers.pricing import PriceTable
from promptstudio.runs import TargetResult
from promptstudio.runs.thread import Thread
from promptstudio.runs.tool_loop import run_tool_loop
from promptstudio.tools import ToolDef


async def answer_tool_calls(
    threads: dict[str, Thread],
    tools: Sequence[ToolDef],
    max_steps: int,
    on_update: Any,
    prices: PriceTable,
) -> None:
    """Every model's tool conversation side by side; Ctrl+C stops the streaming steps."""
    sessions: set[Any] = set()

    def stop() -> None:
        for session in list(sessions):
            session.cancel()

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows has no signals here
        loop.add_signal_handler(signal.SIGINT, stop)

    async def go_on(thread: Thread) -> None:
        target = thread.steps[0].result.target

        def start(turns: list[Any]) -> Any:
            step = thread.next_step(
                turns, target, on_update=on_update, price_table=prices, tools=tools
            )
            sessions.add(step.session)
            return step

        await run_tool_loop(thread, tools, max_steps=max_steps, start_step=start)

    await asyncio.gather(*(go_on(thread) for thread in threads.values()))


def last_results(threads: dict[str, Thread]) -> dict[str, TargetResult]:
    """Each model's final answer (the last step's)."""
    return {key: thread.steps[-1].result for key, thread in threads.items()}
