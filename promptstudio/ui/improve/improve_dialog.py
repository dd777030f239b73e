"""The "Improve prompt" dialog: the rewrite as a diff against the current template with
the model's critique beside it; Accept saves it, "Run both" shows the two answers."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from promptstudio.ui.history.diff_view import DiffView


class ImproveDialog(QDialog):
    """Only shows and asks; :class:`~promptstudio.ui.improve.improve_flow.ImproveFlow` acts."""

    askRequested = Signal(int, str)  # the column's index, the goal
    acceptRequested = Signal()
    runBothRequested = Signal()
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("improveDialog")
        self.setWindowTitle("Improve prompt")
        self.setAccessibleName("Improve prompt")
        self.resize(1100, 700)
        self.model = QComboBox(self)
        self.model.setObjectName("improveModel")
        self.model.setAccessibleName("Model that reviews the prompt")
        self.goal = QLineEdit(self)
        self.goal.setObjectName("improveGoal")
        self.goal.setAccessibleName("Goal for the rewrite (optional)")
        self.goal.setPlaceholderText('Optional: "shorter answers", "always JSON"…')
        self.ask_button = QPushButton("&Ask for a rewrite", self)
        self.ask_button.setObjectName("improveAsk")
        self.ask_button.setAccessibleName("Ask the model for a rewrite")
        self.ask_button.setToolTip("Ask the model for a critique and a rewrite (Return)")
        self.ask_button.setDefault(True)
        self.status = QLabel(self)
        self.status.setObjectName("improveStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.diff = DiffView(self)
        self.diff.setAccessibleName("Current template and the rewrite, side by side")
        self.critique = QTextBrowser(self)
        self.critique.setObjectName("improveCritique")
        self.critique.setAccessibleName("The model's critique")
        self.critique.setPlaceholderText("What the model would change, and why.")
        self.left_answer = QPlainTextEdit(self)
        self.right_answer = QPlainTextEdit(self)
        for view, name in ((self.left_answer, "current"), (self.right_answer, "rewrite")):
            view.setReadOnly(True)
            view.setObjectName(f"improveAnswer_{name}")
            view.setAccessibleName(f"Answer of the {name} template")
            view.setPlaceholderText(f"The {name} template's answer appears here.")
        self.answers = QWidget(self)
        answers_row = QHBoxLayout(self.answers)
        answers_row.setContentsMargins(0, 0, 0, 0)
        answers_row.addWidget(self.left_answer)
        answers_row.addWidget(self.right_answer)
        self.answers.hide()
        self.accept_button = QPushButton("A&ccept as a new version", self)
        self.accept_button.setObjectName("improveAccept")
        self.accept_button.setAccessibleName("Accept the rewrite as a new version")
        self.run_button = QPushButton("&Run both side by side", self)
        self.run_button.setObjectName("improveRunBoth")
        self.run_button.setAccessibleName("Run the current template and the rewrite")
        self.stop_button = QPushButton("&Stop", self)
        self.stop_button.setAccessibleName("Stop asking")
        self.close_button = QPushButton("Close", self)
        self.close_button.setAccessibleName("Close the improve dialog")

        form = QFormLayout()
        form.addRow("&Model:", self.model)
        form.addRow("&Goal:", self.goal)
        top = QHBoxLayout()
        top.addLayout(form, 1)
        top.addWidget(self.ask_button)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.diff)
        splitter.addWidget(self.critique)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (self.run_button, self.accept_button, self.stop_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 3)
        layout.addWidget(self.answers, 1)
        layout.addLayout(buttons)

        self.ask_button.clicked.connect(self._ask)
        self.accept_button.clicked.connect(self.acceptRequested)
        self.run_button.clicked.connect(self.runBothRequested)
        self.stop_button.clicked.connect(self.stopRequested)
        self.close_button.clicked.connect(self.close)
        self.set_proposal_ready(False)
        self.set_busy(None)

    def _ask(self) -> None:
        if self.ask_button.isEnabled():
            self.askRequested.emit(self.model.currentIndex(), self.goal.text())

    def set_models(self, labels: Sequence[str]) -> None:
        current = self.model.currentIndex()
        self.model.clear()
        self.model.addItems(list(labels))
        if 0 <= current < len(labels):
            self.model.setCurrentIndex(current)
        self.ask_button.setEnabled(bool(labels))
        if not labels:
            self.status.setText("Choose an endpoint and a model in a run column first.")

    def set_busy(self, text: str | None) -> None:
        """``text`` while the model works (Stop is offered); None when idle."""
        busy = text is not None
        self.stop_button.setEnabled(busy)
        self.ask_button.setEnabled(not busy and self.model.count() > 0)
        if text is not None:
            self.status.setText(text)
            self.accept_button.setEnabled(False)
            self.run_button.setEnabled(False)

    def set_proposal_ready(self, ready: bool) -> None:
        self.accept_button.setEnabled(ready)
        self.run_button.setEnabled(ready)

    def show_proposal(self, current: str, rewrite: str, critique: str, title: str) -> None:
        self.set_busy(None)
        self.diff.set_titles(title, "Rewrite")
        self.diff.clear_formats()
        self.diff.show_diff(current, rewrite)
        self.critique.setPlainText(critique or "(The model gave no critique.)")
        self.status.setText("Review the rewrite: Accept saves it as a new version.")
        self.set_proposal_ready(True)

    def show_rejected(self, reason: str) -> None:
        self.set_busy(None)
        self.set_proposal_ready(False)
        self.status.setText(f"Rejected: {reason}")

    def show_failure(self, reason: str) -> None:
        self.set_busy(None)
        self.status.setText(reason)

    def show_accepted(self, number: int) -> None:
        self.accept_button.setEnabled(False)
        self.status.setText(f"Saved as v{number}, a child of the version reviewed.")

    def show_answers(self, current: str, rewrite: str) -> None:
        self.answers.show()
        self.left_answer.setPlainText(current)
        self.right_answer.setPlainText(rewrite)
        self.set_busy(None)
        self.set_proposal_ready(True)
        self.status.setText("Both answers are in: the current template left, the rewrite right.")
