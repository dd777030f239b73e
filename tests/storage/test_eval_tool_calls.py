"""An evaluation cell keeps the tool calls of its answer (schema step 13): stored, loaded
back, and an evaluation stored before the step opens with its cells unchanged."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from promptstudio.chat import ToolCall
from promptstudio.evals.results import CellResult, EvalCase, EvalColumn, EvalRun
from promptstudio.evals.store import load_run, save_run
from promptstudio.storage import Database, library
from promptstudio.storage.schema import MIGRATIONS, schema_version
from promptstudio.storage.transaction import transaction

CALL = ToolCall("call_1", "get_order_status", '{"order_id": "A1"}')


def test_a_cell_keeps_its_tool_calls(tmp_path: Path) -> None:
    columns = (EvalColumn("c1", "m1", "m1", "http://127.0.0.1:1/v1"),)
    run = EvalRun(columns, (EvalCase("1", 0), EvalCase("2", 1)))
    run.put(CellResult("1", "c1", "done", text="", tool_calls=(CALL,)))
    run.put(CellResult("2", "c1", "done", text="No tool."))
    with Database(tmp_path / "library.sqlite3") as db:
        version = db.call(library.save_version, db.call(library.create_prompt, "p").id, "t", {}, {})
        stored = db.call(save_run, version.id, run)
        assert stored.id is not None
        loaded = db.call(load_run, stored.id)
    called, plain = loaded.cell("1", "c1"), loaded.cell("2", "c1")
    assert called is not None and called.tool_calls == (CALL,)
    assert plain is not None and plain.tool_calls == ()
    assert called.to_dict()["tool_calls"][0]["function"]["name"] == "get_order_status"


def test_an_evaluation_from_before_step_13_opens_with_its_cells(tmp_path: Path) -> None:
    names = [step.__name__ for step in MIGRATIONS]
    assert names[12] == "_step_13_eval_tool_calls"
    path = tmp_path / "library.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, step in enumerate(MIGRATIONS[:12], start=1):
        with transaction(conn):
            step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
    now = "2026-12-01T10:00:00.000Z"
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
    conn.execute(
        "INSERT INTO eval_results (eval_run_id, case_key, column_key, status, text, grades) "
        "VALUES (1, '1', 'c1', 'done', 'old answer', '[]')"
    )
    conn.close()
    with Database(path) as db:
        version = db.call(lambda c: c.execute("PRAGMA user_version").fetchone()[0])
        loaded = db.call(load_run, 1)
    assert version == schema_version() >= 13
    cell = loaded.cell("1", "c1")
    assert cell is not None and cell.text == "old answer" and cell.tool_calls == ()
