"""The prompt library on the left: a list view over :class:`PromptListModel`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListView, QVBoxLayout, QWidget

from promptstudio.storage.library import PromptRow

ID_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


class PromptListModel(QAbstractListModel):
    renameRequested = Signal(int, str)  # prompt id, new name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[PromptRow] = []

    def set_prompts(self, rows: Sequence[PromptRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return row.name
        if role == Qt.ItemDataRole.ToolTipRole:
            folder = f"{row.folder} / " if row.folder else ""
            return f"{folder}{row.name}\nedited {row.updated_at[:16].replace('T', ' ')} UTC"
        if role == ID_ROLE:
            return row.id
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.isValid() else base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        name = str(value).strip()
        if not name or name == self._rows[index.row()].name:
            return False
        self.renameRequested.emit(self._rows[index.row()].id, name)
        return True

    def row_of(self, prompt_id: int) -> int:
        for number, row in enumerate(self._rows):
            if row.id == prompt_id:
                return number
        return -1

    def prompt(self, row: int) -> PromptRow:
        return self._rows[row]


class PromptListPane(QWidget):
    promptSelected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promptList")
        self.model = PromptListModel(self)
        self.view = QListView(self)
        self.view.setObjectName("promptListView")
        self.view.setModel(self.model)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.addWidget(QLabel("<b>Prompts</b>", self))
        layout.addWidget(self.view)
        self.view.selectionModel().currentChanged.connect(self._on_current)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.promptSelected.emit(int(current.data(ID_ROLE)))

    def current_id(self) -> int | None:
        index = self.view.currentIndex()
        return int(index.data(ID_ROLE)) if index.isValid() else None

    def select(self, prompt_id: int, *, notify: bool = True) -> None:
        row = self.model.row_of(prompt_id)
        if row < 0:
            return
        self.view.blockSignals(not notify)
        selection = self.view.selectionModel()
        selection.blockSignals(not notify)
        selection.setCurrentIndex(
            self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        selection.blockSignals(False)
        self.view.blockSignals(False)

    def rename_current(self) -> None:
        index = self.view.currentIndex()
        if index.isValid():
            self.view.edit(index)
