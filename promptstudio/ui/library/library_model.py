"""The library as a tree: Starred on top, then folders holding prompts, Trash at the bottom.

A Qt model over the store, so no view keeps its own copy of the library. Folder paths,
top-level prompts and the stars are read up front (a few small queries); the prompts of a
folder and of the trash are read when the view first expands it (``canFetchMore`` /
``fetchMore``), so a library of thousands of prompts opens with a handful of rows. A tag
filter reads every matching prompt at once instead: the filter already bounds them, and
folders without a match are left out.

Writes (rename through ``setData``, move by drop, and everything the pane does through
:meth:`LibraryModel.apply`) go to the database, then the tree is read again. A reload
maps the views' persistent indexes onto the new tree by key, so expansion and selection
survive it, including a renamed folder and a prompt moved to another folder.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeVar, overload

from PySide6.QtCore import (
    QAbstractItemModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

from promptstudio.storage import Database, PromptRow, library
from promptstudio.storage.tree import TreeSnapshot, ancestors, read_folder, read_trash
from promptstudio.ui.tasks import TaskOwner

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex

PROMPT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
NODE_KIND_ROLE = Qt.ItemDataRole.UserRole + 2
FOLDER_ROLE = Qt.ItemDataRole.UserRole + 3
"""A folder's path, or the folder a prompt lives in ('' is the top level)."""
STARRED_ROLE = Qt.ItemDataRole.UserRole + 4
TAGS_ROLE = Qt.ItemDataRole.UserRole + 5

MIME_TYPE = "application/x-promptstudio-prompt-ids"


class NodeKind(StrEnum):
    FOLDER = "folder"
    PROMPT = "prompt"
    TRASHED = "trashed"
    """A prompt in the trash."""
    TRASH = "trash"
    STARRED = "starred"


# (kind, folder path, prompt id): stable across reloads, unlike rows.
Key = tuple[str, str, int]
_UNDER_STARRED = "starred-prompt"
_TRASH_KEY: Key = (NodeKind.TRASH, "", 0)
_STARRED_KEY: Key = (NodeKind.STARRED, "", 0)


@dataclass(eq=False)
class _Node:
    kind: NodeKind
    key: Key
    parent: _Node | None
    path: str = ""
    prompt: PromptRow | None = None
    children: list[_Node] = field(default_factory=list)
    fetched: bool = True
    fetching: bool = False
    row: int = 0
    uid: int = 0

    @property
    def name(self) -> str:
        if self.prompt is not None:
            return self.prompt.name
        return self.path.rsplit("/", 1)[-1]


def parent_folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _moved(path: str, renamed: Mapping[str, str]) -> str:
    for old, new in renamed.items():
        if path == old or path.startswith(old + "/"):
            return new + path[len(old) :]
    return path


def _star_icon() -> QIcon:
    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    font = QFont(QApplication.font())
    font.setPixelSize(15)
    painter.setFont(font)
    painter.setPen(QColor("#e0a100"))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "★")
    painter.end()
    return QIcon(pixmap)


def _when(stamp: str) -> str:
    return stamp[:16].replace("T", " ") + " UTC"


