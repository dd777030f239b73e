"""Version history: run reuse, restore, labels, the history page, runs and comparisons."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptstudio.storage import Database, NotFound, StorageError, library, versions
from tests.storage.helpers import answer


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def _respond(
    db: Database,
    run_id: int,
    *,
    model: str = "m",
    status: str = "done",
    cost: float | None = None,
    total_ms: float | None = None,
    text: str = "answer",
) -> library.ResponseRow:
    fields = answer(text, model=model, messages=[{"role": "user", "content": "q"}],
                    status=status, ttft_ms=1.0, total_ms=total_ms, input_tokens=1,
                    output_tokens=1, cost=cost)  # fmt: skip
    return db.call(library.add_response, run_id, **fields)


def test_versions_are_numbered_per_prompt(db: Database) -> None:
    one = db.call(library.create_prompt, "one")
    two = db.call(library.create_prompt, "two")
    a = [db.call(library.save_version, one.id, f"a{i}", {}, {}) for i in range(3)]
    b = db.call(library.save_version, two.id, "b", {}, {})
    assert [v.number for v in a] == [1, 2, 3]
    assert b.number == 1
    assert db.call(library.get_version_by_number, one.id, 2) == a[1]
    assert db.call(library.count_versions, one.id) == 3
    with pytest.raises(NotFound):
        db.call(library.get_version_by_number, one.id, 9)


def test_a_run_reuses_any_version_with_identical_content(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    a = db.call(library.save_version, prompt.id, "A", {"x": 1}, {})
    db.call(library.save_version, prompt.id, "B", {}, {})
    again = db.call(library.save_version, prompt.id, "A", {"x": 1}, {}, kind="run")
    assert again.id == a.id
    assert db.call(library.count_versions, prompt.id) == 2
    # A plain save of the same old text is a new step in the history, as before.
    saved = db.call(library.save_version, prompt.id, "A", {"x": 1}, {})
    assert saved.id != a.id
    assert db.call(library.count_versions, prompt.id) == 3
    # New content for a run is a new version.
    assert db.call(library.save_version, prompt.id, "C", {}, {}, kind="run").number == 4


def test_restore_creates_a_new_version_on_top(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    v1 = db.call(library.save_version, prompt.id, "one", {"a": 1}, {"m": "x"})
    v2 = db.call(library.save_version, prompt.id, "two", {}, {})
    restored = db.call(library.restore_version, v1.id)
    assert (restored.number, restored.kind, restored.parent_id) == (3, "restore", v2.id)
    assert restored.message == "Restored from version 1"
    assert (restored.template, restored.variables, restored.settings) == (
        "one",
        {"a": 1},
        {"m": "x"},
    )
    assert restored.content_hash == v1.content_hash
    # Even restoring the current content adds a step: history is never rewritten.
    again = db.call(library.restore_version, restored.id, message="again")
    assert (again.number, again.message) == (4, "again")
    assert [v.id for v in db.call(library.list_versions, prompt.id)][2:] == [v2.id, v1.id]
    with pytest.raises(NotFound):
        db.call(library.restore_version, 999)


def test_saved_versions_cannot_be_changed_or_deleted_on_their_own(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    version = db.call(library.save_version, prompt.id, "t", {}, {})

    def edit(conn: sqlite3.Connection, sql: str) -> None:
        conn.execute(sql, (version.id,))

    with pytest.raises(sqlite3.IntegrityError, match="cannot change"):
        db.call(edit, "UPDATE versions SET template = 'x' WHERE id = ?")
    with pytest.raises(sqlite3.IntegrityError, match="only with their prompt"):
        db.call(edit, "DELETE FROM versions WHERE id = ?")
    db.call(edit, "UPDATE versions SET message = 'fine' WHERE id = ?")
    assert db.call(library.get_version, version.id).message == "fine"


def test_labels_move_between_versions_and_show_in_history(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    v1 = db.call(library.save_version, prompt.id, "one", {}, {})
    v2 = db.call(library.save_version, prompt.id, "two", {}, {})
    db.call(library.set_label, prompt.id, "prod", v1.id)
    db.call(library.set_label, prompt.id, "best", v1.id)
    history = {h.id: h.labels for h in db.call(library.version_history, prompt.id)}
    assert history == {v2.id: (), v1.id: ("best", "prod")}
    moved = db.call(library.set_label, prompt.id, "PROD", v2.id)  # same label, any case
    assert (moved.name, moved.version_id) == ("PROD", v2.id)
    assert [(lb.name, lb.version_id) for lb in db.call(library.list_labels, prompt.id)] == [
        ("best", v1.id),
        ("PROD", v2.id),
    ]
    assert db.call(library.remove_label, prompt.id, "best") is True
    assert db.call(library.remove_label, prompt.id, "best") is False
    history = {h.id: h.labels for h in db.call(library.version_history, prompt.id)}
    assert history == {v2.id: ("PROD",), v1.id: ()}


def test_a_label_must_name_a_version_of_the_same_prompt(db: Database) -> None:
    one = db.call(library.create_prompt, "one")
    two = db.call(library.create_prompt, "two")
    other = db.call(library.save_version, two.id, "t", {}, {})
    with pytest.raises(StorageError, match="another prompt"):
        db.call(library.set_label, one.id, "prod", other.id)
    with pytest.raises(NotFound):
        db.call(library.set_label, one.id, "prod", 999)
    with pytest.raises(StorageError, match="needs a name"):
        db.call(library.set_label, two.id, "  ", other.id)


def test_history_summarises_runs_cost_and_time_of_done_responses(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    v1 = db.call(library.save_version, prompt.id, "one", {}, {}, message="first")
    v2 = db.call(library.save_version, prompt.id, "two", {}, {})
    run_a = db.call(library.record_run, v1.id, {})
    run_b = db.call(library.record_run, v1.id, {})
    _respond(db, run_a.id, cost=0.03, total_ms=900)
    _respond(db, run_a.id, cost=0.01, total_ms=1500)
    _respond(db, run_b.id, cost=0.001, total_ms=10, status="failed")  # not counted as best
    _respond(db, run_b.id, cost=None, total_ms=700)
    page = db.call(library.version_history, prompt.id)
    assert [h.id for h in page] == [v2.id, v1.id]
    newest, oldest = page
    assert (newest.run_count, newest.response_count) == (0, 0)
    assert (newest.best_cost, newest.best_total_ms) == (None, None)
    assert (oldest.number, oldest.kind, oldest.message) == (1, "save", "first")
    assert (oldest.run_count, oldest.response_count) == (2, 4)
    assert (oldest.best_cost, oldest.best_total_ms) == (0.01, 700)


def test_history_pages_newest_first(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    ids = [db.call(library.save_version, prompt.id, f"t{i}", {}, {}).id for i in range(7)]
    other = db.call(library.create_prompt, "other")
    db.call(library.save_version, other.id, "x", {}, {})
    first = db.call(library.version_history, prompt.id, limit=3)
    assert [h.id for h in first] == ids[::-1][:3]
    second = db.call(library.version_history, prompt.id, limit=3, before_id=first[-1].id)
    assert [h.id for h in second] == ids[::-1][3:6]
    last = db.call(library.version_history, prompt.id, limit=3, before_id=second[-1].id)
    assert [h.id for h in last] == [ids[0]]
    assert db.call(library.version_history, prompt.id, before_id=ids[0]) == []


def test_history_query_uses_indexes_only(db: Database) -> None:
    """No full scan and no temporary b-tree for the page, whatever the library size."""

    def plan(conn: sqlite3.Connection) -> list[str]:
        sql = versions._HISTORY
        params = {"prompt": 1, "before": 10, "limit": 5}
        return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]

    details = db.call(plan)
    # Scans of the 200-row page itself are fine; of a table, never.
    scans = [d for d in details if d.startswith("SCAN") and "page" not in d and "subquery" not in d]
    assert scans == [], details
    assert any("versions_history" in d for d in details), details


def test_runs_for_version_groups_responses_under_runs(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    version = db.call(library.save_version, prompt.id, "t", {}, {})
    first = db.call(library.record_run, version.id, {"q": 1})
    second = db.call(library.record_run, version.id, {"q": 2})
    r1 = _respond(db, first.id, model="a")
    r2 = _respond(db, first.id, model="b")
    runs = db.call(library.runs_for_version, version.id)
    assert [r.run.id for r in runs] == [second.id, first.id]
    assert runs[0].responses == ()
    assert runs[1].responses == (r1, r2)
    assert runs[1].run.variables == {"q": 1}


def test_compare_model_across_versions(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    v5 = db.call(library.save_version, prompt.id, "five", {}, {})
    v6 = db.call(library.save_version, prompt.id, "six", {}, {})
    v7 = db.call(library.save_version, prompt.id, "seven", {}, {})
    for version, texts in ((v5, ["old"]), (v7, ["new", "newer"])):
        for text in texts:
            run = db.call(library.record_run, version.id, {})
            _respond(db, run.id, model="gpt", text=text)
            _respond(db, run.id, model="other", text="ignored")
    compared = db.call(library.compare_model_across_versions, prompt.id, "gpt", [v5.id, v7.id])
    assert list(compared) == [v5.id, v7.id]
    assert [r.text for r in compared[v5.id]] == ["old"]
    assert [r.text for r in compared[v7.id]] == ["newer", "new"]
    assert db.call(library.compare_model_across_versions, prompt.id, "gpt", [v6.id]) == {v6.id: []}
    assert db.call(library.models_for_prompt, prompt.id) == ["gpt", "other"]
    stranger = db.call(library.create_prompt, "stranger")
    theirs = db.call(library.save_version, stranger.id, "x", {}, {})
    with pytest.raises(NotFound):
        db.call(library.compare_model_across_versions, prompt.id, "gpt", [v5.id, theirs.id])


def test_save_discards_a_draft_with_the_same_content(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    db.call(library.save_version, prompt.id, "other", {}, {})
    db.call(library.save_draft, prompt.id, "typed", {"a": 1}, {})
    assert db.call(library.load_draft, prompt.id) is not None
    db.call(library.save_version, prompt.id, "typed", {"a": 1}, {}, kind="run")
    assert db.call(library.load_draft, prompt.id) is None


@pytest.mark.parametrize("kind", ["save", "run"])
def test_save_on_a_prompt_with_a_huge_template_is_index_only(db: Database, kind: Any) -> None:
    """Deduplication compares hashes from an index; it never reads the old template."""
    prompt = db.call(library.create_prompt, "p")
    big = "x" * 3_000_000
    first = db.call(library.save_version, prompt.id, big, {}, {})
    assert db.call(library.save_version, prompt.id, big, {}, {}, kind=kind).id == first.id
