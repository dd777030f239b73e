"""The mark of an error in a text editor: its line tinted, the spot underlined in red."""

from __future__ import annotations

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor, QTextDocument, QTextFormat
from PySide6.QtWidgets import QTextEdit


def error_selections(
    document: QTextDocument, line: int, column: int
) -> list[QTextEdit.ExtraSelection]:
    """Extra selections marking ``line``:``column`` (from 1): the whole line, and the word
    (or character) at the column with a wavy underline; none for a line the text lacks."""
    block = document.findBlockByNumber(line - 1)
    if not block.isValid():
        return []
    whole = QTextEdit.ExtraSelection()
    whole.format.setBackground(QColor(217, 48, 37, 40))  # translucent: any theme
    whole.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
    whole.cursor = QTextCursor(block)
    mark = QTextEdit.ExtraSelection()
    mark.format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
    mark.format.setUnderlineColor(QColor("#d93025"))
    cursor = QTextCursor(block)
    offset = min(max(column - 1, 0), max(block.length() - 2, 0))
    cursor.setPosition(block.position() + offset)
    cursor.movePosition(QTextCursor.MoveOperation.EndOfWord, QTextCursor.MoveMode.KeepAnchor)
    if not cursor.hasSelection():
        cursor.movePosition(QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.KeepAnchor)
    mark.cursor = cursor
    return [whole, mark]
