"""Evaluations in the library: stored whole with their version, the cache, the settings."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptstudio.evals import results
from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import CellResult, EvalCase, EvalColumn, EvalRun
from promptstudio.evals.store import cases_from_rows, load_run, save_run
from promptstudio.storage import Database, NotFound, SecretFieldError, StorageError, library


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def a_run(passes: list[bool], *, cached: bool = False) -> EvalRun:
    columns = (EvalColumn("c1", "Model one", "m1", "http://127.0.0.1:1/v1", {"temperature": 0}),)
    cases = tuple(
        EvalCase(str(n), n, {"q": f"question {n}"}, expected="yes", description=f"case {n}")
        for n in range(len(passes))
    )
    run = EvalRun(columns, cases, settings={"fresh": False})
    for case, passed in zip(cases, passes, strict=True):
        grade = GradeResult(passed, float(passed), "because", "equals", {"note": 1})
        run.cells[(case.key, "c1")] = CellResult(
            case.key, "c1", "done", text=f"answer, {case.key}\nline 2", latency_ms=12.5,
            ttft_ms=3.0, input_tokens=5, output_tokens=2, cost=0.0 if cached else 0.001,
            cached=cached, grades=(grade,),
        )  # fmt: skip
    return run


def test_an_evaluation_is_stored_whole_with_its_version(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    version = db.call(library.save_version, prompt.id, "user:\n{{ q }}", {}, {})
    run = a_run([True, False, True], cached=True)
    stored = db.call(save_run, version.id, run)
    assert stored.id is not None and stored.version_number == version.number
    assert stored.created_at and stored.prompt_id == prompt.id

    loaded = db.call(load_run, stored.id)
    assert loaded.columns == run.columns and loaded.cases == run.cases
    assert loaded.cells == run.cells
    assert loaded.title.startswith(f"v{version.number} · ")
    assert results.summarize(loaded) == results.summarize(run)
    listed = db.call(library.list_eval_runs, prompt.id)
    assert [row.id for row in listed] == [stored.id] and listed[0].status == "done"


def test_two_versions_evaluations_compare_case_by_case(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    v1 = db.call(library.save_version, prompt.id, "one", {}, {})
    v2 = db.call(library.save_version, prompt.id, "two", {}, {})
    old = db.call(save_run, v1.id, a_run([True, False, False]))
    new = db.call(save_run, v2.id, a_run([True, True, False]))
    assert old.id is not None and new.id is not None
    listed = db.call(library.list_eval_runs, prompt.id)
    assert [row.id for row in listed] == [new.id, old.id]  # newest first
    flips = results.compare_runs(db.call(load_run, old.id), db.call(load_run, new.id))
    assert [(f.case_key, f.before, f.after, f.improved) for f in flips] == [
        ("1", False, True, True)
    ]


def test_evaluations_go_with_their_prompt_and_refuse_bad_input(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    version = db.call(library.save_version, prompt.id, "t", {}, {})
    stored = db.call(save_run, version.id, a_run([True]))
    with pytest.raises(NotFound):
        db.call(save_run, 999, a_run([True]))
    with pytest.raises(StorageError, match="status"):
        db.call(library.save_eval_run, version.id, columns=[], cases=[], settings={},
                status="running", cells=[])  # fmt: skip
    leaky = a_run([True])
    leaky.settings = {"judge": {"api_key": "sk-secret"}}
    with pytest.raises(SecretFieldError):
        db.call(save_run, version.id, leaky)
    db.call(library.trash_prompt, prompt.id)
    db.call(library.delete_forever, prompt.id)
    assert stored.id is not None
    with pytest.raises(NotFound):
        db.call(load_run, stored.id)


def test_the_answer_cache_keeps_the_newest_answer(db: Database) -> None:
    assert db.call(library.cache_get, "k") is None
    db.call(library.cache_put, "k", {"model": "m", "text": "one", "total_ms": 5.0})
    db.call(library.cache_put, "k", {"model": "m", "text": "two", "usage_estimated": True})
    found = db.call(library.cache_get, "k")
    assert found is not None and found["text"] == "two" and found["usage_estimated"] is True
    assert db.call(library.cache_count) == 1
    assert db.call(library.cache_clear) == 1 and db.call(library.cache_get, "k") is None


def test_checks_for_every_case_and_the_judge_are_kept_per_prompt(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    empty = db.call(library.get_eval_settings, prompt.id)
    assert empty.asserts == [] and empty.judge_prompt is None and empty.judge_column is None
    checks = [{"type": "latency", "threshold": 3000}]
    judge_prompt = "user:\n{{ output }}"
    db.call(library.set_eval_settings, prompt.id, asserts=checks, judge_prompt=judge_prompt,
            judge_column="col-2")  # fmt: skip
    saved = db.call(library.get_eval_settings, prompt.id)
    assert saved.asserts == checks and saved.judge_column == "col-2"
    db.call(library.set_eval_settings, prompt.id, asserts=[], judge_prompt=None, judge_column=None)
    assert db.call(library.get_eval_settings, prompt.id).judge_prompt is None
    with pytest.raises(NotFound):
        db.call(library.set_eval_settings, 999, asserts=[], judge_prompt=None, judge_column=None)


def test_saving_cases_keeps_their_ids_so_evaluations_line_up(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    first = db.call(library.add_case, prompt.id, {"q": "a"})
    second = db.call(library.add_case, prompt.id, {"q": "b"})
    third = db.call(library.add_case, prompt.id, {"q": "c"})
    saved = db.call(
        library.save_cases,
        prompt.id,
        [
            {"id": third.id, "vars": {"q": "c"}},
            {"id": first.id, "vars": {"q": "A"}, "expected": "x", "assert": [{"type": "is-json"}]},
            {"vars": {"q": "new"}, "description": "added"},
        ],
    )
    assert [c.id for c in saved[:2]] == [third.id, first.id]
    assert saved[1].vars == {"q": "A"} and saved[1].asserts == [{"type": "is-json"}]
    assert saved[2].description == "added" and saved[2].id not in (first.id, second.id, third.id)
    assert second.id not in {c.id for c in saved}
    assert [c.key for c in cases_from_rows(saved)] == [str(c.id) for c in saved]
    other = db.call(library.create_prompt, "other")
    with pytest.raises(NotFound):
        db.call(library.save_cases, other.id, [{"id": first.id, "vars": {}}])
    with pytest.raises(StorageError, match="twice"):
        db.call(library.save_cases, prompt.id, [{"id": first.id, "vars": {}}] * 2)
    assert [c.id for c in db.call(library.list_cases, prompt.id)] == [c.id for c in saved]
    undone = [*(c.to_exchange() | {"id": c.id} for c in saved), {"id": second.id, "vars": {}}]
    restored = db.call(library.save_cases, prompt.id, undone)  # an undone delete: same id
    assert restored[-1].id == second.id


def test_a_duplicated_prompt_keeps_its_checks_for_every_case(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    db.call(library.save_version, prompt.id, "t", {}, {})
    checks = [{"type": "max-length", "value": 10}]
    db.call(library.set_eval_settings, prompt.id, asserts=checks, judge_prompt=None,
            judge_column="c")  # fmt: skip
    copy = db.call(library.duplicate_prompt, prompt.id)
    assert db.call(library.get_eval_settings, copy.id).asserts == checks


def test_a_big_stopped_evaluation_is_stored_whole_without_reading_it_back(db: Database) -> None:
    """Ctrl+C on a huge evaluation (issue 14): only the cells that ran are written, in one
    executemany, and nothing is read back (131k cases' JSON took seconds to decode again)."""
    prompt = db.call(library.create_prompt, "p")
    version = db.call(library.save_version, prompt.id, "user:\n{{ q }}", {}, {})
    run = a_run([True, False])
    run.cases = tuple(EvalCase(str(n), n, {"q": f"question {n}"}) for n in range(20_000))
    run.cells[("2", "c1")] = CellResult("2", "c1", results.CANCELLED, error="Stopped.")
    run.status = results.CANCELLED
    statements: list[str] = []

    def store(conn: sqlite3.Connection) -> EvalRun:
        conn.set_trace_callback(statements.append)
        try:
            return save_run(conn, version.id, run)
        finally:
            conn.set_trace_callback(None)

    stored = db.call(store)
    read = [sql for sql in statements if "SELECT" in sql and "eval_" in sql]
    assert not read  # nothing read back
    assert sum("INSERT INTO eval_results" in sql for sql in statements) == 3  # the cells that ran
    assert (stored.version_number, stored.prompt_id) == (version.number, prompt.id)
    assert stored.id is not None
    loaded = db.call(load_run, stored.id)
    assert loaded.cases == run.cases and loaded.cells == run.cells
    assert (loaded.status, loaded.created_at) == (results.CANCELLED, stored.created_at)
    assert results.stop_counts(loaded) == results.StopCounts(20_000, 2, 1, 19_997)


def test_a_credential_deep_in_the_cases_is_still_refused_by_name(db: Database) -> None:
    prompt = db.call(library.create_prompt, "p")
    version = db.call(library.save_version, prompt.id, "t", {}, {})
    leaky = a_run([True, True])
    leaky.cases = (leaky.cases[0], EvalCase("1", 1, {"q": {"headers": {"X-Api-Key": "sk"}}}))
    with pytest.raises(SecretFieldError, match=r"'\[1\]\.vars\.q\.headers\.X-Api-Key'"):
        db.call(save_run, version.id, leaky)
    assert db.call(library.list_eval_runs, prompt.id) == []
