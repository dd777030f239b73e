"""The library on the left: search box, tag filter, and the folder tree (or search hits).

Everything that changes the library runs as a task through :class:`LibraryModel.apply`,
so the tree reloads after each write. Questions (which folder, which tags, "delete for
good?") are asked with non-modal dialogs opened with ``open()``: a modal ``exec()``
inside the qasync loop breaks running tasks (qasync #59).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from promptstudio.storage import Database, PromptRow, SearchHit, library
from promptstudio.storage.search import hit_text
from promptstudio.storage.tree import create_untitled
from promptstudio.ui.library.library_model import (
    FOLDER_ROLE,
    NODE_KIND_ROLE,
    PROMPT_ID_ROLE,
    LibraryModel,
    NodeKind,
)
from promptstudio.ui.library.search_results import SearchResultsView
from promptstudio.ui.tasks import TaskOwner

SEARCH_DELAY_MS = 200
SEARCH_LIMIT = 50
TOP_LEVEL = "(Top level)"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


class LibraryPane(QWidget):
    """Call :meth:`refresh` once the event loop runs: nothing is read before."""

    promptSelected = Signal(int)
    """The user made a prompt current (in the tree or from a name hit): open it."""
    promptCreated = Signal(int)
    """A prompt was created here (new or duplicate); it is already selected in the tree."""
    versionRequested = Signal(int, int)
    """Prompt id, version id: a template or answer hit is to go into the editor."""
    matchRequested = Signal(int, int, int)
    """Prompt, version and response id (0: none): show a template or answer hit in History."""
    promptRenamed = Signal(int, str)
    """A prompt was renamed in the tree (prompt id, new name)."""
    promptTrashed = Signal(int)
    """A prompt went to the trash from here (menu, Delete key or a drop on Trash)."""
    statusMessage = Signal(str)

    def __init__(self, db: Database, tasks: TaskOwner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("libraryPane")
        self._db = db
        self._tasks = tasks
        self._notify = True
        self._expand_after_load = False
        self.model = LibraryModel(db, tasks, self)

        self.search = QLineEdit(self)
        self.search.setObjectName("librarySearch")
        self.search.setPlaceholderText("Search prompts and answers…")
        self.search.setClearButtonEnabled(True)
        self.tags = QComboBox(self)
        self.tags.setObjectName("libraryTags")
        # Compact in a narrow pane whatever the tag names; the popup shows them in full.
        self.tags.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.tags.setMinimumContentsLength(9)
        self.tags.addItem("All tags", None)
        self.tree = QTreeView(self)
        self._setup_tree()
        self.results = SearchResultsView(self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.tree)
        self.stack.addWidget(self.results)

        header = QHBoxLayout()
        header.addWidget(QLabel("<b>Library</b>", self))
        header.addStretch(1)
        header.addWidget(self.tags)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.addLayout(header)
        layout.addWidget(self.search)
        layout.addWidget(self.stack, 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._start_search)
        self.search.textChanged.connect(self._on_search_text)
        self.tags.currentIndexChanged.connect(self._on_tag_chosen)
        self.results.promptSelected.connect(self._open_hit)
        self.results.versionRequested.connect(self._open_version_hit)
        self.results.matchRequested.connect(self._open_match)
        self.results.previewRequested.connect(
            lambda hit: self._tasks.start("library:preview", self._preview(hit))
        )
        self.model.loaded.connect(self._after_load)
        self.model.changed.connect(self._load_tags)
        self.model.renamed.connect(self.promptRenamed)
        self.model.trashed.connect(self.promptTrashed)
        for widget in (self.search, self.tree, self.results.list):
            widget.installEventFilter(self)

    def _setup_tree(self) -> None:
        tree = self.tree
        tree.setObjectName("libraryTree")
        tree.setModel(self.model)
        tree.setHeaderHidden(True)
        tree.setUniformRowHeights(True)
        tree.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        tree.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        tree.setDefaultDropAction(Qt.DropAction.MoveAction)
        tree.setDropIndicatorShown(True)
        tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tree.customContextMenuRequested.connect(self._show_menu)
        tree.selectionModel().currentChanged.connect(self._on_current)

    # ---- public ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the tree and the tag list again, keeping what is expanded and selected."""
        self.model.refresh()
        self._load_tags()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def select_prompt(self, prompt_id: int, *, notify: bool = False) -> None:
        """Show and select the prompt, opening its folders; ``notify`` emits promptSelected."""
        self._tasks.start("library:select", self._select(prompt_id, notify=notify))

    def current_prompt_id(self) -> int | None:
        index = self.tree.currentIndex()
        if index.isValid() and index.data(NODE_KIND_ROLE) == NodeKind.PROMPT:
            return int(index.data(PROMPT_ID_ROLE))
        return None

    def rename_current(self) -> None:
        """Edit the current prompt's or folder's name in place (F2)."""
        index = self.tree.currentIndex()
        if index.isValid() and self.model.flags(index) & Qt.ItemFlag.ItemIsEditable:
            self.tree.edit(index)

    def delete_current(self) -> None:
        """Delete key: a prompt goes to the trash; in the trash, asks to delete for good."""
        index = self.tree.currentIndex()
        kind = index.data(NODE_KIND_ROLE) if index.isValid() else None
        if kind == NodeKind.PROMPT:
            self.trash(int(index.data(PROMPT_ID_ROLE)))
        elif kind == NodeKind.TRASHED:
            self.ask_delete_forever(int(index.data(PROMPT_ID_ROLE)))

    def clear_search(self) -> None:
        self.search.clear()
        self.tree.setFocus()

    def is_searching(self) -> bool:
        return self.stack.currentWidget() is self.results

    # ---- selection ------------------------------------------------------------------------

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._notify and current.isValid() and current.data(NODE_KIND_ROLE) == NodeKind.PROMPT:
            self.promptSelected.emit(int(current.data(PROMPT_ID_ROLE)))

    def _set_current(self, index: QModelIndex, *, notify: bool) -> None:
        parent = index.parent()
        while parent.isValid():
            self.tree.expand(parent)
            parent = parent.parent()
        self._notify = notify
        try:
            self.tree.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
        finally:
            self._notify = True
        self.tree.scrollTo(index)

    async def _select(self, prompt_id: int, *, notify: bool = False, edit: bool = False) -> None:
        index = await self.model.reveal(prompt_id)
        if index.isValid():
            self._set_current(index, notify=notify)
            if edit:
                self.tree.edit(index)

    def _current_folder(self) -> str:
        """Where "New prompt" puts it: the selected folder, or the selected prompt's."""
        index = self.tree.currentIndex()
        if index.isValid() and index.data(NODE_KIND_ROLE) in (NodeKind.FOLDER, NodeKind.PROMPT):
            return str(index.data(FOLDER_ROLE))
        return ""

    def _after_load(self) -> None:
        if self._expand_after_load:
            self._expand_after_load = False
            self.tree.expandAll()

    # ---- writes ---------------------------------------------------------------------------

    def new_prompt(self, folder: str | None = None) -> None:
        """Create "Untitled N" in ``folder`` (default: the selected one) and edit its name."""
        where = self._current_folder() if folder is None else folder
        self.model.start_write(self._new_prompt(where))

    async def _new_prompt(self, folder: str) -> None:
        prompt = await self.model.apply(lambda c: create_untitled(c, folder))
        self.promptCreated.emit(prompt.id)
        await self._select(prompt.id, edit=True)

    def duplicate(self, prompt_id: int) -> None:
        self.model.start_write(self._duplicate(prompt_id))

    async def _duplicate(self, prompt_id: int) -> None:
        copy = await self.model.apply(lambda c: library.duplicate_prompt(c, prompt_id))
        self.promptCreated.emit(copy.id)
        await self._select(copy.id)
        self.statusMessage.emit(f"Created “{copy.name}”")

    def move_to(self, prompt_id: int, folder: str) -> None:
        self.model.start_write(self._move(prompt_id, folder))

    async def _move(self, prompt_id: int, folder: str) -> None:
        await self.model.apply(lambda c: library.move_prompt(c, prompt_id, folder))
        await self._select(prompt_id)

    def set_starred(self, prompt_id: int, starred: bool) -> None:
        self.model.start_write(
            self.model.apply(lambda c: library.set_starred(c, prompt_id, starred))
        )

    def set_tags(self, prompt_id: int, text: str) -> None:
        """Tags from comma-separated text; blanks and repeats are dropped by the store."""
        tags = text.split(",")
        self.model.start_write(self.model.apply(lambda c: library.set_tags(c, prompt_id, tags)))

    def trash(self, prompt_id: int) -> None:
        self.model.start_write(self._trash(prompt_id))

    async def _trash(self, prompt_id: int) -> None:
        for prompt in await self.model.trash([prompt_id]):
            self.statusMessage.emit(f"Moved “{prompt.name}” to the trash")

    def restore(self, prompt_id: int) -> None:
        self.model.start_write(self._restore(prompt_id))

    async def _restore(self, prompt_id: int) -> None:
        prompt = await self.model.apply(lambda c: library.restore_prompt(c, prompt_id))
        await self._select(prompt_id)
        self.promptSelected.emit(prompt_id)  # the editor shows what the tree highlights
        self.statusMessage.emit(f"Restored “{prompt.name}” to {prompt.folder or 'the top level'}")

    def delete_forever(self, prompt_id: int) -> None:
        self.model.start_write(self.model.apply(lambda c: library.delete_forever(c, prompt_id)))

    def empty_trash(self) -> None:
        self.model.start_write(self._empty_trash())

    async def _empty_trash(self) -> None:
        count = await self.model.apply(library.empty_trash)
        self.statusMessage.emit(f"Emptied the trash: {_plural(count, 'prompt')} deleted for good")

    def create_folder(self, path: str) -> None:
        self.model.start_write(self._create_folder(path))

    async def _create_folder(self, path: str) -> None:
        folder = await self.model.apply(lambda c: library.create_folder(c, path))
        index = self.model.index_of_folder(folder)
        if index.isValid():
            self._set_current(index, notify=False)

    def delete_folder(self, path: str) -> None:
        """Remove an empty folder; the store refuses one that still holds prompts."""
        self.model.start_write(self.model.apply(lambda c: library.delete_folder(c, path)))

    # ---- questions (non-modal) ------------------------------------------------------------

    def _input(
        self, title: str, label: str, text: str, done: Callable[[str], None]
    ) -> QInputDialog:
        dialog = QInputDialog(self)
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
        box = QMessageBox(QMessageBox.Icon.Question, title, text, yes | cancel, self)
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
                self.create_folder(_join(parent, name.strip()))

        return self._input("New folder", label, "", create)

    def ask_move(self, prompt: PromptRow) -> QInputDialog:
        """Choose a folder from the list, or type a new path (it is created)."""

        def move(text: str) -> None:
            folder = "" if text.strip() == TOP_LEVEL else text
            if folder != prompt.folder:
                self.move_to(prompt.id, folder)

        dialog = self._input("Move to folder", f"Move “{prompt.name}” to:", "", move)
        dialog.setComboBoxItems([TOP_LEVEL, *self.model.folders])
        dialog.setComboBoxEditable(True)
        dialog.setTextValue(prompt.folder or TOP_LEVEL)
        return dialog

    def ask_tags(self, prompt: PromptRow) -> QInputDialog:
        label = f"Tags for “{prompt.name}”, separated by commas:"
        return self._input(
            "Tags", label, ", ".join(prompt.tags), lambda text: self.set_tags(prompt.id, text)
        )

    def ask_delete_forever(self, prompt_id: int) -> QMessageBox:
        prompt = self.model.prompt_at(self.model.index_of_prompt(prompt_id))
        name = f"“{prompt.name}”" if prompt is not None else "this prompt"
        return self._confirm(
            "Delete for good",
            f"Delete {name} for good? Its versions, runs and answers go with it. "
            "This cannot be undone.",
            "Delete for good",
            lambda: self.delete_forever(prompt_id),
        )

    def ask_empty_trash(self) -> QMessageBox | None:
        count = self.model.trash_count
        if not count:
            self.statusMessage.emit("The trash is empty")
            return None
        return self._confirm(
            "Empty trash",
            f"Delete the {_plural(count, 'prompt')} in the trash for good? Their versions, "
            "runs and answers go with them. This cannot be undone.",
            "Empty trash",
            self.empty_trash,
        )

    # ---- context menu ---------------------------------------------------------------------

    def menu_for(self, index: QModelIndex) -> QMenu:
        """The context menu for ``index`` (invalid: the empty area, i.e. the top level)."""
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def add(text: str, slot: Callable[[], object], key: str = "") -> None:
            action = menu.addAction(text)
            action.triggered.connect(lambda _checked=False: slot())
            if key:  # shown as a hint; the keys themselves are handled by the tree
                action.setShortcut(QKeySequence(key))

        kind = index.data(NODE_KIND_ROLE) if index.isValid() else None
        prompt = self.model.prompt_at(index)
        if kind in (None, NodeKind.FOLDER):
            folder = str(index.data(FOLDER_ROLE)) if index.isValid() else ""
            add("New prompt", lambda: self.new_prompt(folder))
            add("New folder…", lambda: self.ask_new_folder(folder))
            if index.isValid():
                menu.addSeparator()
                add("Rename", lambda: self._edit(index), "F2")
                add("Delete folder", lambda: self.delete_folder(folder))
        elif kind == NodeKind.PROMPT and prompt is not None:
            add("Rename", lambda: self._edit(index), "F2")
            add("Duplicate", lambda: self.duplicate(prompt.id))
            add("Move to folder…", lambda: self.ask_move(prompt))
            star = "Unstar" if prompt.starred else "Star"
            add(star, lambda: self.set_starred(prompt.id, not prompt.starred))
            add("Tags…", lambda: self.ask_tags(prompt))
            menu.addSeparator()
            add("Move to trash", lambda: self.trash(prompt.id), "Del")
        elif kind == NodeKind.TRASHED and prompt is not None:
            add("Restore", lambda: self.restore(prompt.id))
            add("Delete forever…", lambda: self.ask_delete_forever(prompt.id), "Del")
            menu.addSeparator()
            add("Empty trash…", self.ask_empty_trash)
        elif kind == NodeKind.TRASH:
            add("Empty trash…", self.ask_empty_trash)
            menu.actions()[-1].setEnabled(self.model.trash_count > 0)
        return menu

    def _edit(self, index: QModelIndex) -> None:
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.edit(index)

    def _show_menu(self, position: QPoint) -> None:
        menu = self.menu_for(self.tree.indexAt(position))
        if menu.actions():
            menu.popup(self.tree.viewport().mapToGlobal(position))
        else:
            menu.deleteLater()

    # ---- tags -----------------------------------------------------------------------------

    def _load_tags(self) -> None:
        self._tasks.start("library:tags", self._read_tags())

    async def _read_tags(self) -> None:
        tags = await self._db.acall(library.list_tags)
        current = self.model.tag_filter
        self.tags.blockSignals(True)
        self.tags.clear()
        self.tags.addItem("All tags", None)
        for tag in tags:
            self.tags.addItem(f"{tag.tag} ({tag.prompts})", tag.tag)
        found = self.tags.findData(current) if current is not None else 0
        self.tags.setCurrentIndex(max(found, 0))
        self.tags.blockSignals(False)
        if found < 0:  # the filtered tag is gone
            self.model.set_tag_filter(None)

    def _on_tag_chosen(self, row: int) -> None:
        tag = self.tags.itemData(row)
        self._expand_after_load = tag is not None
        self.model.set_tag_filter(tag)

    # ---- search ---------------------------------------------------------------------------

    def _on_search_text(self, text: str) -> None:
        if text.strip():
            self._search_timer.start()
            return
        self._search_timer.stop()
        self._tasks.cancel("library:search")
        self.stack.setCurrentWidget(self.tree)

    def _start_search(self) -> None:
        query = self.search.text().strip()
        if query:
            self._tasks.start("library:search", self._search(query))

    async def _search(self, query: str) -> None:
        hits = await self._db.acall(lambda c: library.search(c, query, limit=SEARCH_LIMIT))
        if self.search.text().strip() == query:
            self.results.show_hits(hits, query)
            self.stack.setCurrentWidget(self.results)

    def _open_hit(self, prompt_id: int) -> None:
        self.promptSelected.emit(prompt_id)
        self.select_prompt(prompt_id)

    def _open_version_hit(self, prompt_id: int, version_id: int) -> None:
        self.versionRequested.emit(prompt_id, version_id)
        self.select_prompt(prompt_id)

    def _open_match(self, prompt_id: int, version_id: int, response_id: int) -> None:
        self.matchRequested.emit(prompt_id, version_id, response_id)
        self.select_prompt(prompt_id)

    async def _preview(self, hit: SearchHit) -> None:
        text = await self._db.acall(hit_text, hit)
        self.results.show_preview(hit, text)

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
