"""What the Evaluate tab does: keep the open prompt's cases, run them, store and compare.

Cases are saved as they are edited (shortly after the last change, and before another
prompt opens or the window closes); the cases table is mirrored into the session, which
is what is saved and evaluated. An evaluation saves the session's content as a version
first, runs on the run worker's thread (streams are parsed off the GUI thread), hands
finished cells over through a queue drained on a timer, and is stored with that version.
What it needs from the rest of the window is handed in (:class:`EvalServices`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, QTimer, Signal

from promptstudio.errors import PromptStudioError
from promptstudio.evals.cache import AnswerCache, LibraryCache
from promptstudio.evals.checks_model import CheckTools
from promptstudio.evals.compare import Comparison, comparisons
from promptstudio.evals.judge import DEFAULT_JUDGE_PROMPT
from promptstudio.evals.plan import Budget
from promptstudio.evals.results import (
    CANCELLED,
    CellResult,
    EvalColumn,
    EvalRun,
    stop_counts,
    summarize,
)
from promptstudio.evals.runner import EvalError, EvalTarget, Evaluation, JudgeSettings
from promptstudio.evals.stats import percent_text
from promptstudio.evals.store import cases_from_rows, load_run, save_run
from promptstudio.providers.pricing import PriceTable
from promptstudio.runs import RunTarget, ServerLimits
from promptstudio.runs.columns import ColumnConfig
from promptstudio.runs.feed import Feed
from promptstudio.runs.worker import RunWorker
from promptstudio.session import Session
from promptstudio.storage import Database, library
from promptstudio.storage.library import EvalRunRow, VersionRow
from promptstudio.templating import TemplateError
from promptstudio.ui.evaluate.eval_export import choose_results_file
from promptstudio.ui.evaluate.eval_pane import EvalPane
from promptstudio.ui.evaluate.eval_plan import plan_for, show_evaluation_plan
from promptstudio.ui.evaluate.eval_ratings import store_cell_ratings
from promptstudio.ui.evaluate.pair_picker import compare_chosen_pairs
from promptstudio.ui.messages import show_error
from promptstudio.ui.status import StatusNotifier

if TYPE_CHECKING:
    from promptstudio.ui.evaluate.judge_prompt_dialog import JudgePromptDialog
    from promptstudio.ui.tasks import TaskOwner

log = logging.getLogger(__name__)
SAVE_DELAY_MS = 500
DRAIN_INTERVAL_MS = 100  # cells reach the grid ten times a second at most


@dataclass(frozen=True)
class EvalServices:
    """What an evaluation takes from the rest of the window."""

    session: Session  # the template, values, columns and cases evaluated
    db: Database
    worker: RunWorker  # where the evaluation runs (streams are parsed off the GUI thread)
    notifier: StatusNotifier
    run_target: Callable[[ColumnConfig], RunTarget]  # ``runs.columns.run_target`` as now
    save_for_run: Callable[[], Awaitable[VersionRow]]  # the version an evaluation belongs to
    check_template: Callable[[], TemplateError | None]  # the text's error, marked in the editor
    prices: Callable[[], PriceTable]
    limits: ServerLimits  # the runs' turns at each server, shared
    setting: Callable[[str], object]  # ``SettingsStore.get``
    # Embeddings and code checks as the settings say (None: neither, as in older callers).
    check_tools: Callable[[AnswerCache], CheckTools] | None = None


class EvalFlow(QObject):
    evaluated = Signal(object)  # the stored EvalRun
    casesSaved = Signal(int)  # prompt id
    versionsChanged = Signal(int)  # prompt id: an evaluation was stored with its version

    def __init__(self, pane: EvalPane, services: EvalServices, tasks: TaskOwner) -> None:
        super().__init__(pane)
        self.pane, self.services, self.tasks, self.db = pane, services, tasks, services.db
        self.session, self.notifier = services.session, services.notifier
        self.prompt_id: int | None = None  # whose cases are shown (None while loading)
        self._loading: int | None = None  # whose cases are on their way
        self.every_case: list[dict[str, Any]] = []
        self.judge_prompt: str | None = None  # None: the default prompt
        self.judge_column: str | None = None
        self.runs: list[EvalRunRow] = []
        self.shown: EvalRun | None = None
        self.baseline: EvalRun | None = None
        self.compared: list[Comparison] = []  # the shown run's comparisons, as the grid shows
        self._wanted: tuple[int, int] | None = None  # (prompt, evaluation) to show once open
        self.evaluation: Evaluation | None = None
        self._version_id: int | None = None  # the version the running evaluation belongs to
        self.judge_dialog: JudgePromptDialog | None = None
        self._arrived: Feed[str, CellResult] = Feed()  # by column; the run worker puts
        self._live: EvalRun | None = None
        self._drain = QTimer(self)
        self._drain.setInterval(DRAIN_INTERVAL_MS)
        self._drain.timeout.connect(self._show_arrived)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._start_save)

        cases = pane.cases
        cases.model.casesChanged.connect(self._mirror_cases)
        cases.model.casesChanged.connect(self._save_timer.start)
        cases.everyCaseChecksChanged.connect(lambda checks: self._store_settings(every_case=checks))
        cases.addFromFormRequested.connect(lambda: cases.model.add_case(self.session.values))
        self.notifier.forward(cases.statusMessage)
        cases.failed.connect(lambda error: show_error(pane.window(), error))
        self.session.events.values.connect(
            lambda _change: cases.model.set_variables(self.session.names)
        )
        self.session.events.columns.connect(lambda _change: self._columns_changed())
        pane.runRequested.connect(self.run)
        pane.stopRequested.connect(self.stop)
        pane.judgeColumnChosen.connect(
            lambda column_id: self._store_settings(judge_column=column_id or None)
        )
        pane.judgePromptRequested.connect(self.open_judge_prompt)
        pane.shownRunChosen.connect(
            lambda eval_id: self.tasks.start("eval-show", self.show(eval_id))
        )
        pane.baselineChosen.connect(
            lambda eval_id: self.tasks.start("eval-baseline", self.compare_with(eval_id))
        )
        pane.exportRequested.connect(lambda: choose_results_file(self))
        store_cell_ratings(pane.results, self.db, tasks)
        compare_chosen_pairs(pane.results, tasks, services.prices)
        pane.planRequested.connect(  # Plan… (Ctrl+Alt+E): "Run" in its dialog runs it
            lambda: tasks.start(
                "eval-plan",
                show_evaluation_plan(self.db, self._prepare(), self.prompt_id, pane, self.run),
            )
        )
        self._columns_changed()
        from promptstudio.ui.evaluate.eval_batches import BatchFlow

        self.batches = BatchFlow(self)  # "Send as a batch", pending cells, collecting

    @property
    def running(self) -> bool:
        return self.evaluation is not None

    # ---- the open prompt -------------------------------------------------------------------

    def open_prompt(self, prompt_id: int, *, at_once: bool = False) -> None:
        """Show ``prompt_id``'s cases; ``at_once`` reads them before returning (the tab was
        built after the prompt opened, by something about to use it), else in a task."""
        self.pane.cases.flush()  # the previous prompt's last edits, under its own id
        self._save_cases_now()
        self._save_waiting_import()
        # From now on nothing is saved under the previous prompt: the table is empty and
        # takes no edits until this prompt's cases are shown (an import waits for them).
        self.prompt_id, self._loading = None, prompt_id
        self.pane.cases.set_loading(True)
        self.session.cases = ()  # the new prompt's arrive with _load
        if at_once:
            rows = self.db.call(library.list_cases, prompt_id)
            self._show_cases(prompt_id, rows, self.db.call(library.get_eval_settings, prompt_id))
        self.tasks.start("eval-open", self._load(prompt_id, cases_shown=at_once))

    async def _load(self, prompt_id: int, *, cases_shown: bool = False) -> None:
        if not cases_shown:
            rows = await self.db.acall(library.list_cases, prompt_id)
            settings = await self.db.acall(library.get_eval_settings, prompt_id)
            if self.session.prompt_id != prompt_id:  # another prompt was opened meanwhile
                return
            self._show_cases(prompt_id, rows, settings)
        runs = await self.db.acall(library.list_eval_runs, prompt_id)
        shown_id, self._wanted = _first_shown(self._wanted, prompt_id, runs), None
        shown = await self.db.acall(load_run, shown_id) if shown_id is not None else None
        baseline_id = _default_baseline(runs)
        baseline_id = None if baseline_id == shown_id else baseline_id  # not with itself
        baseline = await self.db.acall(load_run, baseline_id) if baseline_id else None
        if self.session.prompt_id != prompt_id:
            return
        self.runs, self.shown, self.baseline = runs, shown, baseline
        self.pane.results.set_run(shown)
        self.pane.results.set_baseline(baseline)
        self.pane.set_history(runs, shown_id, baseline_id)
        await self._compare_shown()
        await self.batches.show_pending()
        if not self.running:  # the last evaluation's summary belongs to its own prompt
            self.pane.status.clear()

    def _show_cases(
        self, prompt_id: int, rows: list[library.CaseRow], settings: library.EvalSettingsRow
    ) -> None:
        self.prompt_id = prompt_id
        self.every_case = list(settings.asserts)
        self.judge_prompt, self.judge_column = settings.judge_prompt, settings.judge_column
        model = self.pane.cases.model
        model.set_variables(self.session.names)
        model.set_cases([_editable(row) for row in rows])
        self._mirror_cases()
        self._loading = None
        self.pane.cases.set_loading(False)  # an import made meanwhile replaces them now
        self.pane.cases.set_every_case_checks(self.every_case)
        self._columns_changed()

    def add_case(self, values: dict[str, Any]) -> None:
        """A new test case holding ``values`` (a conversation copied from a column)."""
        self.pane.cases.model.add_case(values)

    def _columns_changed(self) -> None:
        columns = [(column.id, column.model or "(no model)") for column in self.session.columns]
        self.pane.set_judge_columns(columns, self.judge_column)

    def _mirror_cases(self) -> None:
        """The cases table is the session's test-case set (with the library's ids)."""
        self.session.cases = self.pane.cases.model.cases()

    # ---- saving ------------------------------------------------------------------------------

    def _save_cases_now(self) -> None:
        """Save the cases shown now if a save is pending (before another prompt opens)."""
        if self._save_timer.isActive():
            self._save_timer.stop()
            self._start_save()

    def _save_waiting_import(self) -> None:
        """A file imported for a prompt whose cases never got shown is still its cases."""
        cases, prompt_id = self.pane.cases.take_waiting_import(), self._loading
        if cases is not None and prompt_id is not None:
            self.tasks.start(f"eval-save-cases:{prompt_id}", self._save_cases(prompt_id, cases))

    def _start_save(self) -> None:
        if self.prompt_id is not None:  # the cases are read now, while they are this prompt's
            cases = list(self.session.cases)
            self.tasks.start(
                f"eval-save-cases:{self.prompt_id}", self._save_cases(self.prompt_id, cases)
            )

    async def _save_cases(self, prompt_id: int, cases: list[dict[str, Any]]) -> None:
        model = self.pane.cases.model
        saved = await self.db.acall(library.save_cases, prompt_id, cases)
        if self.prompt_id == prompt_id and list(self.session.cases) == cases:
            model.assign_ids([row.id for row in saved])  # new cases keep their ids from now on
            self._mirror_cases()
        self.casesSaved.emit(prompt_id)

    async def flush(self) -> None:
        """Wait until the cases and the checks for every case are stored."""
        self.pane.cases.flush()
        if self._save_timer.isActive() and self.prompt_id is not None:
            self._save_timer.stop()
            await self._save_cases(self.prompt_id, list(self.session.cases))

    def save_on_exit(self) -> None:
        """Blocking: the window is closing and the event loop may not run again."""
        self.pane.cases.flush()
        if self._save_timer.isActive() and self.prompt_id is not None:
            self._save_timer.stop()
            self.db.call(library.save_cases, self.prompt_id, list(self.session.cases))
        waiting = self.pane.cases.take_waiting_import()
        if waiting is not None and self._loading is not None:
            self.db.call(library.save_cases, self._loading, waiting)
        evaluation, version_id = self.evaluation, self._version_id
        worker = self.services.worker
        if evaluation is None or version_id is None or not worker.running:
            return
        # Stop it and keep what finished (the cache has those answers too).
        worker.call_and_wait(evaluation.cancel)
        cells = worker.call_and_wait(lambda: dict(evaluation.result.cells))
        more = worker.call_and_wait(lambda: dict(evaluation.result.more_samples))
        result = evaluation.result
        partial = EvalRun(result.columns, result.cases, cells, CANCELLED, settings=result.settings)
        partial.more_samples = more
        self.db.call(save_run, version_id, partial)
        self.evaluation, self._version_id = None, None  # stored: the task must not again

    def _store_settings(self, **changed: Any) -> None:
        """Take ``changed`` (``every_case``, ``judge_prompt``, ``judge_column``) and store
        the prompt's evaluation settings."""
        self.every_case = list(changed.get("every_case", self.every_case))
        self.judge_prompt = changed.get("judge_prompt", self.judge_prompt)
        self.judge_column = changed.get("judge_column", self.judge_column)
        if self.prompt_id is None:
            return
        self.tasks.start(
            f"eval-settings:{self.prompt_id}",
            self.db.acall(
                library.set_eval_settings,
                self.prompt_id,
                asserts=self.every_case,
                judge_prompt=self.judge_prompt,
                judge_column=self.judge_column,
            ),
        )

    # ---- running -----------------------------------------------------------------------------

    def run(self) -> None:
        if self.running:
            self.notifier.say("An evaluation is running: Stop or Esc ends it.")
            return
        if self.pane.batch.isChecked():
            self.tasks.start("evaluate", self.batches.submit())
            return
        self.tasks.start("evaluate", self._run())

    def stop(self) -> None:
        if self.evaluation is not None:
            self.services.worker.call(self.evaluation.cancel)

    async def _prepare(self) -> Evaluation:
        """The evaluation of the open prompt's stored cases, checked; nothing is sent."""
        error = self.services.check_template()
        if error is not None:  # every case would fail the same way: say it once
            where = f"line {error.line}, column {error.column}"
            raise EvalError(f"Template error at {where}: {error.message}")
        await self.flush()
        prompt_id = self.session.prompt_id
        if prompt_id is None or prompt_id != self.prompt_id:
            raise EvalError("Open a prompt with test cases first.")
        rows = await self.db.acall(library.list_cases, self.prompt_id)
        if not rows:
            raise EvalError("This prompt has no test cases yet: add one (or import a file).")
        self.pane.budget.set_default(self.services.setting("evaluate.max_cost"))
        return self.evaluation_for(cases_from_rows(rows))

    async def _run(self) -> None:
        services = self.services
        evaluation = await self._prepare()
        limit = self.pane.budget.limit(services.setting("evaluate.max_cost"))
        plan = None  # the plan renders every case up front: only for a budget (Plan… shows it)
        if limit is not None:
            plan = await plan_for(self.db, evaluation, self.prompt_id)
            evaluation.budget = Budget.from_plan(limit, plan)
        version = await services.save_for_run()
        self.evaluation, self._version_id = evaluation, version.id
        result = evaluation.result
        self._live = EvalRun(result.columns, result.cases, settings=dict(result.settings))
        self.pane.results.set_run(self._live)
        self.pane.results.set_comparisons([])
        self.pane.set_running(True, evaluation.total)
        models = len(evaluation.targets)
        times = f" × {evaluation.repeat} samples" if evaluation.repeat > 1 else ""
        self.pane.status.setText(
            f"Evaluating {len(evaluation.result.cases)} cases{times} on {models} models…"
            + (
                f" Plan: {plan.total_line()}; budget ${limit:g}"
                if plan and limit is not None
                else ""
            )
        )
        self._drain.start()
        future = services.worker.submit(evaluation.run())
        try:
            run = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            services.worker.call(evaluation.cancel)
            raise
        finally:
            self._drain.stop()
            self._show_arrived()
            self.evaluation = None
            self.pane.set_running(False)
        if self._version_id != version.id:  # already stored as the window closed
            return
        self._version_id = None
        stored = await self.db.acall(save_run, version.id, run)
        self.versionsChanged.emit(version.prompt_id)
        if self.prompt_id == version.prompt_id:
            await self._after_run(stored)
        else:  # another prompt is open: its tab does not show this run's progress line
            self.pane.status.clear()
            self.notifier.say(_summary_line(stored))
        if evaluation.images.from_store:
            self.notifier.say(evaluation.images.gone_note())
        self.evaluated.emit(stored)

    def evaluation_for(
        self,
        cases: tuple[Any, ...],
        template: str | None = None,
        skip: str | None = None,
        samples: int | None = None,
    ) -> Evaluation:
        """An Evaluation of the session's template (or ``template``: an optimisation's
        candidate) on ``cases`` and the session's columns (but the column ``skip``);
        ``samples``: that many fresh answers of each (a run's samples), not the pane's."""
        services, session = self.services, self.session
        targets: list[EvalTarget] = []
        judge: JudgeSettings | None = None
        columns = [config for config in session.columns if config.id != skip]
        models = [config.model for config in columns]
        for config in columns:
            if not config.base_url or not config.model:
                continue
            target = services.run_target(config)  # a key typed into the column is kept first
            endpoint, params = target.endpoint, target.params
            label = config.model
            if models.count(config.model) > 1:
                label = f"{config.model} · {endpoint.label}"
            eval_column = EvalColumn(
                config.id, label, config.model, endpoint.base_url, params.to_dict()
            )
            targets.append(EvalTarget(eval_column, endpoint, params))
            if config.id == self.pane.judge_column():
                judge = JudgeSettings(
                    endpoint, config.model, self.judge_prompt or DEFAULT_JUDGE_PROMPT, params
                )
        if not targets:
            raise EvalError("Choose an endpoint and a model in a run column first.")
        get = services.setting
        cache = LibraryCache(self.db)
        try:
            tools = services.check_tools(cache) if services.check_tools else None
        except PromptStudioError as exc:  # the embeddings provider no longer exists
            raise EvalError(f"Embeddings (Settings → Checks): {exc.message}") from exc
        return Evaluation(
            session.template if template is None else template,
            cases,
            targets,
            values=session.values,
            for_every_case=self.every_case,
            judge=judge,
            cache=cache,
            fresh=samples is not None or self.pane.fresh.isChecked(),
            local_limit=int(cast(int, get("evaluate.local_limit"))),
            remote_limit=int(cast(int, get("evaluate.remote_limit"))),
            price_table=services.prices(),
            on_cell=lambda cell: self._arrived.put(cell.column_key, cell),  # worker thread
            share_turns=services.limits,  # a run and an evaluation take turns at a local server
            repeat=samples or self.pane.repeats(),
            tools=tools,
            tool_defs=session.tools,
            stored_images=session.stored_images,  # a file gone since: the version's copy
        )

    def _show_arrived(self) -> None:
        live = self._live
        for cells in self._arrived.drain().values():
            for cell in cells:
                if live is not None:
                    live.put(cell)
                    if self.pane.results.grid_model.run is live:  # not another one picked since
                        self.pane.results.update_cell(cell)
        if live is not None:
            self.pane.advance(live.answers)

    async def _after_run(self, stored: EvalRun) -> None:
        assert stored.prompt_id is not None  # stored runs know their prompt
        self.runs = await self.db.acall(library.list_eval_runs, stored.prompt_id)
        baseline_id = _default_baseline(self.runs)
        self.baseline = await self.db.acall(load_run, baseline_id) if baseline_id else None
        self.shown = stored
        self._live = None
        self.pane.results.set_run(stored)
        self.pane.results.set_baseline(self.baseline)
        self.pane.set_history(self.runs, stored.id, baseline_id)
        await self._compare_shown()
        self.pane.status.setText(_summary_line(stored))
        self.notifier.say(_summary_line(stored))

    async def show_stored(self, stored: EvalRun) -> None:
        """Show an evaluation stored elsewhere (sent as batches), if its prompt is open."""
        if stored.prompt_id is not None and self.prompt_id == stored.prompt_id:
            await self._after_run(stored)

    async def clear_cache(self) -> int:
        """Forget every cached answer (the next evaluation asks the models again)."""
        count = await self.db.acall(library.cache_clear)
        self.notifier.say(f"Forgot {count} cached answer{'s' if count != 1 else ''}.")
        return count

    # ---- showing stored evaluations ----------------------------------------------------------

    def show_when_open(self, prompt_id: int, eval_id: int) -> None:
        """Show evaluation ``eval_id`` of ``prompt_id``: now if that prompt's evaluations
        are shown, else instead of its newest once it opens."""
        self._wanted = (prompt_id, eval_id)
        if self.prompt_id == prompt_id and self._loading is None:
            self._wanted = None
            self.tasks.start("eval-show", self.show(eval_id))

    async def show(self, eval_id: int) -> None:
        self.shown = await self.db.acall(load_run, eval_id)
        if self.baseline is not None and self.baseline.id == eval_id:
            self.baseline = None
        self.pane.results.set_run(self.shown)
        self.pane.results.set_baseline(self.baseline)
        self.pane.set_history(self.runs, eval_id, self.baseline.id if self.baseline else None)
        await self._compare_shown()
        await self.batches.show_pending()

    async def compare_with(self, eval_id: int | None) -> None:
        self.baseline = await self.db.acall(load_run, eval_id) if eval_id is not None else None
        self.pane.results.set_baseline(self.baseline)
        await self._compare_shown()

    async def _compare_shown(self) -> None:
        """The paired comparisons of the shown run (with its baseline, and its models with
        the first): the same core function as ``eval --compare``, off the GUI thread (the
        bootstrap takes a second or two on a thousand cases)."""
        shown, baseline = self.shown, self.baseline
        found = []
        if shown is not None:
            prices = self.services.prices()
            found = await asyncio.to_thread(comparisons, shown, baseline, prices)
        if self.shown is shown and self.baseline is baseline:  # nothing else picked meanwhile
            self.compared = found
            self.pane.results.set_comparisons(found)

    # ---- the judge prompt and export -----------------------------------------------------------

    def open_judge_prompt(self) -> JudgePromptDialog:
        from promptstudio.ui.evaluate.judge_prompt_dialog import JudgePromptDialog

        if self.judge_dialog is not None:
            self.judge_dialog.close()
            self.judge_dialog.deleteLater()
        dialog = JudgePromptDialog(self.judge_prompt, self.pane.window())
        dialog.chosen.connect(self._judge_prompt_chosen)
        dialog.set_agreement(self.pane.judge_agreement.full)
        self.judge_dialog = dialog
        dialog.open()
        return dialog

    def _judge_prompt_chosen(self, text: str | None) -> None:
        self._store_settings(judge_prompt=text)
        self.notifier.say(
            "The judge uses the default prompt." if text is None else "Judge prompt saved."
        )


