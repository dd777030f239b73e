"""Compare two answers word by word: two columns, or a column against its previous run."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from promptstudio.ui.history.diff_view import DiffView


class CompareDialog(QDialog):
    def __init__(
        self,
        left_title: str,
        left: str,
        right_title: str,
        right: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle(f"Compare: {left_title} ↔ {right_title}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.view = DiffView(self)
        self.view.set_titles(left_title, right_title)
        self.view.show_words(left, right)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.resize(1000, 560)
