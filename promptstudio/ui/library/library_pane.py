"""The library on the left: search box, tag filter, and the folder tree (or search hits).

The pane assembles its parts, one per module: the tree view (``library_tree``), what its
menu entries and keys do (``library_actions``), the menu and its questions (``tree_menu``),
the tag chooser (``tag_filter``) and the search (``library_search``). Everything that
changes the library runs as a task through the model's writes, so the tree reloads after
each write.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from promptstudio.storage import Database, PromptRow
from promptstudio.ui.library.library_actions import LibraryActions
from promptstudio.ui.library.library_model import (
    NODE_KIND_ROLE,
    PROMPT_ID_ROLE,
    LibraryModel,
    NodeKind,
)
from promptstudio.ui.library.library_search import LibrarySearch
from promptstudio.ui.library.library_tree import LibraryTree
from promptstudio.ui.library.search_results import SearchResultsView
from promptstudio.ui.library.tag_filter import TagFilter
from promptstudio.ui.library.tree_menu import TreeMenu
from promptstudio.ui.tasks import TaskOwner


class LibraryPane(QWidget):
    """Call :meth:`refresh` once the event loop runs: nothing is read before."""

    promptSelected = Signal(int)
    """The user made a prompt current (in the tree or from a name hit): open it."""
    promptCreated = Signal(int)
    """A prompt was created here (new or duplicate); it is already selected in the tree."""
    versionRequested = Signal(int, int)
    """Prompt id, version id: a template or answer hit is to go into the editor."""
    matchRequested = Signal(int, int, int)
    evaluationRequested = Signal(int, int)  # prompt, evaluation (a search hit on a cell's note)
    """Prompt, version and response id (0: none): show a template or answer hit in History."""
    promptRenamed = Signal(int, str)
    """A prompt was renamed in the tree (prompt id, new name)."""
    promptTrashed = Signal(int)
    """A prompt went to the trash from here (menu, Delete key or a drop on Trash)."""
    statusMessage = Signal(str)

    def __init__(self, db: Database, tasks: TaskOwner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("libraryPane")
        self.model = LibraryModel(db, tasks, self)

        self.search = QLineEdit(self)
        self.search.setObjectName("librarySearch")
        self.search.setAccessibleName("Search prompts and answers")
        self.search.setPlaceholderText("Search prompts and answers…")
        self.search.setClearButtonEnabled(True)
        self.tags = TagFilter(db, tasks, self.model, self)
        self.tree = LibraryTree(self.model, tasks, self)
        self.tree_actions = LibraryActions(self.model, self.tree, self)
        self.menu = TreeMenu(self.tree_actions, self)
        self.results = SearchResultsView(self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.tree)
        self.stack.addWidget(self.results)
        self.searcher = LibrarySearch(
            db, tasks, self.search, self.results, self.stack, self.tree, self.select_prompt
        )

        header = QHBoxLayout()
        header.addWidget(QLabel("<b>Library</b>", self))
        header.addStretch(1)
        header.addWidget(self.tags)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.addLayout(header)
        layout.addWidget(self.search)
        layout.addWidget(self.stack, 1)

        self.tree.promptSelected.connect(self.promptSelected)
        self.tags.filtered.connect(self.tree.expand_after_load)
        self.searcher.promptSelected.connect(self.promptSelected)
        self.searcher.versionRequested.connect(self.versionRequested)
        self.searcher.matchRequested.connect(self.matchRequested)
        self.searcher.evaluationRequested.connect(self.evaluationRequested)
        self.tree_actions.promptCreated.connect(self.promptCreated)
        self.tree_actions.promptSelected.connect(self.promptSelected)
        self.tree_actions.statusMessage.connect(self.statusMessage)
        self.menu.statusMessage.connect(self.statusMessage)
        self.model.changed.connect(self.tags.reload)
        self.model.renamed.connect(self.promptRenamed)
        self.model.trashed.connect(self.promptTrashed)
        for widget in (self.search, self.tree, self.results.list):
            widget.installEventFilter(self)

    def refresh(self) -> None:
        """Read the tree and the tag list again, keeping what is expanded and selected."""
        self.model.refresh()
        self.tags.reload()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def focus_tree(self) -> None:
        self.tree.setFocus(Qt.FocusReason.OtherFocusReason)

    # ---- what the tree's menu does, asked from elsewhere (the window's menus, on the open
    # prompt as stored: the tree may not have loaded its folder) ----------------------------

    def duplicate(self, prompt: PromptRow) -> None:
        self.tree_actions.duplicate(prompt.id)

    def toggle_star(self, prompt: PromptRow) -> None:
        self.tree_actions.set_starred(prompt.id, not prompt.starred)

    def ask_move(self, prompt: PromptRow) -> QInputDialog:
        return self.menu.ask_move(prompt)

    def ask_tags(self, prompt: PromptRow) -> QInputDialog:
        return self.menu.ask_tags(prompt)

    def select_prompt(self, prompt_id: int, *, notify: bool = False) -> None:
        """Show and select the prompt, opening its folders; ``notify`` emits promptSelected."""
        self.tree.select_prompt(prompt_id, notify=notify)

    def rename_current(self) -> None:
        """Edit the current prompt's or folder's name in place (F2)."""
        self.tree.rename_current()

    def delete_current(self) -> None:
        """Delete key: a prompt goes to the trash; in the trash, asks to delete for good."""
        index = self.tree.currentIndex()
        kind = index.data(NODE_KIND_ROLE) if index.isValid() else None
        if kind == NodeKind.PROMPT:
            self.tree_actions.trash(int(index.data(PROMPT_ID_ROLE)))
        elif kind == NodeKind.TRASHED:
            self.menu.ask_delete_forever(int(index.data(PROMPT_ID_ROLE)))

    def clear_search(self) -> None:
        self.search.clear()
        self.tree.setFocus()

    def is_searching(self) -> bool:
        return self.searcher.is_searching()

    # ---- keys -----------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            return super().eventFilter(watched, event)
        assert isinstance(event, QKeyEvent)
        handler = self._key_handler(watched, event.key())
        if handler is None:
            return super().eventFilter(watched, event)
        event.accept()  # on ShortcutOverride: the key is ours, not a window shortcut's
        if kind == QEvent.Type.KeyPress:
            handler()
        return True

    def _key_handler(self, watched: QObject, key: int) -> Callable[[], None] | None:
        enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if watched is self.search:
            if key == Qt.Key.Key_Escape and self.search.text():
                return self.clear_search
            if self.is_searching() and key == Qt.Key.Key_Down:
                return self.results.list.setFocus
            if self.is_searching() and enter:
                return self.results.open_current
        elif watched is self.results.list and key == Qt.Key.Key_Escape:
            return self.clear_search
        elif watched is self.tree and key == Qt.Key.Key_Delete:
            editing = self.tree.state() == QAbstractItemView.State.EditingState
            return None if editing else self.delete_current
        return None
