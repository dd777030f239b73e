"""The library as a tree: Starred on top, then folders holding prompts, Trash at the bottom.

A Qt model over the store, so no view keeps its own copy of the library. Folder paths,
top-level prompts and the stars are read up front (a few small queries); the prompts of a
folder and of the trash are read when the view first expands it (``canFetchMore`` /
``fetchMore``), so a library of thousands of prompts opens with a handful of rows. A tag
filter reads every matching prompt at once instead: the filter already bounds them, and
folders without a match are left out.

Writes (rename through ``setData``, move by drop, and everything the pane does through
``model.writes``, :class:`LibraryWrites`) go to the database, then the tree is read again.
A reload maps the views' persistent indexes onto the new tree by key (the nodes and their
keys: ``library_nodes``), so expansion and selection survive it, including a renamed
folder and a prompt moved to another folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, overload

from PySide6.QtCore import (
    QAbstractItemModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from promptstudio.storage import Database, PromptRow, library
from promptstudio.storage.tree import ancestors, read_folder, read_trash
from promptstudio.ui.library.library_look import NodeIcons, tooltip
from promptstudio.ui.library.library_nodes import (
    ROOT_KEY,
    TRASH_KEY,
    Key,
    Node,
    NodeKind,
    NodeTable,
    build_tree,
    drop_target,
    fetched_children,
    moved,
    parent_folder,
)
from promptstudio.ui.library.library_writes import LibraryWrites
from promptstudio.ui.library.prompt_mime import MIME_TYPE, dropped_ids, prompts_mime
from promptstudio.ui.tasks import TaskOwner

Index = QModelIndex | QPersistentModelIndex

PROMPT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
NODE_KIND_ROLE = Qt.ItemDataRole.UserRole + 2
FOLDER_ROLE = Qt.ItemDataRole.UserRole + 3
"""A folder's path, or the folder a prompt lives in ('' is the top level)."""
STARRED_ROLE = Qt.ItemDataRole.UserRole + 4
TAGS_ROLE = Qt.ItemDataRole.UserRole + 5


