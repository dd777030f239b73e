"""The window's keyboard paths that are not one pane's: the library's actions on the open
prompt (for the menus and the palette) and F6's regions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from promptstudio.storage import library
from promptstudio.ui import a11y
from promptstudio.ui.actions import ActionSpec

if TYPE_CHECKING:
    from promptstudio.storage import PromptRow
    from promptstudio.ui.main_window import MainWindow


def register_prompt_actions(window: MainWindow) -> None:
    """Star, tags, duplicate and move: the tree's context menu, on the open prompt."""
    add, pane = window.registry.add, window.library
    act = pane.tree_actions

    def on_prompt(do: Callable[[PromptRow], object]) -> Callable[[], None]:
        return lambda: _on_open_prompt(window, do)

    add(ActionSpec("prompt.duplicate", "D&uplicate prompt", "&File", "Ctrl+K, U"),
        on_prompt(lambda row: act.duplicate(row.id)))  # fmt: skip
    add(ActionSpec("prompt.move", "Move prompt to f&older…", "&File", "Ctrl+K, O"),
        on_prompt(pane.menu.ask_move))  # fmt: skip
    add(ActionSpec("prompt.star", "St&ar or unstar prompt", "&File", "Ctrl+K, A",
                   "Starred prompts come first in the library"),
        on_prompt(lambda row: act.set_starred(row.id, not row.starred)))  # fmt: skip
    add(ActionSpec("prompt.tags", "Prompt ta&gs…", "&File", "Ctrl+K, T"),
        on_prompt(pane.menu.ask_tags))  # fmt: skip


def _on_open_prompt(window: MainWindow, do: Callable[[PromptRow], object]) -> None:
    prompt_id = window.workspace.prompt_id
    if prompt_id is None:
        window.notifier.say("No prompt is open", 3000)
    else:  # as stored: the tree may not have loaded its folder
        do(window.workspace.db.call(library.get_prompt, prompt_id))


def window_regions(window: MainWindow) -> list[a11y.Region]:
    """F6's stops, in the order they are on screen."""
    tabs = window.bottom_tabs

    def board() -> None:
        tabs.setCurrentWidget(window.run_board)
        window.run_board.columns[0].output.setFocus(Qt.FocusReason.OtherFocusReason)

    def variables() -> None:
        if not window.variables.focus_first():
            window.variables.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus(widget: QWidget) -> Callable[[], None]:
        return lambda: widget.setFocus(Qt.FocusReason.OtherFocusReason)

    return [
        a11y.Region("Library", lambda: window.library, focus(window.library.tree)),
        a11y.Region("Template", lambda: window.editor, focus(window.editor)),
        a11y.Region("Variables", lambda: window.side_splitter, variables),
        a11y.Region("Run board", lambda: window.run_board, board),
        a11y.Region("Tabs below", tabs.tabBar, focus(tabs.tabBar())),
    ]
