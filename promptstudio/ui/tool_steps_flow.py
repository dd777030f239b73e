"""Tool steps on the board: a column's answer called tools, the mock results go back and
the next answer streams in the same column (``runs.tool_loop`` on ``runs.thread``).

"Send tool results" does one step; with the column's "Auto" on, every answer that calls
tools is answered again, up to Settings › Run defaults › Tool steps answers in all. Each
step goes the way a run goes: the column's settings through ``Endpoints.run_target``, a
one-target ``RunSession`` on the run worker, its updates through the board's feed; it is
stored as a ``response_steps`` row of the run's answer. Esc (or the column's stop) stops
the step streaming and the automatic mode with it. The column lists every call of the
earlier steps with the mock result sent back, and what the steps took together. A column
with a conversation (``ConversationFlow``) has one thread: tool steps and typed turns go
on from each other's answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, QTimer, Signal

from promptstudio.runs.columns import ColumnError, sample_key
from promptstudio.runs.thread import StepRun, Thread, step_fields
from promptstudio.runs.tool_loop import DEFAULT_MAX_STEPS, result_turns, wants_tools
from promptstudio.runs.worker import RunWorker
from promptstudio.session import Session
from promptstudio.storage import Database, library
from promptstudio.ui.board.run_board import RunBoard
from promptstudio.ui.board.tool_calls_view import calls_html
from promptstudio.ui.conversation_flow import ConversationFlow
from promptstudio.ui.endpoints import Endpoints
from promptstudio.ui.formatting import format_cost
from promptstudio.ui.run_flow import RunFlow
from promptstudio.ui.status import StatusNotifier
from promptstudio.ui.tasks import TaskOwner


@dataclass(eq=False)
class ToolThread:
    """A column's tool conversation: its thread and the stored answer it continues."""

    thread: Thread
    response_id: int
    record: str = ""  # the earlier steps as the column lists them (HTML)


