"""Conversations on the board: a column's answer goes on, with a turn the user types
("Continue") or with the mock results of the tools it called ("Send tool results"); the
reply streams in the same column and every step is stored with the run.

A column's conversation starts from an answer its run stored (``RunFlow.answerStored``):
the rendered messages and that answer (a ``runs.thread.Thread``). Typed turns and tool
steps go on one thread, from each other's answers. The next step goes the way every run
goes: the column's current settings through ``Endpoints.run_target`` and a one-target
``RunSession`` on the run worker, its updates through the board's feed; the step is
stored as a ``response_steps`` row of that answer. With the column's "Auto" on, every
answer that calls tools is answered again (``runs.tool_loop``), up to Settings › Run
defaults › Tool steps answers in all; Esc stops the step and the automatic mode. The
column lists every call of the earlier steps with the mock result sent back. The
conversation can become a new prompt (a template with role markers) or a test case (the
prompt's values and the conversation up to the last user turn, which the evaluation
replays).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, QTimer, Signal

from promptstudio.chat import Message
from promptstudio.runs import TargetStatus
from promptstudio.runs.columns import ColumnError, sample_key, split_sample_key
from promptstudio.runs.thread import Step, StepRun, Thread, step_fields
from promptstudio.runs.tool_loop import DEFAULT_MAX_STEPS, result_turns, wants_tools
from promptstudio.runs.worker import RunWorker
from promptstudio.session import Session
from promptstudio.storage import Database, library
from promptstudio.templating import TemplateError, input_names
from promptstudio.templating.roles import as_template
from promptstudio.templating.threads import thread_value
from promptstudio.ui.board.run_board import RunBoard
from promptstudio.ui.board.tool_calls_view import calls_html
from promptstudio.ui.endpoints import Endpoints
from promptstudio.ui.formatting import format_cost
from promptstudio.ui.run_flow import RunFlow, StoredAnswer
from promptstudio.ui.status import StatusNotifier
from promptstudio.ui.tasks import TaskOwner

CASE_VARIABLE = "conversation"  # the variable a copied conversation goes into


@dataclass(eq=False)
class Conversation:
    """A column's conversation: its thread, the stored answer it continues, the values."""

    thread: Thread
    response_id: int
    values: dict[str, object]
    record: str = ""  # the earlier tool steps as the column lists them (HTML)

    @property
    def after_prompt(self) -> list[Message]:
        """Every turn after the rendered prompt, the latest answer included."""
        return self.thread.history()[len(self.thread.messages) :]


