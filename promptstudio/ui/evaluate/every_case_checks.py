"""The checks every test case gets, typed under the cases' table, and the line that says
what is wrong: with those checks, or with a check typed into a case's cell.

The checks are parsed after a short pause in typing (:data:`CHECK_DELAY_MS`), so a half-typed
type name is not flagged at every key; a refused cell edit stays explained for
:data:`PROBLEM_MS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QWidget

from promptstudio.evals.checks_text import format_checks, parse_checks
from promptstudio.evals.graders import GraderError
from promptstudio.ui.evaluate.cases_model import CHECKS_HELP
from promptstudio.ui.evaluate.eval_grid_model import verdict_colour

EVERY_CASE_PLACEHOLDER: Final = "e.g. latency: 3000   (one check per line, for every case)"
CHECK_DELAY_MS: Final = 400  # the pause in typing after which the every-case checks count
PROBLEM_MS: Final = 6000  # how long a refused cell edit stays explained
EVERY_CASE_LINES: Final = 3  # the every-case box grows with its checks up to this many


class EveryCaseChecks(QObject):
    """The box (``box``) and the problem line (``problem_label``), children of ``parent``;
    :meth:`lay_out` makes the box's row, its label beside it."""

    changed = Signal(object)  # list[dict]: the checks, parsed

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self._checks: list[dict[str, Any]] = []
        self._error = ""  # what is wrong with the box's checks
        self._cell_problem = ""  # a cell's check refused a moment ago
        self._check_timer = _single_shot(self, CHECK_DELAY_MS, self._check)
        self._problem_timer = _single_shot(self, PROBLEM_MS, self._problem_expired)
        self.box = QPlainTextEdit(parent)
        self.box.setObjectName("everyCaseChecks")
        self.box.setPlaceholderText(EVERY_CASE_PLACEHOLDER)
        self.box.setTabChangesFocus(True)
        self.box.setToolTip(f"Checks every case gets, besides its own.\n{CHECKS_HELP}")
        self.box.setAccessibleName("Checks for every case")
        self.box.textChanged.connect(self._check_timer.start)
        self.box.textChanged.connect(self._fit)
        self._fit()
        self.problem_label = QLabel(parent)
        self.problem_label.setObjectName("everyCaseProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.hide()

    def lay_out(self) -> QHBoxLayout:
        """The box's row: one line beside its label, so the cases' rows get the height."""
        label = QLabel("&Checks for every case:", self._parent)
        label.setBuddy(self.box)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.row = QHBoxLayout()
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.addWidget(label)
        self.row.addWidget(self.box, 1)
        return self.row

    def add_beside(self, *widgets: QWidget) -> None:
        """Widgets at the end of the box's row."""
        for widget in widgets:
            self.row.addWidget(widget)

    def set_checks(self, asserts: Sequence[dict[str, Any]]) -> None:
        """Show a prompt's checks for every case (loading: nothing is emitted)."""
        self.box.blockSignals(True)  # a load, not an edit
        self.box.setPlainText(format_checks(asserts))
        self.box.blockSignals(False)
        self._checks = [dict(check) for check in asserts]
        self._check_timer.stop()
        self._error = ""
        self._show_problem()

    def flush(self) -> None:
        """Emit the checks now if typing left them pending."""
        if self._check_timer.isActive():
            self._check_timer.stop()
            self._check()

    def cell_refused(self, message: str) -> None:
        """A check typed into a case's cell was refused: say why, for a while."""
        self._cell_problem = f"Checks not changed: {message}"
        self._problem_timer.start()
        self._show_problem()

    def _check(self) -> None:
        try:
            checks = parse_checks(self.box.toPlainText())
        except GraderError as exc:
            self._error = f"Checks for every case: {exc.message}"
            self._show_problem()
            return
        self._error = ""
        self._show_problem()
        if checks != self._checks:
            self._checks = checks
            self.changed.emit(checks)

    def _problem_expired(self) -> None:
        self._cell_problem = ""
        self._show_problem()

    def _show_problem(self) -> None:
        text = self._cell_problem or self._error
        palette = self.problem_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, verdict_colour("fail"))
        self.problem_label.setPalette(palette)
        self.problem_label.setText(text)
        self.problem_label.setVisible(bool(text))

    def _fit(self) -> None:
        """One line high, growing with the checks typed up to :data:`EVERY_CASE_LINES`."""
        lines = min(EVERY_CASE_LINES, max(1, self.box.document().blockCount()))
        self.box.setFixedHeight(self.box.fontMetrics().lineSpacing() * lines + 12)


def _single_shot(parent: QObject, interval: int, slot: Any) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(interval)
    timer.timeout.connect(slot)
    return timer
