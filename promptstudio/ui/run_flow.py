"""Runs from the board: the session's template on the session's columns, streamed into
the board and stored.

A run snapshots the version and a ``runs`` row before anything is sent, streams on the
run worker (the board's feed takes the updates), and stores each answer as it ends; a
window closed mid-run keeps the partial answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

from promptstudio import templating
from promptstudio.chat import Image, Message
from promptstudio.runs import RunSession, RunTarget, TargetResult, TargetStatus
from promptstudio.runs.checkpoint import ResponseCheckpoints
from promptstudio.runs.columns import ColumnError, column_api, sample_targets, split_sample_key
from promptstudio.runs.worker import RunWorker
from promptstudio.session import Session
from promptstudio.storage import Database, library
from promptstudio.storage.library import VersionRow
from promptstudio.ui.board.preview_dialog import ColumnPreview, PreviewDialog
from promptstudio.ui.board.run_board import RunBoard
from promptstudio.ui.editor.analysis import TemplateAnalysis
from promptstudio.ui.endpoints import Endpoints
from promptstudio.ui.status import StatusNotifier
from promptstudio.ui.tasks import TaskOwner

if TYPE_CHECKING:  # the plan (the evaluation's modules) is imported when a run needs it
    from promptstudio.ui.evaluate.eval_plan import PlanDialog


class RunFlow(QObject):
    runStored = Signal(int)  # response id, once an answer is in the database
    runFinished = Signal(int)  # run id, once every answer of a run is stored
    runStarted = Signal(list)  # the column ids that began a run
    versionsChanged = Signal(int)  # prompt id: a run was stored with its version
    answerStored = Signal(object)  # a StoredAnswer: what a conversation goes on from

    def __init__(
        self,
        session: Session,
        board: RunBoard,
        endpoints: Endpoints,
        analysis: TemplateAnalysis,
        db: Database,
        worker: RunWorker,
        tasks: TaskOwner,
        notifier: StatusNotifier,
        save_for_run: Callable[[Sequence[Image]], Awaitable[VersionRow]],
    ) -> None:
        super().__init__(board)
        self.session, self.board, self.endpoints, self.analysis = (
            session,
            board,
            endpoints,
            analysis,
        )
        self.db, self.worker, self.tasks, self.notifier = db, worker, tasks, notifier
        self._save_for_run = save_for_run
        self._runs: list[RunRecord] = []
        # The latest stored answer per target key (column#sample): where a tool step goes
        # on from.
        self.answers: dict[str, StoredAnswer] = {}
        self._planned = False  # the next run's plan was shown and accepted
        self.plan_dialog: PlanDialog | None = None
        self._run_number = 0
        board.runAllRequested.connect(lambda: self.run())
        board.stopAllRequested.connect(lambda: self.stop())
        board.runColumnRequested.connect(self.run)
        board.stopColumnRequested.connect(self.stop)
        board.previewRequested.connect(self.preview)

    @property
    def running(self) -> bool:
        return bool(self._runs)

    def run(self, column_id: str | None = None) -> None:
        """Run one column, or every column that is not already running."""
        self.analysis.flush()
        board, running = self.board, self._running_columns() | self.board.active_ids
        wanted = [c for c in self.session.columns if column_id is None or c.id == column_id]
        columns = [c for c in wanted if c.id not in running]
        if not columns:
            self.notifier.say("Already running: Esc stops it.")
            return
        messages = self.render([c.id for c in columns])
        if messages is None:
            return
        targets: list[RunTarget] = []
        for config in columns:
            if not config.base_url or not config.model:
                board.column(config.id).fail_before_start(
                    "Choose an endpoint and type a model name first."
                )
                continue
            try:
                target = self.endpoints.run_target(config)
            except ColumnError as exc:  # e.g. its provider was deleted in Settings
                board.column(config.id).fail_before_start(exc.message)
                continue
            targets += sample_targets(target, config)
        if not targets:
            return
        from promptstudio.evals.plan import RUN_PLAN_THRESHOLD

        if len(targets) > RUN_PLAN_THRESHOLD and not self._planned:  # show the cost first
            self.tasks.start("run-plan", self._confirm_plan(column_id, messages, targets))
            return
        self._planned = False
        checkpoints = ResponseCheckpoints(self.db, messages)  # a crash keeps what had arrived
        session = RunSession(
            messages, targets, on_update=checkpoints.watching(board.on_update),
            price_table=self.endpoints.prices, limits=self.endpoints.limits,
            tools=self.session.tools,
        )  # fmt: skip
        record = RunRecord(session, messages, checkpoints, values=self.session.values)
        self._runs.append(record)
        board.begin(record.column_ids)
        self.runStarted.emit(record.column_ids)
        self._run_number += 1
        self.tasks.start(f"run:{self._run_number}", self._run(record))

    async def _confirm_plan(
        self, column_id: str | None, messages: list[Message], targets: list[RunTarget]
    ) -> PlanDialog:
        """A run of many samples: its plan (requests, tokens, cost); "Run" sends it."""
        from promptstudio.evals.plan import plan_run, read_history
        from promptstudio.ui.evaluate.eval_plan import show_plan

        models = [target.model for target in targets]
        history = await self.db.acall(read_history, models, self.session.prompt_id)
        plan = plan_run(messages, targets, history, self.endpoints.prices)
        title = f"Plan of the run: {len(targets)} requests"
        self.plan_dialog = show_plan(
            plan, title, self.board.window(), lambda: self._run_planned(column_id)
        )
        return self.plan_dialog

    def _run_planned(self, column_id: str | None) -> None:
        self._planned = True
        self.run(column_id)

    def render(self, column_ids: Sequence[str] = ()) -> list[Message] | None:
        """The messages to send, or None after showing the template error where it is."""
        images = self.session.image_reader()  # a file gone since: the version's copy
        try:
            messages = templating.render_messages(
                self.session.template, self.session.values, images=images
            )
        except templating.TemplateError as exc:
            if isinstance(exc, templating.NothingToSend):  # no spot in the editor to mark
                problem = "Nothing to send: the template renders to no messages."
            else:
                self.analysis.mark(exc)
                what = "Image" if isinstance(exc, templating.ImageRefused) else "Template error"
                problem = f"{what} at {exc.location()}: {exc.message}"
            self.notifier.say(problem)
            for column_id in column_ids:
                self.board.column(column_id).fail_before_start(problem)
            return None
        if images.from_store:
            self.notifier.say(images.gone_note())
        return messages

    def preview(self, column_id: str | None = None) -> PreviewDialog | None:
        """Show the exact messages the columns would send now (non-modal)."""
        self.analysis.flush()
        messages = self.render()
        if messages is None:
            return None
        prices, profiles = self.endpoints.prices, self.endpoints.profiles
        columns = [
            ColumnPreview(c, column_api(c, profiles, guess=True), prices)
            for c in self.session.columns
        ]
        dialog = PreviewDialog(messages, columns, self.board.window(), focus=column_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def stop(self, column_id: str | None = None) -> None:
        for record in self._runs:
            if column_id is None:
                self.worker.call(record.session.cancel)
                continue
            for key in record.session.results:
                if split_sample_key(key)[0] == column_id:
                    self.worker.call(record.session.cancel, key)

    def _running_columns(self) -> set[str]:
        return {c for record in self._runs for c in record.column_ids}

    async def _run(self, record: RunRecord) -> None:
        """Snapshot the version and the run first, then stream, then store the answers."""
        try:
            images = [image for message in record.messages for image in message.images]
            version = await self._save_for_run(images)
            run_row = await self.db.acall(library.record_run, version.id, self.session.values)
            record.run_id = run_row.id
            record.checkpoints.start(run_row.id)
            results = await asyncio.wrap_future(self.worker.submit(record.session.run()))
            if not record.stored:
                record.stored = True
                for result in results.values():
                    response = await self.db.acall(record.checkpoints.finish_response, result)
                    stored = StoredAnswer(result, record.messages, response.id, record.values)
                    self.answers[result.target.key] = stored
                    self.runStored.emit(response.id)
                    self.answerStored.emit(stored)
                self.runFinished.emit(run_row.id)
                self.versionsChanged.emit(version.prompt_id)
        finally:
            self._runs.remove(record)
            self.board.end(record.column_ids)

    def store_on_exit(self) -> None:
        """Blocking: keep the partial answers of every run as the window closes."""
        for record in list(self._runs):
            self._store_partial(record)

    def _store_partial(self, record: RunRecord) -> None:
        if self.worker.running:
            self.worker.call_and_wait(record.session.cancel)
        if record.run_id is None or record.stored:
            return
        record.stored = True
        for result in record.session.results.values():
            if not result.status.finished:
                result.status = TargetStatus.CANCELLED
            self.db.call(record.checkpoints.finish_response, result)


@dataclass(eq=False)
class RunRecord:
    """One press of Run: its session, what was sent, and where it is stored."""

    session: RunSession
    messages: list[Message]
    checkpoints: ResponseCheckpoints
    run_id: int | None = None
    stored: bool = False
    values: dict[str, object] = field(default_factory=dict)  # what it was rendered with

    @property
    def column_ids(self) -> list[str]:
        return list(dict.fromkeys(split_sample_key(key)[0] for key in self.session.results))


@dataclass(frozen=True, eq=False)
class StoredAnswer:
    """An answer of a run, once stored: where a conversation in its column starts."""

    result: TargetResult
    messages: list[Message]
    response_id: int
    values: dict[str, object]
