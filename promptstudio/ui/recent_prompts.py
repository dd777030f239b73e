"""File › Open recent: the last prompts opened, newest first, kept in ui-state.ini."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QMenu, QWidget

RECENT = 10


class RecentPrompts(QObject):
    """Owns the menu; :meth:`remember` each prompt opened."""

    def __init__(
        self,
        state: QSettings,
        names: Callable[[], Mapping[int, str]],
        open_prompt: Callable[[int], object],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._state, self._names, self._open = state, names, open_prompt
        self.menu = QMenu("Open re&cent", parent)
        self.menu.setObjectName("recentMenu")
        self.menu.aboutToShow.connect(self._fill)

    def prompts(self) -> list[int]:
        value = self._state.value("library/recent") or ""
        return [int(part) for part in str(value).split(",") if part.strip().isdigit()]

    def remember(self, prompt_id: int) -> None:
        recent = [prompt_id, *(p for p in self.prompts() if p != prompt_id)][:RECENT]
        self._state.setValue("library/recent", ",".join(map(str, recent)))

    def _fill(self) -> None:
        self.menu.clear()
        names = self._names()
        for number, prompt_id in enumerate(p for p in self.prompts() if p in names):
            action = self.menu.addAction(f"&{number + 1}  {names[prompt_id]}")
            action.triggered.connect(functools.partial(self._open, prompt_id))
        if self.menu.isEmpty():
            self.menu.addAction("No recent prompts").setEnabled(False)
