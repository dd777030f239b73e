"""Prompts, versions, runs and responses on a real library file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptstudio.storage import Database, NotFound, SecretFieldError, StorageError, library


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def test_create_and_get_prompt(db: Database) -> None:
    prompt = db.call(library.create_prompt, "  Summarise  ", "Work")
    assert (prompt.name, prompt.folder, prompt.trashed_at) == ("Summarise", "Work", None)
    assert db.call(library.get_prompt, prompt.id) == prompt
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", prompt.created_at)


def test_missing_prompt_is_not_found(db: Database) -> None:
    with pytest.raises(NotFound):
        db.call(library.get_prompt, 999)
    with pytest.raises(NotFound):
        db.call(library.save_version, 999, "x", {}, {})


def test_empty_name_is_refused(db: Database) -> None:
    with pytest.raises(StorageError, match="needs a name"):
        db.call(library.create_prompt, "   ")


def test_list_is_by_folder_then_name_ignoring_case(db: Database) -> None:
    for name, folder in [("beta", "b"), ("Alpha", "b"), ("zeta", ""), ("Émile", "B"), ("x", "A")]:
        db.call(library.create_prompt, name, folder)
    listed = [(p.folder, p.name) for p in db.call(library.list_prompts)]
    assert listed == [("", "zeta"), ("A", "x"), ("b", "Alpha"), ("b", "beta"), ("B", "Émile")]


def test_rename_bumps_updated_at(db: Database) -> None:
    prompt = db.call(library.create_prompt, "old")
    renamed = db.call(library.rename_prompt, prompt.id, "new")
    assert renamed.name == "new"
    assert renamed.updated_at >= prompt.updated_at
    with pytest.raises(NotFound):
        db.call(library.rename_prompt, 999, "new")


def test_trash_hides_a_prompt(db: Database) -> None:
    keep = db.call(library.create_prompt, "keep")
    gone = db.call(library.create_prompt, "gone")
    db.call(library.trash_prompt, gone.id)
    assert [p.id for p in db.call(library.list_prompts)] == [keep.id]
    assert db.call(library.count_prompts) == 1
    assert db.call(library.count_prompts, include_trashed=True) == 2
    assert db.call(library.get_prompt, gone.id).trashed_at is not None


def test_version_round_trip_unicode_and_big_text(db: Database) -> None:
    prompt = db.call(library.create_prompt, "big")
    template = "system:\nRéponds en 日本語 🙂\nuser:\n{{ text }}\n" + "x" * 2_000_000
    variables = {"text": "naïve — ünïcödé \u0000 nul", "nested": {"list": [1, 2.5, None, True]}}
    settings = {"columns": [{"model": "gpt-4o-mini", "params": {"temperature": 0.2}}]}
    saved = db.call(library.save_version, prompt.id, template, variables, settings, message="v1")
    loaded = db.call(library.latest_version, prompt.id)
    assert loaded == saved
    assert loaded is not None
    assert (loaded.template, loaded.variables, loaded.settings) == (template, variables, settings)
    assert (loaded.message, loaded.kind, loaded.parent_id) == ("v1", "save", None)
    assert db.call(library.get_version, saved.id) == saved


def test_identical_content_is_not_duplicated(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    first = db.call(library.save_version, prompt.id, "t", {"a": 1, "b": 2}, {})
    again = db.call(library.save_version, prompt.id, "t", {"b": 2, "a": 1}, {}, kind="run")
    assert again == first
    assert len(db.call(library.list_versions, prompt.id)) == 1


def test_same_content_with_a_new_message_updates_the_message(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    first = db.call(library.save_version, prompt.id, "t", {}, {})
    labelled = db.call(library.save_version, prompt.id, "t", {}, {}, message="release")
    assert labelled.id == first.id
    assert labelled.message == "release"
    # An empty message does not wipe it.
    assert db.call(library.save_version, prompt.id, "t", {}, {}).message == "release"


def test_only_the_latest_version_deduplicates(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    a = db.call(library.save_version, prompt.id, "A", {}, {})
    b = db.call(library.save_version, prompt.id, "B", {}, {})
    a2 = db.call(library.save_version, prompt.id, "A", {}, {})
    assert a2.id not in (a.id, b.id)
    assert [v.template for v in db.call(library.list_versions, prompt.id)] == ["A", "B", "A"]


def test_parent_chain_and_updated_at(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    versions = [db.call(library.save_version, prompt.id, f"t{i}", {}, {}) for i in range(3)]
    assert [v.parent_id for v in versions] == [None, versions[0].id, versions[1].id]
    assert [v.id for v in db.call(library.list_versions, prompt.id)] == [
        v.id for v in reversed(versions)
    ]
    assert db.call(library.get_prompt, prompt.id).updated_at >= versions[-1].created_at


def test_versions_of_prompts_are_separate(db: Database) -> None:
    one = db.call(library.create_prompt, "one")
    two = db.call(library.create_prompt, "two")
    db.call(library.save_version, one.id, "same", {}, {})
    v2 = db.call(library.save_version, two.id, "same", {}, {})
    assert v2.parent_id is None
    assert db.call(library.latest_version, one.id) != v2
    assert db.call(library.latest_version, db.call(library.create_prompt, "3").id) is None


def test_unknown_kind_is_refused(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    with pytest.raises(StorageError, match="kind"):
        db.call(library.save_version, prompt.id, "t", {}, {}, kind="bogus")  # type: ignore[arg-type]


def test_runs_and_responses_round_trip(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    version = db.call(library.save_version, prompt.id, "user:\n{{ q }}", {"q": "?"}, {})
    run = db.call(library.record_run, version.id, {"q": "Why?"})
    assert run.variables == {"q": "Why?"}
    messages = [{"role": "user", "content": "Why? ✓"}]
    fields: dict[str, Any] = {
        "base_url": "http://127.0.0.1:8089/v1",
        "model": "gemma-3",
        "params": {"temperature": 0.0, "stop": ["\n\n"]},
        "messages": messages,
        "text": "Because.",
        "status": "ok",
        "error": None,
        "finish_reason": "stop",
        "ttft_ms": 12.5,
        "total_ms": 80.25,
        "input_tokens": 7,
        "output_tokens": 2,
        "usage_estimated": True,
    }
    first = db.call(library.add_response, run.id, **fields)
    second = db.call(
        library.add_response,
        run.id,
        **{**fields, "model": "other", "status": "error", "error": "HTTP 500", "text": ""},
        cost=0.0012,
    )
    assert first.messages == messages
    assert first.usage_estimated is True
    assert first.cost is None
    assert second.cost == 0.0012
    assert db.call(library.list_responses, run.id) == [first, second]
    later = db.call(library.record_run, version.id, {"q": "How?"})
    assert [r.id for r in db.call(library.list_runs, version.id)] == [later.id, run.id]


def test_runs_need_an_existing_version_and_run(db: Database) -> None:
    with pytest.raises(NotFound):
        db.call(library.record_run, 999, {})
    with pytest.raises(NotFound):
        db.call(
            library.add_response,
            999,
            base_url="u",
            model="m",
            params={},
            messages=[],
            text="",
            status="ok",
            error=None,
            finish_reason=None,
            ttft_ms=None,
            total_ms=None,
            input_tokens=None,
            output_tokens=None,
            usage_estimated=False,
        )


@pytest.mark.parametrize(
    "data",
    [
        {"api_key": "sk-123"},
        {"API-Key": "x"},
        {"key": "x"},
        {"columns": [{"model": "m", "headers": {"Authorization": "Bearer x"}}]},
        {"deep": {"openai_api_key": "x"}},
        {"X-Api-Key": "x"},
    ],
)
def test_key_like_fields_are_refused_everywhere(db: Database, data: dict[str, Any]) -> None:
    prompt = db.call(library.create_prompt, "p")
    with pytest.raises(SecretFieldError):
        db.call(library.save_version, prompt.id, "t", data, {})
    with pytest.raises(SecretFieldError):
        db.call(library.save_version, prompt.id, "t", {}, data)
    version = db.call(library.save_version, prompt.id, "t", {}, {})
    with pytest.raises(SecretFieldError):
        db.call(library.record_run, version.id, data)
    run = db.call(library.record_run, version.id, {})
    with pytest.raises(SecretFieldError):
        db.call(
            library.add_response,
            run.id,
            base_url="u",
            model="m",
            params=data,
            messages=[],
            text="",
            status="ok",
            error=None,
            finish_reason=None,
            ttft_ms=None,
            total_ms=None,
            input_tokens=None,
            output_tokens=None,
            usage_estimated=False,
        )
    assert len(db.call(library.list_versions, prompt.id)) == 1


def test_ordinary_names_that_contain_key_are_allowed(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    data = {"keywords": ["a"], "key_points": "b", "monkey": 1, "max_tokens": 5}
    version = db.call(library.save_version, prompt.id, "t", data, {"params": data})
    assert version.variables == data


def test_values_that_are_not_json_are_refused(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    with pytest.raises(StorageError, match="JSON"):
        db.call(library.save_version, prompt.id, "t", {"x": object()}, {})
    with pytest.raises(StorageError, match="JSON"):
        db.call(library.save_version, prompt.id, "t", {}, {"temperature": float("nan")})


def test_content_hash_ignores_key_order() -> None:
    assert library.content_hash("t", {"a": 1, "b": 2}, {}) == library.content_hash(
        "t", {"b": 2, "a": 1}, {}
    )
    assert library.content_hash("t", {}, {}) != library.content_hash("t ", {}, {})
