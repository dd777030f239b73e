"""The library tree's context menu and the questions its entries ask.

Questions (which folder, which tags, "delete for good?") are non-modal dialogs opened with
``open()``: a modal ``exec()`` inside the qasync loop breaks running tasks (qasync #59).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QWidget

from promptstudio.storage import PromptRow
from promptstudio.ui.library.library_actions import LibraryActions, plural
from promptstudio.ui.library.library_model import FOLDER_ROLE, NODE_KIND_ROLE, NodeKind

TOP_LEVEL = "(Top level)"


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


class TreeMenu(QObject):
    """Builds the menu for a spot in the tree; its dialogs open over ``pane``."""

    statusMessage = Signal(str)

    def __init__(self, actions: LibraryActions, pane: QWidget) -> None:
        super().__init__(pane)
        self.tree_actions, self._pane = actions, pane
        self.model, self.tree = actions.model, actions.tree
        self.tree.customContextMenuRequested.connect(self._show_menu)

    def menu_for(self, index: QModelIndex) -> QMenu:
        """The context menu for ``index`` (invalid: the empty area, i.e. the top level)."""
        menu = QMenu(self._pane)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def add(text: str, slot: Callable[[], object], key: str = "") -> None:
            action = menu.addAction(text)
            action.triggered.connect(lambda _checked=False: slot())
            if key:  # shown as a hint; the keys themselves are handled by the tree
                action.setShortcut(QKeySequence(key))

        act = self.tree_actions
        kind = index.data(NODE_KIND_ROLE) if index.isValid() else None
        prompt = self.model.prompt_at(index)
        if kind in (None, NodeKind.FOLDER):
            folder = str(index.data(FOLDER_ROLE)) if index.isValid() else ""
            add("New prompt", lambda: act.new_prompt(folder))
            add("New folder…", lambda: self.ask_new_folder(folder))
            if index.isValid():
                menu.addSeparator()
                add("Rename", lambda: self.tree.rename(index), "F2")
                add("Delete folder", lambda: act.delete_folder(folder))
        elif kind == NodeKind.PROMPT and prompt is not None:
            add("Rename", lambda: self.tree.rename(index), "F2")
            add("Duplicate", lambda: act.duplicate(prompt.id))
            add("Move to folder…", lambda: self.ask_move(prompt))
            star = "Unstar" if prompt.starred else "Star"
            add(star, lambda: act.set_starred(prompt.id, not prompt.starred))
            add("Tags…", lambda: self.ask_tags(prompt))
            menu.addSeparator()
            add("Move to trash", lambda: act.trash(prompt.id), "Del")
        elif kind == NodeKind.TRASHED and prompt is not None:
            add("Restore", lambda: act.restore(prompt.id))
            add("Delete forever…", lambda: self.ask_delete_forever(prompt.id), "Del")
            menu.addSeparator()
            add("Empty trash…", self.ask_empty_trash)
        elif kind == NodeKind.TRASH:
            add("Empty trash…", self.ask_empty_trash)
            menu.actions()[-1].setEnabled(self.model.trash_count > 0)
        return menu

    def _show_menu(self, position: QPoint) -> None:
        menu = self.menu_for(self.tree.indexAt(position))
        if menu.actions():
            menu.popup(self.tree.viewport().mapToGlobal(position))
        else:
            menu.deleteLater()

    # ---- questions (non-modal) ------------------------------------------------------------

    def _input(
        self, title: str, label: str, text: str, done: Callable[[str], None]
    ) -> QInputDialog:
        dialog = QInputDialog(self._pane)
        dialog.setObjectName("libraryInput")
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setTextValue(text)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(done)
        dialog.open()
        return dialog

    def _confirm(self, title: str, text: str, button: str, done: Callable[[], None]) -> QMessageBox:
        yes, cancel = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.Cancel
        box = QMessageBox(QMessageBox.Icon.Question, title, text, yes | cancel, self._pane)
        box.setObjectName("libraryConfirm")
        box.button(yes).setText(button)
        box.setDefaultButton(cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda clicked: done() if clicked is box.button(yes) else None)
        box.open()
        return box

    def ask_new_folder(self, parent: str = "") -> QInputDialog:
        label = f"New folder in “{parent}”:" if parent else "New folder:"

        def create(name: str) -> None:
            if name.strip():
                self.tree_actions.create_folder(_join(parent, name.strip()))

        return self._input("New folder", label, "", create)

    def ask_move(self, prompt: PromptRow) -> QInputDialog:
        """Choose a folder from the list, or type a new path (it is created)."""

        def move(text: str) -> None:
            folder = "" if text.strip() == TOP_LEVEL else text
            if folder != prompt.folder:
                self.tree_actions.move_to(prompt.id, folder)

        dialog = self._input("Move to folder", f"Move “{prompt.name}” to:", "", move)
        dialog.setComboBoxItems([TOP_LEVEL, *self.model.folders])
        dialog.setComboBoxEditable(True)
        dialog.setTextValue(prompt.folder or TOP_LEVEL)
        return dialog

    def ask_tags(self, prompt: PromptRow) -> QInputDialog:
        label = f"Tags for “{prompt.name}”, separated by commas:"
        return self._input(
            "Tags",
            label,
            ", ".join(prompt.tags),
            lambda text: self.tree_actions.set_tags(prompt.id, text),
        )

    def ask_delete_forever(self, prompt_id: int) -> QMessageBox:
        prompt = self.model.prompt_at(self.model.index_of_prompt(prompt_id))
        name = f"“{prompt.name}”" if prompt is not None else "this prompt"
        return self._confirm(
            "Delete for good",
            f"Delete {name} for good? Its versions, runs and answers go with it. "
            "This cannot be undone.",
            "Delete for good",
            lambda: self.tree_actions.delete_forever(prompt_id),
        )

    def ask_empty_trash(self) -> QMessageBox | None:
        count = self.model.trash_count
        if not count:
            self.statusMessage.emit("The trash is empty")
            return None
        return self._confirm(
            "Empty trash",
            f"Delete the {plural(count, 'prompt')} in the trash for good? Their versions, "
            "runs and answers go with them. This cannot be undone.",
            "Empty trash",
            self.tree_actions.empty_trash,
        )
