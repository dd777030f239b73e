"""The main window: assembles the panes and the actions; the flow lives in Workspace."""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from promptstudio import APP_NAME, __version__
from promptstudio.errors import PromptStudioError
from promptstudio.settings.store import SettingsStore
from promptstudio.ui import a11y, file_dialogs, keyboard
from promptstudio.ui.actions import ActionRegistry, ActionSpec
from promptstudio.ui.theme import apply_theme, set_status, status_colours

if TYPE_CHECKING:  # the panes are imported when the window is built, after its first paint
    from collections.abc import Sequence

    from promptstudio.credentials import KeyStore
    from promptstudio.providers.probe import Candidate
    from promptstudio.storage import Database
    from promptstudio.templating import TemplateError
    from promptstudio.ui.board.first_launch import FirstLaunchOffer
    from promptstudio.ui.command_palette import CommandPalette
    from promptstudio.ui.evaluate.eval_flow import EvalFlow
    from promptstudio.ui.evaluate.eval_pane import EvalPane
    from promptstudio.ui.history.history_pane import HistoryPane
    from promptstudio.ui.improve.improve_flow import ImproveFlow
    from promptstudio.ui.improve.optimise_flow import OptimiseFlow
    from promptstudio.ui.library.quick_open import QuickOpen
    from promptstudio.ui.settings.settings_dialog import SettingsDialog

log = logging.getLogger(__name__)
RECENT = 10
THEME_TEXT = {"light": "Theme: &light", "dark": "Theme: &dark", "system": "Theme: s&ystem"}
TAB_MODE_TIP = "Tab in the template editor moves to the next control instead of typing a tab"
EVALUATE_TAB, HISTORY_TAB = 1, 2  # built when first shown or used (see _build_tab)


