"""Repeats in the library: every sample stored with its evaluation; old evaluations load."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from promptstudio.evals import results
from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import CellResult, EvalCase, EvalColumn, EvalRun
from promptstudio.evals.store import load_run, save_run
from promptstudio.storage import Database, library
from promptstudio.storage.schema import MIGRATIONS
from promptstudio.storage.transaction import transaction


def test_every_sample_is_stored_and_loaded_back(tmp_path: Path) -> None:
    columns = (EvalColumn("c1", "m1", "m1", "http://127.0.0.1:1/v1"),)
    cases = (EvalCase("1", 0), EvalCase("2", 1))
    run = EvalRun(columns, cases, settings={"repeat": 3})
    for case in cases:
        for sample in range(3):
            passed = not (case.key == "2" and sample == 1)
            grade = GradeResult(passed, float(passed), "", "equals")
            run.put(CellResult(case.key, "c1", "done", text=f"s{sample}", grades=(grade,),
                               sample=sample))  # fmt: skip
    with Database(tmp_path / "library.sqlite3") as db:
        prompt = db.call(library.create_prompt, "p")
        version = db.call(library.save_version, prompt.id, "user:\nhi", {}, {})
        stored = db.call(save_run, version.id, run)
        assert stored.id is not None
        loaded = db.call(load_run, stored.id)
    assert loaded.repeat == 3 and loaded.answers == 6 and loaded.total == 6
    assert [c.text for c in loaded.samples("2", "c1")] == ["s0", "s1", "s2"]
    assert loaded.cells == run.cells and loaded.more_samples == run.more_samples
    [summary] = results.summarize(loaded)
    assert (summary.passed, summary.graded, summary.flaky) == (5, 6, 1)


def test_an_evaluation_stored_before_repeats_loads_as_one_sample_each(tmp_path: Path) -> None:
    """A library at schema 6 (no sample column) opens; its cells are sample 0."""
    path = tmp_path / "library.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, step in enumerate(MIGRATIONS[:6], start=1):
        with transaction(conn):
            step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
    now = "2026-11-01T10:00:00.000Z"
    conn.execute("INSERT INTO prompts (id, name, folder, created_at, updated_at) "
                 "VALUES (1, 'p', '', ?, ?)", (now, now))  # fmt: skip
    conn.execute(
        "INSERT INTO versions (id, prompt_id, number, template, variables, settings, message, "
        "kind, content_hash, created_at) VALUES (1, 1, 1, 't', '{}', '{}', '', 'save', 'h', ?)",
        (now,),
    )
    column = {"id": "c1", "label": "m1", "model": "m1", "base_url": "", "params": {}}
    conn.execute(
        "INSERT INTO eval_runs (id, prompt_id, version_id, columns, cases, settings, status, "
        "created_at) VALUES (1, 1, 1, ?, ?, '{}', 'done', ?)",
        (json.dumps([column]), json.dumps([{"id": "1", "position": 0, "vars": {}}]), now),
    )
    grades = json.dumps([{"grader": "equals", "passed": True, "score": 1.0, "reason": ""}])
    conn.execute(
        "INSERT INTO eval_results (eval_run_id, case_key, column_key, status, text, grades) "
        "VALUES (1, '1', 'c1', 'done', 'old answer', ?)",
        (grades,),
    )
    conn.close()
    with Database(path) as db:
        loaded = db.call(load_run, 1)
    cell = loaded.cell("1", "c1")
    assert cell is not None and cell.sample == 0 and cell.text == "old answer"
    assert loaded.repeat == 1 and not loaded.more_samples
    [summary] = results.summarize(loaded)
    assert summary.pass_rate == 1.0 and summary.pass_interval is not None
