"""What the library tree reads in one call: open folders, starred, trash, a tag filter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promptstudio.storage import Database, library
from promptstudio.storage.tree import ancestors, create_untitled, has_tag, read_folder, read_trash


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def _names(rows: list[library.PromptRow] | None) -> list[str]:
    assert rows is not None
    return [row.name for row in rows]


@pytest.fixture
def filled(db: Database) -> Database:
    top = db.call(library.create_prompt, "top")
    deep = db.call(library.create_prompt, "deep", "Work/Clients")
    work = db.call(library.create_prompt, "work", "Work")
    db.call(library.create_prompt, "other", "b")
    gone = db.call(library.create_prompt, "gone", "Work")
    db.call(library.set_starred, work.id, True)
    db.call(library.set_tags, top.id, ["Urgent"])
    db.call(library.set_tags, gone.id, ["urgent"])
    db.call(library.set_tags, deep.id, ["urgent"])
    db.call(library.trash_prompt, gone.id)
    return db


def test_only_open_folders_are_read_and_the_trash_once_opened(filled: Database) -> None:
    tree = filled.call(library.read_tree, None, {"Work", "gone-folder"}, False)
    assert tree.folders == tree.all_folders == ["b", "Work", "Work/Clients"]
    assert set(tree.prompts) == {"", "Work"}
    assert _names(tree.prompts[""]) == ["top"] and _names(tree.prompts["Work"]) == ["work"]
    assert _names(tree.starred) == ["work"]
    assert tree.trash is None and tree.trash_count == 1
    with_trash = filled.call(library.read_tree, None, (), True)
    assert _names(with_trash.trash) == ["gone"] and set(with_trash.prompts) == {""}


def test_a_tag_shows_its_prompts_and_the_folders_that_lead_to_them(filled: Database) -> None:
    tree = filled.call(library.read_tree, " URGENT ", (), False)
    assert tree.folders == ["Work", "Work/Clients"]
    assert tree.all_folders == ["b", "Work", "Work/Clients"]
    assert {f: _names(rows) for f, rows in tree.prompts.items()} == {
        "": ["top"],
        "Work": [],
        "Work/Clients": ["deep"],
    }
    assert _names(tree.trash) == ["gone"] and tree.starred == [] and tree.trash_count == 1


def test_for_each_writes_every_prompt_in_one_call(db: Database) -> None:
    ids = [db.call(library.create_prompt, name).id for name in ("a", "b", "c")]
    db.call(library.for_each(ids[:2], lambda conn, i: library.move_prompt(conn, i, "X")))
    assert _names(db.call(library.list_prompts, folder="X")) == ["a", "b"]
    trashed = db.call(lambda conn: [library.trash_and_get(conn, i) for i in ids[2:]])
    assert [row.trashed_at is not None for row in trashed] == [True]


def test_ancestors_and_tags() -> None:
    assert ancestors("a/b/c") == ["a", "a/b", "a/b/c"] and ancestors("") == []
    row = library.PromptRow(1, "p", "", "2026-01-01", "2026-01-01", tags=("Draft",))
    assert has_tag(row, " draft ") and not has_tag(row, "dr")


def test_expanding_a_folder_or_the_trash_reads_just_it(filled: Database) -> None:
    """The reads the tree makes when a folder or the Trash is expanded (issue 15)."""
    assert _names(filled.call(read_folder, "Work")) == ["work"]
    assert _names(filled.call(read_folder, "")) == ["top"]
    assert _names(filled.call(read_folder, "Work/Clients", "URGENT")) == ["deep"]
    assert filled.call(read_folder, "Work", "urgent") == []  # "gone" is in the trash
    assert _names(filled.call(read_trash)) == ["gone"]
    assert _names(filled.call(read_trash, " Urgent ")) == ["gone"]
    assert filled.call(read_trash, "other") == []


def test_a_new_prompt_takes_the_first_free_untitled_number(db: Database) -> None:
    db.call(library.create_prompt, "untitled 1")  # any case counts as taken
    db.call(library.create_prompt, "Untitled 3")
    first = db.call(create_untitled, "Drafts")
    assert (first.name, first.folder) == ("Untitled 2", "Drafts")
    assert db.call(create_untitled, "").name == "Untitled 4"
