"""Organising the library: folders, stars, tags, duplicates and the trash."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptstudio.storage import Database, NotFound, StorageError, library
from tests.storage.helpers import respond


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def _count(conn: sqlite3.Connection, sql: str, *params: Any) -> int:
    return int(conn.execute(sql, params).fetchone()[0])


def test_folders_are_created_with_their_parents_and_listed_in_tree_order(db: Database) -> None:
    assert db.call(library.create_folder, " Work / Clients/ ") == "Work/Clients"
    db.call(library.create_prompt, "p", "archive")
    db.call(library.create_folder, "Work")  # idempotent
    assert db.call(library.list_folders) == ["archive", "Work", "Work/Clients"]
    with pytest.raises(StorageError, match="needs a name"):
        db.call(library.create_folder, " / ")


def test_move_prompt_to_a_folder_and_back_to_the_top(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    moved = db.call(library.move_prompt, prompt.id, "A/B")
    assert moved.folder == "A/B"
    assert {"A", "A/B"} <= set(db.call(library.list_folders))
    assert db.call(library.move_prompt, prompt.id, "").folder == ""
    with pytest.raises(NotFound):
        db.call(library.move_prompt, 999, "x")


def test_rename_folder_moves_subfolders_and_prompts_including_trashed(db: Database) -> None:
    a = db.call(library.create_prompt, "a", "Old")
    b = db.call(library.create_prompt, "b", "Old/Sub")
    c = db.call(library.create_prompt, "c", "Older")  # a prefix, not a subfolder
    db.call(library.trash_prompt, b.id)
    assert db.call(library.rename_folder, "Old", "New/Place") == 2
    assert db.call(library.get_prompt, a.id).folder == "New/Place"
    assert db.call(library.get_prompt, b.id).folder == "New/Place/Sub"
    assert db.call(library.get_prompt, c.id).folder == "Older"
    assert db.call(library.list_folders) == ["New", "New/Place", "New/Place/Sub", "Older"]
    with pytest.raises(StorageError, match="into itself"):
        db.call(library.rename_folder, "New", "New/Place/Inside")
    with pytest.raises(NotFound):
        db.call(library.rename_folder, "Nowhere", "x")


def test_folder_names_with_like_wildcards_are_literal(db: Database) -> None:
    db.call(library.create_prompt, "a", "100%")
    other = db.call(library.create_prompt, "b", "100x/y")
    db.call(library.rename_folder, "100%", "pct")
    assert db.call(library.get_prompt, other.id).folder == "100x/y"
    assert [p.name for p in db.call(library.list_prompts, folder="pct")] == ["a"]


def test_delete_folder_only_when_empty(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p", "Busy/Deep")
    db.call(library.create_folder, "Empty/Child")
    with pytest.raises(StorageError, match="not empty"):
        db.call(library.delete_folder, "Busy")
    db.call(library.delete_folder, "Empty")
    assert db.call(library.list_folders) == ["Busy", "Busy/Deep"]
    # Trashed prompts do not keep a folder alive; restoring one brings it back.
    db.call(library.trash_prompt, prompt.id)
    db.call(library.delete_folder, "Busy")
    assert db.call(library.list_folders) == []
    db.call(library.restore_prompt, prompt.id)
    assert db.call(library.list_folders) == ["Busy", "Busy/Deep"]


def test_star_and_filter(db: Database) -> None:
    a = db.call(library.create_prompt, "a")
    db.call(library.create_prompt, "b")
    assert db.call(library.set_starred, a.id).starred is True
    assert [p.name for p in db.call(library.list_prompts, starred=True)] == ["a"]
    assert [p.name for p in db.call(library.list_prompts, starred=False)] == ["b"]
    assert db.call(library.set_starred, a.id, False).starred is False


def test_tags_are_cleaned_listed_and_filterable(db: Database) -> None:
    a = db.call(library.create_prompt, "a")
    b = db.call(library.create_prompt, "b")
    tagged = db.call(library.set_tags, a.id, ["  Email ", "draft", "email", "", "Long   tag"])
    assert tagged.tags == ("draft", "Email", "Long tag")
    db.call(library.set_tags, b.id, ["EMAIL"])
    assert [(t.tag.lower(), t.prompts) for t in db.call(library.list_tags)] == [
        ("draft", 1),
        ("email", 2),
        ("long tag", 1),
    ]
    assert [p.name for p in db.call(library.list_prompts, tag="email")] == ["a", "b"]
    assert [p.name for p in db.call(library.list_prompts, tag="draft")] == ["a"]
    # Replacing the tags, and the trash hides a prompt's tags from the list.
    assert db.call(library.set_tags, a.id, []).tags == ()
    db.call(library.trash_prompt, b.id)
    assert db.call(library.list_tags) == []


def test_list_prompts_filters_by_folder_and_subfolders(db: Database) -> None:
    db.call(library.create_prompt, "top")
    db.call(library.create_prompt, "w", "Work")
    db.call(library.create_prompt, "deep", "Work/Deep")
    assert [p.name for p in db.call(library.list_prompts, folder="")] == ["top"]
    assert [p.name for p in db.call(library.list_prompts, folder="Work")] == ["w"]
    names = [p.name for p in db.call(library.list_prompts, folder="Work", include_subfolders=True)]
    assert names == ["w", "deep"]


def test_duplicate_copies_the_latest_version_and_tags(db: Database) -> None:
    original = db.call(library.create_prompt, "Summarise", "Work")
    db.call(library.set_tags, original.id, ["a"])
    db.call(library.save_version, original.id, "v1", {}, {})
    latest = db.call(library.save_version, original.id, "v2", {"x": 1}, {"s": 2})
    copy = db.call(library.duplicate_prompt, original.id)
    assert (copy.name, copy.folder, copy.tags) == ("Summarise (copy)", "Work", ("a",))
    history = db.call(library.list_versions, copy.id)
    assert len(history) == 1
    first = history[0]
    assert (first.template, first.variables, first.settings) == ("v2", {"x": 1}, {"s": 2})
    assert (first.kind, first.number, first.parent_id) == ("copy", 1, None)
    assert first.content_hash == latest.content_hash
    assert "Summarise" in first.message
    # The original is untouched; a second copy gets a distinct name.
    assert len(db.call(library.list_versions, original.id)) == 2
    assert db.call(library.duplicate_prompt, original.id).name == "Summarise (copy 2)"
    empty = db.call(library.create_prompt, "empty")
    assert db.call(library.list_versions, db.call(library.duplicate_prompt, empty.id).id) == []


def test_trash_restore_and_list(db: Database) -> None:
    a = db.call(library.create_prompt, "a")
    b = db.call(library.create_prompt, "b")
    db.call(library.trash_prompt, a.id)
    db.call(library.trash_prompt, b.id)
    assert [p.id for p in db.call(library.list_trash)] == [b.id, a.id]  # newest first
    assert db.call(library.list_prompts) == []
    restored = db.call(library.restore_prompt, a.id)
    assert restored.trashed_at is None
    assert [p.id for p in db.call(library.list_prompts)] == [a.id]
    assert [p.id for p in db.call(library.list_trash)] == [b.id]


def _fill(db: Database, name: str) -> int:
    prompt = db.call(library.create_prompt, name)
    version = db.call(library.save_version, prompt.id, f"{name} template", {}, {})
    db.call(library.set_tags, prompt.id, ["t"])
    db.call(library.set_label, prompt.id, "prod", version.id)
    db.call(library.save_draft, prompt.id, f"{name} draft", {}, {})
    respond(db, version.id, f"{name} answer", base_url="u", ttft_ms=1.0, total_ms=2.0,
            input_tokens=1, output_tokens=1)  # fmt: skip
    return prompt.id


def test_empty_trash_deletes_everything_of_trashed_prompts_only(db: Database) -> None:
    keep = _fill(db, "keepme")
    gone = _fill(db, "goner")
    db.call(library.trash_prompt, gone)
    assert db.call(library.empty_trash) == 1
    with pytest.raises(NotFound):
        db.call(library.get_prompt, gone)
    for table in ("versions", "runs", "responses", "labels", "prompt_tags", "drafts"):
        assert db.call(_count, f"SELECT count(*) FROM {table}") == 1, table
    assert [h.prompt_id for h in db.call(library.search, "goner")] == []
    assert {h.prompt_id for h in db.call(library.search, "keepme")} == {keep}
    assert db.call(library.list_trash) == []
    assert db.call(library.empty_trash) == 0


def test_delete_forever_only_from_the_trash(db: Database) -> None:
    pid = _fill(db, "x")
    with pytest.raises(StorageError, match="not in the trash"):
        db.call(library.delete_forever, pid)
    db.call(library.trash_prompt, pid)
    db.call(library.delete_forever, pid)
    assert db.call(library.count_prompts, include_trashed=True) == 0
