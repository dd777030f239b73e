"""The test cases' table view: rows as tall as their text, a cell editor with room, Tab
along a row.

Only the rows on screen are fitted to their text, up to :data:`ROW_LINES` lines
(``ResizeToContents`` measures every row on every change: most of a second per edit with
3000 cases). A multi-line cell editor grows its row while it is open and is scrolled into
sight. Tab stops at the last cell instead of going round to the first.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget

from promptstudio.ui import a11y
from promptstudio.ui.evaluate.cases_delegate import ROW_PADDING, CellDelegate, editor_height
from promptstudio.ui.evaluate.cases_model import CasesModel

ROW_LINES: Final = 3  # a row grows with its text up to this many lines
MIN_COLUMN_WIDTH: Final = 90


class CasesView(QTableView):
    def __init__(self, model: CasesModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cases = model
        self._tall_row: int | None = None  # the row grown for a multi-line cell editor
        self.setObjectName("casesView")
        self.setAccessibleName("Test cases")
        a11y.leave_on_tab(self)  # in a cell's editor Tab goes to the next cell
        self.setMinimumHeight(a11y.MIN_LIST_HEIGHT)  # a short window (200% scale): it scrolls
        self.setModel(model)
        delegate = CellDelegate(self)
        delegate.tallEditorOpened.connect(self._make_room_for_editor)
        delegate.closeEditor.connect(self._editor_closed)
        self.setItemDelegate(delegate)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        triggers = QAbstractItemView.EditTrigger
        self.setEditTriggers(
            triggers.DoubleClicked | triggers.EditKeyPressed | triggers.AnyKeyPressed
        )
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setAlternatingRowColors(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(MIN_COLUMN_WIDTH)
        rows, line = self.verticalHeader(), self.fontMetrics().lineSpacing()
        rows.setDefaultSectionSize(line + ROW_PADDING)  # until fitted: rows of one line
        self._row_cap = line * ROW_LINES + ROW_PADDING
        rows.setMaximumSectionSize(self._row_cap)
        self._fit_rows_timer = QTimer(self)
        self._fit_rows_timer.setSingleShot(True)
        self._fit_rows_timer.setInterval(0)
        self._fit_rows_timer.timeout.connect(self._fit_visible_rows)
        for signal in (model.modelReset, model.rowsInserted, model.rowsMoved, model.dataChanged):
            signal.connect(self._fit_rows_timer.start)
        self.verticalScrollBar().valueChanged.connect(self._fit_rows_timer.start)
        header.sectionResized.connect(self._fit_rows_timer.start)

    def moveCursor(
        self, cursorAction: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        current = self.currentIndex()
        model = self.model()
        if current.isValid() and model is not None:
            actions = QAbstractItemView.CursorAction
            last = (model.rowCount() - 1, model.columnCount() - 1)
            if (cursorAction == actions.MoveNext and (current.row(), current.column()) == last) or (
                cursorAction == actions.MovePrevious and (current.row(), current.column()) == (0, 0)
            ):
                return QModelIndex()  # editing ends here; the text stays in its own row
        return super().moveCursor(cursorAction, modifiers)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_rows_timer.start()

    def _fit_visible_rows(self) -> None:
        row, bottom = max(0, self.rowAt(0)), self.viewport().height()
        while row < self._cases.rowCount() and self.rowViewportPosition(row) < bottom:
            if row != self._tall_row:  # that one holds an open editor
                self.resizeRowToContents(row)
            row += 1

    def _make_room_for_editor(self, row: int) -> None:
        """A multi-line editor opens in its row: the row grows and is scrolled into sight,
        so the editor covers neither the rows above nor runs off the bottom."""
        self._tall_row = row
        grid = 1 if self.showGrid() else 0  # the cell is the row less its grid line
        wanted = min(editor_height(self) + grid, self.viewport().height())
        rows = self.verticalHeader()
        rows.setMaximumSectionSize(max(wanted, self._row_cap))  # this row only, while editing
        self.setRowHeight(row, max(self.rowHeight(row), wanted))
        self.updateGeometries()  # the scroll range for the taller row, before scrolling
        self.scrollTo(self._cases.index(row, max(0, self.currentIndex().column())))

    def _editor_closed(self) -> None:
        self._tall_row = None
        self.verticalHeader().setMaximumSectionSize(self._row_cap)
        self._fit_rows_timer.start()
