"""A column's conversation: the rendered prompt, then one step per request.

A run column's answer can be continued: it becomes an assistant turn, the user adds the
next turn (later also tool results), and the model answers again. A :class:`Thread` holds
the rendered messages and its :class:`Step`\\ s; each step is the turns added before its
request and the :class:`TargetResult` of that request (text, usage, cost, TTFT, total).
The first step is the run's own answer (no turns added).

The next step runs through the same path as every run: a :class:`RunTarget` from
``runs.columns.run_target`` and a one-target :class:`RunSession` (``Thread.next_step``), so
its server turn, retries, timing and price are a run's. Every step is stored with the run:
the first is the ``responses`` row, later ones ``response_steps`` rows belonging to it
(``step_fields`` gives what ``storage.library.add_step`` takes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from promptstudio.chat import Message, Part, Text, ToolCall
from promptstudio.images import ImageError, is_data_url, is_remote, load_image
from promptstudio.providers import Endpoint, PriceTable, Provider, create_provider
from promptstudio.runs.engine import RunSession, RunTarget, TargetResult, UpdateCallback
from promptstudio.runs.limits import ServerLimits
from promptstudio.runs.stored import answer_fields
from promptstudio.tools import ToolDef


def answer_turn(result: TargetResult) -> Message:
    """The assistant turn an answer becomes when the conversation goes on."""
    return Message("assistant", result.text, tool_calls=result.tool_calls)


@dataclass(frozen=True)
class Step:
    """One request of a conversation: the turns added before it, and its answer."""

    turns: tuple[Message, ...]
    result: TargetResult

    @property
    def answer(self) -> Message:
        return answer_turn(self.result)


@dataclass
class Thread:
    """The rendered prompt and the steps of the conversation that followed it."""

    messages: tuple[Message, ...]
    steps: list[Step] = field(default_factory=list)

    @classmethod
    def from_answer(cls, messages: Sequence[Message], result: TargetResult) -> Thread:
        """The conversation of a run's answer: the prompt and that answer as step 0."""
        return cls(tuple(messages), [Step((), result)])

    def history(self) -> list[Message]:
        """Every turn so far: the prompt, then each step's added turns and its answer."""
        turns = list(self.messages)
        for step in self.steps:
            turns += [*step.turns, step.answer]
        return turns

    def request(self, turns: Iterable[Message]) -> list[Message]:
        """The messages the next step sends: the history and the new turns."""
        return [*self.history(), *turns]

    @property
    def can_continue(self) -> bool:
        """The last answer has ended with text to go on from (a cut-off answer too)."""
        if not self.steps:
            return False
        last = self.steps[-1].result
        return last.status.finished and bool(last.text.strip() or last.tool_calls)

    def next_step(
        self,
        turns: Sequence[Message],
        target: RunTarget,
        *,
        on_update: UpdateCallback | None = None,
        provider_factory: Callable[[Endpoint], Provider] = create_provider,
        price_table: PriceTable | None = None,
        limits: ServerLimits | None = None,
        tools: Sequence[ToolDef] = (),
    ) -> StepRun:
        """The next request: the history plus ``turns`` to ``target`` (the column's target
        as ``runs.columns.run_target`` makes it). Run it with :meth:`StepRun.run`; cancel it
        with ``StepRun.session.cancel()``. ``ValueError`` when there is nothing to add."""
        added = tuple(turns)
        if not added:
            raise ValueError("a step adds at least one turn")
        session = RunSession(
            self.request(added), [target], on_update=on_update,
            provider_factory=provider_factory, price_table=price_table, limits=limits,
            tools=tools,
        )  # fmt: skip
        return StepRun(self, added, session)

    # ---- sums over the steps ---------------------------------------------------------------

    @property
    def results(self) -> list[TargetResult]:
        return [step.result for step in self.steps]

    @property
    def cost(self) -> float | None:
        """The summed cost of the steps whose price is known (None when none is)."""
        known = [r.cost for r in self.results if r.cost is not None]
        return sum(known) if known else None

    @property
    def input_tokens(self) -> int | None:
        return _summed(r.usage.input_tokens if r.usage else None for r in self.results)

    @property
    def output_tokens(self) -> int | None:
        return _summed(r.usage.output_tokens if r.usage else None for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the prompt, every step (turns added, answer, figures) and the sums."""
        return {
            "messages": [m.to_dict() for m in self.messages],
            "steps": [
                {"turns": [t.to_dict() for t in s.turns], **answer_fields(s.result)}
                for s in self.steps
            ],
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": self.cost,
        }


@dataclass(eq=False)
class StepRun:
    """A step on its way: its session streams the answer, :meth:`run` adds the step."""

    thread: Thread
    turns: tuple[Message, ...]
    session: RunSession

    @property
    def result(self) -> TargetResult:
        (result,) = self.session.results.values()
        return result

    async def run(self) -> Step:
        """Stream the answer, then add the step to the thread (also when it failed or was
        cancelled: what was sent and what came back is part of the conversation)."""
        await self.session.run()
        step = Step(self.turns, self.result)
        self.thread.steps.append(step)
        return step


def step_fields(step: Step, number: int) -> dict[str, Any]:
    """Keyword arguments for ``storage.library.add_step`` (after the response id)."""
    turns = [t.to_dict() for t in step.turns]
    return {"step": number, "turns": turns, **answer_fields(step.result)}


class StoredAnswer(Protocol):
    """What :func:`stored_turns` reads of a stored answer (``storage``'s ``ResponseRow``)."""

    @property
    def messages(self) -> Sequence[dict[str, Any]]: ...
    @property
    def text(self) -> str: ...
    @property
    def tool_calls(self) -> Sequence[dict[str, Any]]: ...
    @property
    def steps(self) -> Sequence[Any]: ...


def stored_turns(answer: StoredAnswer) -> list[Message]:
    """The conversation of a stored answer (a ``ResponseRow``) as turns, as it was sent:
    the messages of its request (images included), its text and tool calls, then each
    stored step's turns (typed turns, tool results) and reply with its calls
    (``StepRow``\\ s). Turns that do not read as messages (a hand-edited file) are left out."""
    turns = messages_from(answer.messages)
    turns.append(_stored_answer(answer.text, answer.tool_calls))
    for step in answer.steps:
        turns += messages_from(step.turns)
        turns.append(_stored_answer(step.text, step.tool_calls))
    return turns


def _stored_answer(text: str, calls: Iterable[dict[str, Any]]) -> Message:
    return Message("assistant", text, tool_calls=tuple(ToolCall.from_dict(c) for c in calls))


def messages_from(items: Iterable[dict[str, Any]]) -> list[Message]:
    """Stored message dicts as messages, leaving out any that do not read as one. A
    message stored with parts (text and ``image_url``\\ s) gets its images back from their
    data URLs (a remote image stays its URL)."""
    found = []
    for item in items:
        try:
            content = item.get("content")
            if isinstance(content, list):
                parts = tuple(_stored_part(part) for part in content)
                found.append(Message.of(Message.from_dict({**item, "content": ""}).role, parts))
            else:
                found.append(Message.from_dict(item))
        except (ValueError, AttributeError, TypeError, ImageError):
            continue
    return found


def _stored_part(part: dict[str, Any]) -> Part:
    """One stored content part: text, or an image from its (data) URL."""
    if part.get("type") == "text":
        return Text(str(part["text"]))
    url = str((part.get("image_url") or {})["url"])
    if not (is_data_url(url) or is_remote(url)):  # never a file named in a stored row
        raise ValueError("a stored image is a data URL or a remote URL")
    return load_image(url)


def _summed(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


__all__ = [
    "Step",
    "StepRun",
    "Thread",
    "answer_turn",
    "messages_from",
    "step_fields",
    "stored_turns",
]
