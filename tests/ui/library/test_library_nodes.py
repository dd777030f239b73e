"""The library tree's nodes without Qt: building a tree from a snapshot, finding nodes again."""

from __future__ import annotations

from promptstudio.storage import PromptRow
from promptstudio.storage.tree import TreeSnapshot
from promptstudio.ui.library.library_nodes import (
    Node,
    NodeKind,
    NodeTable,
    build_tree,
    drop_target,
    fetched_children,
)


def _row(prompt_id: int, name: str, folder: str = "", *, starred: bool = False) -> PromptRow:
    return PromptRow(prompt_id, name, folder, "2026-01-01", "2026-01-01", starred=starred)


def _snapshot(folder: str, trash: list[PromptRow] | None = None) -> TreeSnapshot:
    star = _row(1, "Star", folder, starred=True)
    return TreeSnapshot(
        folders=[folder, f"{folder}/Deep"],
        prompts={"": [_row(2, "Top")], folder: [star]},
        starred=[star],
        trash=trash,
        trash_count=len(trash or []),
        all_folders=[folder, f"{folder}/Deep"],
    )


def _names(node: Node) -> list[str]:
    return [child.name or child.kind for child in node.children]


def test_a_snapshot_builds_starred_folders_prompts_and_trash() -> None:
    root = build_tree(_snapshot("Work"))
    assert _names(root) == ["starred", "Work", "Top", "trash"]
    starred, work, _top, trash = root.children
    assert _names(starred) == ["Star"] and starred.children[0].key[0] == "starred-prompt"
    assert _names(work) == ["Deep", "Star"] and work.fetched
    assert not work.children[0].fetched  # Deep's prompts are read when it is expanded
    assert not trash.fetched and trash.children == []


def test_nodes_are_found_again_after_a_reload_with_a_renamed_folder() -> None:
    table = NodeTable()
    table.register(build_tree(_snapshot("Work")))
    deep = table.by_key[(NodeKind.FOLDER, "Work/Deep", 0)]
    star = table.prompts[1]
    table.clear()
    table.register(build_tree(_snapshot("Job")))
    renamed = {"Work": "Job"}
    found_deep = table.find(deep.key, renamed)
    found_star = table.find(star.key, renamed)
    assert found_deep is not None and found_deep.path == "Job/Deep"
    assert found_star is not None and found_star.parent is not None
    assert found_star.parent.path == "Job"
    assert table.find(deep.key, {}) is None  # without the rename it is gone
    table.register(build_tree(_snapshot("Work")))
    assert table.by_key[deep.key].uid == deep.uid  # a key keeps its number


def test_a_prompt_moved_to_the_trash_is_not_followed_there() -> None:
    table = NodeTable()
    table.register(build_tree(_snapshot("Work")))
    top = table.prompts[2]
    table.clear()
    gone = _snapshot("Work", trash=[_row(2, "Top")])
    gone.prompts[""].clear()
    table.register(build_tree(gone))
    assert table.prompts[2].kind == NodeKind.TRASHED
    assert table.find(top.key, {}) is None


def test_fetched_children_and_drop_targets() -> None:
    root = build_tree(_snapshot("Work", trash=[]))
    starred, work, top, trash = root.children
    deep = work.children[0]
    children = fetched_children(deep, [_row(7, "Seven", "Work/Deep")])
    assert [c.key for c in children] == [(NodeKind.PROMPT, "Work/Deep", 7)]
    trashed = fetched_children(trash, [_row(8, "Eight", "Work")])
    assert [(c.kind, c.key, c.path) for c in trashed] == [
        (NodeKind.TRASHED, (NodeKind.TRASHED, "", 8), "Work")
    ]
    assert drop_target(starred.children[0]) is starred  # onto a starred prompt: Starred
    assert drop_target(trashed[0]) is trash
    assert drop_target(top) is top and drop_target(None) is None
