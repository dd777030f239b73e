"""Step 16: a library from before it (step 12) gains the evaluation cells' input
estimates and keeps its evaluations; the cells stored before have none."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from promptstudio.evals.results import DONE, CellResult, EvalCase, EvalColumn, EvalRun
from promptstudio.evals.store import load_run, save_run
from promptstudio.storage import Database, library
from promptstudio.storage.schema import MIGRATIONS, schema_version


def test_a_library_of_step_12_gains_the_input_estimates_and_keeps_its_evaluations(
    tmp_path: Path,
) -> None:
    path = tmp_path / "library.sqlite3"
    conn = sqlite3.connect(path)
    for number, step in enumerate(MIGRATIONS[:12], start=1):
        step(conn)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.commit()
    conn.execute(
        "INSERT INTO prompts (id, name, created_at, updated_at) VALUES (1, 'old', 'x', 'x')"
    )
    conn.execute(
        "INSERT INTO versions (id, prompt_id, template, variables, settings, kind, "
        "content_hash, created_at, number) VALUES (1, 1, 'T', '{}', '{}', 'save', 'h', 'x', 1)"
    )
    conn.execute(
        "INSERT INTO eval_runs (id, prompt_id, version_id, columns, cases, status, created_at) "
        """VALUES (1, 1, 1, '[{"id": "a", "label": "m", "model": "m", "base_url": "",
        "params": {}}]', '[{"id": "c1", "position": 0, "vars": {}}]', 'done', 'x')"""
    )
    conn.execute(
        "INSERT INTO eval_results (eval_run_id, case_key, column_key, status, text, "
        "input_tokens) VALUES (1, 'c1', 'a', 'done', 'kept', 7)"
    )
    conn.commit()
    conn.close()
    with Database(path) as db:
        version = db.call(lambda c: c.execute("PRAGMA user_version").fetchone()[0])
        assert version == schema_version() and any("_step_16" in s.__name__ for s in MIGRATIONS)
        old = db.call(load_run, 1).cell("c1", "a")
        assert old is not None and (old.text, old.input_tokens, old.input_estimate) == (
            "kept",
            7,
            None,
        )
        run = EvalRun(columns=(EvalColumn("a", "m", "m", "", {}),), cases=(EvalCase("c1", 0, {}),))
        run.cells[("c1", "a")] = CellResult("c1", "a", DONE, input_tokens=9, input_estimate=8)
        saved = db.call(save_run, 1, run)
        assert saved.id is not None
        new = db.call(load_run, saved.id).cell("c1", "a")
        assert new is not None and new.input_estimate == 8
        assert db.call(library.list_eval_runs, 1)[0].id == saved.id