class ConversationFlow(QObject):
    stepStored = Signal(int)  # the id of the answer whose conversation got a step
    caseRequested = Signal(dict)  # the values of a test case to add (the Evaluate tab's)

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
        new_prompt: Callable[[], Awaitable[None]],
        max_steps: Callable[[], int] = lambda: DEFAULT_MAX_STEPS,
    ) -> None:
        super().__init__(board)
        self.session, self.board, self.endpoints = session, board, endpoints
        self.db, self.worker, self.tasks, self.notifier = db, worker, tasks, notifier
        self._new_prompt = new_prompt
        self.max_steps = max_steps  # answers in all, in the automatic tool mode
        self._conversations: dict[tuple[str, int], Conversation] = {}  # (column, sample)
        # column id -> the step streaming there, and the conversation it goes on
        self._steps: dict[str, tuple[StepRun, Conversation]] = {}
        self._stopped: set[str] = set()  # columns whose automatic mode Esc stopped
        runs.answerStored.connect(self._keep)
        # After the whole run is stored and the board has ended it.
        runs.runFinished.connect(lambda _id: QTimer.singleShot(0, self, self._auto_after_run))
        board.continueRequested.connect(self.continue_with_text)
        board.toolStepRequested.connect(self.send_tool_results)
        board.conversationUseRequested.connect(self.use)
        board.stopColumnRequested.connect(self.stop)
        board.stopAllRequested.connect(lambda: self.stop())
        board.runColumnRequested.connect(self._stopped.discard)
        board.runAllRequested.connect(self._stopped.clear)

    @property
    def running(self) -> bool:
        return bool(self._steps)

    def conversation(self, column_id: str) -> Conversation | None:
        """The conversation of the answer the column shows."""
        sample = self.board.column(column_id).answers.selected
        return self._conversations.get((column_id, sample))

    def keep_only(self, column_id: str, conversation: Conversation) -> None:
        """From now on the column shows this conversation as its only answer (a step of it
        streams there as sample 0), whether a typed turn or a tool step goes on."""
        for key in [key for key in self._conversations if key[0] == column_id]:
            del self._conversations[key]
        self._conversations[(column_id, 0)] = conversation

    def _keep(self, stored: StoredAnswer) -> None:
        column_id, sample = split_sample_key(stored.result.target.key)
        thread = Thread.from_answer(stored.messages, stored.result)
        self._conversations[(column_id, sample)] = Conversation(
            thread, stored.response_id, dict(stored.values)
        )

    # ---- the next step ---------------------------------------------------------------------

    def continue_with_text(self, column_id: str, text: str) -> None:
        self.continue_column(column_id, [Message("user", text)])

    def send_tool_results(self, column_id: str) -> StepRun | None:
        """Answer the tool calls of the column's answer with the mocks and stream the next
        answer; None when it cannot (said in the status bar)."""
        self._stopped.discard(column_id)
        conversation = self.conversation(column_id)
        if conversation is None or not wants_tools(conversation.thread.steps[-1].result):
            self.notifier.say("The answer on show calls no tool: there is nothing to send back.")
            return None
        return self.continue_column(
            column_id, result_turns(conversation.thread.steps[-1].result, self.session.tools)
        )

    def continue_column(self, column_id: str, turns: Sequence[Message]) -> StepRun | None:
        """Send ``turns`` after the column's conversation and stream the reply into it
        (a user turn typed, or tool results). None when it cannot go on, said why."""
        if column_id in self.board.active_ids:
            self.notifier.say("Already running: Esc stops it.")
            return None
        conversation = self.conversation(column_id)
        if conversation is None:
            self.notifier.say("Run this column first: a conversation goes on from its answer.")
            return None
        if not conversation.thread.can_continue:
            self.notifier.say("This answer has no text to go on from: run the column again.")
            return None
        column = self.board.column(column_id)
        config = next((c for c in self.session.columns if c.id == column_id), None)
        if config is None:
            return None
        try:
            target = self.endpoints.run_target(config)
        except ColumnError as exc:  # e.g. its provider was deleted meanwhile
            column.show_problem(exc.message)
            return None
        self.keep_only(column_id, conversation)
        tools = self.session.tools  # the prompt's, as its run sent them
        if _tool_results(turns):  # the calls and their mock results stay listed
            last = conversation.thread.steps[-1].result
            conversation.record += calls_html(last.tool_calls, tools, finished=True, results=turns)
        step = conversation.thread.next_step(
            turns, replace(target, key=sample_key(column_id, 0)), on_update=self.board.on_update,
            price_table=self.endpoints.prices, limits=self.endpoints.limits, tools=tools,
        )  # fmt: skip
        self._steps[column_id] = (step, conversation)
        self.board.begin([column_id], samples=1)
        if _tool_results(turns):
            column.tool_steps.record = conversation.record
        else:
            shown = [*conversation.after_prompt, *turns]
            column.show_thread(shown, len(conversation.thread.messages), _summary(conversation))
        self.tasks.start(f"continue:{column_id}", self._step(column_id, conversation, step))
        return step

    async def _step(self, column_id: str, conversation: Conversation, step: StepRun) -> None:
        typed = not _tool_results(step.turns)
        try:
            done = await asyncio.wrap_future(self.worker.submit(step.run()))
            number = len(conversation.thread.steps) - 1
            await self.db.acall(
                library.add_step, conversation.response_id, **step_fields(done, number)
            )
            self.stepStored.emit(conversation.response_id)
            failed = done.result.status is TargetStatus.FAILED and not done.result.text
            if failed and typed:  # nothing to go on from: the turn can be sent again
                conversation.thread.steps.remove(done)
        finally:
            self._steps.pop(column_id, None)
            self.board.end([column_id])
        if not any(c.column_id == column_id for c in self.board.columns):
            return
        column = self.board.column(column_id)
        if not typed:
            column.tool_steps.show_summary(_tool_summary(conversation.thread))
            self._maybe_continue(column_id, conversation)
            return
        kept = any(s.result is step.result for s in conversation.thread.steps)
        shown = conversation.after_prompt
        column.show_thread(
            shown[:-1] if kept else shown,  # the answer on show is not repeated
            len(conversation.thread.messages),
            _summary(conversation),
        )
        if not kept:
            column.offer_again(_typed(step.turns))

    def _auto_after_run(self) -> None:
        """After a run: columns in automatic mode whose answer calls tools go on."""
        for column in self.board.columns:
            if column.tool_steps.automatic() and column.column_id not in self._steps:
                result = column.result
                conversation = self.conversation(column.column_id)
                if result is None or conversation is None or column.tool_steps.record:
                    continue
                if wants_tools(result) and conversation.thread.steps[-1].result is result:
                    self.send_tool_results(column.column_id)

    def _maybe_continue(self, column_id: str, conversation: Conversation) -> None:
        """In automatic mode, answer the new answer's tool calls too, up to the setting."""
        column = self.board.column(column_id)
        if not column.tool_steps.automatic() or column_id in self._stopped:
            return
        thread = conversation.thread
        if not wants_tools(thread.steps[-1].result):
            return
        if len(thread.steps) >= self.max_steps():
            self.notifier.say(f"Stopped after {len(thread.steps)} answers (Settings › Tool steps).")
            return
        self.send_tool_results(column_id)

    def stop(self, column_id: str | None = None) -> None:
        """Stop the reply streaming in one column (or in all), and the automatic tool mode
        there; its text so far is kept."""
        for streaming, (step, _conversation) in list(self._steps.items()):
            if column_id is None or streaming == column_id:
                self._stopped.add(streaming)
                self.worker.call(step.session.cancel)

    def store_on_exit(self) -> None:
        """Blocking: keep the partial reply of every step streaming as the window closes
        (stored as the step it is, stopped; the step's own store, should it still come,
        writes the same row)."""
        for step, conversation in list(self._steps.values()):
            if self.worker.running:
                self.worker.call_and_wait(step.session.cancel)
            result = step.result
            if not result.status.finished:
                result.status = TargetStatus.CANCELLED
            steps = conversation.thread.steps
            number = next((n for n, kept in enumerate(steps) if kept.result is result), len(steps))
            fields = step_fields(Step(step.turns, result), number)
            self.db.call(library.add_step, conversation.response_id, **fields)

    # ---- the conversation elsewhere --------------------------------------------------------

    def use(self, column_id: str, use: str) -> None:
        """The column's conversation as a new prompt (``"prompt"``) or a test case."""
        conversation = self.conversation(column_id)
        if conversation is None:
            self.notifier.say("Run this column first: there is no conversation yet.")
            return
        if use == "prompt":
            self.tasks.start("conversation-prompt", self._as_prompt(conversation))
        else:
            self.add_case(column_id, conversation)

    async def _as_prompt(self, conversation: Conversation) -> None:
        template = as_template(conversation.thread.history())
        await self._new_prompt()
        self.session.template = template
        self.notifier.say("The conversation is a new prompt: save it to keep it.")

    def add_case(self, column_id: str, conversation: Conversation) -> None:
        """A test case of the conversation up to its last user turn: the evaluation replays
        it and grades the answer to that turn."""
        turns = conversation.after_prompt
        if turns and turns[-1].role == "assistant":
            turns = turns[:-1]
        if not any(turn.role == "user" for turn in turns):
            self.notifier.say(
                "Continue the conversation first: a test case replays it up to your last turn."
            )
            return
        try:
            taken = set(conversation.values) | set(input_names(self.session.template))
        except TemplateError:  # the editor shows that error; the values name enough
            taken = set(conversation.values)
        name, number = CASE_VARIABLE, 1
        while name in taken:
            number += 1
            name = f"{CASE_VARIABLE}_{number}"
        self.caseRequested.emit({**conversation.values, name: thread_value(turns)})
        self.notifier.say(f"Added a test case with the conversation (in {name}; see Evaluate).")


