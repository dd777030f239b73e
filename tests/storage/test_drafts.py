"""Autosaved drafts and what is offered for restore after a crash."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptstudio.storage import Database, NotFound, SecretFieldError, library


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def test_save_load_and_discard(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    assert db.call(library.load_draft, prompt.id) is None
    db.call(library.save_draft, prompt.id, "hello {{ x }}", {"x": "1"}, {"m": "gpt"})
    draft = db.call(library.load_draft, prompt.id)
    assert draft is not None
    assert (draft.prompt_name, draft.template, draft.variables, draft.settings) == (
        "p",
        "hello {{ x }}",
        {"x": "1"},
        {"m": "gpt"},
    )
    assert draft.base_version_id is None
    assert db.call(library.discard_draft, prompt.id) is True
    assert db.call(library.discard_draft, prompt.id) is False
    assert db.call(library.load_draft, prompt.id) is None


def test_one_draft_per_prompt_and_unchanged_content_keeps_its_time(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    base = db.call(library.save_version, prompt.id, "saved", {}, {})
    db.call(library.save_draft, prompt.id, "a", {}, {})
    first = db.call(library.load_draft, prompt.id)
    time.sleep(0.003)
    db.call(library.save_draft, prompt.id, "a", {}, {})
    assert db.call(library.load_draft, prompt.id) == first
    db.call(library.save_draft, prompt.id, "ab", {}, {})
    second = db.call(library.load_draft, prompt.id)
    assert second is not None and first is not None
    assert second.template == "ab"
    assert second.updated_at > first.updated_at
    assert second.base_version_id == base.id
    assert db.call(lambda c: c.execute("SELECT count(*) FROM drafts").fetchone()[0]) == 1


def test_content_equal_to_the_latest_version_is_no_draft(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    db.call(library.save_version, prompt.id, "saved", {"v": 1}, {})
    db.call(library.save_draft, prompt.id, "changed", {"v": 1}, {})
    db.call(library.save_draft, prompt.id, "saved", {"v": 1}, {})  # typed back to the saved text
    assert db.call(library.load_draft, prompt.id) is None


def test_list_drafts_offers_only_drafts_newer_than_the_history(db: Database) -> None:
    fresh = db.call(library.create_prompt, "fresh")
    stale = db.call(library.create_prompt, "stale")
    never_saved = db.call(library.create_prompt, "never saved")
    trashed = db.call(library.create_prompt, "trashed")
    db.call(library.save_version, fresh.id, "v1", {}, {})
    db.call(library.save_draft, fresh.id, "v1 and more", {}, {})
    db.call(library.save_draft, stale.id, "old typing", {}, {})
    db.call(library.save_version, stale.id, "saved later, different", {}, {})
    db.call(library.save_draft, never_saved.id, "first words", {}, {})
    db.call(library.save_draft, trashed.id, "x", {}, {})
    db.call(library.trash_prompt, trashed.id)
    offered = db.call(library.list_drafts)
    assert {d.prompt_name for d in offered} == {"never saved", "fresh"}
    # Typing the stale draft's text again makes it current: it is offered again.
    db.call(library.save_draft, stale.id, "old typing", {}, {})
    assert "stale" in {d.prompt_name for d in db.call(library.list_drafts)}


def test_drafts_refuse_secrets_and_unknown_prompts(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    with pytest.raises(SecretFieldError):
        db.call(library.save_draft, prompt.id, "t", {"api_key": "sk-1"}, {})
    with pytest.raises(NotFound):
        db.call(library.save_draft, 999, "t", {}, {})


def test_autosave_is_cheap(db: Database) -> None:
    """Every couple of seconds while typing: far below a frame even on a slow disk."""
    prompt = db.call(library.create_prompt, "p")
    db.call(library.save_version, prompt.id, "x" * 20_000, {}, {})
    start = time.perf_counter()
    for i in range(100):
        db.call(library.save_draft, prompt.id, "x" * 20_000 + str(i), {"a": i}, {})
    assert (time.perf_counter() - start) / 100 < 0.02


def test_a_draft_older_than_the_newest_version_is_never_loaded(db: Database) -> None:
    """Issue 14 point 4: EDIT-A autosaved, then a run saved EDIT-A EDIT-B as a version."""
    prompt = db.call(library.create_prompt, "p")
    db.call(library.save_version, prompt.id, "start", {}, {"columns": [{"model": "old"}]})
    db.call(library.save_draft, prompt.id, "EDIT-A", {}, {"columns": [{"model": "old"}]})
    # Another writer (the CLI's run) saves a newer version: the draft is now stale.
    db.call(library.save_version, prompt.id, "EDIT-A EDIT-B", {}, {"columns": [{"model": "new"}]},
            kind="run")  # fmt: skip
    assert db.call(library.load_draft, prompt.id) is None
    assert db.call(library.list_drafts) == []
    # Timestamps cannot make it win either: only the version ids count.
    db.call(lambda conn: conn.execute("UPDATE drafts SET updated_at = '2999-01-01T00:00:00Z'"))
    assert db.call(library.load_draft, prompt.id) is None


def test_a_version_saved_from_the_editor_supersedes_its_draft(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    db.call(library.save_version, prompt.id, "v1", {}, {})
    db.call(library.save_draft, prompt.id, "EDIT-A", {}, {})
    db.call(library.save_version, prompt.id, "EDIT-A EDIT-B", {}, {}, kind="run",
            from_editor=True)  # fmt: skip
    count = db.call(lambda conn: conn.execute("SELECT count(*) FROM drafts").fetchone()[0])
    assert count == 0


def test_a_run_of_older_text_from_the_editor_keeps_that_text_as_the_draft(db: Database) -> None:
    """The run files under v1 (same content), but the editor holds v1's text, not v2's."""
    prompt = db.call(library.create_prompt, "p")
    v1 = db.call(library.save_version, prompt.id, "old text", {}, {})
    v2 = db.call(library.save_version, prompt.id, "new text", {}, {})
    db.call(library.save_draft, prompt.id, "new text, edited", {}, {})
    ran = db.call(library.save_version, prompt.id, "old text", {}, {}, kind="run",
                  from_editor=True)  # fmt: skip
    assert ran.id == v1.id
    draft = db.call(library.load_draft, prompt.id)
    assert draft is not None
    assert (draft.template, draft.base_version_id) == ("old text", v2.id)
