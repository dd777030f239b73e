"""Mock tool results: a column's conversation goes on after the model calls a tool.

Each tool may carry a canned result (``ToolDef.mock``): JSON text, or a Jinja template
over the call's arguments (``{"order_id": "{{ order_id }}", "status": "shipped"}``),
rendered in the same sandbox as prompts. The results go back as ``tool`` turns (each
provider sends them as its API expects) and the next request streams: one step of the
conversation (``runs.thread``), stored with the run like any step. :func:`run_tool_loop`
does that until the model stops calling tools, or ``max_steps`` requests were made.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from promptstudio.chat import Message, ToolCall
from promptstudio.runs.engine import TargetResult, TargetStatus
from promptstudio.runs.thread import Step, StepRun, Thread
from promptstudio.templating import TemplateError, render_messages
from promptstudio.tools import ToolDef, tool_named

DEFAULT_MAX_STEPS = 5  # Settings › Run: "Tool steps"


def mock_result(tools: Sequence[ToolDef], call: ToolCall) -> str:
    """What the playground answers for ``call``: the tool's mock rendered over the call's
    arguments; a JSON error object when there is no such tool, no mock, or the mock fails
    (the model sees it, as it would see a real tool's failure)."""
    tool = tool_named(tools, call.name)
    if tool is None:
        return _error(f"There is no tool named {call.name}.")
    if not tool.mock.strip():
        return _error(f"{call.name} has no mock result in PromptStudio.")
    try:
        arguments = json.loads(call.arguments or "{}")
    except json.JSONDecodeError as exc:
        return _error(f"The arguments are not JSON: {exc.msg}.")
    values: dict[str, Any] = arguments if isinstance(arguments, dict) else {}
    try:
        rendered = render_messages(tool.mock, {**values, "arguments": values}, allow_empty=True)
    except TemplateError as exc:
        return _error(f"The mock result of {call.name} failed: {exc.message}")
    return "\n".join(message.content for message in rendered)


def _error(message: str) -> str:
    return json.dumps({"error": message}, ensure_ascii=False)


def result_turns(result: TargetResult, tools: Sequence[ToolDef]) -> list[Message]:
    """The ``tool`` turns answering every call of ``result``, in the calls' order."""
    return [
        Message("tool", mock_result(tools, call), tool_call_id=call.id)
        for call in result.tool_calls
    ]


def wants_tools(result: TargetResult) -> bool:
    """The answer ended normally and asked for tool results."""
    return result.status is TargetStatus.DONE and bool(result.tool_calls)


StepStarter = Callable[[StepRun], None]
"""Told of each step before it streams (a view shows it; Esc cancels its session)."""


async def run_tool_loop(
    thread: Thread,
    tools: Sequence[ToolDef],
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    start_step: Callable[[list[Message]], StepRun],
    on_step: StepStarter | None = None,
) -> list[Step]:
    """Answer the last step's tool calls with their mock results and stream the next
    answer, again while the model calls tools, until ``thread`` holds ``max_steps`` steps
    or a step fails or is cancelled. ``start_step(turns)`` makes the next step (usually
    ``thread.next_step(turns, target, tools=tools, ...)``). Returns the steps added."""
    added: list[Step] = []
    while thread.steps and len(thread.steps) < max_steps:
        last = thread.steps[-1].result
        if not wants_tools(last):
            break
        step_run = start_step(result_turns(last, tools))
        if on_step is not None:
            on_step(step_run)
        step = await step_run.run()
        added.append(step)
        if step.result.status is not TargetStatus.DONE:
            break
    return added


__all__ = [
    "DEFAULT_MAX_STEPS",
    "mock_result",
    "result_turns",
    "run_tool_loop",
    "wants_tools",
]
