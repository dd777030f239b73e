"""The library's folder tree view: which prompt is current, and showing one on request.

Picking a prompt (click, arrow keys) emits :attr:`LibraryTree.promptSelected`; showing one
from elsewhere (:meth:`LibraryTree.select_prompt`) reads the folders above it first and
selects it without that signal unless asked to.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QTreeView, QWidget

from promptstudio.ui.library.library_model import (
    FOLDER_ROLE,
    NODE_KIND_ROLE,
    PROMPT_ID_ROLE,
    LibraryModel,
    NodeKind,
)
from promptstudio.ui.tasks import TaskOwner


class LibraryTree(QTreeView):
    promptSelected = Signal(int)
    """The user made a prompt current in the tree: open it."""

    def __init__(
        self, model: LibraryModel, tasks: TaskOwner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.library = model
        self._tasks = tasks
        self._notify = True
        self._expand_after_load = False
        self.setObjectName("libraryTree")
        self.setAccessibleName("Prompts")
        self.setModel(model)
        self.setHeaderHidden(True)
        self.setUniformRowHeights(True)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDropIndicatorShown(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.selectionModel().currentChanged.connect(self._on_current)
        model.loaded.connect(self._after_load)

    def select_prompt(self, prompt_id: int, *, notify: bool = False) -> None:
        """Show and select the prompt, opening its folders; ``notify`` emits promptSelected."""
        self._tasks.start("library:select", self.select(prompt_id, notify=notify))

    async def select(self, prompt_id: int, *, notify: bool = False, edit: bool = False) -> None:
        """:meth:`select_prompt` as a coroutine; ``edit`` then edits the prompt's name."""
        index = await self.library.reveal(prompt_id)
        if index.isValid():
            self.set_current(index, notify=notify)
            if edit:
                self.edit(index)

    def set_current(self, index: QModelIndex, *, notify: bool) -> None:
        """Make ``index`` current and selected, opening the folders above it."""
        parent = index.parent()
        while parent.isValid():
            self.expand(parent)
            parent = parent.parent()
        self._notify = notify
        try:
            self.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
        finally:
            self._notify = True
        self.scrollTo(index)

    def current_folder(self) -> str:
        """Where "New prompt" puts it: the selected folder, or the selected prompt's."""
        index = self.currentIndex()
        if index.isValid() and index.data(NODE_KIND_ROLE) in (NodeKind.FOLDER, NodeKind.PROMPT):
            return str(index.data(FOLDER_ROLE))
        return ""

    def rename(self, index: QModelIndex) -> None:
        """Make ``index`` current and edit its name in place (a prompt or a folder)."""
        if index.isValid():
            self.setCurrentIndex(index)
            self.edit(index)

    def rename_current(self) -> None:
        """Edit the current prompt's or folder's name in place (F2)."""
        index = self.currentIndex()
        if index.isValid() and self.library.flags(index) & Qt.ItemFlag.ItemIsEditable:
            self.edit(index)

    def expand_after_load(self, expand: bool) -> None:
        """Expand every folder once the next load is in (a tag filter shows all it found)."""
        self._expand_after_load = expand

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._notify and current.isValid() and current.data(NODE_KIND_ROLE) == NodeKind.PROMPT:
            self.promptSelected.emit(int(current.data(PROMPT_ID_ROLE)))

    def _after_load(self) -> None:
        if self._expand_after_load:
            self._expand_after_load = False
            self.expandAll()