class MainWindow(QMainWindow):
    """The window. Given no library it shows at once, empty, and :meth:`build` fills it.

    ``run_app`` uses that to paint the window (at its saved place, in its theme) before
    the panes, the SDKs and the library are loaded; tests pass the library and get a
    built window.
    """

    def __init__(self, db: Database | None, keys: KeyStore | None, data_dir: Path) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.data_dir = data_dir
        self.built = False
        self.state = QSettings(str(data_dir / "ui-state.ini"), QSettings.Format.IniFormat)
        file_dialogs.use_state(self.state)  # file dialogs open where they were last used
        self.settings = SettingsStore(data_dir)
        self.resize(1280, 800)
        geometry = self.state.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if db is not None and keys is not None:
            self.build(db, keys)
            return
        apply_theme(str(self.settings.get("appearance.theme")))
        waiting = QLabel("Opening the library…", self)
        waiting.setObjectName("startingUp")
        waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        waiting.setEnabled(False)  # the muted text colour
        self.setCentralWidget(waiting)

    def build(self, db: Database, keys: KeyStore) -> None:
        """Make the panes, actions and menus over the open library (once)."""
        from promptstudio.providers.profiles import ProfileError
        from promptstudio.runs.worker import RunWorker
        from promptstudio.settings.profiles import ProfileStore
        from promptstudio.ui.board.answer_rating import AnswerRatings
        from promptstudio.ui.board.pins_flow import PinsFlow
        from promptstudio.ui.board.run_board import RunBoard
        from promptstudio.ui.board.run_column import ColumnConfig
        from promptstudio.ui.editor.find_bar import FindBar
        from promptstudio.ui.editor.template_editor import TemplateEditor
        from promptstudio.ui.editor.tools_panel import ToolsPanel
        from promptstudio.ui.editor.variables_form import VariablesForm
        from promptstudio.ui.exchange_flow import ExchangeFlow
        from promptstudio.ui.library.library_pane import LibraryPane
        from promptstudio.ui.local_model_flow import LocalModelFlow
        from promptstudio.ui.messages import show_error
        from promptstudio.ui.session_binding import ToolsBinding
        from promptstudio.ui.status import StatusNotifier
        from promptstudio.ui.tasks import TaskOwner
        from promptstudio.ui.workspace import Workspace

        assert not self.built, "the window is built once"
        self.built = True
        data_dir = self.data_dir
        self.profiles = ProfileStore(data_dir)
        self._profiles_problem: str | None = None
        try:
            self.profiles.load()
        except ProfileError as exc:  # the broken file is kept aside; presets still work
            self._profiles_problem = exc.message
        self.settings_dialog: SettingsDialog | None = None
        self.tasks = TaskOwner(self)
        self.run_worker = RunWorker()
        self.library = LibraryPane(db, self.tasks, self)
        self.quick_open: QuickOpen | None = None
        self.editor = TemplateEditor(self)
        self.find_bar = FindBar(self.editor, self)
        self.variables = VariablesForm(self)
        self.tools_panel = ToolsPanel(self)
        self.run_board = RunBoard(self)
        self._history: HistoryPane | None = None  # History and Evaluate: built on first use
        self._evaluate: EvalPane | None = None
        self._eval_flow: EvalFlow | None = None
        self.template_status = QLabel(self)
        self.template_status.setObjectName("templateStatus")
        self.template_status.linkActivated.connect(lambda _link: self.go_to_error())
        self._shown_error: TemplateError | None = None  # redrawn in a new theme's colours
        self.cursor_position = QLabel(self)

        editor_area = QWidget(self)
        column = QVBoxLayout(editor_area)
        column.setContentsMargins(0, 6, 0, 0)
        column.addWidget(self.editor, 1)
        column.addWidget(self.find_bar)
        column.addWidget(self.template_status)
        self.top_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.top_splitter.addWidget(editor_area)
        # The variables above, the prompt's tools below them.
        self.side_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.side_splitter.setObjectName("sideSplitter")
        self.side_splitter.addWidget(self.variables)
        self.side_splitter.addWidget(self.tools_panel)
        self.tools_panel.setMinimumHeight(1)  # gives way first on a small screen
        self.side_splitter.setSizes([240, 120])
        self.top_splitter.addWidget(self.side_splitter)
        self.top_splitter.setStretchFactor(0, 3)
        self.top_splitter.setStretchFactor(1, 1)
        self.work_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.work_splitter.addWidget(self.top_splitter)
        self.bottom_tabs = QTabWidget(self)
        self.bottom_tabs.setObjectName("bottomTabs")
        a11y.name_tabs(self.bottom_tabs, "Run, Evaluate and History")
        self.bottom_tabs.setDocumentMode(True)
        self.bottom_tabs.addTab(self.run_board, "Run")
        self.bottom_tabs.addTab(QWidget(self), "Evaluate")  # stand-ins until first shown
        self.bottom_tabs.addTab(QWidget(self), "History")
        self.bottom_tabs.currentChanged.connect(self._build_tab)
        self.work_splitter.addWidget(self.bottom_tabs)
        self.work_splitter.setSizes([360, 440])  # the tabs below hold tables and answers
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.library)
        self.splitter.addWidget(self.work_splitter)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([220, 1060])
        self.setCentralWidget(self.splitter)
        self.statusBar().addPermanentWidget(self.cursor_position)
        self.tab_mode_label = QLabel("Tab moves focus", self)
        self.tab_mode_label.setObjectName("tabModeStatus")
        self.tab_mode_label.setToolTip("Ctrl+M: Tab in the editor types a tab again")
        self.tab_mode_label.hide()
        self.statusBar().addPermanentWidget(self.tab_mode_label)
        self.notifier = StatusNotifier(self.statusBar(), self)

        self.workspace = Workspace(
            db,
            keys,
            self.settings,
            self.library,
            self.editor,
            self.variables,
            self.run_board,
            self.tasks,
            self.run_worker,
            self.profiles,
            self.notifier,
        )
        self.run_board.set_profiles(self.profiles.profiles())
        ws = self.workspace
        self.tools_binding = ToolsBinding(ws.session, self.tools_panel, self.run_board)
        ws.promptOpened.connect(self._prompt_opened)
        ws.versionsChanged.connect(self._refresh_history)
        self.library.matchRequested.connect(self.show_match)
        self.library.evaluationRequested.connect(self.show_evaluation)
        self.library.versionRequested.connect(
            lambda prompt_id, version_id: self.history.show_match(prompt_id, version_id)
        )
        self.workspace.titleChanged.connect(self._set_title)
        self.workspace.analysed.connect(self._show_analysis)
        self.variables.valuesChanged.connect(self._tab_through_variables)  # rows may be new
        self.editor.cursorMoved.connect(
            lambda line, col: self.cursor_position.setText(f"Ln {line}, Col {col}")
        )
        self.tasks.failed.connect(lambda error: show_error(self, error))
        self.announcer = a11y.Announcer(self.statusBar())  # for screen readers, focus kept
        self.notifier.statusMessage.connect(self.announcer.say)
        self.tasks.failed.connect(self.announcer.error)
        ws.runFinished.connect(lambda _run: self._announce_run())
        self.exchange = ExchangeFlow(self, self.workspace, self.tasks)
        ws.conversations.caseRequested.connect(lambda values: self.eval_flow.add_case(values))
        self.pins = PinsFlow(db, self.workspace, self.run_board, self.tasks)
        self._improve: ImproveFlow | None = None  # Improve and Optimise: built on first use
        self._optimise: OptimiseFlow | None = None
        self.ratings = AnswerRatings(db, self.workspace.runs, self.run_board, self.tasks)
        ws.promptOpened.connect(self.ratings.show_pins)
        self.local_model = LocalModelFlow(
            self, self.data_dir, self.profiles, self.notifier, self.settings
        )
        self.local_model.profilesChanged.connect(self._profiles_changed)
        self.registry = ActionRegistry(self)
        self._register_actions()
        self.registry.build_menus()
        a11y.install_keyboard_rules(self)
        self.regions = a11y.RegionCycler(keyboard.window_regions(self), self)
        self.recent_menu = QMenu("Open re&cent", self)
        self.recent_menu.setObjectName("recentMenu")
        file_menu = self.registry.menus["&File"]
        file_menu.insertMenu(self.registry["prompt.save"], self.recent_menu)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.workspace.promptOpened.connect(self._remember_recent)
        columns = self.state.value("run/columns")
        if isinstance(columns, str) and columns:
            try:  # the last layout, so a new prompt starts with the models in use
                self.run_board.set_configs([ColumnConfig.from_dict(c) for c in json.loads(columns)])
            except (ValueError, TypeError, AttributeError):
                log.warning("ignoring an unreadable column layout in ui-state.ini")
        folded = self.state.value("run/folded")
        if isinstance(folded, str) and folded:
            self.run_board.set_folded_ids(folded.split(","))
        self.command_palette: CommandPalette | None = None
        for key, splitter in self._splitters().items():
            saved = self.state.value(f"window/{key}")
            if saved is not None:
                splitter.restoreState(saved)

        self.apply_settings(self.settings.values())

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

    def _build_improve(self) -> None:
        """Improve, Generate and Optimise: flows over the same services as an evaluation,
        built on first use (they import the evaluator)."""
        from promptstudio.ui.improve.improve_flow import ImproveFlow, ImproveServices
        from promptstudio.ui.improve.optimise_flow import OptimiseFlow

        ws, navigation = self.workspace, self.workspace.navigation

        def open_new_prompt(prompt_id: int) -> None:
            self.library.refresh()
            self.library.select_prompt(prompt_id)
            ws.open_prompt(prompt_id)

        def reload_cases(prompt_id: int) -> None:
            self.eval_flow.open_prompt(prompt_id)
            self.bottom_tabs.setCurrentWidget(self.evaluate)

        services = ImproveServices(
            session=ws.session, db=ws.db, worker=self.run_worker, notifier=self.notifier,
            run_target=ws.endpoints.run_target, save_for_run=navigation.save_for_run,
            open_version=navigation.open_version, open_prompt=open_new_prompt,
            flush_cases=lambda: self.eval_flow.flush(), reload_cases=reload_cases,
            prices=lambda: ws.endpoints.prices, limits=ws.endpoints.limits,
        )  # fmt: skip
        self._improve = ImproveFlow(self, services, self.tasks)
        self._improve.improved.connect(lambda version: ws.versionsChanged.emit(version.prompt_id))
        self._optimise = OptimiseFlow(
            self,
            services,
            self.tasks,
            lambda *args, **kwargs: self.eval_flow.evaluation_for(*args, **kwargs),
            navigation.restore,
        )
        self._optimise.finished.connect(lambda _report: self._versions_changed())

    def _versions_changed(self) -> None:
        prompt_id = self.workspace.session.prompt_id
        if prompt_id is not None:
            self.workspace.versionsChanged.emit(prompt_id)

    def apply_settings(self, changed: dict[str, object]) -> None:
        """Make settings take effect at once: the editor font and the theme."""
        values = self.settings.values()
        if "editor.font_family" in changed or "editor.font_size" in changed:
            family = values["editor.font_family"]
            size = values["editor.font_size"]
            assert isinstance(size, int)
            self.editor.apply_font(family if isinstance(family, str) else None, size)
        if "prices.overrides" in changed:
            self.workspace.endpoints.forget_prices()
        if "appearance.theme" in changed:
            self.editor.highlighter.set_dark(apply_theme(str(values["appearance.theme"])))
            if self._shown_error is not None:  # the error link's colour is in its text
                self._show_analysis(self._shown_error)

    def open_settings(self) -> SettingsDialog:
        from promptstudio.ui.settings.providers_page import ProvidersPage
        from promptstudio.ui.settings.settings_dialog import SettingsDialog

        if self.settings_dialog is None:
            providers = ProvidersPage(self.profiles, self.workspace.keys, self.tasks)
            providers.profilesChanged.connect(self._profiles_changed)
            providers.localSetupRequested.connect(self.local_model.open_setup)
            self.settings_dialog = SettingsDialog(
                self.settings, self, extra_pages=[("Providers", providers)]
            )
            self.settings_dialog.applied.connect(self.apply_settings)
            self.settings_dialog.finished.connect(self._forget_settings_dialog)
        self.settings_dialog.open()
        return self.settings_dialog

    def _profiles_changed(self) -> None:
        self.run_board.set_profiles(self.profiles.profiles())
        self.workspace.update_key_status()

    def _forget_settings_dialog(self) -> None:
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()
            self.settings_dialog = None

    # ---- panes built on first use ---------------------------------------------------------

    @property
    def history(self) -> HistoryPane:
        """The History tab, built the first time it is shown or used."""
        if self._history is None:
            from promptstudio.ui.history.history_pane import HistoryPane

            navigation = self.workspace.navigation
            history = HistoryPane(self.workspace.db, self.tasks, self)
            history.restoreRequested.connect(  # the one restore path
                lambda version_id: self.tasks.start("restore", navigation.restore(version_id))
            )
            history.openVersionRequested.connect(
                lambda version_id: self.tasks.start(
                    "open-version", navigation.open_version(version_id)
                )
            )
            history.exportVersionRequested.connect(self.exchange.open_export)
            self._history = history
            self._put_in_tab(HISTORY_TAB, history)
            if self.workspace.prompt_id is not None:
                history.set_prompt(self.workspace.prompt_id)
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

    def _build_evaluate(self) -> None:
        from promptstudio.ui.evaluate.eval_flow import EvalFlow, EvalServices
        from promptstudio.ui.evaluate.eval_pane import EvalPane

        ws = self.workspace
        self._evaluate = pane = EvalPane(self)
        services = EvalServices(
            session=ws.session,
            db=ws.db,
            worker=self.run_worker,
            notifier=self.notifier,
            run_target=ws.endpoints.run_target,
            save_for_run=ws.navigation.save_for_run,
            check_template=ws.analysis.check,
            prices=lambda: ws.endpoints.prices,
            limits=ws.endpoints.limits,
            setting=self.settings.get,
            check_tools=ws.endpoints.check_tools,
        )
        self._eval_flow = flow = EvalFlow(pane, services, self.tasks)
        flow.versionsChanged.connect(ws.versionsChanged)
        saved = self.state.value("window/evalSplitter")
        if saved is not None:
            pane.splitter.restoreState(saved)
        self._put_in_tab(EVALUATE_TAB, pane)
        if ws.prompt_id is not None:
            flow.open_prompt(ws.prompt_id, at_once=True)

    def _put_in_tab(self, index: int, pane: QWidget) -> None:
        """Put a pane built on first use in place of its tab's stand-in."""
        tabs = self.bottom_tabs
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
            self.history  # noqa: B018 (builds it)

    def _prompt_opened(self, prompt_id: int) -> None:
        if self._history is not None:
            self._history.set_prompt(prompt_id)
        if self._eval_flow is not None:
            self._eval_flow.open_prompt(prompt_id)

    def _refresh_history(self, _prompt_id: int) -> None:
        if self._history is not None:
            self._history.refresh()

    async def _resume_batches(self) -> None:
        """Evaluations sent as batches by an earlier session are polled again from the start:
        the Evaluate tab (whose flow collects them) is built at once when there are any."""
        from promptstudio.storage import batches

        pending = await self.workspace.db.acall(batches.list_batches, open_only=True)
        if pending and self._eval_flow is None:
            self.eval_flow  # noqa: B018 (builds it; it polls the open batches)

    # ---- recent prompts ----------------------------------------------------------------

    def recent_prompts(self) -> list[int]:
        value = self.state.value("library/recent") or ""
        return [int(part) for part in str(value).split(",") if part.strip().isdigit()]

    def _remember_recent(self, prompt_id: int) -> None:
        recent = [prompt_id, *(p for p in self.recent_prompts() if p != prompt_id)][:RECENT]
        self.state.setValue("library/recent", ",".join(map(str, recent)))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        names = self.workspace.known
        for number, prompt_id in enumerate(p for p in self.recent_prompts() if p in names):
            action = self.recent_menu.addAction(f"&{number + 1}  {names[prompt_id]}")
            action.triggered.connect(functools.partial(self.workspace.open_prompt, prompt_id))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("No recent prompts").setEnabled(False)

    def _splitters(self) -> dict[str, QSplitter]:
        return {
            "splitter": self.splitter,
            "workSplitter": self.work_splitter,
            "topSplitter": self.top_splitter,
            "sideSplitter": self.side_splitter,
            **({"evalSplitter": self._evaluate.splitter} if self._evaluate is not None else {}),
        }

    def start(self) -> None:
        """Load the library; call once the asyncio loop is running."""
        for problem in (self.settings.problem, self._profiles_problem):
            if problem:
                self.notifier.say(problem, 15_000)
        db = self.workspace.db
        if db.recovery is not None:
            self.recovery_notice = QMessageBox(
                QMessageBox.Icon.Warning, "The library was repaired", db.recovery.summary(),
                QMessageBox.StandardButton.Ok, self,
            )  # fmt: skip
            self.recovery_notice.setObjectName("recoveryNotice")
            self.recovery_notice.open()
        if db.interrupted:  # once, after the first prompt's own line ("Restored…", "Opened…")
            self.workspace.libraryLoaded.connect(
                self._say_interrupted, Qt.ConnectionType.SingleShotConnection
            )
        self.tasks.start("backup", db.abackup_if_due())
        last = self.state.value("library/lastPrompt")
        select = int(last) if last is not None and str(last).isdigit() else None
        self.tasks.start("library", self.workspace.load_library(select=select))
        self.tasks.start("eval-batches-resume", self._resume_batches())

    def _say_interrupted(self) -> None:
        count = self.workspace.db.interrupted
        said = (
            "1 answer was cut off by a crash; History shows it"
            if count == 1
            else (f"{count:,} answers were cut off by a crash; History shows them")
        )
        shown = [self.notifier.current(), f"{said} as interrupted"]
        self.notifier.say(" — ".join(text for text in shown if text), 15_000)

    def offer_first_launch(
        self, candidates: Sequence[Candidate] | None = None
    ) -> FirstLaunchOffer | None:
        """On a first launch (no column layout saved yet), look for model servers and keys
        and offer them in the run board; the look runs off the GUI thread."""
        if self.state.contains("run/columns"):
            return None
        from promptstudio.providers.probe import USUAL_SERVERS
        from promptstudio.ui.board.first_launch import FirstLaunchOffer

        self.first_launch = FirstLaunchOffer(
            self.run_board, self.tasks, self.run_worker, self.profiles,
            USUAL_SERVERS if candidates is None else candidates,
        )  # fmt: skip
        self.first_launch.panel.localSetupRequested.connect(self.local_model.open_setup)
        self.local_model.ready.connect(self.first_launch.use_local)
        self.local_model.running.connect(self.first_launch.offer_local)
        self.first_launch.start()
        return self.first_launch

    # ---- actions ------------------------------------------------------------------------

    def _register_actions(self) -> None:
        from promptstudio.ui.board.run_column import FOLD_SHORTCUT

        ws, add = self.workspace, self.registry.add
        navigation = ws.navigation
        add(ActionSpec("prompt.new", "&New prompt", "&File", QKeySequence.StandardKey.New),
            lambda: self.tasks.start("new", navigation.new_prompt()))  # fmt: skip
        add(ActionSpec("prompt.quick_open", "Quic&k open…", "&File", "Ctrl+P"),
            self.open_quick_open)  # fmt: skip
        add(ActionSpec("prompt.save", "&Save version", "&File", QKeySequence.StandardKey.Save),
            lambda: self.tasks.start("save", navigation.save()))  # fmt: skip
        add(ActionSpec("prompt.save_message", "Save version with &message…", "&File",
                       "Ctrl+Shift+S"), self.save_with_message)  # fmt: skip
        add(ActionSpec("prompt.rename", "&Rename prompt", "&File", "F2"),
            self.library.rename_current)  # fmt: skip
        add(ActionSpec("prompt.trash", "Move prompt to tras&h", "&File", "Ctrl+Shift+Del"),
            lambda: self.tasks.start("trash", navigation.trash_current()))  # fmt: skip
        keyboard.register_prompt_actions(self)
        add(ActionSpec("file.import", "&Import prompts…", "&File", "Ctrl+I",
                       "Add .prompty, promptfoo, JSON, Markdown or text files to the library"),
            self.exchange.choose_files)  # fmt: skip
        add(ActionSpec("file.import_folder", "Import a &folder…", "&File", "Ctrl+Shift+I"),
            self.exchange.choose_folder)  # fmt: skip
        add(ActionSpec("file.export", "&Export…", "&File", "Ctrl+E",
                       "Prompty, promptfoo, JSON, Markdown, Python or curl; or the library"),
            self.exchange.open_export)  # fmt: skip
        add(ActionSpec("app.settings", "Se&ttings…", "&File", "Ctrl+,"), self.open_settings)
        add(ActionSpec("app.local_model", "Set up a &local model…", "&File", "Ctrl+K, M",
                       "Install and run a small model on this computer (no key, no cost)"),
            self.local_model.open_setup)  # fmt: skip
        add(ActionSpec("app.quit", "&Quit", "&File", "Ctrl+Q"), self.close)
        add(ActionSpec("edit.undo", "&Undo", "&Edit", QKeySequence.StandardKey.Undo),
            self.editor.undo)  # fmt: skip
        add(ActionSpec("edit.redo", "&Redo", "&Edit", QKeySequence.StandardKey.Redo),
            self.editor.redo)  # fmt: skip
        add(ActionSpec("edit.find", "&Find…", "&Edit", QKeySequence.StandardKey.Find),
            self.find_bar.open_bar)  # fmt: skip
        add(ActionSpec("edit.replace", "Find and re&place…", "&Edit", "Ctrl+H"),
            lambda: self.find_bar.open_bar(replace=True))  # fmt: skip
        add(ActionSpec("edit.find_next", "Find &next", "&Edit", QKeySequence.StandardKey.FindNext),
            self.find_bar.find_next)  # fmt: skip
        add(ActionSpec("edit.go_to_error", "Go to template &error", "&Edit", "F8"),
            self.go_to_error)  # fmt: skip
        self.tab_mode = add(ActionSpec("edit.tab_moves_focus", "&Tab moves focus", "&Edit",
                                       "Ctrl+M", TAB_MODE_TIP), self.toggle_tab_mode)  # fmt: skip
        self.tab_mode.setCheckable(True)
        add(ActionSpec("run.run", "&Run all columns", "&Run", ("Ctrl+Return", "Ctrl+Enter")),
            lambda: ws.run())  # fmt: skip
        add(ActionSpec("run.stop", "&Stop all", "&Run", "Esc"), self.stop_all)
        add(ActionSpec("eval.run", "&Evaluate on the test cases", "&Run", "Ctrl+Shift+E",
                       "Run every test case on every column and grade the answers"),
            self.run_evaluation)  # fmt: skip
        add(ActionSpec("eval.samples_batch", "Send the samples as a &batch", "&Run", "Ctrl+K, B",
                       "Each column's samples through the provider's batch API (half price, "
                       "within 24 h), shown in Evaluate as they arrive"),
            lambda: self.run_evaluation(samples_batch=True))  # fmt: skip
        add(ActionSpec("eval.plan", "&Plan the evaluation (cost)…", "&Run", "Ctrl+Alt+E",
                       "Requests, cache hits, estimated tokens and cost, before spending"),
            lambda: self.evaluate.planRequested.emit())  # fmt: skip
        add(ActionSpec("eval.clear_cache", "Forget the cached &answers", "&Run", "Ctrl+Alt+Shift+E",
                       "Evaluations ask the models again instead of reusing an answer"),
            lambda: self.tasks.start("clear-cache", self.eval_flow.clear_cache()))  # fmt: skip
        add(ActionSpec("run.preview", "Pre&view the messages…", "&Run", "Ctrl+Shift+Return"),
            lambda: ws.preview())  # fmt: skip
        add(ActionSpec("run.add_column", "Add a &column", "&Run", "Ctrl+Shift+N"),
            self.add_column)  # fmt: skip
        add(ActionSpec("run.fold_columns", "&Fold the column settings", "&Run", FOLD_SHORTCUT,
                       "Show each column's server, model and parameters as one line, or all"),
            self.run_board.toggle_fold_all)  # fmt: skip
        add(ActionSpec("improve.improve", "&Improve prompt…", "&Improve", "Ctrl+Alt+I",
                       "A model critiques the template and proposes a checked rewrite"),
            lambda: self.improve.open_improve())  # fmt: skip
        add(ActionSpec("improve.new_prompt", "&Write a prompt from a task…", "&Improve",
                       "Ctrl+Alt+N", "A model writes a first template with sample values"),
            lambda: self.improve.new_prompt_from_task())  # fmt: skip
        add(ActionSpec("improve.cases", "&Generate test cases…", "&Improve", "Ctrl+Alt+G",
                       "Typical, edge and adversarial cases, added marked generated"),
            lambda: self.improve.generate_cases_asked())  # fmt: skip
        add(ActionSpec("improve.optimise", "&Optimise on the test cases…", "&Improve",
                       "Ctrl+Alt+O", "Rounds of rewrites, each evaluated; the best is kept"),
            lambda: self.optimise.open())  # fmt: skip
        add(ActionSpec("view.palette", "&Command palette…", "&View", "Ctrl+Shift+P"),
            self.open_palette)  # fmt: skip
        add(ActionSpec("view.editor", "Focus the &editor", "&View", "Ctrl+1"),
            self.editor.setFocus)  # fmt: skip
        add(ActionSpec("view.variables", "Focus the &variables", "&View", "Ctrl+2"),
            self.focus_variables)  # fmt: skip
        add(ActionSpec("view.tools", "Focus the &tools", "&View", "Ctrl+5"),
            self.tools_panel.focus_editor)  # fmt: skip
        add(ActionSpec("view.run", "Show the &run board", "&View", "Ctrl+3"),
            self.show_run_board)  # fmt: skip
        add(ActionSpec("view.evaluate", "Show Eval&uate (test cases)", "&View", "Ctrl+4"),
            lambda: self.bottom_tabs.setCurrentWidget(self.evaluate))  # fmt: skip
        add(ActionSpec("view.history", "Show the &history", "&View", "Ctrl+Shift+H"),
            self.show_history)  # fmt: skip
        add(ActionSpec("view.prompts", "Focus the &prompt list", "&View", "Ctrl+0"),
            self.library.tree.setFocus)  # fmt: skip
        add(ActionSpec("view.next_region", "Ne&xt region", "&View", "F6",
                       "Library, editor, variables, run board, the tabs below"),
            lambda: self.regions.cycle(1))  # fmt: skip
        add(ActionSpec("view.previous_region", "Previous re&gion", "&View", "Shift+F6"),
            lambda: self.regions.cycle(-1))  # fmt: skip
        add(ActionSpec("library.search", "&Search prompts and answers", "&Edit", "Ctrl+Shift+F"),
            self.library.focus_search)  # fmt: skip
        for theme, key in (("light", "L"), ("dark", "D"), ("system", "S")):
            add(ActionSpec(f"view.theme_{theme}", THEME_TEXT[theme], "&View", f"Ctrl+K, {key}",
                           "Light, dark, or the desktop's colour scheme"),
                functools.partial(self.set_theme, theme))  # fmt: skip
        add(ActionSpec("help.shortcuts", "&Keyboard and accessibility…", "&Help", "Ctrl+K, K",
                       "Every shortcut, the keyboard modes and what a screen reader hears"),
            lambda: self.open_help("shortcuts"))  # fmt: skip
        add(ActionSpec("help.docs", "&Documentation…", "&Help", "Shift+F1"),
            lambda: self.open_help("docs"))  # fmt: skip
        add(ActionSpec("help.data_folder", "Open the data f&older", "&Help", "Ctrl+K, F",
                       "The library, settings, backups and logs"),
            lambda: self.open_help("data folder"))  # fmt: skip
        add(ActionSpec("help.log", "Open the &log file", "&Help", "Ctrl+K, G"),
            lambda: self.open_help("log"))  # fmt: skip
        add(ActionSpec("help.report", "&Report a problem…", "&Help", "Ctrl+K, R"),
            lambda: self.open_help("report"))  # fmt: skip
        add(ActionSpec("help.about", "&About PromptStudio", "&Help", "F1"), self.about)

    def open_palette(self) -> CommandPalette:
        from promptstudio.ui.command_palette import CommandPalette

        if self.command_palette is not None:
            self.command_palette.close()
            self.command_palette.deleteLater()
        self.command_palette = CommandPalette(self.registry.all(), self)
        self.command_palette.open()
        self.command_palette.filter.setFocus()
        return self.command_palette

    def save_with_message(self) -> None:
        dialog = QInputDialog(self)
        dialog.setObjectName("saveMessageDialog")
        dialog.setWindowTitle("Save version")
        dialog.setLabelText("Describe this version (optional):")
        dialog.textValueSelected.connect(
            lambda text: self.tasks.start("save", self.workspace.navigation.save(text.strip()))
        )
        dialog.open()

    def open_quick_open(self) -> QuickOpen:
        from promptstudio.ui.library.quick_open import QuickOpen

        if self.quick_open is None:
            self.quick_open = QuickOpen(self.workspace.db, self.tasks, self)
            self.quick_open.promptChosen.connect(self.workspace.open_prompt)
            self.quick_open.promptChosen.connect(self.library.select_prompt)
        self.quick_open.open()
        return self.quick_open

    def run_evaluation(self, samples_batch: bool = False) -> None:
        self.bottom_tabs.setCurrentWidget(self.evaluate)
        if samples_batch:
            self.eval_flow.batches.send_samples()
        else:
            self.eval_flow.run()

    def stop_all(self) -> None:
        self.workspace.stop()
        if self._eval_flow is not None:
            self._eval_flow.stop()

    def show_match(self, prompt_id: int, version_id: int, response_id: int = 0) -> None:
        """A search hit, opened: its prompt, with History on the version and answer."""
        self.history.show_match(prompt_id, version_id, response_id or None)
        self.workspace.open_prompt(prompt_id)
        self.bottom_tabs.setCurrentWidget(self.history)

    def show_evaluation(self, prompt_id: int, eval_id: int) -> None:
        """A search hit on an evaluation cell's note: its prompt, with that evaluation."""
        self.eval_flow.show_when_open(prompt_id, eval_id)
        self.workspace.open_prompt(prompt_id)
        self.bottom_tabs.setCurrentWidget(self.evaluate)

    def show_history(self) -> None:
        self.bottom_tabs.setCurrentWidget(self.history)
        self.history.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def show_run_board(self) -> None:
        """Ctrl+3: the run board, the focus on the first column's answer."""
        self.bottom_tabs.setCurrentWidget(self.run_board)
        self.run_board.columns[0].output.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def add_column(self) -> None:
        """A new column, the focus in its model field (what one changes first)."""
        self.bottom_tabs.setCurrentWidget(self.run_board)
        column = self.run_board.add_column()
        if column is not None:
            column.model.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _tab_through_variables(self) -> None:
        """Tab goes as the eye reads: the editor, each variable's field, then the tools."""
        fields = a11y.focus_order(self.variables)
        a11y.chain([self.editor, *fields, self.tools_panel.editor])

    def _announce_run(self) -> None:
        self.run_board.flush()  # the last updates, so every column's end is known
        self.announcer.say(a11y.run_summary(self.run_board.columns))

    def toggle_tab_mode(self) -> None:
        """Ctrl+M: Tab in the editor moves the focus (on) or types a tab (off)."""
        on = self.tab_mode.isChecked()
        self.editor.setTabChangesFocus(on)
        self.tab_mode_label.setVisible(on)
        said = "Tab moves focus" if on else "Tab types a tab"
        self.notifier.say(f"{said} (Ctrl+M to change)", 3000)  # said to a screen reader too

    def focus_variables(self) -> None:
        self.variables.focus_first()

    def go_to_error(self) -> None:
        position = self.editor.error_position
        if position is not None:
            self.editor.go_to(*position)

    def set_theme(self, theme: str) -> None:
        """Light, dark or system, as in Settings (and kept there)."""
        self.apply_settings(self.settings.update({"appearance.theme": theme}))
        self.notifier.say(f"Theme: {theme}", 3000)

    def open_help(self, what: str) -> QDialog | None:
        """Help: the shortcuts, the docs, a bug report's details, the data folder or log."""
        from promptstudio.logs import log_path
        from promptstudio.ui import help_dialogs

        log_file = log_path(self.data_dir)
        if what == "shortcuts":
            return help_dialogs.shortcuts_dialog(self.registry.by_menu(), self)
        if what == "docs":
            return help_dialogs.documentation_dialog(self)
        if what == "report":
            return help_dialogs.report_dialog(self.data_dir, log_file, self)
        target = self.data_dir if what == "data folder" else log_file
        if not target.exists():
            self.notifier.say(f"Nothing there yet: {target}")
        elif not help_dialogs.open_path(target):
            self.notifier.say(f"No program to open {target}")
        return None

    def about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, f"About {APP_NAME}",
                          f"{APP_NAME} {__version__}\nA desktop IDE for prompt engineering.",
                          QMessageBox.StandardButton.Ok, self)  # fmt: skip
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # ---- status --------------------------------------------------------------------------

    def _set_title(self, document: str) -> None:
        self.setWindowTitle(f"{APP_NAME} — {document}" if document else APP_NAME)

    def _show_analysis(self, error: TemplateError | None) -> None:
        self._shown_error = error
        if error is None:
            count = len(self.variables.names())
            self.template_status.setText(
                f"Template OK · {count} variable{'s' if count != 1 else ''}"
            )
            set_status(self.template_status, "ok")
        else:
            self.template_status.setText(
                f'<a href="#error" style="color: {status_colours()["error"]}">'
                f"Line {error.line}, column {error.column}</a>: "
                f"{error.message.replace('<', '&lt;')}"
            )
            set_status(self.template_status, "error")

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.built:  # closed while starting: nothing is open yet
            event.accept()
            return
        try:
            if self._eval_flow is not None:
                self._eval_flow.save_on_exit()
            self.workspace.save_on_exit()
        except PromptStudioError as exc:  # e.g. the library went away: still close
            log.error("could not keep unsaved work on close: %s", exc)
        self.state.setValue("window/geometry", self.saveGeometry())
        for key, splitter in self._splitters().items():
            self.state.setValue(f"window/{key}", splitter.saveState())
        columns = [config.to_dict() for config in self.workspace.session.columns]
        self.state.setValue("run/columns", json.dumps(columns))
        self.state.setValue("run/folded", ",".join(self.run_board.folded()))
        if self.workspace.prompt_id is not None:
            self.state.setValue("library/lastPrompt", self.workspace.prompt_id)
        self.state.sync()
        self.tasks.shutdown()
        self.run_worker.stop()
        self.local_model.stop()  # the server this window started: never an orphan
        event.accept()
