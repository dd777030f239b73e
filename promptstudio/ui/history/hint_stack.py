"""A tab's content, or a sentence saying what to select to see it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget


class HintStack(QStackedWidget):
    """Shows ``content``, or in its place a hint such as "Select a version to see its runs"."""

    def __init__(self, content: QWidget, parent: QWidget | None = None) -> None:
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
