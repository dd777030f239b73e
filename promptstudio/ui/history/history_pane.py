"""The history panel: every version of a prompt, what changed, and what each one answered.

A timeline table (:class:`VersionHistoryModel`, loaded a page at a time) over three tabs:
the template diff of two versions (or one against its parent), the runs of a version with
their answers, and one model's answers for two versions side by side. The panel never
edits the editor itself: "Restore" and "Open in editor" are signals the workspace acts on,
so the editor and its unsaved-changes logic stay in one place (one restore path).
The table (``version_table``), the Runs and Compare tabs (``runs_tab``, ``compare_tab``)
and the labels (``version_labels``) live in their own modules; this pane wires them.

Details load only for the visible tab, a moment after the selection settles; each load is
a named task, so a newer selection cancels the older load instead of racing it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from PySide6.QtCore import QItemSelection, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from promptstudio.storage import Database, library
from promptstudio.storage.images import diff_text
from promptstudio.storage.library import VersionRow, VersionSummary
from promptstudio.storage.ratings import Rating, set_rating
from promptstudio.tools import text_with_tools
from promptstudio.ui import a11y
from promptstudio.ui.history.compare_tab import CompareTab
from promptstudio.ui.history.diff_view import DiffView
from promptstudio.ui.history.graph_tab import GraphTab
from promptstudio.ui.history.hint_stack import HintStack
from promptstudio.ui.history.history_model import VersionHistoryModel, version_title
from promptstudio.ui.history.runs_tab import RunsTab
from promptstudio.ui.history.version_labels import VersionLabels
from promptstudio.ui.history.version_table import VersionTable
from promptstudio.ui.tasks import TaskOwner

DETAILS_DELAY_MS = 40  # holding an arrow key through the history loads only where it stops
VERSION_CACHE = 64  # saved template content never changes, so it can be kept
DIFF_TAB, RUNS_TAB, COMPARE_TAB, GRAPH_TAB = range(4)


def _action(pane: QWidget, text: str, key: str | None, slot: Callable[[], object]) -> QAction:
    """An action of the pane, its shortcut working wherever the focus is inside the pane."""
    action = QAction(text, pane)
    if key:
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.triggered.connect(lambda _checked=False: slot())
    pane.addAction(action)
    return action


class HistoryPane(QWidget):
    versionSelected = Signal(int)  # the version the user moved to (the current row)
    restoreRequested = Signal(int)  # version id: the workspace restores it into the editor
    openVersionRequested = Signal(int)  # version id: show it in the editor
    exportVersionRequested = Signal(int)  # version id: open the export dialog on it
    diffShown = Signal()  # the Diff tab shows the current selection
    runsShown = Signal()  # the Runs tab shows the current selection
    comparisonShown = Signal()  # the Compare tab shows the current selection and model
    graphShown = Signal()  # the Graph tab shows the prompt's versions

    def __init__(self, db: Database, tasks: TaskOwner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPane")
        self.db, self.tasks = db, tasks
        self.model = VersionHistoryModel(db, tasks, self)
        self._versions: OrderedDict[int, VersionRow] = OrderedDict()
        self._match: tuple[int, int, int | None] | None = None  # a search hit to select
        self._answer_to_show: tuple[int, int] | None = None  # (version, response) for Runs

        self.table = VersionTable(self.model, self)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.activated.connect(lambda _index: self._open_focus())  # Return, double-click
        self.version_labels = VersionLabels(
            db, tasks, self, self.focus_version, lambda: self.model.prompt_id, self._reload_all
        )

        self.open_action = _action(self, "Open in editor", None, self._open_focus)
        self.restore_action = _action(
            self, "Restore this version", "Ctrl+Shift+R", self._restore_focus
        )
        self.export_action = _action(self, "Export this version…", None, self._export_focus)
        self.label_action = _action(self, "Set label…", "Ctrl+L", self.version_labels.ask_label)
        self.unlabel_action = _action(
            self, "Remove label", "Ctrl+Shift+L", self.version_labels.ask_remove_label
        )
        self.gate_action = _action(
            self, "Label gate…", "Ctrl+Shift+G", self.version_labels.ask_gate
        )
        self.gate_action.setToolTip(
            "Let a label move only to versions whose latest evaluation passes (Ctrl+Shift+G)"
        )
        self.open_action.setToolTip("Open this version in the editor (Return, double-click)")
        self.restore_action.setToolTip(
            "Make this version current again, as a new version (nothing is lost)"
        )

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("historyTabs")
        a11y.name_tabs(self.tabs, "History views")
        self.diff = DiffView(self)
        self.diff_stack = HintStack(self.diff, self)
        self.runs = RunsTab(self)
        self.runs.answerRated.connect(self._rate_answer)
        self.runs_model, self.runs_tree = self.runs.model, self.runs.tree
        self.answer, self.runs_title = self.runs.answer, self.runs.title
        self.compare = CompareTab(self)
        self.compare.modelChanged.connect(self.show_details)
        self.model_combo, self.comparison = self.compare.model_combo, self.compare.comparison
        self.compare_stack = self.compare.stack
        self.tabs.addTab(self.diff_stack, "Diff")
        self.tabs.addTab(self.runs, "Runs")
        self.tabs.addTab(self.compare, "Compare model")
        self.graph = GraphTab(db, self)
        self.graph.versionChosen.connect(lambda version_id: self.select_versions(version_id))
        self.tabs.addTab(self.graph, "Graph")
        self.tabs.currentChanged.connect(self.graph.mark_stale)  # shown again: read again

        header = QHBoxLayout()
        header.addWidget(QLabel("<b>History</b>", self))
        # A tool bar: what does not fit goes behind its » button, so the buttons never set
        # the window's minimum width (the window must fit 1600 px at 200% scale).
        actions = QToolBar("History actions", self)
        actions.setObjectName("historyActions")
        actions.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (
            self.open_action,
            self.restore_action,
            self.label_action,
            self.unlabel_action,
            self.gate_action,
        ):
            actions.addAction(action)
        header.addStretch(1)
        header.addWidget(actions)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.table)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(splitter, 1)

        self._details_timer = QTimer(self)
        self._details_timer.setSingleShot(True)
        self._details_timer.setInterval(DETAILS_DELAY_MS)
        self._details_timer.timeout.connect(self.show_details)
        selection = self.table.selectionModel()
        selection.selectionChanged.connect(self._on_selection)
        selection.currentRowChanged.connect(self._on_current)
        self.tabs.currentChanged.connect(lambda _index: self.show_details())
        self.model.loaded.connect(self._on_loaded)
        self._show_empty()
        self._update_actions()

    # ---- public API ----------------------------------------------------------------------

    def focus_versions(self) -> None:
        """Keyboard focus to the list of versions (Ctrl+4 and the History menu)."""
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def set_prompt(self, prompt_id: int | None) -> None:
        """Show another prompt's history; its newest version is selected once loaded."""
        if self._match is not None and self._match[0] != prompt_id:
            self._match = None
        self._versions.clear()
        self.graph.mark_stale()
        self.model.set_prompt(prompt_id)
        self.table.forget_selection()
        self.table.follow_newest = prompt_id is not None
        self.version_labels.rows = []
        self.model_combo.clear()
        self._show_empty()
        self._update_actions()
        if prompt_id is not None:
            self.tasks.start("history.meta", self._load_meta(prompt_id))

    def show_match(self, prompt_id: int, version_id: int, response_id: int | None = None) -> None:
        """Select a search hit's version (and its answer, in the Runs tab) once the prompt's
        history is in; older pages are read until the version is among them."""
        self._match = (prompt_id, version_id, response_id or None)
        if response_id:
            self.tabs.setCurrentIndex(RUNS_TAB)
        if self.model.prompt_id == prompt_id and not self.model.loading:
            self._select_match()

    def _select_match(self) -> None:
        assert self._match is not None
        prompt_id, version_id, response_id = self._match
        if self.model.prompt_id != prompt_id:
            return  # its history is on the way (set_prompt)
        if self.model.row_of(version_id) >= 0:
            self._match, self.table.follow_newest = None, False
            self._answer_to_show = (version_id, response_id) if response_id else None
            self.table.select_ids(version_id)
        elif self.model.canFetchMore():
            self.model.fetchMore()  # _on_loaded looks again
        elif not self.model.loading:
            self._match = None  # gone meanwhile: the newest is selected as usual

    def refresh(self) -> None:
        """Reload after history changed elsewhere (a save, a run); keeps the selection."""
        if self.model.prompt_id is not None:
            self.tasks.start("history.refresh", self._reload_all())

    def selected_versions(self) -> list[VersionSummary]:
        """The selected rows, oldest first (the order a diff reads in)."""
        return self.table.selected_versions()

    def focus_version(self) -> VersionSummary | None:
        """What an action applies to: the current row if selected, else the newest selected."""
        return self.table.focus_version()

    def select_versions(self, *version_ids: int) -> None:
        """Select these versions (those loaded); the last one becomes the current row.

        A choice: new versions no longer move the selection to the newest."""
        self.table.follow_newest = False
        self.table.select_ids(*version_ids)

    # ---- actions -------------------------------------------------------------------------

    def _open_focus(self) -> None:
        version = self.focus_version()
        if version is not None:
            self.openVersionRequested.emit(version.id)

    def _restore_focus(self) -> None:
        version = self.focus_version()
        if version is not None:
            self.restoreRequested.emit(version.id)

    def _export_focus(self) -> None:
        version = self.focus_version()
        if version is not None:
            self.exportVersionRequested.emit(version.id)

    def context_menu(self) -> QMenu:
        """The table's context menu: the same actions as the buttons and shortcuts."""
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.open_action)
        menu.addAction(self.restore_action)
        menu.addAction(self.export_action)
        menu.addSeparator()
        menu.addAction(self.label_action)
        menu.addAction(self.unlabel_action)
        menu.addAction(self.gate_action)
        return menu

    def _context_menu(self, position: QPoint) -> None:
        if self.table.indexAt(position).isValid():
            self.context_menu().popup(self.table.viewport().mapToGlobal(position))

    def _update_actions(self) -> None:
        version = self.focus_version()
        for action in (self.open_action, self.restore_action, self.export_action,
                       self.label_action):  # fmt: skip
            action.setEnabled(version is not None)
        self.unlabel_action.setEnabled(version is not None and bool(version.labels))

    # ---- selection and loading -----------------------------------------------------------

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_actions()
        self._details_timer.start()

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_actions()
        if current.isValid():
            self.versionSelected.emit(self.model.summary(current.row()).id)

    def _on_loaded(self) -> None:
        if self._match is not None:
            self._select_match()
        self.table.after_load()

    async def _reload_all(self) -> None:
        prompt_id = self.model.prompt_id
        if prompt_id is None:
            return
        self._versions.clear()  # a message can change when identical content is saved again
        self.graph.mark_stale()
        await self.model.reload()
        await self._load_meta(prompt_id)
        self._update_actions()
        self.show_details()

    async def _load_meta(self, prompt_id: int) -> None:
        """The prompt's labels and the models that answered it (for the Compare tab)."""
        labels = await self.db.acall(library.list_labels, prompt_id)
        models = await self.db.acall(library.models_for_prompt, prompt_id)
        if prompt_id != self.model.prompt_id:
            return
        self.version_labels.rows = labels
        self.compare.set_models(models)
        if self.tabs.currentIndex() == COMPARE_TAB:
            self.show_details()

    async def _version(self, version_id: int) -> VersionRow:
        version = self._versions.get(version_id)
        if version is None:
            version = await self.db.acall(library.get_version, version_id)
            self._versions[version_id] = version
            while len(self._versions) > VERSION_CACHE:
                self._versions.popitem(last=False)
        return version

    async def _pair(self, picked: list[VersionSummary]) -> tuple[VersionRow | None, VersionRow]:
        """(older, newer): the two selected, or the one selected and its parent (if any)."""
        newer = await self._version(picked[-1].id)
        if len(picked) == 2:
            return await self._version(picked[0].id), newer
        parent = newer.parent_id
        return (await self._version(parent) if parent is not None else None), newer

    # ---- the tabs ------------------------------------------------------------------------

    def show_details(self) -> None:
        """Fill the visible tab for the current selection (the others wait until shown)."""
        self._details_timer.stop()
        picked = self.selected_versions()
        tab = self.tabs.currentIndex()
        if tab == DIFF_TAB:
            self.tasks.start("history.details", self._show_diff(picked))
        elif tab == RUNS_TAB:
            self.tasks.start("history.details", self._show_runs(self.focus_version()))
        elif tab == COMPARE_TAB:
            model = self.model_combo.currentText()
            self.tasks.start("history.details", self._show_comparison(picked, model))
        elif tab == GRAPH_TAB:
            focus = self.focus_version()
            self.tasks.start("history.details", self._show_graph(focus.id if focus else None))

    async def _show_graph(self, focus_id: int | None) -> None:
        await self.graph.show_graph(self.model.prompt_id, focus_id)
        self.graphShown.emit()

    def _show_empty(self) -> None:
        self.diff_stack.show_hint("Select a version to see what it changed, or two to compare.")
        self.runs.show_hint("Select a version to see its runs.")
        self.compare_stack.show_hint("Select two versions to compare one model's answers.")

    async def _show_diff(self, picked: list[VersionSummary]) -> None:
        if len(picked) not in (1, 2):
            self.diff_stack.show_hint(
                "Select one version to see what it changed, or two to compare them."
            )
        else:
            older, newer = await self._pair(picked)
            self.diff.set_titles(
                version_title(older.number, older.message) if older else "No earlier version",
                version_title(newer.number, newer.message),
            )
            self.diff.clear_formats()
            old_images = await self.db.acall(library.version_images, older.id) if older else []
            new_images = await self.db.acall(library.version_images, newer.id)
            old_text = text_with_tools(older.template, older.settings) if older else ""
            new_text = text_with_tools(newer.template, newer.settings)
            self.diff.show_diff(
                diff_text(old_text, old_images, new_images) if older else "",
                diff_text(new_text, new_images, old_images),
            )
            self.diff_stack.show_content()
        self.diffShown.emit()

    def _rate_answer(self, response_id: int, rating: Rating) -> None:
        self.tasks.start(f"history-rate:{response_id}", self._store_rating(response_id, rating))

    async def _store_rating(self, response_id: int, rating: Rating) -> None:
        stored = await self.db.acall(set_rating, "response", response_id, rating)
        self.runs.show_rating(response_id, stored)

    async def _show_runs(self, version: VersionSummary | None) -> None:
        if version is None:
            self.runs.show_hint("Select a version to see its runs.")
        else:
            runs = await self.db.acall(library.runs_for_version, version.id)
            answer_id = None
            if runs and self._answer_to_show is not None and self._answer_to_show[0] == version.id:
                answer_id, self._answer_to_show = self._answer_to_show[1], None
            self.runs.show_runs(version.number, runs, answer_id)
        self.runsShown.emit()

    async def _show_comparison(self, picked: list[VersionSummary], model: str) -> None:
        prompt_id = self.model.prompt_id
        if not model or prompt_id is None:
            self.compare_stack.show_hint("No model has answered this prompt yet.")
        elif len(picked) not in (1, 2):
            self.compare_stack.show_hint("Select two versions to compare one model's answers.")
        else:
            older, newer = await self._pair(picked)
            if older is None:
                self.compare_stack.show_hint(f"v{newer.number} has no earlier version.")
                self.comparisonShown.emit()
                return
            answers = await self.db.acall(
                library.compare_model_across_versions, prompt_id, model, [older.id, newer.id]
            )
            self.compare.show_answers(older, newer, answers[older.id], answers[newer.id])
        self.comparisonShown.emit()
