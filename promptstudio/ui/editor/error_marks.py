"""The mark of an error in a text editor: its line tinted, the spot underlined in the theme's
error colour."""

from __future__ import annotations

from PySide6.QtGui import QPalette, QTextCharFormat, QTextCursor, QTextDocument, QTextFormat
from PySide6.QtWidgets import QTextEdit

from promptstudio.ui.theme import error_mark_colour


def error_selections(
    document: QTextDocument, line: int, column: int, palette: QPalette | None = None
) -> list[QTextEdit.ExtraSelection]:
    """Extra selections marking ``line``:``column`` (from 1): the whole line, and the word
    (or character) at the column with a wavy underline, in ``palette``'s theme (the
    application's by default); none for a line the text lacks."""
    block = document.findBlockByNumber(line - 1)
    if not block.isValid():
        return []
    colour = error_mark_colour(palette)
    tint = error_mark_colour(palette)
    tint.setAlpha(40)  # translucent: the text stays as it was
    whole = QTextEdit.ExtraSelection()
    whole.format.setBackground(tint)
    whole.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
    whole.cursor = QTextCursor(block)
    mark = QTextEdit.ExtraSelection()
    mark.format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
    mark.format.setUnderlineColor(colour)
    cursor = QTextCursor(block)
    offset = min(max(column - 1, 0), max(block.length() - 2, 0))
    cursor.setPosition(block.position() + offset)
    cursor.movePosition(QTextCursor.MoveOperation.EndOfWord, QTextCursor.MoveMode.KeepAnchor)
    if not cursor.hasSelection():
        cursor.movePosition(QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.KeepAnchor)
    mark.cursor = cursor
    return [whole, mark]
