"""Ctrl+Shift+P: type a few letters of any action and press Enter.

Every action of the registry is here (the themes too); a filter that matches none says so.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QListView, QVBoxLayout, QWidget

ACTION_ROLE = Qt.ItemDataRole.UserRole + 1


class CommandPalette(QDialog):
    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commandPalette")
        self.setWindowTitle("Command palette")
        self.setModal(False)
        self.resize(480, 360)
        self._model = QStandardItemModel(self)
        for action in actions:
            shortcut = action.shortcut().toString(action.shortcut().SequenceFormat.NativeText)
            label = action.text().replace("&", "")
            item = QStandardItem(f"{label}    {shortcut}" if shortcut else label)
            item.setData(action, ACTION_ROLE)
            item.setEditable(False)
            self._model.appendRow(item)
        self._proxy = QSortFilterProxyModel(self)
        self._proxy.setSourceModel(self._model)
        self._proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Type a command…")
        self.filter.setAccessibleName("Command")
        self.list = QListView(self)
        self.list.setAccessibleName("Commands")
        self.list.setModel(self._proxy)
        self.no_matches = QLabel(self)
        self.no_matches.setObjectName("paletteNoMatches")
        self.no_matches.setEnabled(False)  # greyed: a note, not a command
        self.no_matches.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.no_matches)
        layout.addWidget(self.list)
        self.filter.textChanged.connect(self._on_filter)
        self.filter.returnPressed.connect(self.trigger_current)
        self.list.activated.connect(lambda _index: self.trigger_current())
        self.filter.installEventFilter(self)
        self._on_filter("")

    def open(self) -> None:
        """Shown with the cursor in the filter: type at once."""
        super().open()
        self.filter.setFocus()

    def _on_filter(self, text: str) -> None:
        self._proxy.setFilterFixedString(text.strip())
        found = self._proxy.rowCount() > 0
        if found:
            self.list.setCurrentIndex(self._proxy.index(0, 0))
        self.no_matches.setText(f"No command matches “{text.strip()}”")
        self.no_matches.setVisible(not found)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.filter and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentIndex().row() + (1 if event.key() == Qt.Key.Key_Down else -1)
                if 0 <= row < self._proxy.rowCount():
                    self.list.setCurrentIndex(self._proxy.index(row, 0))
                return True
        return super().eventFilter(watched, event)

    def visible_commands(self) -> list[str]:
        return [self._proxy.index(r, 0).data() for r in range(self._proxy.rowCount())]

    def trigger_current(self) -> None:
        index = self.list.currentIndex()
        if not index.isValid():
            return
        action = index.data(ACTION_ROLE)
        self.accept()
        if isinstance(action, QAction) and action.isEnabled():
            action.trigger()