def _tool_results(turns: Sequence[Message]) -> bool:
    """The turns answer tool calls (a tool step), rather than being typed."""
    return bool(turns) and all(turn.role == "tool" for turn in turns)


def _typed(turns: Sequence[Message]) -> str:
    """What the user typed of these turns (their user turns' text)."""
    return "\n\n".join(turn.content for turn in turns if turn.role == "user")


def _summary(conversation: Conversation) -> str:
    """What the conversation's steps cost together."""
    return "Conversation so far: " + _figures(conversation.thread)


def _figures(thread: Thread) -> str:
    """The answers of ``thread``, their tokens and their cost, for people."""
    steps = len(thread.steps)
    parts = [f"{steps} answers" if steps != 1 else "1 answer"]
    if thread.input_tokens is not None or thread.output_tokens is not None:
        tokens_in = "—" if thread.input_tokens is None else thread.input_tokens
        tokens_out = "—" if thread.output_tokens is None else thread.output_tokens
        parts.append(f"tokens in {tokens_in} / out {tokens_out}")
    if thread.cost is not None:
        parts.append(f"cost {format_cost(thread.cost)}")
    return " · ".join(parts)


def _tool_summary(thread: Thread) -> str:
    """What the answers of a tool conversation took together (under its tool calls)."""
    return "Together: " + _figures(thread)
