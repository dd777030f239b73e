"""The Evaluate tab's test cases: a table to edit them, and the checks every case gets.

A view over :class:`~promptstudio.ui.evaluate.cases_model.CasesModel`; the owner loads and saves.
The table puts its parts together: the toolbar
(:class:`~promptstudio.ui.evaluate.cases_toolbar.CasesToolbar`, whose row shortcuts live on
the view, so Ctrl+D or Delete typed in a cell editor or in the checks box below edit that
text, never the rows), the view (:class:`~promptstudio.ui.evaluate.cases_view.CasesView`:
Tab and Shift+Tab walk a row's cells, the variables, Expected, Checks, Notes, in an editor
each, on to the next row, never round from the last row to the first) and the checks for
every case (:class:`~promptstudio.ui.evaluate.every_case_checks.EveryCaseChecks`). The
table itself edits the rows (each edit one undo step of the model) and moves them to and
from files: imports replace every case as one undo step; errors go out through
:attr:`CasesTable.failed` for the owner to show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFileDialog, QTableView, QVBoxLayout, QWidget

from promptstudio.exchange.case_files import cases_from_file, cases_to_file
from promptstudio.exchange.errors import ExchangeError
from promptstudio.ui.board.scrolling_row import ScrollingRow
from promptstudio.ui.evaluate.cases_model import CasesModel
from promptstudio.ui.evaluate.cases_toolbar import CasesToolbar, case_count
from promptstudio.ui.evaluate.cases_view import MIN_COLUMN_WIDTH, CasesView
from promptstudio.ui.evaluate.every_case_checks import EveryCaseChecks
from promptstudio.ui.file_dialogs import place

CASE_FILES_FILTER: Final = "Test cases (*.csv *.jsonl *.ndjson *.json)"


class CasesTable(QWidget):
    addFromFormRequested = Signal()
    everyCaseChecksChanged = Signal(object)  # list[dict]: the checks, parsed
    statusMessage = Signal(str)
    failed = Signal(object)  # a BaseException for the owner to show

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("casesTable")
        self._model = model = CasesModel(self)
        self._view = CasesView(model, self)
        self._fitted = False  # columns fitted to the width when first shown
        self._loading = False  # a prompt's cases are on their way: no edits meanwhile
        self._waiting: list[dict[str, Any]] | None = None  # imported while loading
        stack = model.undo_stack
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
        self.toolbar = CasesToolbar(self, self._view, slots, stack)
        self.toolbar_actions, self.count_label = self.toolbar.actions, self.toolbar.count_label
        self.checks = EveryCaseChecks(self)
        self.every_case, self.problem_label = self.checks.box, self.checks.problem_label
        self.checks.changed.connect(self.everyCaseChecksChanged)
        model.problem.connect(self.checks.cell_refused)
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved):
            signal.connect(lambda *_args: self.toolbar.show_count(model.rowCount()))
        model.rowsInserted.connect(
            lambda _parent, first, last: self.select_rows(range(first, last + 1))
        )
        self._view.selectionModel().selectionChanged.connect(self._rows_chosen)
        model.modelReset.connect(self._rows_chosen)
        model.modelReset.connect(self.fit_columns)
        self.toolbar.add_buttons()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(ScrollingRow(self.toolbar, self))
        layout.addWidget(self._view, 1)
        layout.addLayout(self.checks.lay_out())
        layout.addWidget(self.problem_label)
        self.toolbar.show_count(model.rowCount())
        self._rows_chosen()

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

    def add_beside_count(self, *widgets: QWidget) -> None:
        """Show ``widgets`` right after the case count (the Evaluate tab's repeats box: the
        tab's own toolbar has no room left at 1280 pixels)."""
        self.toolbar.add_beside_count(*widgets)

    def add_beside_checks(self, *widgets: QWidget) -> None:
        """Other settings of the evaluation at the end of the every-case checks' line."""
        self.checks.add_beside(*widgets)

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

    def _rows_chosen(self) -> None:
        self.toolbar.rows_chosen(bool(self.selected_rows()))

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
        return case_file_dialog(self, "importCasesDialog", "Import test cases", self.import_file)

    def choose_export(self) -> QFileDialog:
        return case_file_dialog(
            self, "exportCasesDialog", "Export the test cases", self.export_file, save=True
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
        self.statusMessage.emit(f"Imported {case_count(len(cases))} from {path.name}")

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
        self.statusMessage.emit(f"Exported {case_count(len(cases))} to {path.name}")

    # ---- checks for every case -----------------------------------------------------------

    def set_every_case_checks(self, asserts: Sequence[dict[str, Any]]) -> None:
        """Show a prompt's checks for every case (loading: nothing is emitted)."""
        self.checks.set_checks(asserts)

    def flush(self) -> None:
        """Emit the every-case checks now if typing left them pending."""
        self.checks.flush()


def case_file_dialog(
    parent: QWidget, name: str, title: str, done: Callable[[Path], None], *, save: bool = False
) -> QFileDialog:
    """A non-modal file dialog for test cases (``open()``, never ``exec()``) that calls
    ``done`` with the file chosen."""
    dialog = place(QFileDialog(parent, title, "", CASE_FILES_FILTER), "cases")
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
