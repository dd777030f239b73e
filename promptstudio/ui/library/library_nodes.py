"""The library tree's nodes, Qt-free: what one reload builds, and how nodes are found again.

Each node has a key (kind, folder path, prompt id) that stays the same across reloads,
unlike its row; :class:`NodeTable` keeps one stable number per key, which the Qt model
uses as its indexes' internal id, and finds a node again by key after a reload, also when
a folder was renamed or a prompt moved to another folder.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from promptstudio.storage import PromptRow
from promptstudio.storage.tree import TreeSnapshot


class NodeKind(StrEnum):
    FOLDER = "folder"
    PROMPT = "prompt"
    TRASHED = "trashed"
    """A prompt in the trash."""
    TRASH = "trash"
    STARRED = "starred"


# (kind, folder path, prompt id): stable across reloads, unlike rows.
Key = tuple[str, str, int]
UNDER_STARRED = "starred-prompt"
"""The key kind of a prompt shown under Starred (it also shows in its folder)."""
TRASH_KEY: Key = (NodeKind.TRASH, "", 0)
STARRED_KEY: Key = (NodeKind.STARRED, "", 0)
ROOT_KEY: Key = (NodeKind.FOLDER, "", 0)


@dataclass(eq=False)
class Node:
    kind: NodeKind
    key: Key
    parent: Node | None
    path: str = ""
    prompt: PromptRow | None = None
    children: list[Node] = field(default_factory=list)
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


def moved(path: str, renamed: Mapping[str, str]) -> str:
    """Where ``path`` is after the folder renames ``renamed`` (old path: new path)."""
    for old, new in renamed.items():
        if path == old or path.startswith(old + "/"):
            return new + path[len(old) :]
    return path


def build_tree(snapshot: TreeSnapshot) -> Node:
    """The root of a new tree: Starred (if any), folders and their prompts read so far, Trash."""
    root = Node(NodeKind.FOLDER, ROOT_KEY, None)
    if snapshot.starred:
        starred = Node(NodeKind.STARRED, STARRED_KEY, root)
        starred.children = [
            Node(NodeKind.PROMPT, (UNDER_STARRED, "", row.id), starred, row.folder, row)
            for row in sorted(snapshot.starred, key=lambda r: (r.name.casefold(), r.id))
        ]
        root.children.append(starred)
    folders: dict[str, Node] = {"": root}

    def folder(path: str) -> Node:
        if path not in folders:
            parent = folder(parent_folder(path))
            node = Node(NodeKind.FOLDER, (NodeKind.FOLDER, path, 0), parent, path)
            node.fetched = path in snapshot.prompts
            parent.children.append(node)
            folders[path] = node
        return folders[path]

    for path in snapshot.folders:
        folder(path)
    for path, rows in snapshot.prompts.items():
        node = folder(path)
        node.children += [
            Node(NodeKind.PROMPT, (NodeKind.PROMPT, path, row.id), node, path, row) for row in rows
        ]
    trash = Node(NodeKind.TRASH, TRASH_KEY, root, fetched=snapshot.trash is not None)
    trash.children = fetched_children(trash, snapshot.trash or [])
    root.children.append(trash)
    return root


def fetched_children(node: Node, rows: Sequence[PromptRow]) -> list[Node]:
    """The nodes for the prompts read when ``node`` (a folder or the Trash) was expanded."""
    if node.kind == NodeKind.TRASH:
        kind = NodeKind.TRASHED
        return [Node(kind, (kind, "", row.id), node, row.folder, row) for row in rows]
    kind, path = NodeKind.PROMPT, node.key[1]
    return [Node(kind, (kind, path, row.id), node, row.folder, row) for row in rows]


def drop_target(node: Node | None) -> Node | None:
    """Where prompts dropped on ``node`` go: a starred or trashed prompt stands for its parent."""
    if node is not None and node.kind == NodeKind.PROMPT and node.key[0] == UNDER_STARRED:
        return node.parent  # onto a starred prompt: into Starred
    if node is not None and node.kind == NodeKind.TRASHED:
        return node.parent
    return node


class NodeTable:
    """Every node of the current tree by its number, its key and (in a folder or the
    trash) its prompt id; a key keeps its number across reloads."""

    def __init__(self) -> None:
        self.by_uid: dict[int, Node] = {}
        self.by_key: dict[Key, Node] = {}
        self.prompts: dict[int, Node] = {}
        self._uids: dict[Key, int] = {}
        self._next_uid = itertools.count(1)

    def clear(self) -> None:
        """Forget the old tree's nodes (not the numbers of their keys)."""
        self.by_uid, self.by_key, self.prompts = {}, {}, {}

    def register(self, node: Node) -> None:
        """Number ``node`` and its subtree, and set each child's row."""
        uid = self._uids.get(node.key)
        if uid is None:
            uid = self._uids[node.key] = next(self._next_uid)
        node.uid = uid
        self.by_uid[uid] = node
        self.by_key[node.key] = node
        if node.kind in (NodeKind.PROMPT, NodeKind.TRASHED) and node.key[0] != UNDER_STARRED:
            assert node.prompt is not None
            self.prompts[node.prompt.id] = node
        for row, child in enumerate(node.children):
            child.row = row
            self.register(child)

    def find(self, key: Key, renamed: Mapping[str, str]) -> Node | None:
        """The node that has ``key`` after a reload with the folder renames ``renamed``."""
        kind, path, prompt_id = key
        if kind in (NodeKind.FOLDER, NodeKind.PROMPT):
            key = (kind, moved(path, renamed), prompt_id)
        node = self.by_key.get(key)
        if node is None and kind == NodeKind.PROMPT:
            node = self.prompts.get(prompt_id)  # moved to another folder
            if node is not None and node.kind != NodeKind.PROMPT:
                node = None  # now in the trash: the selection does not follow it there
        return node
