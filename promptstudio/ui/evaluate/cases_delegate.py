"""How a test case cell is edited: checks and long values in a multi-line box.

Ctrl+Return keeps the text (and is not the window's run shortcut while a box is open),
Esc drops it; refused checks keep the box open so the typing is not lost. Tab and
Shift+Tab keep the text and edit the next or previous cell, in a box as in a line.
The box opens in its cell: :attr:`CellDelegate.tallEditorOpened` asks the table to make
the row tall enough, so the box never covers the rows above it.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QPlainTextEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from promptstudio.ui.evaluate.cases_model import CasesModel

ROW_PADDING: Final = 10  # pixels above and below a row's text, together
EDITOR_LINES: Final = 6
LONG_VALUE_CHARS: Final = 60  # longer values are edited in a multi-line box
Index = QModelIndex | QPersistentModelIndex


def editor_height(editor: QWidget) -> int:
    """How tall a multi-line cell editor wants to be."""
    return editor.fontMetrics().lineSpacing() * EDITOR_LINES + 12


def _tab_hint(event: QEvent) -> QAbstractItemDelegate.EndEditHint | None:
    """Tab: the next cell; Shift+Tab (Backtab): the previous one; else None."""
    if not isinstance(event, QKeyEvent) or event.type() != QEvent.Type.KeyPress:
        return None
    modifiers, hints = event.modifiers(), QAbstractItemDelegate.EndEditHint
    if event.key() == Qt.Key.Key_Tab and modifiers == Qt.KeyboardModifier.NoModifier:
        return hints.EditNextItem
    if event.key() == Qt.Key.Key_Backtab and modifiers in (
        Qt.KeyboardModifier.NoModifier,
        Qt.KeyboardModifier.ShiftModifier,
    ):
        return hints.EditPreviousItem
    return None  # Ctrl+Tab and the like are not ours


def _ctrl_return(event: QEvent) -> bool:
    return (
        isinstance(event, QKeyEvent)
        and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        and bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
    )


class CellDelegate(QStyledItemDelegate):
    """Checks and long values get a multi-line box: Ctrl+Return keeps, Esc drops.

    Refused checks keep the box open on Ctrl+Return or Tab, so the typing is not lost.
    """

    tallEditorOpened = Signal(int)  # a multi-line box opened in this row

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._editing = QPersistentModelIndex()

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        self._editing = QPersistentModelIndex(index)
        model = index.model()
        text = str(index.data(Qt.ItemDataRole.EditRole) or "")
        checks = isinstance(model, CasesModel) and index.column() == model.checks_column()
        if not checks and len(text) <= LONG_VALUE_CHARS and "\n" not in text:
            return super().createEditor(parent, option, index)
        editor = QPlainTextEdit(parent)
        editor.setObjectName("casesCellEditor")
        editor.setTabChangesFocus(True)
        editor.setToolTip("Ctrl+Return keeps the text, Tab goes on to the next cell, Esc drops it")
        self.tallEditorOpened.emit(index.row())
        return editor

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), size.height() + ROW_PADDING - 4)  # the style's own: 4

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, QPlainTextEdit):
            editor.setPlainText(str(index.data(Qt.ItemDataRole.EditRole) or ""))
            editor.moveCursor(editor.textCursor().MoveOperation.End)
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        if isinstance(editor, QPlainTextEdit):
            model.setData(index, editor.toPlainText())
        else:
            super().setModelData(editor, model, index)

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: Index
    ) -> None:
        if not isinstance(editor, QPlainTextEdit):
            super().updateEditorGeometry(editor, option, index)
            return
        rect = QRect(option.rect)  # type: ignore[attr-defined]
        # Downwards from the cell's top (the table makes the row this tall): the rows above
        # stay in sight, and the box never reaches past the bottom of the view.
        area = editor.parentWidget().rect()  # type: ignore[union-attr]  # the viewport
        room = max(rect.height(), area.height() - max(0, rect.top()))
        rect.setHeight(min(max(rect.height(), editor_height(editor)), room))
        rect.setWidth(max(rect.width(), 320))
        rect.moveLeft(max(0, min(rect.left(), area.width() - rect.width())))
        editor.setGeometry(rect)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(watched, QPlainTextEdit) and (hint := _tab_hint(event)) is not None:
            self._submit(watched, hint)  # a box keeps Tab for itself otherwise: the next cell
            return True
        if isinstance(watched, QWidget) and _ctrl_return(event):
            if event.type() == QEvent.Type.ShortcutOverride:
                event.accept()  # ours, not the window's Ctrl+Return (run)
                return True
            if event.type() == QEvent.Type.KeyPress:
                self._submit(watched)
                return True
        return super().eventFilter(watched, event)

    def _submit(
        self,
        editor: QWidget,
        hint: QAbstractItemDelegate.EndEditHint = QAbstractItemDelegate.EndEditHint.NoHint,
    ) -> None:
        index = self._editing
        if not isinstance(editor, QPlainTextEdit):
            self.commitData.emit(editor)
        elif not index.isValid() or not index.model().setData(index, editor.toPlainText()):
            return
        self.closeEditor.emit(editor, hint)
