"""Between evaluations and the library: an :class:`EvalRun` to rows and back.

Kept apart from the runner so the CLI and the GUI store and load evaluations the same
way, and storage never needs to know what a grade is.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from promptstudio.chat import ToolCall
from promptstudio.evals.results import (
    CellResult,
    EvalCase,
    EvalColumn,
    EvalRun,
    cells_in_order,
    grade_from_dict,
    grade_to_dict,
)

if TYPE_CHECKING:
    from promptstudio.storage.library import CaseRow, EvalRunRow


def cases_from_rows(rows: Sequence[CaseRow]) -> tuple[EvalCase, ...]:
    """A prompt's stored cases as an evaluation runs them (keyed by their ids)."""
    return tuple(
        EvalCase(
            key=str(row.id),
            position=position,
            vars=dict(row.vars),
            description=row.description,
            expected=row.expected,
            asserts=tuple(dict(check) for check in row.asserts),
            threshold=row.threshold,
        )
        for position, row in enumerate(rows)
    )


def run_fields(run: EvalRun) -> dict[str, Any]:
    """Keyword arguments for ``library.save_eval_run`` (after the version id)."""
    return {
        "columns": [column.to_dict() for column in run.columns],
        "cases": [case.to_dict() for case in run.cases],
        "settings": dict(run.settings),
        "status": run.status,
        "cells": [cell_fields(cell) for cell in cells_in_order(run)],
    }


def cell_fields(cell: CellResult) -> dict[str, Any]:
    """A cell as ``eval_results`` stores it: the table's columns are the cell's fields."""
    fields = {field.name: getattr(cell, field.name) for field in dataclasses.fields(cell)}
    fields["grades"] = [grade_to_dict(grade) for grade in cell.grades]
    fields["tool_calls"] = [call.to_dict() for call in cell.tool_calls]
    return fields


def run_from_rows(row: EvalRunRow, cells: Sequence[dict[str, Any]]) -> EvalRun:
    """A stored evaluation, whole again."""
    run = EvalRun(
        columns=tuple(EvalColumn.from_dict(column) for column in row.columns),
        cases=tuple(EvalCase.from_dict(case) for case in row.cases),
        status=row.status,
        id=row.id,
        prompt_id=row.prompt_id,
        version_id=row.version_id,
        version_number=row.version_number,
        created_at=row.created_at,
        settings=dict(row.settings),
    )
    thresholds = {case.key: case.threshold for case in run.cases}
    for data in cells:
        grades = tuple(grade_from_dict(grade) for grade in data["grades"])
        threshold = thresholds.get(str(data["case_key"]))
        calls = tuple(ToolCall.from_dict(call) for call in data.get("tool_calls") or ())
        run.put(
            CellResult(**{**data, "grades": grades, "threshold": threshold, "tool_calls": calls})
        )
    return run


def save_run(conn: sqlite3.Connection, version_id: int, run: EvalRun) -> EvalRun:
    """Store ``run`` as an evaluation of ``version_id`` (on the database's thread); the
    run gets its id, version and time."""
    from promptstudio.storage import library

    row = library.save_eval_run(conn, version_id, **run_fields(run))
    run.id, run.prompt_id, run.version_id = row.id, row.prompt_id, row.version_id
    run.version_number, run.created_at = row.version_number, row.created_at
    return run


def load_run(conn: sqlite3.Connection, eval_run_id: int) -> EvalRun:
    """A stored evaluation with every cell (on the database's thread)."""
    from promptstudio.storage import library
    from promptstudio.storage.ratings import eval_ratings

    run = run_from_rows(
        library.get_eval_run(conn, eval_run_id), library.eval_cells(conn, eval_run_id)
    )
    run.ratings = eval_ratings(conn, eval_run_id)
    return run
