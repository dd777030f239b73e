"""The history panel: every version of a prompt, what changed, and what each one answered.

A timeline table (:class:`VersionHistoryModel`, loaded a page at a time) over three tabs:
the template diff of two versions (or one against its parent), the runs of a version with
their answers, and one model's answers for two versions side by side. The panel never
edits the editor itself: "Restore" and "Open in editor" are signals the workspace acts on,
so the editor and its unsaved-changes logic stay in one place.

Details load only for the visible tab, a moment after the selection settles; each load is
a named task, so a newer selection cancels the older load instead of racing it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence, QPalette, QTextCharFormat
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from promptstudio.storage import Database, library
from promptstudio.storage.library import LabelRow, ResponseRow, VersionRow, VersionSummary
from promptstudio.ui.history.diff_view import DiffView
from promptstudio.ui.history.history_model import (
    Column,
    RunsTreeModel,
    VersionHistoryModel,
    format_cost,
    format_seconds,
    status_note,
    version_title,
)
from promptstudio.ui.tasks import TaskOwner

DETAILS_DELAY_MS = 40  # holding an arrow key through the history loads only where it stops
VERSION_CACHE = 64  # saved template content never changes, so it can be kept
SUGGESTED_LABELS = ("prod", "staging", "best")
DIFF_TAB, RUNS_TAB, COMPARE_TAB = range(3)


class _HintStack(QStackedWidget):
    """A tab's content, or a sentence saying what to select to see it."""

    def __init__(self, content: QWidget, parent: QWidget) -> None:
        super().__init__(parent)
        self.hint = QLabel(self)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.content = content
        self.addWidget(self.hint)
        self.addWidget(content)

    def show_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.setCurrentWidget(self.hint)

    def show_content(self) -> None:
        self.setCurrentWidget(self.content)