class LibraryModel(QAbstractItemModel):
    """Folders, prompts, Starred and Trash over the store; see the module docstring.

    Nothing is read until :meth:`refresh` (or :meth:`reload`) is called.
    """

    loaded = Signal()
    """A (re)load put a new tree in place."""
    changed = Signal()
    """A write through this model finished and the tree shows it."""
    fetched = Signal(QModelIndex)
    """A folder's (or the trash's) prompts arrived after an expand."""
    renamed = Signal(int, str)
    """A prompt's new name is stored (prompt id, name)."""
    trashed = Signal(int)
    """A prompt went to the trash (so an editor showing it can let go)."""

    def __init__(self, db: Database, tasks: TaskOwner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._tasks = tasks
        self._tag: str | None = None
        self._root = _Node(NodeKind.FOLDER, (NodeKind.FOLDER, "", 0), None)
        self._nodes: dict[int, _Node] = {}
        self._by_key: dict[Key, _Node] = {}
        self._prompt_nodes: dict[int, _Node] = {}
        self._uids: dict[Key, int] = {}
        self._next_uid = itertools.count(1)
        self._opened: set[str] = set()
        self._trash_opened = False
        self._pending_renames: dict[str, str] = {}
        self._load_number = 0
        self._shown_number = 0
        self._write_number = itertools.count(1)
        self.trash_count = 0
        self.folders: list[str] = []
        """Every folder path, whatever the filter (for a "Move to folder" chooser)."""
        self._icons: dict[str, QIcon] = {}

    # ---- loading --------------------------------------------------------------------------

    @property
    def tag_filter(self) -> str | None:
        return self._tag

    def set_tag_filter(self, tag: str | None) -> None:
        """Show only prompts with ``tag`` (None: all); reloads."""
        tag = tag.strip() if tag else None
        if tag != self._tag:
            self._tag = tag or None
            self.refresh()

    def refresh(self) -> None:
        """Read the library again (as a task), keeping expansion and selection."""
        self._tasks.start("library:load", self.reload())

    async def reload(self) -> None:
        self._load_number += 1
        number = self._load_number
        opened = frozenset(self._opened)
        snapshot = await self._db.acall(
            library.read_tree, self._tag, opened, self._trash_opened or self._tag is not None
        )
        if number < self._shown_number:
            return  # a later load finished first: its tree is fresher
        self._shown_number = number
        self.trash_count = snapshot.trash_count
        self.folders = snapshot.all_folders
        self._install(self._build(snapshot))
        self.loaded.emit()

    def start_write(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        """Run a write as its own task: writes must never cancel each other."""
        return self._tasks.start(f"library:write:{next(self._write_number)}", coro)

    async def apply(
        self,
        write: Callable[[sqlite3.Connection], T],
        *,
        renamed: Mapping[str, str] | None = None,
    ) -> T:
        """Run ``write`` on the database thread, then reload (also after a failure).

        ``renamed`` maps old folder paths to new ones, so a renamed folder stays open.
        """
        try:
            result = await self._db.acall(write)
        except Exception:
            await self.reload()  # undo what setData showed ahead of the write
            raise
        if renamed:
            self._pending_renames.update(renamed)
            self._opened = {_moved(path, renamed) for path in self._opened}
        await self.reload()
        self.changed.emit()
        return result

    def _build(self, snapshot: TreeSnapshot) -> _Node:
        root = _Node(NodeKind.FOLDER, (NodeKind.FOLDER, "", 0), None)
        if snapshot.starred:
            starred = _Node(NodeKind.STARRED, _STARRED_KEY, root)
            starred.children = [
                _Node(NodeKind.PROMPT, (_UNDER_STARRED, "", row.id), starred, row.folder, row)
                for row in sorted(snapshot.starred, key=lambda r: (r.name.casefold(), r.id))
            ]
            root.children.append(starred)
        folders: dict[str, _Node] = {"": root}

        def folder(path: str) -> _Node:
            if path not in folders:
                parent = folder(parent_folder(path))
                node = _Node(NodeKind.FOLDER, (NodeKind.FOLDER, path, 0), parent, path)
                node.fetched = path in snapshot.prompts
                parent.children.append(node)
                folders[path] = node
            return folders[path]

        for path in snapshot.folders:
            folder(path)
        for path, rows in snapshot.prompts.items():
            node = folder(path)
            node.children += [
                _Node(NodeKind.PROMPT, (NodeKind.PROMPT, path, row.id), node, path, row)
                for row in rows
            ]
        trash = _Node(NodeKind.TRASH, _TRASH_KEY, root, fetched=snapshot.trash is not None)
        trash.children = [
            _Node(NodeKind.TRASHED, (NodeKind.TRASHED, "", row.id), trash, row.folder, row)
            for row in snapshot.trash or []
        ]
        root.children.append(trash)
        return root

    def _register(self, node: _Node) -> None:
        uid = self._uids.get(node.key)
        if uid is None:
            uid = self._uids[node.key] = next(self._next_uid)
        node.uid = uid
        self._nodes[uid] = node
        self._by_key[node.key] = node
        if node.kind in (NodeKind.PROMPT, NodeKind.TRASHED) and node.key[0] != _UNDER_STARRED:
            assert node.prompt is not None
            self._prompt_nodes[node.prompt.id] = node
        for row, child in enumerate(node.children):
            child.row = row
            self._register(child)

    def _install(self, root: _Node) -> None:
        """Swap in a new tree, moving every persistent index to the node with its key."""
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        keys = [self._key_at(index) for index in old]
        renamed, self._pending_renames = self._pending_renames, {}
        self._root = root
        self._nodes, self._by_key, self._prompt_nodes = {}, {}, {}
        self._register(root)
        new = [self._index_for_key(key, renamed) for key in keys]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def _key_at(self, index: Index) -> Key | None:
        node = self._node_at(index)
        return None if node is None else node.key

    def _index_for_key(self, key: Key | None, renamed: Mapping[str, str]) -> QModelIndex:
        if key is None:
            return QModelIndex()
        kind, path, prompt_id = key
        if kind in (NodeKind.FOLDER, NodeKind.PROMPT):
            key = (kind, _moved(path, renamed), prompt_id)
        node = self._by_key.get(key)
        if node is None and kind == NodeKind.PROMPT:
            node = self._prompt_nodes.get(prompt_id)  # moved to another folder
            if node is not None and node.kind != NodeKind.PROMPT:
                node = None  # now in the trash: the selection does not follow it there
        return self._index_of(node) if node is not None else QModelIndex()

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
        tag = self._tag
        known = self._by_key.get(key)
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
            old = self._by_key.get(key)
            if old is not None:
                old.fetching = False
        node = self._by_key.get(key)  # the tree may have been reloaded meanwhile
        if node is None or node.fetched or tag != self._tag:
            return
        node.fetched = True
        child_kind = NodeKind.TRASHED if kind == NodeKind.TRASH else NodeKind.PROMPT
        where = "" if kind == NodeKind.TRASH else path
        children = [_Node(child_kind, (child_kind, where, r.id), node, r.folder, r) for r in rows]
        parent = self._index_of(node)
        if children:
            first = len(node.children)
            self.beginInsertRows(parent, first, first + len(children) - 1)
            node.children += children
            for row, child in enumerate(node.children):
                child.row = row
                if row >= first:
                    self._register(child)
            self.endInsertRows()
        elif not node.children:
            # No rows to insert, but the view still shows an expand arrow: ask it to look again.
            self.layoutAboutToBeChanged.emit()
            self.layoutChanged.emit()
        self.fetched.emit(parent)

    async def reveal(self, prompt_id: int) -> QModelIndex:
        """The prompt's index, reading the folders above it first; invalid if filtered out."""
        if prompt_id not in self._prompt_nodes:
            prompt = await self._db.acall(library.get_prompt, prompt_id)
            if prompt.trashed_at is not None:
                await self._fetch(_TRASH_KEY)
            else:
                for path in ancestors(prompt.folder):
                    await self._fetch((NodeKind.FOLDER, path, 0))
        node = self._prompt_nodes.get(prompt_id)
        return self._index_of(node) if node is not None else QModelIndex()

    def index_of_prompt(self, prompt_id: int) -> QModelIndex:
        """The prompt's index in its folder or the trash, if it is loaded."""
        node = self._prompt_nodes.get(prompt_id)
        return self._index_of(node) if node is not None else QModelIndex()

    def index_of_folder(self, path: str) -> QModelIndex:
        node = self._by_key.get((NodeKind.FOLDER, path, 0))
        return self._index_of(node) if node is not None and path else QModelIndex()

    def trash_index(self) -> QModelIndex:
        node = self._by_key.get(_TRASH_KEY)
        return self._index_of(node) if node is not None else QModelIndex()

    def prompt_at(self, index: Index) -> PromptRow | None:
        node = self._node_at(index)
        return None if node is None else node.prompt

    # ---- the tree -------------------------------------------------------------------------

    def _node_at(self, index: Index) -> _Node | None:
        return self._nodes.get(index.internalId()) if index.isValid() else None

    def _node_or_root(self, index: Index) -> _Node | None:
        return self._node_at(index) if index.isValid() else self._root

    def _index_of(self, node: _Node) -> QModelIndex:
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
                count = len(node.children) if self._tag is not None else self.trash_count
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
            return self._tooltip(node)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon(node)
        if role == Qt.ItemDataRole.ForegroundRole and node.kind == NodeKind.TRASHED:
            return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        return None

    def _tooltip(self, node: _Node) -> str:
        prompt = node.prompt
        if prompt is None:
            if node.kind == NodeKind.TRASH:
                return "Trashed prompts: restore them, or delete them for good"
            if node.kind == NodeKind.STARRED:
                return "Prompts you starred"
            return node.path
        lines = [
            prompt.name,
            f"Folder: {prompt.folder or '(top level)'}",
            f"Tags: {', '.join(prompt.tags) if prompt.tags else 'none'}",
            f"Edited {_when(prompt.updated_at)}",
        ]
        if prompt.trashed_at is not None:
            lines.append(f"In the trash since {_when(prompt.trashed_at)}")
        return "\n".join(lines)

    def _icon(self, node: _Node) -> QIcon:
        if node.kind == NodeKind.STARRED or (node.prompt is not None and node.prompt.starred):
            name = "star"
        else:
            name = {
                NodeKind.FOLDER: "folder",
                NodeKind.TRASH: "trash",
            }.get(node.kind, "prompt")
        if name not in self._icons:
            pixmaps = {
                "folder": QStyle.StandardPixmap.SP_DirIcon,
                "trash": QStyle.StandardPixmap.SP_TrashIcon,
                "prompt": QStyle.StandardPixmap.SP_FileIcon,
            }
            style = QApplication.style()
            self._icons[name] = (
                _star_icon() if name == "star" else style.standardIcon(pixmaps[name])
            )
        return self._icons[name]

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

    # ---- editing --------------------------------------------------------------------------

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Rename a prompt or a folder: shown at once, written in the background."""
        node = self._node_at(index)
        if role != Qt.ItemDataRole.EditRole or node is None:
            return False
        name = " ".join(str(value).split())
        if not name or name == node.name:
            return False
        if node.kind == NodeKind.PROMPT and node.prompt is not None:
            prompt_id = node.prompt.id
            node.prompt = replace(node.prompt, name=name)
            self.dataChanged.emit(index, index)
            self.start_write(self._rename_prompt(prompt_id, name))
            return True
        if node.kind == NodeKind.FOLDER and node.path and "/" not in name:
            old = node.path
            new = f"{parent_folder(old)}/{name}".lstrip("/")
            node.path = new  # shown at once; the reload builds the real subtree
            self.dataChanged.emit(index, index)
            self.start_write(
                self.apply(lambda c: library.rename_folder(c, old, new), renamed={old: new})
            )
            return True
        return False

    async def _rename_prompt(self, prompt_id: int, name: str) -> None:
        prompt = await self.apply(lambda c: library.rename_prompt(c, prompt_id, name))
        self.renamed.emit(prompt.id, prompt.name)

    async def trash(self, ids: Sequence[int]) -> list[PromptRow]:
        """Move prompts to the trash; returns them as they are now."""
        prompts = await self.apply(lambda c: [library.trash_and_get(c, i) for i in ids])
        for prompt in prompts:
            self.trashed.emit(prompt.id)
        return prompts

    # ---- drag and drop --------------------------------------------------------------------

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        ids: list[int] = []
        names: list[str] = []
        for index in indexes:
            node = self._node_at(index)
            prompt = None if node is None or node.kind != NodeKind.PROMPT else node.prompt
            if prompt is not None and prompt.id not in ids:
                ids.append(prompt.id)
                names.append(prompt.name)
        mime = QMimeData()
        mime.setData(MIME_TYPE, json.dumps(ids).encode())
        mime.setText("\n".join(names))
        return mime

    @staticmethod
    def _dropped_ids(data: QMimeData) -> list[int]:
        if not data.hasFormat(MIME_TYPE):
            return []
        try:
            ids = json.loads(bytes(data.data(MIME_TYPE).data()).decode())
        except ValueError:
            return []
        return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []

    def _drop_target(self, parent: Index) -> _Node | None:
        node = self._node_or_root(parent)
        if node is not None and node.kind == NodeKind.PROMPT and node.key[0] == _UNDER_STARRED:
            return node.parent  # onto a starred prompt: into Starred
        if node is not None and node.kind == NodeKind.TRASHED:
            return node.parent
        return node

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        return bool(self._dropped_ids(data)) and self._drop_target(parent) is not None

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        """Prompts dropped on a folder (or a prompt in it) move there; on Trash, are trashed;
        on Starred, are starred. The write runs in the background."""
        ids = self._dropped_ids(data)
        target = self._drop_target(parent)
        if not ids or target is None:
            return False
        if action == Qt.DropAction.IgnoreAction:
            return True
        folder = target.path
        if target.kind == NodeKind.TRASH:
            self.start_write(self.trash(ids))
            return True
        if target.kind == NodeKind.STARRED:
            write = library.for_each(ids, lambda c, i: library.set_starred(c, i, True))
        else:
            write = library.for_each(ids, lambda c, i: library.move_prompt(c, i, folder))
        self.start_write(self.apply(write))
        return True
