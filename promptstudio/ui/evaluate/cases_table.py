"""The Evaluate tab's test cases: a table to edit them, and the checks every case gets.

A view over :class:`~promptstudio.ui.evaluate.cases_model.CasesModel`; the owner loads and saves.
Row shortcuts live on the table view itself (``WidgetShortcut``), so Ctrl+D or Delete
typed in a cell editor or in the checks box below edit that text, never the rows.
Tab and Shift+Tab walk a row's cells (the variables, Expected, Checks, Notes) in an editor
each, on to the next row, never round from the last row to the first. Imports replace
every case as one undo step; errors go out through :attr:`failed` for the owner to show.
The checks for every case are parsed after a short pause in typing, so a half-typed type
name is not flagged at every key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from promptstudio.evals.checks_text import format_checks, parse_checks
from promptstudio.evals.graders import GraderError
from promptstudio.exchange.case_files import cases_from_file, cases_to_file
from promptstudio.exchange.errors import ExchangeError
from promptstudio.ui import a11y
from promptstudio.ui.board.scrolling_row import ScrollingRow
from promptstudio.ui.evaluate.cases_delegate import ROW_PADDING, CellDelegate, editor_height
from promptstudio.ui.evaluate.cases_model import CHECKS_HELP, CasesModel
from promptstudio.ui.evaluate.eval_grid_model import verdict_colour
from promptstudio.ui.file_dialogs import place

CASE_FILES_FILTER: Final = "Test cases (*.csv *.jsonl *.ndjson *.json)"
EVERY_CASE_PLACEHOLDER: Final = "e.g. latency: 3000   (one check per line, for every case)"
CHECK_DELAY_MS: Final = 400  # the pause in typing after which the every-case checks count
PROBLEM_MS: Final = 6000  # how long a refused cell edit stays explained
ROW_LINES: Final = 3  # a row grows with its text up to this many lines
EVERY_CASE_LINES: Final = 3  # the every-case box grows with its checks up to this many
MIN_COLUMN_WIDTH: Final = 90
Index = QModelIndex | QPersistentModelIndex
# (name, text, tooltip, shortcut on the table view or "")
_ACTIONS: Final = (
    ("add", "Add case", "Add an empty case", "Ctrl+Shift+A"),
    ("from_form", "From the form", "Add a case with the values in the variables form", ""),
    ("duplicate", "Duplicate", "Duplicate the selected cases", "Ctrl+D"),
    ("delete", "Delete", "Delete the selected cases", "Del"),
    ("up", "Move up", "Move the case up", "Alt+Up"),
    ("down", "Move down", "Move the case down", "Alt+Down"),
    ("undo", "Undo", "Undo", "Ctrl+Z"),
    ("redo", "Redo", "Redo", "Ctrl+Shift+Z"),
    ("import", "Import…", "Replace the cases with those of a CSV, JSONL or JSON file", ""),
    ("export", "Export…", "Save the cases as CSV, JSONL or JSON", ""),
)


class CasesView(QTableView):
    """The cases' table view: Tab stops at the last cell instead of going round to the first."""

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


