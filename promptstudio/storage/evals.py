"""Evaluations stored with the version they ran, the answer cache, and per-prompt checks.

Rows go in and come out as plain dicts and rows (``promptstudio.evals`` turns them into
its objects): storage knows the shape, not what a verdict means. An evaluation and all
its cells are written in one transaction, so a stored evaluation is always whole.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from promptstudio.storage.errors import NotFound, StorageError
from promptstudio.storage.rows import EvalRunRow, EvalSettingsRow
from promptstudio.storage.sql import (
    one,
    refuse_secrets,
    require_prompt,
    rows,
    stored_json,
    to_json,
    utc_now,
)
from promptstudio.storage.transaction import transaction

EVAL_STATUSES = ("done", "cancelled", "pending")  # pending: batches not collected yet
_CELL_FIELDS = (
    "case_key",
    "column_key",
    "status",
    "text",
    "error",
    "latency_ms",
    "ttft_ms",
    "input_tokens",
    "input_estimate",
    "output_tokens",
    "cost",
    "cached",
    "grades",
    "sample",
    "tool_calls",
    "batch",  # answered by a provider batch (its cost at the batch price)
)
_CACHE_FIELDS = (
    "model",
    "text",
    "finish_reason",
    "ttft_ms",
    "total_ms",
    "input_tokens",
    "output_tokens",
    "usage_estimated",
    "logprobs",
)


def save_eval_run(
    conn: sqlite3.Connection,
    version_id: int,
    *,
    columns: Sequence[Mapping[str, Any]],
    cases: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Any],
    status: str,
    cells: Sequence[Mapping[str, Any]],
) -> EvalRunRow:
    """Store one evaluation of ``version_id`` with every cell; returns its row.

    Only the cells given are stored (a stopped evaluation's cells that never started have
    none), and the row returned is built from what was written, not read back: a stop of a
    131k-case evaluation stores in well under a second."""
    if status not in EVAL_STATUSES:
        raise StorageError(f"An evaluation's status must be one of {EVAL_STATUSES}.")
    columns_list, cases_list = _dicts(columns), _dicts(cases)
    settings_dict = dict(settings)
    for what, value in (("columns", columns_list), ("cases", cases_list),
                        ("settings", settings_dict)):  # fmt: skip
        refuse_secrets(value, f"evaluation {what}")
    columns_json = to_json(columns_list, "evaluation columns")
    cases_json = to_json(cases_list, "evaluation cases")
    settings_json = to_json(settings_dict, "evaluation settings")
    created_at = utc_now()
    with transaction(conn):
        found = one(conn, "SELECT prompt_id, number FROM versions WHERE id = ?", (version_id,))
        if found is None:
            raise NotFound(f"There is no version with id {version_id}.")
        cursor = conn.execute(
            """
            INSERT INTO eval_runs (prompt_id, version_id, columns, cases, settings, status,
                                   created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            (found["prompt_id"], version_id, columns_json, cases_json, settings_json, status,
             created_at),
        )  # fmt: skip
        run_id = cursor.lastrowid
        assert run_id is not None
        conn.executemany(
            f"""
            INSERT INTO eval_results (eval_run_id, {", ".join(_CELL_FIELDS)})
            VALUES (?, {", ".join("?" * len(_CELL_FIELDS))})
            """,
            [(run_id, *_cell_values(cell)) for cell in cells],
        )
    return EvalRunRow(
        id=run_id,
        prompt_id=found["prompt_id"],
        version_id=version_id,
        version_number=found["number"],
        columns=columns_list,
        cases=cases_list,
        settings=settings_dict,
        status=status,
        created_at=created_at,
    )