class ToolStepsFlow(QObject):
    stepStored = Signal(int)  # the id of the answer whose conversation got a step

    def __init__(
        self,
        session: Session,
        board: RunBoard,
        runs: RunFlow,
        endpoints: Endpoints,
        db: Database,
        worker: RunWorker,
        tasks: TaskOwner,
        notifier: StatusNotifier,
        max_steps: Callable[[], int] = lambda: DEFAULT_MAX_STEPS,
        conversations: ConversationFlow | None = None,
    ) -> None:
        super().__init__(board)
        self.session, self.board, self.runs, self.endpoints = session, board, runs, endpoints
        self.db, self.worker, self.tasks, self.notifier = db, worker, tasks, notifier
        self.max_steps = max_steps
        # A typed Continue and a tool step go on with one thread per column: its own.
        self.conversations = conversations
        self._threads: dict[str, ToolThread] = {}  # column id -> its tool conversation
        self._steps: dict[str, StepRun] = {}  # column id -> the step streaming there
        self._stopped: set[str] = set()  # columns whose automatic mode Esc stopped
        board.toolStepRequested.connect(self.step)
        board.stopColumnRequested.connect(self.stop)
        board.stopAllRequested.connect(lambda: self.stop())
        # After the whole run is stored and the board has ended it.
        runs.runFinished.connect(lambda _id: QTimer.singleShot(0, self, self._auto_after_run))
        board.runColumnRequested.connect(self._forget)
        board.runAllRequested.connect(lambda: self._forget(None))

    @property
    def running(self) -> bool:
        return bool(self._steps)

    def _forget(self, column_id: str | None) -> None:
        """A new run in the column: its tool conversation starts again from that answer."""
        for key in [k for k in self._threads if column_id is None or k == column_id]:
            del self._threads[key]
        self._stopped.discard(column_id or "")
        if column_id is None:
            self._stopped.clear()

    def _tool_thread(self, column_id: str) -> ToolThread | None:
        """The conversation the column shows: its steps so far, else its stored answer.
        With a conversation flow, its thread (typed turns and tool steps go on one thread)."""
        current = self._threads.get(column_id)
        conversation = self.conversations.conversation(column_id) if self.conversations else None
        if conversation is not None and self.conversations is not None:
            if current is None or current.thread is not conversation.thread:
                current = ToolThread(conversation.thread, conversation.response_id)
                self._threads[column_id] = current
            return current
        if current is not None:
            return current
        sample = self.board.column(column_id).selected
        stored = self.runs.answers.get(sample_key(column_id, sample))
        if stored is None:
            return None
        thread = Thread.from_answer(stored.messages, stored.result)
        current = ToolThread(thread, stored.response_id)
        self._threads[column_id] = current
        return current

    def step(self, column_id: str) -> StepRun | None:
        """Answer the column's tool calls with the mocks and stream the next answer; None
        when it cannot (said in the status bar)."""
        self._stopped.discard(column_id)
        if column_id in self._steps or column_id in self.board.active_ids:
            self.notifier.say("Already running: Esc stops it.")
            return None
        current = self._tool_thread(column_id)
        if current is None or not wants_tools(current.thread.steps[-1].result):
            self.notifier.say("The answer on show calls no tool: there is nothing to send back.")
            return None
        column = self.board.column(column_id)
        config = self.session.column(column_id)
        if config is None:
            return None
        try:
            target = self.endpoints.run_target(config)
        except ColumnError as exc:
            column.show_problem(exc.message)
            return None
        tools = self.session.tools
        last = current.thread.steps[-1].result
        turns = result_turns(last, tools)
        current.record += calls_html(last.tool_calls, tools, finished=True, results=turns)
        shared = self.conversations.conversation(column_id) if self.conversations else None
        if self.conversations is not None and shared is not None:
            self.conversations.keep_only(column_id, shared)  # shown as sample 0 from now on
        step = current.thread.next_step(
            turns, replace(target, key=sample_key(column_id, 0)), on_update=self.board.on_update,
            price_table=self.endpoints.prices, limits=self.endpoints.limits, tools=tools,
        )  # fmt: skip
        self._steps[column_id] = step
        self.board.begin([column_id], samples=1)
        column.tool_steps = current.record
        self.tasks.start(f"tool-step:{column_id}", self._run_step(column_id, current, step))
        return step

    async def _run_step(self, column_id: str, current: ToolThread, step: StepRun) -> None:
        try:
            done = await asyncio.wrap_future(self.worker.submit(step.run()))
            number = len(current.thread.steps) - 1
            await self.db.acall(library.add_step, current.response_id, **step_fields(done, number))
            self.stepStored.emit(current.response_id)
        finally:
            self._steps.pop(column_id, None)
            self.board.end([column_id])
        if any(c.column_id == column_id for c in self.board.columns):
            self.board.column(column_id).tool_bar.summary.setText(_summary(current.thread))
            self._maybe_continue(column_id, current)

    def _auto_after_run(self) -> None:
        """After a run: columns in automatic mode whose answer calls tools go on."""
        for column in self.board.columns:
            if column.tool_bar.auto.isChecked() and column.column_id not in self._steps:
                result = column.result
                if result is not None and wants_tools(result) and not column.tool_steps:
                    stored = self.runs.answers.get(sample_key(column.column_id, column.selected))
                    if stored is not None and stored.result is result:
                        self.step(column.column_id)

    def _maybe_continue(self, column_id: str, current: ToolThread) -> None:
        column = self.board.column(column_id)
        if not column.tool_bar.auto.isChecked() or column_id in self._stopped:
            return
        if not wants_tools(current.thread.steps[-1].result):
            return
        if len(current.thread.steps) >= self.max_steps():
            self.notifier.say(
                f"Stopped after {len(current.thread.steps)} answers (Settings › Tool steps)."
            )
            return
        self.step(column_id)

    def stop(self, column_id: str | None = None) -> None:
        """Stop the step streaming in one column (or all), and the automatic mode there."""
        for streaming, step in list(self._steps.items()):
            if column_id is None or streaming == column_id:
                self._stopped.add(streaming)
                self.worker.call(step.session.cancel)


def _summary(thread: Thread) -> str:
    """What the answers of the conversation took together."""
    parts = [f"{len(thread.steps)} answers"]
    if thread.input_tokens is not None or thread.output_tokens is not None:
        tokens_in = "—" if thread.input_tokens is None else thread.input_tokens
        tokens_out = "—" if thread.output_tokens is None else thread.output_tokens
        parts.append(f"tokens in {tokens_in} / out {tokens_out}")
    if thread.cost is not None:
        parts.append(f"cost {format_cost(thread.cost)}")
    return "Together: " + " · ".join(parts)


__all__ = ["ToolStepsFlow"]