class CasesTable(QWidget):
    addFromFormRequested = Signal()
    everyCaseChecksChanged = Signal(object)  # list[dict]: the checks, parsed
    statusMessage = Signal(str)
    failed = Signal(object)  # a BaseException for the owner to show

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("casesTable")
        self._model = CasesModel(self)
        self._view = CasesView(self)
        self._tall_row: int | None = None  # the row grown for a multi-line cell editor
        self._every_error = ""
        self._cell_problem = ""
        self._fitted = False  # columns fitted to the width when first shown
        self._every_case: list[dict[str, Any]] = []
        self._loading = False  # a prompt's cases are on their way: no edits meanwhile
        self._waiting: list[dict[str, Any]] | None = None  # imported while loading
        self._check_timer = self._timer(CHECK_DELAY_MS, self._check_every_case)
        self._problem_timer = self._timer(PROBLEM_MS, self._problem_expired)
        self._setup_view()
        self._build_actions()
        self.count_label = QLabel(self)
        self.count_label.setObjectName("casesCount")
        self.every_case = QPlainTextEdit(self)
        self.every_case.setObjectName("everyCaseChecks")
        self.every_case.setPlaceholderText(EVERY_CASE_PLACEHOLDER)
        self.every_case.setTabChangesFocus(True)
        self.every_case.setToolTip(f"Checks every case gets, besides its own.\n{CHECKS_HELP}")
        self.every_case.setAccessibleName("Checks for every case")
        self.every_case.textChanged.connect(self._check_timer.start)
        self.every_case.textChanged.connect(self._fit_every_case)
        self._fit_every_case()
        self.problem_label = QLabel(self)
        self.problem_label.setObjectName("everyCaseProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.hide()
        self._model.problem.connect(self._cell_refused)
        for signal in (self._model.modelReset, self._model.rowsInserted, self._model.rowsRemoved):
            signal.connect(self._update_count)
        self._model.rowsInserted.connect(
            lambda _parent, first, last: self.select_rows(range(first, last + 1))
        )
        self._view.selectionModel().selectionChanged.connect(self._update_actions)
        self._model.modelReset.connect(self._update_actions)
        self._model.modelReset.connect(self.fit_columns)
        self._lay_out()
        self._update_count()
        self._update_actions()

    @property
    def model(self) -> CasesModel:
        return self._model

    @property
    def view(self) -> QTableView:
        return self._view

    def fit_columns(self) -> None:
        """Share the width between the columns (a reset or a new prompt undoes manual sizes)."""
        columns = self._model.columnCount()
        width = self._view.viewport().width() or self.width()
        for column in range(columns - 1):
            self._view.setColumnWidth(column, max(MIN_COLUMN_WIDTH, width // max(columns, 1)))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            self.fit_columns()
        self._fit_rows_timer.start()

    # ---- rows ----------------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self._view.selectionModel().selectedRows()})

    def select_rows(self, rows: Sequence[int] | range) -> None:
        """Select whole rows and make the first current, keeping the current column."""
        valid = [row for row in rows if 0 <= row < self._model.rowCount()]
        selection = QItemSelection()
        last = self._model.columnCount() - 1
        for row in valid:
            selection.select(self._model.index(row, 0), self._model.index(row, last))
        flags = QItemSelectionModel.SelectionFlag
        self._view.selectionModel().select(selection, flags.ClearAndSelect | flags.Rows)
        if valid:
            current = self._model.index(valid[0], max(0, self._view.currentIndex().column()))
            self._view.selectionModel().setCurrentIndex(current, flags.NoUpdate)
            self._view.scrollTo(current)

    def add_case(self) -> None:
        """Add an empty case and edit its first cell: Tab goes on along the new row."""
        row = self._model.add_case()
        self.select_rows([row])
        first = self._model.index(row, 0)
        # Tab moves on from the current cell, so the editor must be on it.
        self._view.selectionModel().setCurrentIndex(
            first, QItemSelectionModel.SelectionFlag.NoUpdate
        )
        self._view.setFocus()
        self._view.edit(first)

    def duplicate(self) -> None:
        self.select_rows(self._model.duplicate_rows(self.selected_rows()))

    def delete(self) -> None:
        rows = self.selected_rows()
        self._model.remove_rows(rows)
        if rows and self._model.rowCount():
            self.select_rows([min(rows[0], self._model.rowCount() - 1)])

    def move_selected(self, delta: int) -> None:
        rows = self.selected_rows()
        row = rows[0] if len(rows) == 1 else self._view.currentIndex().row()
        self.select_rows([self._model.move_row(row, delta)])

    # ---- files ---------------------------------------------------------------------------

    def choose_import(self) -> QFileDialog:
        return self._open_dialog("importCasesDialog", "Import test cases", self.import_file)

    def choose_export(self) -> QFileDialog:
        return self._open_dialog(
            "exportCasesDialog", "Export the test cases", self.export_file, save=True
        )

    def import_file(self, path: Path) -> None:
        """Replace every case with the file's (one undo step); a bad file changes nothing."""
        try:
            cases = cases_from_file(path)
            if not cases:
                raise ExchangeError(f"{path.name}: there are no test cases in it.")
        except (ExchangeError, OSError) as exc:
            self.failed.emit(exc)
            return
        if self._loading:  # replaces the cases of the prompt that is loading, once shown
            self._waiting = cases
        else:
            self._model.replace_all(cases)
        self.statusMessage.emit(f"Imported {_cases(len(cases))} from {path.name}")

    def set_loading(self, loading: bool) -> None:
        """While a prompt's cases load the table is empty and takes no edits; a file
        imported meanwhile waits and replaces the cases once they are shown (one undo step),
        so it is saved under the prompt it was imported for, never the one before."""
        self._loading = loading
        self.setEnabled(not loading)
        if loading:
            self._model.set_cases([])
        elif self._waiting is not None:
            cases, self._waiting = self._waiting, None
            self._model.replace_all(cases)

    def take_waiting_import(self) -> list[dict[str, Any]] | None:
        """The cases imported while loading, not yet shown (another prompt opens instead)."""
        cases, self._waiting = self._waiting, None
        return cases

    def export_file(self, path: Path) -> None:
        cases = self._model.cases()
        try:
            cases_to_file(path, cases, self._model.variable_names)
        except ExchangeError as exc:
            self.failed.emit(exc)
            return
        except OSError as exc:
            self.failed.emit(ExchangeError(f"{path.name}: cannot be written ({exc.strerror})."))
            return
        self.statusMessage.emit(f"Exported {_cases(len(cases))} to {path.name}")

    # ---- checks for every case -----------------------------------------------------------

    def set_every_case_checks(self, asserts: Sequence[dict[str, Any]]) -> None:
        """Show a prompt's checks for every case (loading: nothing is emitted)."""
        self.every_case.blockSignals(True)  # a load, not an edit
        self.every_case.setPlainText(format_checks(asserts))
        self.every_case.blockSignals(False)
        self._every_case = [dict(check) for check in asserts]
        self._check_timer.stop()
        self._every_error = ""
        self._show_problem()

    def flush(self) -> None:
        """Emit the every-case checks now if typing left them pending."""
        if self._check_timer.isActive():
            self._check_timer.stop()
            self._check_every_case()

    def _check_every_case(self) -> None:
        try:
            checks = parse_checks(self.every_case.toPlainText())
        except GraderError as exc:
            self._every_error = f"Checks for every case: {exc.message}"
            self._show_problem()
            return
        self._every_error = ""
        self._show_problem()
        if checks != self._every_case:
            self._every_case = checks
            self.everyCaseChecksChanged.emit(checks)

    # ---- problems ------------------------------------------------------------------------

    def _cell_refused(self, message: str) -> None:
        self._cell_problem = f"Checks not changed: {message}"
        self._problem_timer.start()
        self._show_problem()

    def _problem_expired(self) -> None:
        self._cell_problem = ""
        self._show_problem()

    def _show_problem(self) -> None:
        text = self._cell_problem or self._every_error
        palette = self.problem_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, verdict_colour("fail"))
        self.problem_label.setPalette(palette)
        self.problem_label.setText(text)
        self.problem_label.setVisible(bool(text))

    # ---- building ------------------------------------------------------------------------

    def _setup_view(self) -> None:
        view = self._view
        view.setObjectName("casesView")
        view.setAccessibleName("Test cases")
        a11y.leave_on_tab(view)  # in a cell's editor Tab goes to the next cell
        view.setMinimumHeight(a11y.MIN_LIST_HEIGHT)  # a short window (200% scale): it scrolls
        view.setModel(self._model)
        delegate = CellDelegate(view)
        delegate.tallEditorOpened.connect(self._make_room_for_editor)
        delegate.closeEditor.connect(self._editor_closed)
        view.setItemDelegate(delegate)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        triggers = QAbstractItemView.EditTrigger
        view.setEditTriggers(
            triggers.DoubleClicked | triggers.EditKeyPressed | triggers.AnyKeyPressed
        )
        view.setWordWrap(True)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        view.setAlternatingRowColors(True)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        header = view.horizontalHeader()
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(MIN_COLUMN_WIDTH)
        rows, line = view.verticalHeader(), view.fontMetrics().lineSpacing()
        rows.setDefaultSectionSize(line + ROW_PADDING)  # until fitted: rows of one line
        self._row_cap = line * ROW_LINES + ROW_PADDING
        rows.setMaximumSectionSize(self._row_cap)
        # Only the rows on screen are fitted to their text: ResizeToContents measures every
        # row on every change, most of a second per edit with 3000 cases.
        self._fit_rows_timer = self._timer(0, self._fit_visible_rows)
        model = self._model
        for signal in (model.modelReset, model.rowsInserted, model.rowsMoved, model.dataChanged):
            signal.connect(self._fit_rows_timer.start)
        view.verticalScrollBar().valueChanged.connect(self._fit_rows_timer.start)
        header.sectionResized.connect(self._fit_rows_timer.start)

    def _build_actions(self) -> None:
        stack = self._model.undo_stack
        slots: dict[str, Callable[[], object]] = {
            "add": self.add_case,
            "from_form": self.addFromFormRequested.emit,
            "duplicate": self.duplicate,
            "delete": self.delete,
            "up": lambda: self.move_selected(-1),
            "down": lambda: self.move_selected(1),
            "undo": stack.undo,
            "redo": stack.redo,
            "import": self.choose_import,
            "export": self.choose_export,
        }
        self.toolbar_actions = {
            name: self._action(text, tip, key, slots[name]) for name, text, tip, key in _ACTIONS
        }
        for name, can_change, text_changed in (
            ("undo", stack.canUndoChanged, stack.undoTextChanged),
            ("redo", stack.canRedoChanged, stack.redoTextChanged),
        ):
            action = self.toolbar_actions[name]
            action.setEnabled(False)
            can_change.connect(action.setEnabled)
            text_changed.connect(
                lambda text, action=action: action.setToolTip(
                    f"{action.text()}{': ' + text if text else ''} ({action.shortcut().toString()})"
                )
            )

    def _action(self, text: str, tip: str, key: str | None, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setToolTip(f"{tip} ({key})" if key else tip)
        action.triggered.connect(lambda _checked=False: slot())
        if key:
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self._view.addAction(action)
        return action

    def add_beside_count(self, *widgets: QWidget) -> None:
        """Show ``widgets`` right after the case count (the Evaluate tab's repeats box: the
        tab's own toolbar has no room left at 1280 pixels)."""
        index = self._bar.indexOf(self.count_label) + 1
        for offset, widget in enumerate(widgets):
            self._bar.insertWidget(index + offset, widget)

    def _lay_out(self) -> None:
        bar = self._bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for name, _text, _tip, _key in _ACTIONS:
            if name in ("up", "undo", "import"):
                bar.addSpacing(12)
            if name == "import":
                bar.addStretch(1)
                bar.addWidget(self.count_label)
                bar.addSpacing(12)
            bar.addWidget(self._button(self.toolbar_actions[name]))
        every_label = QLabel("&Checks for every case:", self)
        every_label.setBuddy(self.every_case)
        every_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        every = QHBoxLayout()  # one line beside its label: the rows get the height
        every.setContentsMargins(0, 0, 0, 0)
        every.addWidget(every_label)
        every.addWidget(self.every_case, 1)
        self._every_row = every
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(ScrollingRow(bar, self))
        layout.addWidget(self._view, 1)
        layout.addLayout(every)
        layout.addWidget(self.problem_label)

    def add_beside_checks(self, *widgets: QWidget) -> None:
        """Other settings of the evaluation at the end of the every-case checks' line."""
        for widget in widgets:
            self._every_row.addWidget(widget)

    def _button(self, action: QAction) -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        return button

    def _timer(self, interval: int, slot: Callable[[], object]) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval)
        timer.timeout.connect(slot)
        return timer

    def _open_dialog(
        self, name: str, title: str, done: Callable[[Path], None], *, save: bool = False
    ) -> QFileDialog:
        """A non-modal file dialog (``open()``, never ``exec()``) that calls ``done``."""
        dialog = place(QFileDialog(self, title, "", CASE_FILES_FILTER), "cases")
        dialog.setObjectName(name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if save:
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setDefaultSuffix("csv")
            dialog.selectFile("cases.csv")
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda path: done(Path(path)))
        dialog.open()
        return dialog

    def _fit_visible_rows(self) -> None:
        view, row = self._view, max(0, self._view.rowAt(0))
        bottom = view.viewport().height()
        while row < self._model.rowCount() and view.rowViewportPosition(row) < bottom:
            if row != self._tall_row:  # that one holds an open editor
                view.resizeRowToContents(row)
            row += 1

    def _make_room_for_editor(self, row: int) -> None:
        """A multi-line editor opens in its row: the row grows and is scrolled into sight,
        so the editor covers neither the rows above nor runs off the bottom."""
        self._tall_row = row
        view = self._view
        grid = 1 if view.showGrid() else 0  # the cell is the row less its grid line
        wanted = min(editor_height(view) + grid, view.viewport().height())
        rows = view.verticalHeader()
        rows.setMaximumSectionSize(max(wanted, self._row_cap))  # this row only, while editing
        view.setRowHeight(row, max(view.rowHeight(row), wanted))
        view.updateGeometries()  # the scroll range for the taller row, before scrolling
        view.scrollTo(self._model.index(row, max(0, view.currentIndex().column())))

    def _editor_closed(self) -> None:
        self._tall_row = None
        self._view.verticalHeader().setMaximumSectionSize(self._row_cap)
        self._fit_rows_timer.start()

    def _fit_every_case(self) -> None:
        """One line high, growing with the checks typed up to :data:`EVERY_CASE_LINES`."""
        lines = min(EVERY_CASE_LINES, max(1, self.every_case.document().blockCount()))
        self.every_case.setFixedHeight(self.every_case.fontMetrics().lineSpacing() * lines + 12)

    def _update_count(self) -> None:
        rows = self._model.rowCount()
        self.count_label.setText(_cases(rows) if rows else "No cases yet")

    def _update_actions(self) -> None:
        chosen = bool(self.selected_rows())
        for name in ("duplicate", "delete", "up", "down"):
            self.toolbar_actions[name].setEnabled(chosen)


def _cases(number: int) -> str:
    return f"{number} case{'' if number == 1 else 's'}"
