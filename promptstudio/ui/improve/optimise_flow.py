"""Optimise in the window: the core's ``Optimiser`` on the GUI loop, every candidate
evaluated on the run worker as the Evaluate tab evaluates (its cache, limits, budget)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from promptstudio.evals.plan import Budget
from promptstudio.evals.results import EvalCase, EvalRun
from promptstudio.evals.runner import EvalError, Evaluation
from promptstudio.evals.store import cases_from_rows, save_run
from promptstudio.improve import OPTIMISER, FeatureError, ModelReply, feature_messages
from promptstudio.improve.optimise import OptimisationReport, Optimiser, money
from promptstudio.runs.columns import ColumnConfig
from promptstudio.storage import library, optimisations
from promptstudio.storage.rows import VersionRow
from promptstudio.ui.evaluate.eval_plan import plan_for
from promptstudio.ui.file_dialogs import place
from promptstudio.ui.improve.improve_flow import (
    ImproveServices,
    ask_on_worker,
    column_label,
    usable_columns,
)
from promptstudio.ui.improve.optimise_dialog import OptimiseDialog
from promptstudio.ui.tasks import TaskOwner

EvaluationFor = Callable[[tuple[EvalCase, ...], str, str | None], Evaluation]


class OptimiseFlow(QObject):
    finished = Signal(object)  # the OptimisationReport

    def __init__(
        self,
        parent: QWidget,
        services: ImproveServices,
        tasks: TaskOwner,
        evaluation_for: EvaluationFor,
        restore: Callable[[int], Awaitable[Any]],
    ) -> None:
        super().__init__(parent)
        self.parent_widget, self.services, self.tasks = parent, services, tasks
        self.evaluation_for, self.restore = evaluation_for, restore
        self.dialog: OptimiseDialog | None = None
        self.report: OptimisationReport | None = None
        self.optimiser: Optimiser | None = None
        self._columns: list[ColumnConfig] = []
        self._running: set[Evaluation] = set()

    def open(self) -> OptimiseDialog:
        if self.dialog is None:
            dialog = OptimiseDialog(self.parent_widget)
            dialog.startRequested.connect(self.start)
            dialog.stopRequested.connect(self.stop)
            dialog.exportRequested.connect(self.choose_export_file)
            dialog.promoteRequested.connect(
                lambda: self.tasks.start("optimise-promote", self.promote())
            )
            self.dialog = dialog
        self._columns = usable_columns(self.services.session)
        self.dialog.set_models([column_label(c) for c in self._columns])
        self.dialog.show()
        return self.dialog

    def start(self, column: int, rounds: int, candidates: int, budget: float) -> None:
        if 0 <= column < len(self._columns):
            self.tasks.start(
                "optimise", self.run(self._columns[column], rounds, candidates, budget or None)
            )

    def stop(self) -> None:
        self.tasks.cancel("optimise")
        for evaluation in list(self._running):
            self.services.worker.call(evaluation.cancel)

    async def run(
        self, improver: ColumnConfig, rounds: int, candidates: int, max_cost: float | None
    ) -> OptimisationReport | None:
        services, dialog = self.services, self.dialog
        assert dialog is not None
        prompt_id = services.session.prompt_id
        if prompt_id is None:
            dialog.show_progress("Open a prompt with test cases first.")
            return None
        await services.flush_cases()
        rows = await services.db.acall(library.list_cases, prompt_id)
        if not rows:
            dialog.show_progress("This prompt has no test cases yet: add or generate some.")
            return None
        cases = cases_from_rows(rows)
        # The improver's column proposes; the others are evaluated (all, if it is alone).
        skip = improver.id if len(usable_columns(services.session)) > 1 else None
        try:
            self.evaluation_for(
                tuple(cases), services.session.template, skip
            )  # checked before anything
            target = services.run_target(improver)
        except (EvalError, FeatureError) as exc:
            dialog.show_progress(exc.message)
            return None
        original = await services.save_for_run()
        prompt = await services.db.acall(library.get_prompt, prompt_id)
        budget = Budget(max_cost) if max_cost is not None else None

        async def propose(values: Mapping[str, object]) -> ModelReply:
            messages = await services.db.acall(feature_messages, OPTIMISER, values)
            return await ask_on_worker(services, target, messages)

        async def evaluate(version: VersionRow) -> EvalRun:
            evaluation = self.evaluation_for(tuple(cases), version.template, skip)
            if budget is not None and not budget.estimates:  # each request's cost, planned
                plan = await plan_for(services.db, evaluation, prompt_id)
                budget.estimates = Budget.from_plan(budget.limit, plan).estimates
            evaluation.budget = budget
            self._running.add(evaluation)
            try:
                run = await asyncio.wrap_future(services.worker.submit(evaluation.run()))
            except asyncio.CancelledError:
                services.worker.call(evaluation.cancel)
                raise
            finally:
                self._running.discard(evaluation)
            return await services.db.acall(save_run, version.id, run)

        async def save_candidate(parent: int, template: str, message: str) -> VersionRow:
            return await services.db.acall(
                library.branch_version, parent, template, kind="candidate", message=message
            )

        self.optimiser = Optimiser(
            prompt.name, original, propose=propose, evaluate=evaluate,
            save_candidate=save_candidate, rounds=rounds, candidates=candidates,
            budget=budget, on_progress=dialog.show_progress,
        )  # fmt: skip
        dialog.set_running(True)
        try:
            report = await self.optimiser.run()
        finally:
            dialog.set_running(False)
        chosen = report.chosen or report.original
        await services.db.acall(optimisations.save_optimisation, prompt_id, original.id,
                                chosen.version_id, report.stopped, report.to_dict())  # fmt: skip
        self.report = report
        dialog.show_report(report)
        dialog.show_progress(
            f"Chosen: v{chosen.version} · stopped: {report.stopped} · {len(report.rounds)} "
            f"round(s) · spent {money(report.spent)}. Promote the winner to make it current."
        )
        services.notifier.say(f"Optimisation done: v{chosen.version} is the best")
        self.finished.emit(report)
        return report

    async def promote(self) -> None:
        report = self.report
        if report is None or report.chosen is None or report.chosen.version_id is None:
            return
        await self.restore(report.chosen.version_id)
        if self.dialog is not None:
            self.dialog.show_progress(f"v{report.chosen.version} is now the current version.")

    def choose_export_file(self) -> QFileDialog | None:
        if self.report is None or self.dialog is None:
            return None
        dialog = place(QFileDialog(self.dialog, "Export the optimisation report"), "results")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(["Markdown (*.md)", "JSON (*.json)"])
        dialog.setDefaultSuffix("md")
        dialog.selectFile("optimisation.md")
        dialog.fileSelected.connect(lambda path: self.export(Path(path)))
        dialog.open()
        return dialog

    def export(self, path: Path) -> None:
        from promptstudio.exchange.library_io import write_text_atomically

        if self.report is None:
            return
        if path.suffix.lower() == ".json":
            text = json.dumps(self.report.to_dict(), ensure_ascii=False, indent=2) + "\n"
        else:
            text = self.report.to_markdown()
        write_text_atomically(path, text)
        self.services.notifier.say(f"Exported the report to {path.name}")
