"""Improve prompt, New prompt from a task and Generate test cases, off the GUI thread.

Every request is made from a run column through ``runs.columns.run_target`` (the one path
the runs, the evaluator and the CLI share) and runs on the ``RunWorker``; the library is
reached through ``Database.acall``. The prompts asking the model are the library's own
("PromptStudio" folder), newest version.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QWidget

from promptstudio.chat import Message
from promptstudio.improve import (
    CASE_GENERATOR,
    IMPROVER,
    PROMPT_GENERATOR,
    FeatureError,
    ModelReply,
    RewriteRejected,
    ask,
    feature_messages,
)
from promptstudio.improve.generating import (
    case_generator_values,
    parse_generated_cases,
    parse_generated_prompt,
    prompt_generator_values,
    store_generated_cases,
)
from promptstudio.improve.improving import (
    Improvement,
    accept_improvement,
    improver_values,
    propose_improvement,
)
from promptstudio.providers.pricing import PriceTable
from promptstudio.runs import RunTarget, ServerLimits
from promptstudio.runs.columns import ColumnConfig
from promptstudio.runs.worker import RunWorker
from promptstudio.session import Session
from promptstudio.storage import Database, library
from promptstudio.storage.rows import VersionRow
from promptstudio.templating import TemplateError, render_messages
from promptstudio.ui.improve.improve_dialog import ImproveDialog
from promptstudio.ui.status import StatusNotifier
from promptstudio.ui.tasks import TaskOwner

DEFAULT_CASES = 10


@dataclass(frozen=True)
class ImproveServices:
    """What the improve features take from the rest of the window."""

    session: Session
    db: Database
    worker: RunWorker
    notifier: StatusNotifier
    run_target: Callable[[ColumnConfig], RunTarget]
    save_for_run: Callable[[], Awaitable[VersionRow]]  # the version the session holds now
    open_version: Callable[[int], Awaitable[None]]
    open_prompt: Callable[[int], None]
    flush_cases: Callable[[], Awaitable[None]]  # pending case edits stored first
    reload_cases: Callable[[int], None]  # the cases table shows the prompt's cases again
    prices: Callable[[], PriceTable]
    limits: ServerLimits


async def ask_on_worker(
    services: ImproveServices, target: RunTarget, messages: list[Message]
) -> ModelReply:
    """One request on the run worker (its streams are parsed off the GUI thread)."""
    request = ask(target, messages, price_table=services.prices(), limits=services.limits)
    return await asyncio.wrap_future(services.worker.submit(request))


def usable_columns(session: Session) -> list[ColumnConfig]:
    """The run columns that name a model and a place (the ones a request can go to)."""
    return [c for c in session.columns if c.model and (c.base_url or c.profile)]


def column_label(column: ColumnConfig) -> str:
    return f"{column.model} · {column.profile or column.base_url}"


class ImproveFlow(QObject):
    improved = Signal(object)  # the VersionRow saved from an accepted rewrite
    casesGenerated = Signal(int)  # how many

    def __init__(self, parent: QWidget, services: ImproveServices, tasks: TaskOwner) -> None:
        super().__init__(parent)
        self.parent_widget, self.services, self.tasks = parent, services, tasks
        self.dialog: ImproveDialog | None = None
        self.improvement: Improvement | None = None
        self._columns: list[ColumnConfig] = []

    # ---- Improve prompt ----------------------------------------------------------------

    def open_improve(self) -> ImproveDialog:
        if self.dialog is None:
            dialog = ImproveDialog(self.parent_widget)
            dialog.askRequested.connect(self.ask)
            dialog.acceptRequested.connect(
                lambda: self.tasks.start("improve-accept", self.accept())
            )
            dialog.runBothRequested.connect(
                lambda: self.tasks.start("improve-run", self.run_both())
            )
            dialog.stopRequested.connect(self._stop)
            self.dialog = dialog
        self._columns = usable_columns(self.services.session)
        self.dialog.set_models([column_label(c) for c in self._columns])
        self.dialog.show()
        self.dialog.goal.setFocus()
        return self.dialog

    def ask(self, index: int, goal: str) -> None:
        if 0 <= index < len(self._columns):
            self.tasks.start("improve", self._ask(self._columns[index], goal))

    def _stop(self) -> None:
        for name in ("improve", "improve-run"):
            self.tasks.cancel(name)
        if self.dialog is not None:
            self.dialog.show_failure("Stopped.")

    async def _ask(self, column: ColumnConfig, goal: str) -> None:
        dialog, services = self.dialog, self.services
        assert dialog is not None
        template, values = services.session.template, dict(services.session.values)
        self.improvement = None
        dialog.set_busy(f"{column.model} is reviewing the template…")
        try:
            target = services.run_target(column)
            messages = await services.db.acall(
                feature_messages, IMPROVER, improver_values(template, goal)
            )
            future = services.worker.submit(propose_improvement(
                target, messages, template, values,
                price_table=services.prices(), limits=services.limits,
            ))  # fmt: skip
            improvement = await asyncio.wrap_future(future)
        except RewriteRejected as exc:
            dialog.show_rejected(exc.message)
            return
        except FeatureError as exc:
            dialog.show_failure(exc.message)
            return
        except asyncio.CancelledError:
            dialog.set_busy(None)
            raise
        self.improvement = improvement
        source = services.session.source
        title = f"Current (v{source.version_number})" if source.version_number else "Current"
        dialog.show_proposal(template, improvement.template, improvement.critique, title)

    async def accept(self) -> VersionRow | None:
        """Save the rewrite as a new version whose parent is the version reviewed."""
        improvement, services, dialog = self.improvement, self.services, self.dialog
        if improvement is None or dialog is None:
            return None
        if services.session.template != improvement.original:
            dialog.show_failure("The template changed since the review: ask again.")
            return None
        original = await services.save_for_run()
        saved = await services.db.acall(accept_improvement, original.id, improvement)
        dialog.show_accepted(saved.number)
        await services.open_version(saved.id)
        self.improved.emit(saved)
        services.notifier.say(f"Saved the rewrite as v{saved.number}")
        return saved

    async def run_both(self) -> tuple[str, str] | None:
        """The current template and the rewrite on the chosen column at once."""
        improvement, services, dialog = self.improvement, self.services, self.dialog
        if improvement is None or dialog is None:
            return None
        column = self._columns[max(0, dialog.model.currentIndex())]
        values = dict(services.session.values)
        try:
            current = render_messages(improvement.original, values)
            rewrite = render_messages(improvement.template, values)
            target = services.run_target(column)
        except (TemplateError, FeatureError) as exc:
            dialog.show_failure(exc.message)
            return None
        dialog.set_busy("Running both…")

        async def both() -> tuple[ModelReply | BaseException, ...]:
            return await asyncio.gather(
                ask(replace(target, key="current"), current, price_table=services.prices(),
                    limits=services.limits),
                ask(replace(target, key="rewrite"), rewrite, price_table=services.prices(),
                    limits=services.limits),
                return_exceptions=True,
            )  # fmt: skip

        answers = await asyncio.wrap_future(services.worker.submit(both()))
        texts = [a.message if isinstance(a, FeatureError) else getattr(a, "text", str(a))
                 for a in answers]  # fmt: skip
        dialog.show_answers(texts[0], texts[1])
        return texts[0], texts[1]

    # ---- Generate ----------------------------------------------------------------------

    def _first_column(self) -> ColumnConfig | None:
        columns = usable_columns(self.services.session)
        if not columns:
            self.services.notifier.say("Choose an endpoint and a model in a run column first.")
            return None
        return columns[0]

    def new_prompt_from_task(self) -> None:
        if self._first_column() is None:
            return
        task, ok = QInputDialog.getMultiLineText(
            self.parent_widget, "New prompt from a task",
            "What should the prompt do? (the first run column's model writes it)",
        )  # fmt: skip
        if ok and task.strip():
            self.tasks.start("generate-prompt", self.generate_prompt(task))

    async def generate_prompt(self, task: str) -> int | None:
        column, services = self._first_column(), self.services
        if column is None:
            return None
        services.notifier.say(f"{column.model} is writing a prompt…")
        target = services.run_target(column)
        messages = await services.db.acall(
            feature_messages, PROMPT_GENERATOR, prompt_generator_values(task)
        )
        reply = await ask_on_worker(services, target, messages)
        generated = parse_generated_prompt(reply.text)
        name = " ".join(task.split()[:6])[:60] or "Generated prompt"

        def store(conn: Any) -> int:
            prompt = library.create_prompt(conn, name)
            library.save_version(conn, prompt.id, generated.template, generated.values, {},
                                 message="Generated from a task")  # fmt: skip
            return prompt.id

        prompt_id = await services.db.acall(store)
        services.open_prompt(prompt_id)
        services.notifier.say(f"Wrote “{name}”: review it, then save or run it")
        return prompt_id

    def generate_cases_asked(self) -> None:
        if self._first_column() is None or self.services.session.prompt_id is None:
            return
        count, ok = QInputDialog.getInt(
            self.parent_widget, "Generate test cases",
            "How many cases (typical, edge and adversarial)?", DEFAULT_CASES, 1, 200,
        )  # fmt: skip
        if ok:
            self.tasks.start("generate-cases", self.generate_cases(count))

    async def generate_cases(self, count: int) -> int:
        column, services = self._first_column(), self.services
        prompt_id = services.session.prompt_id
        if column is None or prompt_id is None:
            return 0
        template = services.session.template
        services.notifier.say(f"{column.model} is writing {count} test cases…")
        target = services.run_target(column)
        messages = await services.db.acall(
            feature_messages, CASE_GENERATOR, case_generator_values(template, count)
        )
        reply = await ask_on_worker(services, target, messages)
        cases = parse_generated_cases(reply.text, template, count)
        await services.flush_cases()  # a pending save would otherwise drop the new ones
        stored = await services.db.acall(store_generated_cases, prompt_id, cases)
        services.reload_cases(prompt_id)
        services.notifier.say(
            f"Added {len(stored)} generated test cases (marked “generated”): review them"
        )
        self.casesGenerated.emit(len(stored))
        return len(stored)