def _dicts(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``items`` as a list of dicts, copying only what is not a dict already."""
    return [item if type(item) is dict else dict(item) for item in items]


def _cell_values(cell: Mapping[str, Any]) -> tuple[Any, ...]:
    values = []
    for name in _CELL_FIELDS:
        value = cell.get(name)
        if name == "grades":
            value = to_json(list(value or ()), "grades")
        elif name in ("cached", "batch"):
            value = int(bool(value))
        elif name == "text":
            value = value or ""
        elif name == "sample":
            value = int(value or 0)
        elif name == "tool_calls":  # NULL for none, as responses.tool_calls
            value = to_json(list(value), "tool calls") if value else None
        values.append(value)
    return tuple(values)


_RUN_COLUMNS = """
    e.id, e.prompt_id, e.version_id, v.number AS version_number, e.columns, e.cases,
    e.settings, e.status, e.created_at
"""


def _run(row: sqlite3.Row) -> EvalRunRow:
    return EvalRunRow(
        id=row["id"],
        prompt_id=row["prompt_id"],
        version_id=row["version_id"],
        version_number=row["version_number"],
        columns=stored_json(row["columns"], []),
        cases=stored_json(row["cases"], []),
        settings=stored_json(row["settings"], {}),
        status=row["status"],
        created_at=row["created_at"],
    )


def get_eval_run(conn: sqlite3.Connection, eval_run_id: int) -> EvalRunRow:
    row = one(
        conn,
        f"SELECT {_RUN_COLUMNS} FROM eval_runs e JOIN versions v ON v.id = e.version_id "
        "WHERE e.id = ?",
        (eval_run_id,),
    )
    if row is None:
        raise NotFound(f"There is no evaluation with id {eval_run_id}.")
    return _run(row)


def list_eval_runs(conn: sqlite3.Connection, prompt_id: int) -> list[EvalRunRow]:
    """The prompt's evaluations, newest first (without their cells)."""
    found = rows(
        conn,
        f"SELECT {_RUN_COLUMNS} FROM eval_runs e JOIN versions v ON v.id = e.version_id "
        "WHERE e.prompt_id = ? ORDER BY e.id DESC",
        (prompt_id,),
    )
    return [_run(row) for row in found]


def eval_cells(conn: sqlite3.Connection, eval_run_id: int) -> list[dict[str, Any]]:
    """An evaluation's cells in the order they were stored, grades decoded."""
    found = rows(
        conn,
        f"SELECT {', '.join(_CELL_FIELDS)} FROM eval_results WHERE eval_run_id = ? ORDER BY id",
        (eval_run_id,),
    )
    cells = []
    for row in found:
        cell = {name: row[name] for name in _CELL_FIELDS}
        cell["grades"] = stored_json(row["grades"], [])
        cell["cached"] = bool(row["cached"])
        cell["tool_calls"] = stored_json(row["tool_calls"], []) if row["tool_calls"] else []
        cell["batch"] = bool(row["batch"])
        cells.append(cell)
    return cells


def delete_eval_run(conn: sqlite3.Connection, eval_run_id: int) -> None:
    with transaction(conn):
        if conn.execute("DELETE FROM eval_runs WHERE id = ?", (eval_run_id,)).rowcount == 0:
            raise NotFound(f"There is no evaluation with id {eval_run_id}.")


# ---- the answer cache ----------------------------------------------------------------


def cache_get(conn: sqlite3.Connection, key: str) -> dict[str, Any] | None:
    """The cached answer for a request key, or None."""
    row = one(conn, f"SELECT {', '.join(_CACHE_FIELDS)} FROM response_cache WHERE key = ?", (key,))
    if row is None:
        return None
    answer = {name: row[name] for name in _CACHE_FIELDS}
    answer["usage_estimated"] = bool(answer["usage_estimated"])
    return answer


def cache_put(conn: sqlite3.Connection, key: str, answer: Mapping[str, Any]) -> None:
    """Keep a complete answer for a request key (a newer answer replaces an older one)."""
    values = [answer.get(name) for name in _CACHE_FIELDS]
    values[_CACHE_FIELDS.index("usage_estimated")] = int(bool(answer.get("usage_estimated")))
    values[_CACHE_FIELDS.index("text")] = answer.get("text") or ""
    logprobs = answer.get("logprobs")
    values[_CACHE_FIELDS.index("logprobs")] = None if not logprobs else json.dumps(list(logprobs))
    with transaction(conn):
        conn.execute(
            f"""
            INSERT OR REPLACE INTO response_cache (key, {", ".join(_CACHE_FIELDS)}, created_at)
            VALUES (?, {", ".join("?" * len(_CACHE_FIELDS))}, ?)
            """,
            (key, *values, utc_now()),
        )


def cache_clear(conn: sqlite3.Connection) -> int:
    """Forget every cached answer; returns how many there were."""
    with transaction(conn):
        return conn.execute("DELETE FROM response_cache").rowcount


def cache_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM response_cache").fetchone()[0])


# ---- checks for every case of a prompt, and its judge ---------------------------------


def get_eval_settings(conn: sqlite3.Connection, prompt_id: int) -> EvalSettingsRow:
    """The prompt's evaluation settings (defaults when it has none yet)."""
    row = one(
        conn,
        "SELECT asserts, judge_prompt, judge_column FROM eval_settings WHERE prompt_id = ?",
        (prompt_id,),
    )
    if row is None:
        return EvalSettingsRow(prompt_id=prompt_id)
    return EvalSettingsRow(
        prompt_id=prompt_id,
        asserts=stored_json(row["asserts"], []),
        judge_prompt=row["judge_prompt"],
        judge_column=row["judge_column"],
    )


def set_eval_settings(
    conn: sqlite3.Connection,
    prompt_id: int,
    *,
    asserts: Sequence[Mapping[str, Any]],
    judge_prompt: str | None,
    judge_column: str | None,
) -> EvalSettingsRow:
    """Store the checks for every case, the edited judge prompt and the judge's column."""
    checks = [dict(check) for check in asserts]
    refuse_secrets(checks, "checks for every case")
    asserts_json = to_json(checks, "checks for every case")
    with transaction(conn):
        require_prompt(conn, prompt_id)
        conn.execute(
            """
            INSERT INTO eval_settings (prompt_id, asserts, judge_prompt, judge_column, updated_at)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (prompt_id) DO UPDATE SET asserts = excluded.asserts,
                judge_prompt = excluded.judge_prompt, judge_column = excluded.judge_column,
                updated_at = excluded.updated_at
            """,
            (prompt_id, asserts_json, judge_prompt, judge_column, utc_now()),
        )
        return get_eval_settings(conn, prompt_id)
