"""A thread variable's value edited as turns: a role and a text per turn, turns added and
removed (``templating.threads``: a list of ``{role, content}`` turns expands into messages
where ``{{ name }}`` stands alone on its line)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from promptstudio.chat import ROLES


class TurnRow(QWidget):
    """One turn: its role, its text and a button that removes it."""

    changed = Signal()
    removeRequested = Signal(object)  # this row

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = QComboBox(self)
        self.role.addItems(list(ROLES))
        self.text = QPlainTextEdit(self)
        self.text.setTabChangesFocus(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setFixedHeight(self.text.fontMetrics().lineSpacing() * 2 + 12)
        self.remove = QToolButton(self)
        self.remove.setText("✕")
        self.remove.setAutoRaise(True)
        self.remove.clicked.connect(lambda: self.removeRequested.emit(self))
        self.role.currentTextChanged.connect(lambda _role: self.changed.emit())
        self.text.textChanged.connect(self.changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.role)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.remove)

    def number(self, number: int) -> None:
        """Name the controls after the turn's place (for screen readers)."""
        self.role.setAccessibleName(f"Role of turn {number}")
        self.text.setAccessibleName(f"Text of turn {number}")
        self.remove.setAccessibleName(f"Remove turn {number}")
        self.remove.setToolTip(f"Remove turn {number}")

    def turn(self) -> dict[str, Any]:
        return {"role": self.role.currentText(), "content": self.text.toPlainText()}


class ThreadEditor(QWidget):
    """The turns of a thread value; ``changed`` on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("threadEditor")
        self.rows: list[TurnRow] = []
        self._list = QVBoxLayout()
        self._list.setContentsMargins(0, 0, 0, 0)
        self._list.setSpacing(2)
        self.add_button = QPushButton("Add a turn", self)
        self.add_button.setObjectName("addTurn")
        self.add_button.setAccessibleName("Add a turn")
        self.add_button.clicked.connect(self.add_turn)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self._list)
        layout.addWidget(self.add_button)

    def turns(self) -> list[dict[str, Any]]:
        return [row.turn() for row in self.rows]

    def set_turns(self, turns: Sequence[dict[str, Any]]) -> None:
        """Show ``turns`` (quietly: no ``changed``)."""
        for row in self.rows:
            self._list.removeWidget(row)
            row.deleteLater()
        self.rows = []
        for turn in turns:
            self._append(str(turn.get("role", "user")), str(turn.get("content", "")))

    def add_turn(self) -> None:
        """A new turn after the last, in the role that answers it, with the cursor in it."""
        last = self.rows[-1].role.currentText() if self.rows else "assistant"
        row = self._append("assistant" if last == "user" else "user", "")
        row.text.setFocus()
        self.changed.emit()

    def _append(self, role: str, content: str) -> TurnRow:
        row = TurnRow(self)
        row.role.setCurrentText(role if role in ROLES else "user")
        row.text.setPlainText(content)
        row.changed.connect(self.changed)
        row.removeRequested.connect(self._remove)
        self.rows.append(row)
        self._list.addWidget(row)
        row.number(len(self.rows))
        return row

    def _remove(self, row: TurnRow) -> None:
        index = self.rows.index(row)
        self.rows.pop(index)
        self._list.removeWidget(row)
        row.deleteLater()
        for number, other in enumerate(self.rows, start=1):
            other.number(number)
        focus = self.rows[min(index, len(self.rows) - 1)].text if self.rows else self.add_button
        focus.setFocus()
        self.changed.emit()
