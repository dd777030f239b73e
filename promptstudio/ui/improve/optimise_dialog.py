"""The "Optimise" dialog: rounds, candidates and budget; progress and Stop; the report as a
table (every candidate) and a chart (best pass rate per round); Export and Promote."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    Qt,
    Signal,
)
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from promptstudio.improve.optimise import OptimisationReport

_Index = QModelIndex | QPersistentModelIndex


class CandidatesModel(QAbstractTableModel):
    """The report's table: round, version, pass rate, score, cost, note."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[list[str]] = [["round", "version", "pass", "score", "cost", "note"]]

    def set_report(self, report: OptimisationReport | None) -> None:
        self.beginResetModel()
        self._rows = report.table() if report is not None else self._rows[:1]
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows) - 1

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows[0])

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._rows[index.row() + 1][index.column()]
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._rows[0][section].capitalize()
        return None


class PassRateChart(QWidget):
    """The best pass rate after each round (round 0: the original), as a line with points."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("optimiseChart")
        self.setAccessibleName("Chart of the best pass rate per round")
        self.setMinimumHeight(180)
        self.points: list[tuple[int, float | None]] = []

    def set_points(self, points: Sequence[tuple[int, float | None]]) -> None:
        self.points = list(points)
        self.setToolTip("\n".join(
            f"round {n}: {'—' if r is None else f'{r:.0%}'}" for n, r in self.points))  # fmt: skip
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        grid = palette.color(QPalette.ColorRole.Mid)
        accent = palette.color(QPalette.ColorRole.Highlight)
        left, top, right, bottom = 44, 24, self.width() - 24, self.height() - 40
        painter.setPen(QPen(grid, 1, Qt.PenStyle.DotLine))
        for share in (0.0, 0.25, 0.5, 0.75, 1.0):
            y = bottom - share * (bottom - top)
            painter.drawLine(QPointF(left, y), QPointF(right, y))
            painter.setPen(text)
            painter.drawText(QPointF(4, y + 4), f"{share:.0%}")
            painter.setPen(QPen(grid, 1, Qt.PenStyle.DotLine))
        shown = [(n, r) for n, r in self.points if r is not None]
        painter.setPen(text)
        painter.drawText(QPointF(left, self.height() - 6),
                         "best pass rate after each round (0: the original)")  # fmt: skip
        if not shown:
            return
        last = max(n for n, _ in self.points) or 1
        xy = [
            QPointF(left + (right - left) * n / last, bottom - r * (bottom - top)) for n, r in shown
        ]
        painter.setPen(QPen(accent, 2.5))
        for a, b in itertools.pairwise(xy):
            painter.drawLine(a, b)
        painter.setBrush(accent)
        for (n, rate), point in zip(shown, xy, strict=True):
            painter.drawEllipse(point, 4, 4)
            painter.setPen(text)
            painter.drawText(point + QPointF(-12, -8), f"{rate:.0%}")
            painter.drawText(QPointF(point.x() - 4, bottom + 16), str(n))
            painter.setPen(QPen(accent, 2.5))


class OptimiseDialog(QDialog):
    """Only shows and asks; ``OptimiseFlow`` runs the optimisation."""

    startRequested = Signal(int, int, int, float)  # improver column, rounds, candidates, USD
    stopRequested = Signal()
    exportRequested = Signal()
    promoteRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("optimiseDialog")
        self.setWindowTitle("Optimise prompt")
        self.setAccessibleName("Optimise prompt")
        self.resize(900, 640)
        self.improver = QComboBox(self)
        self.improver.setAccessibleName("Model that proposes the rewrites")
        self.rounds = QSpinBox(self)
        self.rounds.setRange(1, 20)
        self.rounds.setValue(3)
        self.rounds.setAccessibleName("Rounds")
        self.candidates = QSpinBox(self)
        self.candidates.setRange(1, 10)
        self.candidates.setValue(3)
        self.candidates.setAccessibleName("Candidates per round")
        self.budget = QDoubleSpinBox(self)
        self.budget.setRange(0.0, 10_000.0)
        self.budget.setDecimals(2)
        self.budget.setPrefix("$")
        self.budget.setSpecialValueText("no limit")
        self.budget.setAccessibleName("Budget in US dollars (0: no limit)")
        self.start_button = QPushButton("&Start", self)
        self.start_button.setObjectName("optimiseStart")
        self.start_button.setAccessibleName("Start the optimisation")
        self.stop_button = QPushButton("S&top", self)
        self.stop_button.setObjectName("optimiseStop")
        self.stop_button.setAccessibleName("Stop the optimisation")
        self.export_button = QPushButton("&Export report…", self)
        self.export_button.setAccessibleName("Export the report as Markdown or JSON")
        self.promote_button = QPushButton("&Promote the winner", self)
        self.promote_button.setAccessibleName("Make the chosen version the current one")
        self.close_button = QPushButton("Close", self)
        self.close_button.setAccessibleName("Close the optimise dialog")
        self.status = QLabel("Every run column but the improver's is evaluated on the "
                             "prompt's test cases.", self)  # fmt: skip
        self.status.setObjectName("optimiseStatus")
        self.status.setWordWrap(True)
        self.table_model = CandidatesModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("optimiseTable")
        self.table.setAccessibleName("Every candidate with its pass rate and cost")
        self.table.setModel(self.table_model)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.chart = PassRateChart(self)

        form = QFormLayout()
        form.addRow("&Improver model:", self.improver)
        form.addRow("&Rounds:", self.rounds)
        form.addRow("&Candidates per round:", self.candidates)
        form.addRow("&Budget:", self.budget)
        top = QHBoxLayout()
        top.addLayout(form, 1)
        top.addWidget(self.chart, 2)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.stop_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.export_button, self.promote_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self.start_button.clicked.connect(
            lambda: self.startRequested.emit(self.improver.currentIndex(), self.rounds.value(),
                                             self.candidates.value(), self.budget.value())
        )  # fmt: skip
        self.stop_button.clicked.connect(self.stopRequested)
        self.export_button.clicked.connect(self.exportRequested)
        self.promote_button.clicked.connect(self.promoteRequested)
        self.close_button.clicked.connect(self.close)
        self.set_running(False)
        self.show_report(None)

    def set_models(self, labels: Sequence[str]) -> None:
        self.improver.clear()
        self.improver.addItems(list(labels))
        self.start_button.setEnabled(bool(labels))

    def set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running and self.improver.count() > 0)
        self.stop_button.setEnabled(running)
        for widget in (self.improver, self.rounds, self.candidates, self.budget):
            widget.setEnabled(not running)

    def show_progress(self, text: str) -> None:
        self.status.setText(text)

    def show_report(self, report: OptimisationReport | None) -> None:
        self.table_model.set_report(report)
        self.chart.set_points(report.pass_rates() if report is not None else [])
        done = report is not None and report.chosen is not None
        self.export_button.setEnabled(done)
        self.promote_button.setEnabled(
            done and report is not None and report.chosen is not report.original
        )