def _editable(row: library.CaseRow) -> dict[str, Any]:
    return {"id": row.id, **row.to_exchange(), "generated": row.generated}


def _first_shown(
    wanted: tuple[int, int] | None, prompt_id: int, runs: list[EvalRunRow]
) -> int | None:
    """The evaluation a prompt opens on: the one asked for (``show_when_open``), else the
    newest."""
    if wanted is not None and wanted[0] == prompt_id and wanted[1] in {r.id for r in runs}:
        return wanted[1]
    return runs[0].id if runs else None


def _default_baseline(runs: list[EvalRunRow]) -> int | None:
    """What the newest evaluation is compared with: the newest of another version, else
    the one before it; never one still waiting on its batches (it has no answers yet)."""
    earlier = [row for row in runs[1:] if row.status != "pending"]
    for row in earlier:
        if row.version_id != runs[0].version_id:
            return row.id
    return earlier[0].id if earlier else None


def _summary_line(run: EvalRun) -> str:
    parts = []
    for summary in summarize(run):
        interval = summary.pass_interval
        rate = "no checks" if summary.pass_rate is None else percent_text(summary.pass_rate)
        if interval is not None:
            rate += f" [{interval.percent()}]"
        parts.append(f"{summary.label} {rate}")
    stopped = f"Stopped: {stop_counts(run).describe()}. " if run.status == CANCELLED else ""
    if budget := run.settings.get("stopped_for_budget"):
        stopped = f"Stopped for budget (${budget['spent']:.4f} of ${budget['max_cost']:g}): " + (
            f"{stop_counts(run).describe()}. "
        )
    version = f"v{run.version_number}" if run.version_number is not None else "this version"
    return f"{stopped}Evaluated {version}: " + ", ".join(parts)
