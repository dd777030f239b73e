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


def test_saving_cases_touches_only_the_changed_ones(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The update reuses its values in the comparison: unchanged cases keep updated_at.

    On Python >= 3.12 this statement also ran with numbered placeholders and a
    sequence, a DeprecationWarning (an error in our tests) and a ProgrammingError from 3.14.
    """
    from promptstudio.storage import cases as cases_module

    prompt = db.call(library.create_prompt, "p")
    same = db.call(library.add_case, prompt.id, {"q": "a"}, expected="x")
    edited = db.call(library.add_case, prompt.id, {"q": "b"})
    monkeypatch.setattr(cases_module, "utc_now", lambda: "2999-01-01T00:00:00.000Z")
    db.call(
        library.save_cases,
        prompt.id,
        [
            {"id": same.id, "vars": {"q": "a"}, "expected": "x"},
            {"id": edited.id, "vars": {"q": "B"}, "assert": [{"type": "is-json"}]},
        ],
    )
    stamps = dict(
        db.call(lambda conn: conn.execute("SELECT id, updated_at FROM test_cases").fetchall())
    )
    assert stamps[edited.id] == "2999-01-01T00:00:00.000Z"
    assert stamps[same.id] < "2999"
    assert db.call(library.get_case, edited.id).asserts == [{"type": "is-json"}]


def test_no_statement_binds_numbered_placeholders() -> None:
    """sqlite3 deprecates ``?NNN`` with a sequence of values (an error from Python 3.14).

    Statements that need a value twice use ``:name`` with a mapping instead.
    """
    import re

    import promptstudio

    package = Path(promptstudio.__file__).parent
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\?\d", line)
    ]
    assert offenders == []


def test_a_case_keeps_its_threshold_through_save_replace_and_duplicate(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    case = {"vars": {"a": 1}, "assert": [{"type": "contains", "value": "x"}], "threshold": 0.5}
    [saved] = db.call(library.replace_cases, prompt.id, [case])
    assert saved.threshold == 0.5 and saved.to_exchange() == case
    [updated] = db.call(library.save_cases, prompt.id, [{**case, "id": saved.id, "threshold": 1}])
    assert updated.threshold == 1.0
    copy = db.call(library.duplicate_prompt, prompt.id)
    assert [c.threshold for c in db.call(library.list_cases, copy.id)] == [1.0]
    [cleared] = db.call(library.save_cases, prompt.id, [{"id": saved.id, "vars": {"a": 1}}])
    assert cleared.threshold is None
    with pytest.raises(StorageError, match="threshold must be a number"):
        db.call(library.replace_cases, prompt.id, [{"vars": {}, "threshold": "high"}])