class HistoryPane(QWidget):
    versionSelected = Signal(int)  # the version the user moved to (the current row)
    restoreRequested = Signal(int)  # version id: the workspace restores it into the editor
    openVersionRequested = Signal(int)  # version id: show it in the editor
    exportVersionRequested = Signal(int)  # version id: open the export dialog on it
    diffShown = Signal()  # the Diff tab shows the current selection
    runsShown = Signal()  # the Runs tab shows the current selection
    comparisonShown = Signal()  # the Compare tab shows the current selection and model

    def __init__(self, db: Database, tasks: TaskOwner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPane")
        self.db, self.tasks = db, tasks
        self.model = VersionHistoryModel(db, tasks, self)
        self.labels: list[LabelRow] = []  # the prompt's labels, for the "Set label" choices
        self._versions: OrderedDict[int, VersionRow] = OrderedDict()
        self._keep: tuple[list[int], int | None] | None = None  # selection across a reset
        self._select_newest = False  # follow the newest version until the user picks one
        self._match: tuple[int, int, int | None] | None = None  # a search hit to select
        self._answer_to_show: tuple[int, int] | None = None  # (version, response) for Runs

        self.table = QTableView(self)
        self.table.setObjectName("historyTable")
        self.table.setModel(self.model)
        self._setup_table()

        self.open_action = self._action("Open in editor", None, self._open_focus)
        self.restore_action = self._action(
            "Restore this version", "Ctrl+Shift+R", self._restore_focus
        )
        self.export_action = self._action("Export this version…", None, self._export_focus)
        self.label_action = self._action("Set label…", "Ctrl+L", self.ask_label)
        self.unlabel_action = self._action("Remove label", "Ctrl+Shift+L", self.ask_remove_label)
        self.open_action.setToolTip("Open this version in the editor (Return, double-click)")
        self.restore_action.setToolTip(
            "Make this version current again, as a new version (nothing is lost)"
        )

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("historyTabs")
        self.diff = DiffView(self)
        self.diff_stack = _HintStack(self.diff, self)
        self.tabs.addTab(self.diff_stack, "Diff")
        self.tabs.addTab(self._build_runs_tab(), "Runs")
        self.tabs.addTab(self._build_compare_tab(), "Compare model")

        header = QHBoxLayout()
        header.addWidget(QLabel("<b>History</b>", self))
        header.addStretch(1)
        for action in (
            self.open_action,
            self.restore_action,
            self.label_action,
            self.unlabel_action,
        ):
            button = QToolButton(self)
            button.setDefaultAction(action)
            header.addWidget(button)
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
        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.loaded.connect(self._on_loaded)
        self._show_empty()
        self._update_actions()

    # ---- building ------------------------------------------------------------------------

    def _setup_table(self) -> None:
        table = self.table
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setShowGrid(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._context_menu)
        table.activated.connect(lambda _index: self._open_focus())  # Return, double-click
        table.installEventFilter(self)  # the user picking a version (see eventFilter)
        table.viewport().installEventFilter(self)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.MESSAGE, QHeaderView.ResizeMode.Stretch)
        # Widths from samples, not ResizeToContents: that would measure rows on every page.
        samples = {
            Column.VERSION: "v9999",
            Column.WHEN: "2099-12-31",
            Column.LABELS: "prod, staging",
            Column.KIND: "restore",
            Column.RUNS: "Runs",
            Column.BEST_COST: "Best cost",
            Column.BEST_LATENCY: "Best latency",
        }
        metrics = table.fontMetrics()
        for column, sample in samples.items():
            table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 24)

    def _build_runs_tab(self) -> QWidget:
        self.runs_model = RunsTreeModel(self)
        self.runs_tree = QTreeView(self)
        self.runs_tree.setObjectName("historyRuns")
        self.runs_tree.setModel(self.runs_model)
        self.runs_tree.setUniformRowHeights(True)
        self.runs_tree.setAlternatingRowColors(True)
        self.runs_tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runs_tree.header().setStretchLastSection(False)
        self.runs_tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        metrics = self.runs_tree.fontMetrics()
        for column, sample in enumerate(("", "cancelled", "0.00 s", "00.0 s", "~0000 → ~0000")):
            if column:
                self.runs_tree.setColumnWidth(column, metrics.horizontalAdvance(sample) + 20)
        self.runs_tree.setColumnWidth(5, metrics.horizontalAdvance("$0.000058") + 20)
        self.runs_tree.selectionModel().currentChanged.connect(self._on_response)
        self.answer = QPlainTextEdit(self)
        self.answer.setObjectName("historyAnswer")
        self.answer.setReadOnly(True)
        self.answer.setPlaceholderText("Select an answer to read it.")
        self.runs_title = QLabel(self)
        self.runs_title.setObjectName("historyRunsTitle")
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.runs_tree)
        splitter.addWidget(self.answer)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        page = QWidget(self)
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(4, 4, 4, 4)
        page_layout.addWidget(self.runs_title)
        page_layout.addWidget(splitter, 1)
        self.runs_stack = _HintStack(page, self)
        return self.runs_stack

    def _build_compare_tab(self) -> QWidget:
        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("historyCompareModel")
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.currentTextChanged.connect(lambda _text: self.show_details())
        self.comparison = DiffView(self)
        self.comparison.setObjectName("historyComparison")
        self.compare_stack = _HintStack(self.comparison, self)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 0)
        bar.addWidget(QLabel("Model:", self))
        bar.addWidget(self.model_combo)
        bar.addWidget(QLabel("the newest answer of each version, compared word by word", self))
        bar.addStretch(1)
        page = QWidget(self)
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addLayout(bar)
        page_layout.addWidget(self.compare_stack, 1)
        return page

    def _action(self, text: str, key: str | None, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        if key:
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress):
            self._select_newest = False  # the user picks from now on, not the newest
        return super().eventFilter(watched, event)

    # ---- public API ----------------------------------------------------------------------

    def set_prompt(self, prompt_id: int | None) -> None:
        """Show another prompt's history; its newest version is selected once loaded."""
        if self._match is not None and self._match[0] != prompt_id:
            self._match = None
        self._versions.clear()
        self.model.set_prompt(prompt_id)
        self._keep = None
        self._select_newest = prompt_id is not None
        self.labels = []
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
            self._match, self._select_newest = None, False
            self._answer_to_show = (version_id, response_id) if response_id else None
            self._select(version_id)
        elif self.model.canFetchMore():
            self.model.fetchMore()  # _on_loaded looks again
        elif not self.model.loading:
            self._match = None  # gone meanwhile: the newest is selected as usual

    def refresh(self) -> None:
        """Reload after history changed elsewhere (a save, a run); keeps the selection."""
        if self.model.prompt_id is not None:
            self.tasks.start("history.refresh", self._reload_all())

    async def set_label(self, version_id: int, name: str) -> None:
        """Point ``name`` at the version, moving it off another version if it was set."""
        prompt_id = self.model.prompt_id
        if prompt_id is not None:
            await self.db.acall(library.set_label, prompt_id, name, version_id)
            await self._reload_all()

    async def remove_label(self, name: str) -> bool:
        """Drop the prompt's label ``name``; False if it had none by that name."""
        prompt_id = self.model.prompt_id
        if prompt_id is None:
            return False
        removed = await self.db.acall(library.remove_label, prompt_id, name)
        await self._reload_all()
        return bool(removed)

    def selected_versions(self) -> list[VersionSummary]:
        """The selected rows, oldest first (the order a diff reads in)."""
        rows = self.table.selectionModel().selectedRows()
        picked = [self.model.summary(index.row()) for index in rows]
        return sorted(picked, key=lambda version: version.number)

    def focus_version(self) -> VersionSummary | None:
        """What an action applies to: the current row if selected, else the newest selected."""
        current = self.table.currentIndex()
        if current.isValid() and self.table.selectionModel().isRowSelected(current.row()):
            return self.model.summary(current.row())
        picked = self.selected_versions()
        return picked[-1] if picked else None

    def select_versions(self, *version_ids: int) -> None:
        """Select these versions (those loaded); the last one becomes the current row.

        A choice: new versions no longer move the selection to the newest."""
        self._select_newest = False
        self._select(*version_ids)

    def _select(self, *version_ids: int) -> None:
        selection = QItemSelection()
        rows = [row for row in (self.model.row_of(v) for v in version_ids) if row >= 0]
        for row in rows:
            selection.select(self.model.index(row, 0), self.model.index(row, len(Column) - 1))
        flags = QItemSelectionModel.SelectionFlag
        model = self.table.selectionModel()
        model.select(selection, flags.ClearAndSelect)
        if rows:
            model.setCurrentIndex(self.model.index(rows[-1], 0), flags.NoUpdate)
            self.table.scrollTo(self.model.index(rows[-1], 0))

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

    def ask_label(self) -> QInputDialog | None:
        """Ask for a label name (non-modal); an existing label moves to this version."""
        version = self.focus_version()
        if version is None:
            return None
        existing = [label.name for label in self.labels]
        folded = {name.casefold() for name in existing}
        choices = existing + [name for name in SUGGESTED_LABELS if name not in folded]
        dialog = QInputDialog(self)
        dialog.setObjectName("labelDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowTitle("Set label")
        dialog.setLabelText(f"Label for v{version.number} (an existing label moves here):")
        dialog.setComboBoxItems(choices)
        dialog.setComboBoxEditable(True)
        dialog.setTextValue("")
        dialog.textValueSelected.connect(lambda text: self._label_chosen(version.id, text))
        dialog.open()
        return dialog

    def _label_chosen(self, version_id: int, text: str) -> None:
        if text.strip():
            self.tasks.start("history.label", self.set_label(version_id, text.strip()))

    def ask_remove_label(self) -> QInputDialog | None:
        """Remove the focused version's label; with several, ask which (non-modal)."""
        version = self.focus_version()
        if version is None or not version.labels:
            return None
        if len(version.labels) == 1:
            self.tasks.start("history.label", self.remove_label(version.labels[0]))
            return None
        dialog = QInputDialog(self)
        dialog.setObjectName("removeLabelDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowTitle("Remove label")
        dialog.setLabelText(f"Remove which label from v{version.number}?")
        dialog.setComboBoxItems(list(version.labels))
        dialog.textValueSelected.connect(
            lambda name: self.tasks.start("history.label", self.remove_label(name))
        )
        dialog.open()
        return dialog

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

    def _remember_selection(self) -> None:
        current = self.table.currentIndex()
        self._keep = (
            [version.id for version in self.selected_versions()],
            self.model.summary(current.row()).id if current.isValid() else None,
        )

    def _on_loaded(self) -> None:
        if self._match is not None:
            self._select_match()
        if self._keep is not None:
            ids, current = self._keep
            self._keep = None
            self._select(*[i for i in ids if i != current], *([] if current is None else [current]))
        # Until the user picks a version, the newest is selected, also after runs and saves
        # added versions above it (else History opens on the oldest).
        if self._select_newest and self.model.rowCount():
            newest = self.model.summary(0).id
            if [version.id for version in self.selected_versions()] != [newest]:
                self._select(newest)

    async def _reload_all(self) -> None:
        prompt_id = self.model.prompt_id
        if prompt_id is None:
            return
        self._versions.clear()  # a message can change when identical content is saved again
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
        self.labels = labels
        chosen = self.model_combo.currentText()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItems(models)
        if chosen in models:
            self.model_combo.setCurrentText(chosen)
        self.model_combo.blockSignals(False)
        self.model_combo.setEnabled(bool(models))
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

    def _show_empty(self) -> None:
        self.diff_stack.show_hint("Select a version to see what it changed, or two to compare.")
        self.runs_stack.show_hint("Select a version to see its runs.")
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
            _plain_formats(self.diff)
            self.diff.show_diff(older.template if older else "", newer.template)
            self.diff_stack.show_content()
        self.diffShown.emit()

    async def _show_runs(self, version: VersionSummary | None) -> None:
        if version is None:
            self.runs_stack.show_hint("Select a version to see its runs.")
        else:
            runs = await self.db.acall(library.runs_for_version, version.id)
            self.runs_model.set_runs(runs)
            self.answer.clear()
            if not runs:
                self.runs_stack.show_hint(f"v{version.number} has not been run.")
            else:
                count = sum(len(entry.responses) for entry in runs)
                self.runs_title.setText(
                    f"<b>Runs of v{version.number}</b> · {len(runs)} run"
                    f"{'' if len(runs) == 1 else 's'}, {count} answer{'' if count == 1 else 's'}"
                )
                for row in range(self.runs_model.rowCount()):
                    self.runs_tree.setFirstColumnSpanned(row, QModelIndex(), True)
                self.runs_tree.expandAll()
                first = self.runs_model.index(0, 0, self.runs_model.index(0, 0))
                found = None
                if self._answer_to_show is not None and self._answer_to_show[0] == version.id:
                    found = self.runs_model.index_of(self._answer_to_show[1])
                    self._answer_to_show = None
                if found is not None:
                    self.runs_tree.setCurrentIndex(found)
                elif first.isValid():
                    self.runs_tree.setCurrentIndex(first)
                self.runs_stack.show_content()
        self.runsShown.emit()

    def _on_response(self, current: QModelIndex, _previous: QModelIndex) -> None:
        response = self.runs_model.response(current)
        if response is None:
            self.answer.clear()
        elif response.error or status_note(response):
            why = response.error or status_note(response)
            self.answer.setPlainText(f"{response.text}\n\n[{response.status}] {why}")
        else:
            self.answer.setPlainText(response.text)

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
            left, right = _best(answers[older.id]), _best(answers[newer.id])
            self.comparison.set_titles(_answer_title(older, left), _answer_title(newer, right))
            _plain_formats(self.comparison)
            self.comparison.show_words(left.text if left else "", right.text if right else "")
            self.compare_stack.show_content()
        self.comparisonShown.emit()


def _plain_formats(view: DiffView) -> None:
    """Work around DiffView reusing the last character format for the next text.

    After a comparison whose highlight ran to the end of a side (an answer against no
    answer), ``setPlainText`` would paint the whole next text as changed.
    """
    for editor in (view.left, view.right):
        editor.setCurrentCharFormat(QTextCharFormat())


def _best(responses: list[ResponseRow]) -> ResponseRow | None:
    """The newest finished answer; a failed or cancelled one only if there is no other."""
    done = [response for response in responses if response.status == "done"]
    found = done or responses
    return found[0] if found else None


def _answer_title(version: VersionRow, response: ResponseRow | None) -> str:
    title = version_title(version.number, version.message, limit=40)
    if response is None:
        return f"{title} · no answer from this model"
    figures = [format_seconds(response.total_ms), format_cost(response.cost)]
    if response.status != "done":
        figures.insert(0, response.status)
    return f"{title} · " + " · ".join(figures)
