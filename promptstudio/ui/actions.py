"""Every user action, registered in one place.

Each action is a :class:`QAction` with an id, a menu and a shortcut. Menus and the command
palette are built from the registry, so a new feature adds one line here and shows up in
both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

KeySpec = str | QKeySequence.StandardKey | tuple[str, ...] | None


@dataclass(frozen=True)
class ActionSpec:
    id: str
    text: str
    menu: str
    shortcut: KeySpec = None
    tip: str = ""
    checkable: bool = False


class ActionRegistry:
    """Owns the window's actions; ``window.addAction`` makes their shortcuts window-wide."""

    def __init__(self, window: QMainWindow) -> None:
        self._window = window
        self._actions: dict[str, QAction] = {}
        self._menus: dict[str, list[str]] = {}
        self.menus: dict[str, QMenu] = {}

    def add(self, spec: ActionSpec, callback: Callable[[], object]) -> QAction:
        if spec.id in self._actions:
            raise ValueError(f"action {spec.id!r} registered twice")
        action = QAction(spec.text, self._window)
        action.setObjectName(spec.id)
        if isinstance(spec.shortcut, tuple):
            action.setShortcuts([QKeySequence(key) for key in spec.shortcut])
        elif spec.shortcut is not None:
            action.setShortcut(QKeySequence(spec.shortcut))
        if spec.shortcut is not None:
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if spec.tip:
            action.setStatusTip(spec.tip)
        action.setCheckable(spec.checkable)
        action.triggered.connect(lambda _checked=False: callback())
        self._window.addAction(action)
        self._actions[spec.id] = action
        self._menus.setdefault(spec.menu, []).append(spec.id)
        return action

    def __getitem__(self, action_id: str) -> QAction:
        return self._actions[action_id]

    def all(self) -> list[QAction]:
        return list(self._actions.values())

    def by_menu(self) -> list[tuple[str, list[QAction]]]:
        """Each menu's title and actions, in menu order (for the shortcuts list)."""
        return [(title, [self._actions[i] for i in ids]) for title, ids in self._menus.items()]

    def build_menus(self) -> None:
        bar = self._window.menuBar()
        for title, ids in self._menus.items():
            menu: QMenu = bar.addMenu(title)
            self.menus[title] = menu
            for action_id in ids:
                menu.addAction(self._actions[action_id])
