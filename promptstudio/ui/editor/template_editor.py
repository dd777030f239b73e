"""The template editor: a plain-text editor with line numbers and inline errors."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QFontDatabase,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCursor,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from promptstudio.ui.editor.error_marks import error_selections
from promptstudio.ui.editor.highlighter import TemplateHighlighter
from promptstudio.ui.theme import error_mark_colour


class LineNumberArea(QWidget):
    def __init__(self, editor: TemplateEditor) -> None:
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self._editor.line_number_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._editor.paint_line_numbers(event)


class TemplateEditor(QPlainTextEdit):
    """Shows where a template is wrong: the error's line is marked and its column underlined."""

    cursorMoved = Signal(int, int)  # 1-based line, column

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("templateEditor")
        self.setAccessibleName("Template")
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(max(font.pointSize(), 10))
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self.setPlaceholderText(
            "Write a prompt. {{ variable }} becomes an input; a line 'system:', 'user:' or "
            "'assistant:' starts a message."
        )
        self.highlighter = TemplateHighlighter(self.document())
        self._numbers = LineNumberArea(self)
        self._error: tuple[int, int] | None = None
        self.blockCountChanged.connect(self._update_margin)
        self.updateRequest.connect(self._on_update_request)
        self.cursorPositionChanged.connect(self._emit_cursor)
        self._update_margin()

    # ---- errors --------------------------------------------------------------------

    def apply_font(self, family: str | None, size: int) -> None:
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        if family:
            font.setFamily(family)
        font.setPointSize(size)
        self.setFont(font)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self._update_margin()

    def set_error(self, line: int | None, column: int | None = None) -> None:
        self._error = None if line is None else (line, column or 1)
        selections: list[QTextEdit.ExtraSelection] = []
        if self._error is not None:
            selections = error_selections(self.document(), *self._error, self.palette())
        self.setExtraSelections(selections)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._error is not None:
            self.set_error(*self._error)  # the marks in the new theme's colour, at once

    @property
    def error_position(self) -> tuple[int, int] | None:
        return self._error

    def set_dark(self, dark: bool) -> None:
        """The template's colours for a dark (or light) theme."""
        self.highlighter.set_dark(dark)

    def go_to_error(self) -> None:
        """F8, or the error link under the editor: the cursor to the template's error."""
        if self._error is not None:
            self.go_to(*self._error)

    def go_to(self, line: int, column: int = 1) -> None:
        block = self.document().findBlockByNumber(max(line - 1, 0))
        cursor = QTextCursor(block)
        cursor.setPosition(block.position() + min(max(column - 1, 0), block.length() - 1))
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus()

    # ---- line numbers ----------------------------------------------------------------

    def line_number_width(self) -> int:
        digits = len(str(max(1, self.blockCount())))
        return 12 + self.fontMetrics().horizontalAdvance("9") * max(digits, 2)

    def _update_margin(self, _count: int = 0) -> None:
        self.setViewportMargins(self.line_number_width(), 0, 0, 0)

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        if dy:
            self._numbers.scroll(0, dy)
        else:
            self._numbers.update(0, rect.y(), self._numbers.width(), rect.height())
        if rect.contains(self.viewport().rect()):
            self._update_margin()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        rect = self.contentsRect()
        self._numbers.setGeometry(
            QRect(rect.left(), rect.top(), self.line_number_width(), rect.height())
        )

    def paint_line_numbers(self, event: QPaintEvent) -> None:
        painter = QPainter(self._numbers)
        painter.fillRect(event.rect(), self.palette().color(QPalette.ColorRole.AlternateBase))
        block = self.firstVisibleBlock()
        number = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        error_line = self._error[0] if self._error else -1
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and bottom >= event.rect().top():
                painter.setPen(
                    error_mark_colour(self.palette())
                    if number + 1 == error_line
                    else self.palette().color(QPalette.ColorRole.PlaceholderText)
                )
                painter.drawText(
                    0,
                    top,
                    self._numbers.width() - 6,
                    self.fontMetrics().height(),
                    Qt.AlignmentFlag.AlignRight,
                    str(number + 1),
                )
            block = block.next()
            top = bottom
            bottom = top + round(self.blockBoundingRect(block).height())
            number += 1
        painter.end()

    def _emit_cursor(self) -> None:
        cursor = self.textCursor()
        self.cursorMoved.emit(cursor.blockNumber() + 1, cursor.positionInBlock() + 1)