class LibraryTreeModel(QAbstractItemModel):
    """Folders, prompts, Starred and Trash as read from the store: loading, the folders
    fetched on expand, the tag filter and what each row shows. :class:`LibraryModel` adds
    the changes made in the tree. Nothing is read until :meth:`refresh` (or :meth:`reload`)
    is called.
    """

    loaded = Signal()
    """A (re)load put a new tree in place."""
    fetched = Signal(QModelIndex)
    """A folder's (or the trash's) prompts arrived after an expand."""

    def __init__(self, db: Database, tasks: TaskOwner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._tasks = tasks
        self.tag_filter: str | None = None
        """Only prompts with this tag are shown (None: all); set with set_tag_filter."""
        self._root = Node(NodeKind.FOLDER, ROOT_KEY, None)
        self._table = NodeTable()
        self._opened: set[str] = set()
        self._trash_opened = False
        self._pending_renames: dict[str, str] = {}
        self._load_number = 0
        self._shown_number = 0
        self.trash_count = 0
        self.folders: list[str] = []
        """Every folder path, whatever the filter (for a "Move to folder" chooser)."""
        self._icons = NodeIcons()

    # ---- loading --------------------------------------------------------------------------

    def set_tag_filter(self, tag: str | None) -> None:
        """Show only prompts with ``tag`` (None: all); reloads."""
        tag = tag.strip() if tag else None
        if tag != self.tag_filter:
            self.tag_filter = tag or None
            self.refresh()

    def refresh(self) -> None:
        """Read the library again (as a task), keeping expansion and selection."""
        self._tasks.start("library:load", self.reload())

    async def reload(self, renamed: Mapping[str, str] | None = None) -> None:
        """Read the tree again; ``renamed`` (old folder path: new) keeps renamed folders open."""
        if renamed:
            self._pending_renames.update(renamed)
            self._opened = {moved(path, renamed) for path in self._opened}
        self._load_number += 1
        number = self._load_number
        opened = frozenset(self._opened)
        tag = self.tag_filter
        snapshot = await self._db.acall(
            library.read_tree, tag, opened, self._trash_opened or tag is not None
        )
        if number < self._shown_number:
            return  # a later load finished first: its tree is fresher
        self._shown_number = number
        self.trash_count = snapshot.trash_count
        self.folders = snapshot.all_folders
        self._install(build_tree(snapshot))
        self.loaded.emit()

    def _install(self, root: Node) -> None:
        """Swap in a new tree, moving every persistent index to the node with its key."""
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        keys = [None if (node := self._node_at(index)) is None else node.key for index in old]
        renamed, self._pending_renames = self._pending_renames, {}
        self._root = root
        self._table.clear()
        self._table.register(root)
        found = [None if key is None else self._table.find(key, renamed) for key in keys]
        new = [QModelIndex() if node is None else self._index_of(node) for node in found]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    # ---- lazy fetching --------------------------------------------------------------------

    def canFetchMore(self, parent: Index) -> bool:
        node = self._node_or_root(parent)
        return node is not None and not node.fetched and not node.fetching

    def fetchMore(self, parent: Index) -> None:
        node = self._node_or_root(parent)
        if node is None or node.fetched or node.fetching:
            return
        node.fetching = True
        self._tasks.start(f"library:fetch:{node.kind}:{node.path}", self._fetch(node.key))

    async def _fetch(self, key: Key) -> None:
        """Read one folder's (or the trash's) prompts and insert them under it."""
        kind, path, _ = key
        tag = self.tag_filter
        known = self._table.by_key.get(key)
        if known is not None and known.fetched:
            return
        if kind == NodeKind.TRASH:
            self._trash_opened = True
        else:
            self._opened.add(path)
        try:
            if kind == NodeKind.TRASH:
                rows = await self._db.acall(read_trash, tag)
            else:
                rows = await self._db.acall(read_folder, path, tag)
        finally:
            old = self._table.by_key.get(key)
            if old is not None:
                old.fetching = False
        node = self._table.by_key.get(key)  # the tree may have been reloaded meanwhile
        if node is None or node.fetched or tag != self.tag_filter:
            return
        node.fetched = True
        children = fetched_children(node, rows)
        parent = self._index_of(node)
        if children:
            first = len(node.children)
            self.beginInsertRows(parent, first, first + len(children) - 1)
            node.children += children
            for row, child in enumerate(node.children):
                child.row = row
                if row >= first:
                    self._table.register(child)
            self.endInsertRows()
        elif not node.children:
            # No rows to insert, but the view still shows an expand arrow: ask it to look again.
            self.layoutAboutToBeChanged.emit()
            self.layoutChanged.emit()
        self.fetched.emit(parent)

    async def reveal(self, prompt_id: int) -> QModelIndex:
        """The prompt's index, reading the folders above it first; invalid if filtered out."""
        if prompt_id not in self._table.prompts:
            prompt = await self._db.acall(library.get_prompt, prompt_id)
            if prompt.trashed_at is not None:
                await self._fetch(TRASH_KEY)
            else:
                for path in ancestors(prompt.folder):
                    await self._fetch((NodeKind.FOLDER, path, 0))
        return self.index_of_prompt(prompt_id)

    def index_of_prompt(self, prompt_id: int) -> QModelIndex:
        """The prompt's index in its folder or the trash, if it is loaded."""
        node = self._table.prompts.get(prompt_id)
        return self._index_of(node) if node is not None else QModelIndex()

    def index_of_folder(self, path: str) -> QModelIndex:
        node = self._table.by_key.get((NodeKind.FOLDER, path, 0))
        return self._index_of(node) if node is not None and path else QModelIndex()

    def trash_index(self) -> QModelIndex:
        node = self._table.by_key.get(TRASH_KEY)
        return self._index_of(node) if node is not None else QModelIndex()

    def prompt_at(self, index: Index) -> PromptRow | None:
        node = self._node_at(index)
        return None if node is None else node.prompt

    # ---- the tree -------------------------------------------------------------------------

    def _node_at(self, index: Index) -> Node | None:
        return self._table.by_uid.get(index.internalId()) if index.isValid() else None

    def _node_or_root(self, index: Index) -> Node | None:
        return self._node_at(index) if index.isValid() else self._root

    def _index_of(self, node: Node) -> QModelIndex:
        if node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, 0, node.uid)

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008 (Qt API)
        node = self._node_or_root(parent)
        if node is None or column != 0 or not 0 <= row < len(node.children):
            return QModelIndex()
        return self.createIndex(row, 0, node.children[row].uid)

    @overload
    def parent(self) -> QObject | None: ...
    @overload
    def parent(self, child: Index) -> QModelIndex: ...
    def parent(self, child: Index | None = None) -> QObject | QModelIndex | None:
        if child is None:
            return super().parent()  # QObject.parent()
        node = self._node_at(child)
        if node is None or node.parent is None:
            return QModelIndex()
        return self._index_of(node.parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        node = self._node_or_root(parent)
        return 0 if node is None or parent.column() > 0 else len(node.children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 1

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008 (Qt API)
        node = self._node_or_root(parent)
        return node is not None and (bool(node.children) or not node.fetched)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self._node_at(index)
        if node is None:
            return None
        prompt = node.prompt
        if role == Qt.ItemDataRole.DisplayRole:
            if node.kind == NodeKind.TRASH:
                # Under a tag filter, count what the filter lets through.
                count = len(node.children) if self.tag_filter is not None else self.trash_count
                return f"Trash ({count})" if count else "Trash"
            return "Starred" if node.kind == NodeKind.STARRED else node.name
        if role == Qt.ItemDataRole.EditRole:
            return {NodeKind.TRASH: "Trash", NodeKind.STARRED: "Starred"}.get(node.kind, node.name)
        if role == NODE_KIND_ROLE:
            return str(node.kind)
        if role == PROMPT_ID_ROLE:
            return None if prompt is None else prompt.id
        if role == FOLDER_ROLE:
            return node.path
        if role == STARRED_ROLE:
            return prompt is not None and prompt.starred
        if role == TAGS_ROLE:
            return [] if prompt is None else list(prompt.tags)
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(node)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons.icon(node)
        if role == Qt.ItemDataRole.ForegroundRole and node.kind == NodeKind.TRASHED:
            return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flag = Qt.ItemFlag
        node = self._node_at(index)
        if node is None:
            return flag.ItemIsDropEnabled  # the empty area: the top level
        base = flag.ItemIsEnabled | flag.ItemIsSelectable
        if node.kind == NodeKind.FOLDER:
            return base | flag.ItemIsEditable | flag.ItemIsDropEnabled
        if node.kind == NodeKind.PROMPT:
            return base | flag.ItemIsEditable | flag.ItemIsDragEnabled | flag.ItemIsDropEnabled
        if node.kind in (NodeKind.TRASH, NodeKind.STARRED):
            return base | flag.ItemIsDropEnabled
        return base


class LibraryModel(LibraryTreeModel):
    """The library tree as the user changes it: a rename in place (``setData``), prompts
    dragged onto a folder, Starred or Trash; every write goes through :attr:`writes`, then
    the tree is read again (see the module docstring)."""

    changed = Signal()
    """A write through this model finished and the tree shows it."""
    renamed = Signal(int, str)
    """A prompt's new name is stored (prompt id, name)."""
    trashed = Signal(int)
    """A prompt went to the trash (so an editor showing it can let go)."""

    def __init__(self, db: Database, tasks: TaskOwner, parent: QObject | None = None) -> None:
        super().__init__(db, tasks, parent)
        self.writes = LibraryWrites(db, tasks, self)
        """Every write to the library from the tree (renames, drops, the pane's actions)."""

    # ---- editing --------------------------------------------------------------------------

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Rename a prompt or a folder: shown at once, written in the background."""
        node = self._node_at(index)
        if role != Qt.ItemDataRole.EditRole or node is None:
            return False
        name = " ".join(str(value).split())
        if not name or name == node.name:
            return False
        writes = self.writes
        if node.kind == NodeKind.PROMPT and node.prompt is not None:
            prompt_id = node.prompt.id
            node.prompt = replace(node.prompt, name=name)
            self.dataChanged.emit(index, index)
            writes.start(writes.rename_prompt(prompt_id, name))
            return True
        if node.kind == NodeKind.FOLDER and node.path and "/" not in name:
            old = node.path
            new = f"{parent_folder(old)}/{name}".lstrip("/")
            node.path = new  # shown at once; the reload builds the real subtree
            self.dataChanged.emit(index, index)
            writes.start(
                writes.apply(lambda c: library.rename_folder(c, old, new), renamed={old: new})
            )
            return True
        return False

    # ---- drag and drop --------------------------------------------------------------------

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        nodes = [self._node_at(index) for index in indexes]
        return prompts_mime(
            node.prompt
            for node in nodes
            if node is not None and node.kind == NodeKind.PROMPT and node.prompt is not None
        )

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        return bool(dropped_ids(data)) and drop_target(self._node_or_root(parent)) is not None

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        """Prompts dropped on a folder (or a prompt in it) move there; on Trash, are trashed;
        on Starred, are starred. The write runs in the background."""
        ids = dropped_ids(data)
        target = drop_target(self._node_or_root(parent))
        if not ids or target is None:
            return False
        if action == Qt.DropAction.IgnoreAction:
            return True
        folder, writes = target.path, self.writes
        if target.kind == NodeKind.TRASH:
            writes.start(writes.trash(ids))
            return True
        if target.kind == NodeKind.STARRED:
            write = library.for_each(ids, lambda c, i: library.set_starred(c, i, True))
        else:
            write = library.for_each(ids, lambda c, i: library.move_prompt(c, i, folder))
        writes.start(writes.apply(write))
        return True
