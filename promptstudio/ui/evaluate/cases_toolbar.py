"""The test cases' toolbar: its actions (add, from the form, duplicate, delete, move, undo,
redo, import, export), their buttons and the case count.

Row shortcuts live on the table view itself (``WidgetShortcut``), so Ctrl+D or Delete typed
in a cell editor or in the checks box below edit that text, never the rows. The actions are
also the view's context menu.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTableView, QToolButton, QWidget

# (name, text, tooltip, shortcut on the table view or "")
ACTIONS: Final = (
    ("add", "Add case", "Add an empty case", "Ctrl+Shift+A"),
    ("from_form", "From the form", "Add a case with the values in the variables form", ""),
    ("duplicate", "Duplicate", "Duplicate the selected cases", "Ctrl+D"),
    ("delete", "Delete", "Delete the selected cases", "Del"),
    ("up", "Move up", "Move the case up", "Alt+Up"),
    ("down", "Move down", "Move the case down", "Alt+Down"),
    ("undo", "Undo", "Undo", "Ctrl+Z"),
    ("redo", "Redo", "Redo", "Ctrl+Shift+Z"),
    ("import", "Import…", "Replace the cases with those of a CSV, JSONL or JSON file", ""),
    ("export", "Export…", "Save the cases as CSV, JSONL or JSON", ""),
)
ROW_ACTIONS: Final = ("duplicate", "delete", "up", "down")  # they need chosen rows


class CasesToolbar(QHBoxLayout):
    """The actions of ``owner`` (the cases table) with ``slots`` by name; ``stack`` enables
    undo and redo and names what they would do."""

    def __init__(
        self,
        owner: QWidget,
        view: QTableView,
        slots: Mapping[str, Callable[[], object]],
        stack: QUndoStack,
    ) -> None:
        super().__init__()
        self._owner = owner
        self.setContentsMargins(0, 0, 0, 0)
        self.actions = {
            name: _action(owner, view, text, tip, key, slots[name])
            for name, text, tip, key in ACTIONS
        }
        for name, can_change, text_changed in (
            ("undo", stack.canUndoChanged, stack.undoTextChanged),
            ("redo", stack.canRedoChanged, stack.redoTextChanged),
        ):
            action = self.actions[name]
            action.setEnabled(False)
            can_change.connect(action.setEnabled)
            text_changed.connect(
                lambda text, action=action: action.setToolTip(
                    f"{action.text()}{': ' + text if text else ''} ({action.shortcut().toString()})"
                )
            )
        self.count_label = QLabel(owner)
        self.count_label.setObjectName("casesCount")

    def add_buttons(self) -> None:
        """A button for each action, in groups; the case count before import and export."""
        for name, _text, _tip, _key in ACTIONS:
            if name in ("up", "undo", "import"):
                self.addSpacing(12)
            if name == "import":
                self.addStretch(1)
                self.addWidget(self.count_label)
                self.addSpacing(12)
            button = QToolButton(self._owner)
            button.setDefaultAction(self.actions[name])
            self.addWidget(button)

    def add_beside_count(self, *widgets: QWidget) -> None:
        """Show ``widgets`` right after the case count."""
        index = self.indexOf(self.count_label) + 1
        for offset, widget in enumerate(widgets):
            self.insertWidget(index + offset, widget)

    def show_count(self, rows: int) -> None:
        self.count_label.setText(case_count(rows) if rows else "No cases yet")

    def rows_chosen(self, chosen: bool) -> None:
        """The row actions work on chosen rows only."""
        for name in ROW_ACTIONS:
            self.actions[name].setEnabled(chosen)


def _action(
    owner: QWidget, view: QTableView, text: str, tip: str, key: str, slot: Callable[[], object]
) -> QAction:
    action = QAction(text, owner)
    action.setToolTip(f"{tip} ({key})" if key else tip)
    action.triggered.connect(lambda _checked=False: slot())
    if key:
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        view.addAction(action)
    return action


def case_count(number: int) -> str:
    return f"{number} case{'' if number == 1 else 's'}"
