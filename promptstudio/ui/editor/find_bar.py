"""Find and replace in the template editor (Ctrl+F, Ctrl+H); Esc closes the bar.

Replacements go through one edit block each, so Ctrl+Z undoes a Replace All in one step.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)


class FindBar(QWidget):
    def __init__(self, editor: QPlainTextEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findBar")
        self._editor = editor
        self.find_field = QLineEdit(self)
        self.find_field.setPlaceholderText("Find")
        self.find_field.setAccessibleName("Find")
        self.replace_field = QLineEdit(self)
        self.replace_field.setPlaceholderText("Replace with")
        self.replace_field.setAccessibleName("Replace with")
        self.case = QCheckBox("Match case", self)
        self.status = QLabel(self)
        previous, following = QPushButton("Previous", self), QPushButton("Next", self)
        replace, replace_all = QPushButton("Replace", self), QPushButton("Replace all", self)
        close = QPushButton("Close", self)
        layout = QGridLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.find_field, 0, 0)
        layout.addWidget(previous, 0, 1)
        layout.addWidget(following, 0, 2)
        layout.addWidget(self.case, 0, 3)
        layout.addWidget(close, 0, 4)
        layout.addWidget(self.replace_field, 1, 0)
        layout.addWidget(replace, 1, 1)
        layout.addWidget(replace_all, 1, 2)
        layout.addWidget(self.status, 1, 3, 1, 2)
        self.find_field.returnPressed.connect(self.find_next)
        self.find_field.textChanged.connect(lambda _text: self.find_next(from_start=True))
        self.replace_field.returnPressed.connect(self.replace_one)
        previous.clicked.connect(self.find_previous)
        following.clicked.connect(lambda: self.find_next())
        replace.clicked.connect(self.replace_one)
        replace_all.clicked.connect(self.replace_all)
        close.clicked.connect(self.close_bar)
        for field in (self.find_field, self.replace_field):
            field.installEventFilter(self)
        self.hide()

    def open_bar(self, *, replace: bool = False) -> None:
        selected = self._editor.textCursor().selectedText()
        if selected and "\u2029" not in selected:
            self.find_field.setText(selected)
        self.replace_field.setVisible(replace)
        self.show()
        field = self.replace_field if replace and self.find_field.text() else self.find_field
        field.setFocus()
        field.selectAll()

    def close_bar(self) -> None:
        self.hide()
        self._editor.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Claim Esc before the window's "Stop" shortcut sees it, then close the bar.
        if event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            assert isinstance(event, QKeyEvent)
            if event.key() == Qt.Key.Key_Escape:
                event.accept()
                if event.type() == QEvent.Type.KeyPress:
                    self.close_bar()
                return True
        return super().eventFilter(watched, event)

    def _flags(self, backward: bool = False) -> QTextDocument.FindFlag:
        flags = QTextDocument.FindFlag(0)
        if self.case.isChecked():
            flags |= QTextDocument.FindFlag.FindCaseSensitively
        if backward:
            flags |= QTextDocument.FindFlag.FindBackward
        return flags

    def find_next(self, *, from_start: bool = False) -> bool:
        return self._find(backward=False, from_start=from_start)

    def find_previous(self) -> bool:
        return self._find(backward=True)

    def _find(self, *, backward: bool, from_start: bool = False) -> bool:
        needle = self.find_field.text()
        if not needle:
            self.status.clear()
            return False
        document = self._editor.document()
        cursor = self._editor.textCursor()
        if from_start:
            cursor.setPosition(cursor.selectionStart())
        found = document.find(needle, cursor, self._flags(backward))
        if found.isNull():  # wrap around
            start = QTextCursor(document)
            if backward:
                start.movePosition(QTextCursor.MoveOperation.End)
            found = document.find(needle, start, self._flags(backward))
        if found.isNull():
            self.status.setText("No matches")
            return False
        self.status.setText("")
        self._editor.setTextCursor(found)
        return True

    def replace_one(self) -> None:
        cursor = self._editor.textCursor()
        needle = self.find_field.text()
        sensitivity = (
            Qt.CaseSensitivity.CaseSensitive
            if self.case.isChecked()
            else Qt.CaseSensitivity.CaseInsensitive
        )
        if needle and cursor.hasSelection() and _same(cursor.selectedText(), needle, sensitivity):
            cursor.insertText(self.replace_field.text())
        self.find_next()

    def replace_all(self) -> int:
        needle = self.find_field.text()
        if not needle:
            return 0
        document = self._editor.document()
        count = 0
        edit = QTextCursor(document)
        edit.beginEditBlock()
        cursor = document.find(needle, 0, self._flags())
        while not cursor.isNull():
            cursor.insertText(self.replace_field.text())
            count += 1
            cursor = document.find(needle, cursor, self._flags())
        edit.endEditBlock()
        self.status.setText(f"Replaced {count}")
        return count


def _same(a: str, b: str, sensitivity: Qt.CaseSensitivity) -> bool:
    return a == b if sensitivity == Qt.CaseSensitivity.CaseSensitive else a.lower() == b.lower()
