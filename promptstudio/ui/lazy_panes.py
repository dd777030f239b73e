"""What the window builds on first use: the History and Evaluate tabs below the editor,
and the Improve and Optimise flows (over the evaluation's services).

None of them is needed for the first screen, and they import the evaluator, the graders,
the exporters and the diff, so the window is usable before any of that is loaded
(``tests/ui/test_startup_lazy.py``). Each is built when it is first shown or used:
switching to its tab, an action, a search hit, or evaluations sent as batches by an earlier
session (the Evaluate tab's flow collects them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QSplitter, QTabWidget, QWidget

if TYPE_CHECKING:
    from promptstudio.runs.worker import RunWorker
    from promptstudio.settings.store import SettingsStore
    from promptstudio.ui.evaluate.eval_flow import EvalFlow
    from promptstudio.ui.evaluate.eval_pane import EvalPane
    from promptstudio.ui.history.history_pane import HistoryPane
    from promptstudio.ui.improve.improve_flow import ImproveFlow
    from promptstudio.ui.improve.optimise_flow import OptimiseFlow
    from promptstudio.ui.library.library_pane import LibraryPane
    from promptstudio.ui.status import StatusNotifier
    from promptstudio.ui.tasks import TaskOwner
    from promptstudio.ui.workspace import Workspace

EVALUATE_TAB, HISTORY_TAB = 1, 2  # stand-ins in the tabs until first shown


class LazyPanes(QObject):
    """Owns the History and Evaluate tabs of ``tabs`` and the Improve and Optimise flows;
    each property builds its pane on first use."""

    def __init__(
        self,
        window: QWidget,
        tabs: QTabWidget,
        workspace: Workspace,
        tasks: TaskOwner,
        worker: RunWorker,
        notifier: StatusNotifier,
        settings: SettingsStore,
        state: QSettings,
        library: LibraryPane,
        export_version: Callable[[int], object],
    ) -> None:
        super().__init__(window)
        self._window, self._tabs, self._ws, self._tasks = window, tabs, workspace, tasks
        self._worker, self._notifier, self._settings = worker, notifier, settings
        self._state, self._library, self._export_version = state, library, export_version
        self._history: HistoryPane | None = None
        self._evaluate: EvalPane | None = None
        self._eval_flow: EvalFlow | None = None
        self._improve: ImproveFlow | None = None
        self._optimise: OptimiseFlow | None = None
        tabs.currentChanged.connect(self._build_tab)
        workspace.promptOpened.connect(self._prompt_opened)
        workspace.versionsChanged.connect(self._refresh_history)

    # ---- the panes --------------------------------------------------------------------------

    @property
    def history(self) -> HistoryPane:
        """The History tab, built the first time it is shown or used."""
        if self._history is None:
            self._build_history()
        assert self._history is not None
        return self._history

    @property
    def evaluate(self) -> EvalPane:
        """The Evaluate tab, built with its flow the first time it is shown or used."""
        if self._evaluate is None:
            self._build_evaluate()
        assert self._evaluate is not None
        return self._evaluate

    @property
    def eval_flow(self) -> EvalFlow:
        if self._eval_flow is None:
            self._build_evaluate()
        assert self._eval_flow is not None
        return self._eval_flow

    @property
    def improve(self) -> ImproveFlow:
        """Improve prompt, Write a prompt from a task and Generate test cases."""
        if self._improve is None:
            self._build_improve()
        assert self._improve is not None
        return self._improve

    @property
    def optimise(self) -> OptimiseFlow:
        if self._optimise is None:
            self._build_improve()
        assert self._optimise is not None
        return self._optimise

    # ---- what the window asks of them --------------------------------------------------------

    def show_history(self) -> None:
        self._tabs.setCurrentWidget(self.history)
        self.history.focus_versions()

    def show_evaluate(self) -> None:
        self._tabs.setCurrentWidget(self.evaluate)

    def run_evaluation(self, samples_batch: bool = False) -> None:
        self.show_evaluate()
        if samples_batch:
            self.eval_flow.batches.send_samples()
        else:
            self.eval_flow.run()

    def show_match(self, prompt_id: int, version_id: int, response_id: int = 0) -> None:
        """A search hit, opened: its prompt, with History on the version and answer."""
        self.history.show_match(prompt_id, version_id, response_id or None)
        self._ws.open_prompt(prompt_id)
        self._tabs.setCurrentWidget(self.history)

    def show_evaluation(self, prompt_id: int, eval_id: int) -> None:
        """A search hit on an evaluation cell's note: its prompt, with that evaluation."""
        self.eval_flow.show_when_open(prompt_id, eval_id)
        self._ws.open_prompt(prompt_id)
        self._tabs.setCurrentWidget(self.evaluate)

    def stop(self) -> None:
        """Esc: stops a running evaluation; builds nothing."""
        if self._eval_flow is not None:
            self._eval_flow.stop()

    def save_on_exit(self) -> None:
        if self._eval_flow is not None:
            self._eval_flow.save_on_exit()

    def splitters(self) -> dict[str, QSplitter]:
        """The splitters whose place is kept in ui-state.ini (those built)."""
        return {"evalSplitter": self._evaluate.splitter} if self._evaluate is not None else {}

    async def resume_batches(self) -> None:
        """Evaluations sent as batches by an earlier session are polled again from the start:
        the Evaluate tab (whose flow collects them) is built at once when there are any."""
        from promptstudio.storage import batches

        pending = await self._ws.db.acall(batches.list_batches, open_only=True)
        if pending and self._eval_flow is None:
            self.eval_flow  # noqa: B018 (builds it; it polls the open batches)

    # ---- building ----------------------------------------------------------------------------

    def _build_history(self) -> None:
        from promptstudio.ui.history.history_pane import HistoryPane

        navigation, tasks = self._ws.navigation, self._tasks
        history = HistoryPane(self._ws.db, tasks, self._window)
        history.restoreRequested.connect(  # the one restore path
            lambda version_id: tasks.start("restore", navigation.restore(version_id))
        )
        history.openVersionRequested.connect(
            lambda version_id: tasks.start("open-version", navigation.open_version(version_id))
        )
        history.exportVersionRequested.connect(self._export_version)
        self._history = history
        self._put_in_tab(HISTORY_TAB, history)
        if self._ws.prompt_id is not None:
            history.set_prompt(self._ws.prompt_id)

    def _build_evaluate(self) -> None:
        from promptstudio.ui.evaluate.eval_flow import EvalFlow, EvalServices
        from promptstudio.ui.evaluate.eval_pane import EvalPane

        ws = self._ws
        self._evaluate = pane = EvalPane(self._window)
        services = EvalServices(
            session=ws.session,
            db=ws.db,
            worker=self._worker,
            notifier=self._notifier,
            run_target=ws.endpoints.run_target,
            save_for_run=ws.navigation.save_for_run,
            check_template=ws.analysis.check,
            prices=lambda: ws.endpoints.prices,
            limits=ws.endpoints.limits,
            setting=self._settings.get,
            check_tools=ws.endpoints.check_tools,
        )
        self._eval_flow = flow = EvalFlow(pane, services, self._tasks)
        flow.versionsChanged.connect(ws.versionsChanged)
        saved = self._state.value("window/evalSplitter")
        if saved is not None:
            pane.splitter.restoreState(saved)
        self._put_in_tab(EVALUATE_TAB, pane)
        if ws.prompt_id is not None:
            flow.open_prompt(ws.prompt_id, at_once=True)

    def _build_improve(self) -> None:
        """Improve, Generate and Optimise: flows over the same services as an evaluation,
        built on first use (they import the evaluator)."""
        from promptstudio.ui.improve.improve_flow import ImproveFlow, ImproveServices
        from promptstudio.ui.improve.optimise_flow import OptimiseFlow

        ws, navigation, library = self._ws, self._ws.navigation, self._library

        def open_new_prompt(prompt_id: int) -> None:
            library.refresh()
            library.select_prompt(prompt_id)
            ws.open_prompt(prompt_id)

        def reload_cases(prompt_id: int) -> None:
            self.eval_flow.open_prompt(prompt_id)
            self.show_evaluate()

        services = ImproveServices(
            session=ws.session,
            db=ws.db,
            worker=self._worker,
            notifier=self._notifier,
            run_target=ws.endpoints.run_target,
            save_for_run=navigation.save_for_run,
            open_version=navigation.open_version,
            open_prompt=open_new_prompt,
            flush_cases=lambda: self.eval_flow.flush(),
            reload_cases=reload_cases,
            prices=lambda: ws.endpoints.prices,
            limits=ws.endpoints.limits,
        )
        self._improve = ImproveFlow(self._window, services, self._tasks)
        self._improve.improved.connect(lambda version: ws.versionsChanged.emit(version.prompt_id))
        self._optimise = OptimiseFlow(
            self._window,
            services,
            self._tasks,
            lambda *args, **kwargs: self.eval_flow.evaluation_for(*args, **kwargs),
            navigation.restore,
        )
        self._optimise.finished.connect(lambda _report: self._versions_changed())

    def _versions_changed(self) -> None:
        prompt_id = self._ws.session.prompt_id
        if prompt_id is not None:
            self._ws.versionsChanged.emit(prompt_id)

    def _put_in_tab(self, index: int, pane: QWidget) -> None:
        """Put a pane built on first use in place of its tab's stand-in."""
        tabs = self._tabs
        stand_in, current, label = tabs.widget(index), tabs.currentIndex(), tabs.tabText(index)
        blocked = tabs.blockSignals(True)  # the tab shown stays; nothing else has changed
        tabs.removeTab(index)
        tabs.insertTab(index, pane, label)
        tabs.setCurrentIndex(current)
        tabs.blockSignals(blocked)
        if stand_in is not None:
            stand_in.deleteLater()

    def _build_tab(self, index: int) -> None:
        if index == EVALUATE_TAB and self._evaluate is None:
            self._build_evaluate()
        elif index == HISTORY_TAB and self._history is None:
            self._build_history()

    def _prompt_opened(self, prompt_id: int) -> None:
        if self._history is not None:
            self._history.set_prompt(prompt_id)
        if self._eval_flow is not None:
            self._eval_flow.open_prompt(prompt_id)

    def _refresh_history(self, _prompt_id: int) -> None:
        if self._history is not None:
            self._history.refresh()
