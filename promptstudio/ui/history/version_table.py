"""History's timeline table: one row per version, newest first, and what is selected in it.

The selection survives a reload (a save or a run adds rows above it), and until the user
picks a version with the mouse or the keyboard, the newest version is the one selected.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelection, QItemSelectionModel, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from promptstudio.storage.library import VersionSummary
from promptstudio.ui import a11y
from promptstudio.ui.history.history_model import Column, VersionHistoryModel


class VersionTable(QTableView):
    def __init__(self, model: VersionHistoryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyTable")
        self.setAccessibleName("Versions")
        self.setMinimumHeight(a11y.MIN_LIST_HEIGHT)  # a short window (200% scale): it scrolls
        a11y.leave_on_tab(self)  # Tab leaves; a two-version selection stays
        self.setModel(model)
        self.history = model
        self.follow_newest = False
        """Select the newest version after each load: on until the user picks one."""
        self._keep: tuple[list[int], int | None] | None = None  # selection across a reset
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.installEventFilter(self)  # the user picking a version (see eventFilter)
        self.viewport().installEventFilter(self)
        header = self.horizontalHeader()
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
        metrics = self.fontMetrics()
        for column, sample in samples.items():
            self.setColumnWidth(column, metrics.horizontalAdvance(sample) + 24)
        model.modelAboutToBeReset.connect(self.remember_selection)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress):
            self.follow_newest = False  # the user picks from now on, not the newest
        return super().eventFilter(watched, event)

    def selected_versions(self) -> list[VersionSummary]:
        """The selected rows, oldest first (the order a diff reads in)."""
        rows = self.selectionModel().selectedRows()
        picked = [self.history.summary(index.row()) for index in rows]
        return sorted(picked, key=lambda version: version.number)

    def focus_version(self) -> VersionSummary | None:
        """What an action applies to: the current row if selected, else the newest selected."""
        current = self.currentIndex()
        if current.isValid() and self.selectionModel().isRowSelected(current.row()):
            return self.history.summary(current.row())
        picked = self.selected_versions()
        return picked[-1] if picked else None

    def select_ids(self, *version_ids: int) -> None:
        """Select these versions (those loaded); the last one becomes the current row."""
        selection = QItemSelection()
        model = self.history
        rows = [row for row in (model.row_of(v) for v in version_ids) if row >= 0]
        for row in rows:
            selection.select(model.index(row, 0), model.index(row, len(Column) - 1))
        flags = QItemSelectionModel.SelectionFlag
        selection_model = self.selectionModel()
        if rows:  # the view's own way: Shift+arrows then extend from this row
            self.setCurrentIndex(model.index(rows[-1], 0))
        selection_model.select(selection, flags.ClearAndSelect)
        if rows:
            selection_model.setCurrentIndex(model.index(rows[-1], 0), flags.NoUpdate)
            self.scrollTo(model.index(rows[-1], 0))

    def forget_selection(self) -> None:
        """Another prompt: nothing to keep across the reset."""
        self._keep = None

    def remember_selection(self) -> None:
        current = self.currentIndex()
        self._keep = (
            [version.id for version in self.selected_versions()],
            self.history.summary(current.row()).id if current.isValid() else None,
        )

    def after_load(self) -> None:
        """Select again what was selected before the reload, or the newest version."""
        if self._keep is not None:
            ids, current = self._keep
            self._keep = None
            self.select_ids(
                *[i for i in ids if i != current], *([] if current is None else [current])
            )
        # Until the user picks a version, the newest is selected, also after runs and saves
        # added versions above it (else History opens on the oldest).
        if self.follow_newest and self.history.rowCount():
            newest = self.history.summary(0).id
            if [version.id for version in self.selected_versions()] != [newest]:
                self.select_ids(newest)
