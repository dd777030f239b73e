"""The prompt being edited: the session and the owners that act on it, wired together.

The :class:`~promptstudio.session.Session` (Qt-free) holds the template, values, columns
and cases; the editor, variables form and run board mirror it (:class:`SessionBinding`).
Each job has its own owner with a small interface: :class:`TemplateAnalysis` reads the
template, :class:`Drafts` keeps unsaved edits, :class:`LibraryNavigation` opens, saves,
restores and trashes, :class:`Endpoints` knows keys, prices and model lists, and
:class:`RunFlow` runs and stores. Every message for the status bar goes through one
:class:`StatusNotifier`. Every database call goes through the store's single owner thread
(``acall``), and every coroutine runs under the :class:`TaskOwner`.
"""

from __future__ import annotations

from typing import Any, cast

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from promptstudio import templating
from promptstudio.credentials import KeyStore
from promptstudio.providers.pricing import PriceTable
from promptstudio.runs.worker import RunWorker
from promptstudio.session import Session
from promptstudio.settings.profiles import ProfileStore
from promptstudio.settings.store import SettingsStore
from promptstudio.storage import Database
from promptstudio.ui.board.preview_dialog import PreviewDialog
from promptstudio.ui.board.run_board import RunBoard
from promptstudio.ui.conversation_flow import ConversationFlow
from promptstudio.ui.drafts import Drafts
from promptstudio.ui.editor.analysis import TemplateAnalysis
from promptstudio.ui.editor.template_editor import TemplateEditor
from promptstudio.ui.editor.variables_form import VariablesForm
from promptstudio.ui.endpoints import Endpoints
from promptstudio.ui.library.library_pane import LibraryPane
from promptstudio.ui.navigation import LibraryNavigation
from promptstudio.ui.run_flow import RunFlow
from promptstudio.ui.session_binding import SessionBinding
from promptstudio.ui.status import StatusNotifier
from promptstudio.ui.tasks import TaskOwner


class Workspace(QObject):
    """Wires the session's owners; the few calls other panes make are passed on."""

    def __init__(
        self,
        db: Database,
        keys: KeyStore,
        settings: SettingsStore,
        prompts: LibraryPane,
        editor: TemplateEditor,
        variables: VariablesForm,
        board: RunBoard,
        tasks: TaskOwner,
        worker: RunWorker,
        profiles: ProfileStore,
        notifier: StatusNotifier | None = None,
    ) -> None:
        super().__init__(editor)
        self.db, self.keys, self.settings, self.tasks = db, keys, settings, tasks
        self.worker, self.profiles = worker, profiles
        self.editor, self.variables, self.board = editor, variables, board
        self.notifier = notifier or StatusNotifier(parent=self)
        self.statusMessage = self.notifier.statusMessage
        self.notifier.forward(prompts.statusMessage)

        self.session = session = Session()
        self.binding = SessionBinding(session, editor, variables, board)
        self.analysis = TemplateAnalysis(session, editor, variables, tasks)
        self.drafts = Drafts(db, session, tasks, lambda: self.analysis.flush(wait=False), self)
        self.navigation = LibraryNavigation(
            db, session, prompts, editor, self.analysis, self.drafts, tasks, self.notifier
        )
        self.endpoints = Endpoints(
            session, board, keys, settings, worker, tasks, self.notifier, self
        )
        self.runs = RunFlow(
            session, board, self.endpoints, self.analysis, db, worker, tasks, self.notifier,
            self.navigation.save_for_run,
        )  # fmt: skip
        self.runs.versionsChanged.connect(self.navigation.versionsChanged)
        self.conversations = ConversationFlow(
            session, board, self.runs, self.endpoints, db, worker, tasks, self.notifier,
            self.navigation.new_prompt, lambda: int(cast(int, settings.get("run.tool_steps"))),
        )  # fmt: skip
        # Once the window shows the library, the SDKs load on the run worker.
        self.navigation.libraryLoaded.connect(
            lambda: QTimer.singleShot(0, self, self.endpoints.preload_sdks)
        )

        # The signals the window, the other flows and the tests listen to.
        self.analysed = self.analysis.analysed
        self.titleChanged = self.navigation.titleChanged
        self.libraryLoaded = self.navigation.libraryLoaded
        self.promptOpened = self.navigation.promptOpened
        self.versionsChanged = self.navigation.versionsChanged
        self.draftSaved = self.drafts.draftSaved
        self.runStored = self.runs.runStored
        self.runFinished = self.runs.runFinished
        self.limits = self.endpoints.limits

    # ---- what the session holds ------------------------------------------------------------

    @property
    def prompt_id(self) -> int | None:
        return self.session.prompt_id

    @property
    def dirty(self) -> bool:
        return self.session.dirty

    @property
    def running(self) -> bool:
        return self.runs.running or self.conversations.running

    @property
    def known(self) -> dict[int, str]:
        """The library's prompt names by id (for menus)."""
        return self.navigation.known

    @property
    def replace_question(self) -> QMessageBox | None:
        """The open "replace unsaved edits?" question, if any."""
        return self.navigation.replace_question

    @property
    def error(self) -> templating.TemplateError | None:
        return self.analysis.error

    @property
    def prices(self) -> PriceTable:
        return self.endpoints.prices

    def snapshot(self) -> tuple[str, dict[str, object], dict[str, Any]]:
        """(template, values, run settings) as a version would store them now."""
        return self.session.content().key()

    def flush_analysis(self, *, wait: bool = True) -> None:
        self.analysis.flush(wait=wait)

    def analyse(self) -> None:
        self.analysis.analyse()

    # ---- passed on -----------------------------------------------------------------------

    async def load_library(self, select: int | None = None) -> None:
        await self.navigation.load_library(select)

    def open_prompt(self, prompt_id: int) -> None:
        self.navigation.open_prompt(prompt_id)

    def run(self, column_id: str | None = None) -> None:
        self.runs.run(column_id)

    def stop(self, column_id: str | None = None) -> None:
        self.runs.stop(column_id)
        self.conversations.stop(column_id)

    def preview(self, column_id: str | None = None) -> PreviewDialog | None:
        return self.runs.preview(column_id)

    def update_key_status(self, column_id: str | None = None) -> None:
        self.endpoints.update_key_status(column_id)

    def save_on_exit(self) -> None:
        """Blocking: called from closeEvent, when the event loop may not run again."""
        self.runs.store_on_exit()
        self.conversations.store_on_exit()
        self.analysis.stop()  # the draft keeps the text; values exist only for known names
        self.drafts.save_on_exit()
