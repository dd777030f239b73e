"""The main window: assembles the panes and their owners; the flow lives in Workspace.

What it builds lives in small owners: the menus and shortcuts in ``window_actions`` (one
table), the panes built on first use (History, Evaluate, Improve, Optimise) in
``lazy_panes``, its dialogs in ``window_dialogs``, File › Open recent in ``recent_prompts``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from promptstudio import APP_NAME
from promptstudio.errors import PromptStudioError
from promptstudio.settings.store import SettingsStore
from promptstudio.ui import a11y, file_dialogs, keyboard
from promptstudio.ui.actions import ActionRegistry
from promptstudio.ui.lazy_panes import EVALUATE_TAB, HISTORY_TAB
from promptstudio.ui.theme import apply_theme

if TYPE_CHECKING:  # the panes are imported when the window is built, after its first paint
    from collections.abc import Sequence

    from promptstudio.credentials import KeyStore
    from promptstudio.providers.probe import Candidate
    from promptstudio.storage import Database
    from promptstudio.ui.board.first_launch import FirstLaunchOffer
    from promptstudio.ui.board.run_board import RunBoard
    from promptstudio.ui.command_palette import CommandPalette
    from promptstudio.ui.editor.find_bar import FindBar
    from promptstudio.ui.editor.template_editor import TemplateEditor
    from promptstudio.ui.editor.tools_panel import ToolsPanel
    from promptstudio.ui.editor.variables_form import VariablesForm
    from promptstudio.ui.evaluate.eval_flow import EvalFlow
    from promptstudio.ui.evaluate.eval_pane import EvalPane
    from promptstudio.ui.exchange_flow import ExchangeFlow
    from promptstudio.ui.history.history_pane import HistoryPane
    from promptstudio.ui.improve.improve_flow import ImproveFlow
    from promptstudio.ui.improve.optimise_flow import OptimiseFlow
    from promptstudio.ui.lazy_panes import LazyPanes
    from promptstudio.ui.library.library_pane import LibraryPane
    from promptstudio.ui.library.quick_open import QuickOpen
    from promptstudio.ui.local_model_flow import LocalModelFlow
    from promptstudio.ui.settings.settings_dialog import SettingsDialog
    from promptstudio.ui.status import StatusNotifier
    from promptstudio.ui.tasks import TaskOwner
    from promptstudio.ui.window_dialogs import WindowDialogs
    from promptstudio.ui.workspace import Workspace

__all__ = ["EVALUATE_TAB", "HISTORY_TAB", "MainWindow"]

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The window. Given no library it shows at once, empty, and :meth:`build` fills it.

    ``run_app`` uses that to paint the window (at its saved place, in its theme) before
    the panes, the SDKs and the library are loaded; tests pass the library and get a
    built window.
    """

    # What a built window holds (the actions' table reaches them through the window).
    tasks: TaskOwner
    workspace: Workspace
    notifier: StatusNotifier
    library: LibraryPane
    editor: TemplateEditor
    find_bar: FindBar
    variables: VariablesForm
    tools_panel: ToolsPanel
    run_board: RunBoard
    bottom_tabs: QTabWidget
    panes: LazyPanes
    dialogs: WindowDialogs
    exchange: ExchangeFlow
    local_model: LocalModelFlow
    regions: a11y.RegionCycler

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
        from promptstudio.ui.board.run_board import RunBoard
        from promptstudio.ui.editor.find_bar import FindBar
        from promptstudio.ui.editor.template_editor import TemplateEditor
        from promptstudio.ui.editor.template_status import TemplateStatus
        from promptstudio.ui.editor.tools_panel import ToolsPanel
        from promptstudio.ui.editor.variables_form import VariablesForm
        from promptstudio.ui.library.library_pane import LibraryPane
        from promptstudio.ui.status import StatusNotifier
        from promptstudio.ui.tasks import TaskOwner

        assert not self.built, "the window is built once"
        self.built = True
        self.profiles = ProfileStore(self.data_dir)
        self._profiles_problem: str | None = None
        try:
            self.profiles.load()
        except ProfileError as exc:  # the broken file is kept aside; presets still work
            self._profiles_problem = exc.message
        self.tasks = TaskOwner(self)
        self.run_worker = RunWorker()
        self.library = LibraryPane(db, self.tasks, self)
        self.editor = TemplateEditor(self)
        self.find_bar = FindBar(self.editor, self)
        self.variables = VariablesForm(self)
        self.tools_panel = ToolsPanel(self)
        self.run_board = RunBoard(self)
        self.template_status = TemplateStatus(self)
        self.template_status.linkActivated.connect(lambda _link: self.editor.go_to_error())
        self.cursor_position = QLabel(self)
        self._lay_out()
        self.notifier = StatusNotifier(self.statusBar(), self)
        self._connect(db, keys)
        self._restore_layout()
        self.apply_settings(self.settings.values())

    def _lay_out(self) -> None:
        """The library on the left; the editor, the variables and tools beside it; the Run,
        Evaluate and History tabs below; the status bar's permanent labels."""
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

    def _connect(self, db: Database, keys: KeyStore) -> None:
        """The workspace and the owners around the panes, and what connects them."""
        from promptstudio.ui import window_actions
        from promptstudio.ui.board.answer_rating import AnswerRatings
        from promptstudio.ui.board.pins_flow import PinsFlow
        from promptstudio.ui.exchange_flow import ExchangeFlow
        from promptstudio.ui.lazy_panes import LazyPanes
        from promptstudio.ui.local_model_flow import LocalModelFlow
        from promptstudio.ui.messages import show_error
        from promptstudio.ui.recent_prompts import RecentPrompts
        from promptstudio.ui.session_binding import ToolsBinding
        from promptstudio.ui.window_dialogs import WindowDialogs
        from promptstudio.ui.workspace import Workspace

        self.workspace = ws = Workspace(
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
        self.tools_binding = ToolsBinding(ws.session, self.tools_panel, self.run_board)
        self.panes = panes = LazyPanes(
            self,
            self.bottom_tabs,
            ws,
            self.tasks,
            self.run_worker,
            self.notifier,
            self.settings,
            self.state,
            self.library,
            lambda version_id: self.exchange.open_export(version_id),
        )
        self.library.matchRequested.connect(panes.show_match)
        self.library.evaluationRequested.connect(panes.show_evaluation)
        self.library.versionRequested.connect(
            lambda prompt_id, version_id: panes.history.show_match(prompt_id, version_id)
        )
        ws.titleChanged.connect(
            lambda name: self.setWindowTitle(f"{APP_NAME} — {name}" if name else APP_NAME)
        )
        ws.analysed.connect(
            lambda error: self.template_status.show_analysis(error, len(self.variables.names()))
        )
        self.variables.valuesChanged.connect(self._tab_through_variables)  # rows may be new
        self.editor.cursorMoved.connect(
            lambda line, col: self.cursor_position.setText(f"Ln {line}, Col {col}")
        )
        self.tasks.failed.connect(lambda error: show_error(self, error))
        self.announcer = a11y.Announcer(self.statusBar())  # for screen readers, focus kept
        self.notifier.statusMessage.connect(self.announcer.say)
        self.tasks.failed.connect(self.announcer.error)
        ws.runFinished.connect(lambda _run: self._announce_run())
        self.exchange = ExchangeFlow(self, ws, self.tasks)
        ws.conversations.caseRequested.connect(lambda values: panes.eval_flow.add_case(values))
        self.pins = PinsFlow(db, ws, self.run_board, self.tasks)
        self.ratings = AnswerRatings(db, ws.runs, self.run_board, self.tasks)
        ws.promptOpened.connect(self.ratings.show_pins)
        self.local_model = LocalModelFlow(
            self, self.data_dir, self.profiles, self.notifier, self.settings
        )
        self.local_model.profilesChanged.connect(self._profiles_changed)
        self.registry = ActionRegistry(self)
        self.dialogs = WindowDialogs(
            self,
            ws,
            self.tasks,
            self.registry,
            self.settings,
            self.profiles,
            self.local_model,
            self.notifier,
            self.data_dir,
        )
        self.dialogs.settingsApplied.connect(self.apply_settings)
        self.dialogs.profilesChanged.connect(self._profiles_changed)
        self.dialogs.promptChosen.connect(self.library.select_prompt)
        self.recent = RecentPrompts(self.state, lambda: ws.known, ws.open_prompt, self)
        self.recent_menu = self.recent.menu
        window_actions.install(self)
        a11y.install_keyboard_rules(self)
        self.regions = a11y.RegionCycler(keyboard.window_regions(self), self)
        ws.promptOpened.connect(self.recent.remember)

    def _restore_layout(self) -> None:
        """The last column layout (so a new prompt starts with the models in use), the
        folded columns and the splitters, from ui-state.ini."""
        from promptstudio.ui.board.run_column import ColumnConfig

        columns = self.state.value("run/columns")
        if isinstance(columns, str) and columns:
            try:
                self.run_board.set_configs([ColumnConfig.from_dict(c) for c in json.loads(columns)])
            except (ValueError, TypeError, AttributeError):
                log.warning("ignoring an unreadable column layout in ui-state.ini")
        folded = self.state.value("run/folded")
        if isinstance(folded, str) and folded:
            self.run_board.set_folded_ids(folded.split(","))
        for key, splitter in self._splitters().items():
            saved = self.state.value(f"window/{key}")
            if saved is not None:
                splitter.restoreState(saved)

    # ---- the panes built on first use (see lazy_panes) ------------------------------------

    @property
    def history(self) -> HistoryPane:
        return self.panes.history

    @property
    def evaluate(self) -> EvalPane:
        return self.panes.evaluate

    @property
    def eval_flow(self) -> EvalFlow:
        return self.panes.eval_flow

    @property
    def improve(self) -> ImproveFlow:
        return self.panes.improve

    @property
    def optimise(self) -> OptimiseFlow:
        return self.panes.optimise

    # ---- settings and dialogs ---------------------------------------------------------------

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
            self.editor.set_dark(apply_theme(str(values["appearance.theme"])))
            self.template_status.redraw()

    def set_theme(self, theme: str) -> None:
        """Light, dark or system, as in Settings (and kept there)."""
        self.apply_settings(self.settings.update({"appearance.theme": theme}))
        self.notifier.say(f"Theme: {theme}", 3000)

    def open_settings(self) -> SettingsDialog:
        return self.dialogs.open_settings()

    def open_palette(self) -> CommandPalette:
        return self.dialogs.open_palette()

    def open_quick_open(self) -> QuickOpen:
        return self.dialogs.open_quick_open()

    def open_help(self, what: str) -> QDialog | None:
        """Help: "shortcuts", "docs", "report", "data folder" or "log"."""
        return self.dialogs.open_help(what)

    def _profiles_changed(self) -> None:
        self.run_board.set_profiles(self.profiles.profiles())
        self.workspace.update_key_status()

    # ---- keys and announcements -----------------------------------------------------------

    def stop_all(self) -> None:
        self.workspace.stop()
        self.panes.stop()

    def toggle_tab_mode(self) -> None:
        """Ctrl+M: Tab in the editor moves the focus (on) or types a tab (off)."""
        on = self.registry["edit.tab_moves_focus"].isChecked()
        self.editor.setTabChangesFocus(on)
        self.tab_mode_label.setVisible(on)
        said = "Tab moves focus" if on else "Tab types a tab"
        self.notifier.say(f"{said} (Ctrl+M to change)", 3000)  # said to a screen reader too

    def _tab_through_variables(self) -> None:
        """Tab goes as the eye reads: the editor, each variable's field, then the tools."""
        fields = a11y.focus_order(self.variables)
        a11y.chain([self.editor, *fields, self.tools_panel.editor])

    def _announce_run(self) -> None:
        self.run_board.flush()  # the last updates, so every column's end is known
        self.announcer.say(a11y.run_summary(self.run_board.columns))

    # ---- start and close ------------------------------------------------------------------

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
        self.tasks.start("eval-batches-resume", self.panes.resume_batches())

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
        self.first_launch.localSetupRequested.connect(self.local_model.open_setup)
        self.first_launch.modelsRequested.connect(self.workspace.endpoints.fetch_models)
        self.local_model.ready.connect(self.first_launch.use_local)
        self.local_model.running.connect(self.first_launch.offer_local)
        self.first_launch.start()
        return self.first_launch

    def _splitters(self) -> dict[str, QSplitter]:
        return {
            "splitter": self.splitter,
            "workSplitter": self.work_splitter,
            "topSplitter": self.top_splitter,
            "sideSplitter": self.side_splitter,
            **self.panes.splitters(),
        }

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.built:  # closed while starting: nothing is open yet
            event.accept()
            return
        try:
            self.panes.save_on_exit()
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
