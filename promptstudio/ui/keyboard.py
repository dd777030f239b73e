"""The window's keyboard paths that are not one pane's: F6's regions. (The menus' and the
palette's actions, the library's on the open prompt among them, are ``window_actions``.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from promptstudio.ui import a11y

if TYPE_CHECKING:
    from promptstudio.ui.main_window import MainWindow


def window_regions(window: MainWindow) -> list[a11y.Region]:
    """F6's stops, in the order they are on screen."""
    tabs = window.bottom_tabs

    def board() -> None:
        tabs.setCurrentWidget(window.run_board)
        window.run_board.focus_answer()

    def variables() -> None:
        if not window.variables.focus_first():
            window.variables.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus(widget: QWidget) -> Callable[[], None]:
        return lambda: widget.setFocus(Qt.FocusReason.OtherFocusReason)

    return [
        a11y.Region("Library", lambda: window.library, window.library.focus_tree),
        a11y.Region("Template", lambda: window.editor, focus(window.editor)),
        a11y.Region("Variables", lambda: window.side_splitter, variables),
        a11y.Region("Run board", lambda: window.run_board, board),
        a11y.Region("Tabs below", tabs.tabBar, focus(tabs.tabBar())),
    ]
