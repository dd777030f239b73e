"""Test cases (saved variable sets): kept per prompt, in order, all-or-nothing replaced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promptstudio.storage import Database, NotFound, StorageError, library


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def test_cases_keep_their_order_values_and_checks(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    first = db.call(library.add_case, prompt.id, {"city": "Paris", "n": 2})
    second = db.call(
        library.add_case,
        prompt.id,
        {"city": "Oslo"},
        description="cold",
        expected="Oslo is cold",
        asserts=[{"type": "icontains", "value": "cold"}],
    )
    cases = db.call(library.list_cases, prompt.id)
    assert [c.id for c in cases] == [first.id, second.id]
    assert [c.position for c in cases] == [0, 1]
    assert cases[0].vars == {"city": "Paris", "n": 2}
    assert cases[1].to_exchange() == {
        "vars": {"city": "Oslo"},
        "description": "cold",
        "expected": "Oslo is cold",
        "assert": [{"type": "icontains", "value": "cold"}],
    }
    assert cases[0].to_exchange() == {"vars": {"city": "Paris", "n": 2}}


def test_replacing_cases_is_all_or_nothing(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    db.call(library.replace_cases, prompt.id, [{"vars": {"a": 1}}, {"vars": {"a": 2}}])
    with pytest.raises(StorageError, match="credential"):
        db.call(
            library.replace_cases,
            prompt.id,
            [{"vars": {"a": 3}}, {"vars": {"api_key": "sk-nope"}}],
        )
    assert [c.vars for c in db.call(library.list_cases, prompt.id)] == [{"a": 1}, {"a": 2}]
    replaced = db.call(library.replace_cases, prompt.id, [{"vars": {"b": True}}])
    assert [c.vars for c in replaced] == [{"b": True}]


def test_cases_go_with_their_prompt_and_are_copied_by_duplicate(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    db.call(library.save_version, prompt.id, "hi {{ a }}", {"a": 1}, {})
    case = db.call(library.add_case, prompt.id, {"a": "x"}, description="d")
    copy = db.call(library.duplicate_prompt, prompt.id)
    copied = db.call(library.list_cases, copy.id)
    assert [(c.vars, c.description) for c in copied] == [({"a": "x"}, "d")]
    assert copied[0].id != case.id
    db.call(library.delete_case, case.id)
    assert db.call(library.list_cases, prompt.id) == []
    with pytest.raises(NotFound):
        db.call(library.delete_case, case.id)
    db.call(library.trash_prompt, copy.id)
    db.call(library.delete_forever, copy.id)
    with pytest.raises(NotFound):
        db.call(library.get_case, copied[0].id)


def test_bad_cases_are_refused(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    with pytest.raises(StorageError, match="mapping"):
        db.call(library.add_case, prompt.id, ["not", "a", "mapping"])  # type: ignore[arg-type]
    with pytest.raises(StorageError, match="JSON"):
        db.call(library.add_case, prompt.id, {"x": float("nan")})
    with pytest.raises(NotFound):
        db.call(library.add_case, 999, {"x": 1})
