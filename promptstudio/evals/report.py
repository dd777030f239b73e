"""An evaluation's results as files: CSV for spreadsheets, JSON for scripts.

The CSV is flat (one row per cell, grid order) so a spreadsheet can filter and pivot it:
every case variable gets its own column, numbers are plain decimals, never
``5.8e-05``, and text a spreadsheet would run as a formula is quoted
(:mod:`promptstudio.csv_cells`). The JSON keeps the run's own structure (``to_dict`` of
each part) plus the per-model summary, so a script needs no knowledge of how we compute pass rates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from promptstudio.csv_cells import csv_text
from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import EvalRun, cells_in_order, summarize

CASE_FIELDS = ("case", "description")
CELL_FIELDS = (
    "expected",
    "column",
    "model",
    "status",
    "passed",
    "score",
    "latency_ms",
    "ttft_ms",
    "input_tokens",
    "output_tokens",
    "cost",
    "cached",
    "error",
    "answer",
    "grades",
    "human",  # a person's rating: good, bad or empty (storage.ratings)
    "human_note",
)
VAR_PREFIX = "var:"  # only for a variable whose name is one of the fields above


def results_to_csv(run: EvalRun) -> str:
    """One row per stored cell, case by case and column by column; cells never run are
    left out (a cancelled run has fewer rows than cases × columns)."""
    var_names = _var_names(case.vars for case in run.cases)
    taken = set(CASE_FIELDS) | set(CELL_FIELDS)
    var_fields = {name: VAR_PREFIX + name if name in taken else name for name in var_names}
    header = [*CASE_FIELDS, *var_fields.values(), *CELL_FIELDS]
    rows = [header]
    cases = {case.key: case for case in run.cases}
    columns = {column.key: column for column in run.columns}
    for cell in cells_in_order(run):
        case, column = cases[cell.case_key], columns[cell.column_key]
        row: dict[str, str] = {
            "case": str(case.position + 1),
            "description": case.description,
            "expected": case.expected or "",
            "column": column.label,
            "model": column.model,
            "status": cell.status,
            "passed": _verdict(cell.passed),
            "score": _decimal(cell.score, 4),
            "latency_ms": _decimal(cell.latency_ms, 1),
            "ttft_ms": _decimal(cell.ttft_ms, 1),
            "input_tokens": _text(cell.input_tokens),
            "output_tokens": _text(cell.output_tokens),
            "cost": _decimal(cell.cost, 10),
            "cached": "yes" if cell.cached else "no",
            "error": cell.error or "",
            "answer": cell.text,
            "grades": grade_summary(cell.grades),
            **_human(run, cell.case_key, cell.column_key),
        }
        for name, field in var_fields.items():
            row[field] = _value_text(case.vars[name]) if name in case.vars else ""
        rows.append([row[field] for field in header])
    return csv_text(rows)


def results_to_json(run: EvalRun) -> str:
    """The whole run, indented: columns, cases, every stored cell and the summary."""
    document = {
        "version": run.version_number,
        "created_at": run.created_at,
        "status": run.status,
        "columns": [column.to_dict() for column in run.columns],
        "cases": [case.to_dict() for case in run.cases],
        "cells": [
            cell.to_dict() | _human(run, cell.case_key, cell.column_key)
            for cell in cells_in_order(run)
        ],
        "summary": [summary.to_dict() for summary in summarize(run)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _human(run: EvalRun, case_key: str, column_key: str) -> dict[str, str]:
    rating = run.ratings.get((case_key, column_key))
    return {"human": rating.label if rating else "", "human_note": rating.note if rating else ""}


def grade_summary(grades: Iterable[GradeResult]) -> str:
    """ "contains: passed — reason; regex: failed — reason": every check on one line."""
    parts = []
    for grade in grades:
        verdict = "passed" if grade.passed else "failed"
        reason = " ".join(grade.reason.split())
        parts.append(
            f"{grade.grader}: {verdict} — {reason}" if reason else f"{grade.grader}: {verdict}"
        )
    return "; ".join(parts)


def _var_names(all_vars: Iterable[dict[str, object]]) -> list[str]:
    names: dict[str, None] = {}  # an ordered set: first-seen order across cases
    for variables in all_vars:
        names.update(dict.fromkeys(variables))
    return list(names)


def _value_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _verdict(passed: bool | None) -> str:
    return "" if passed is None else "pass" if passed else "fail"


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _decimal(value: float | None, places: int) -> str:
    """A plain decimal with at most ``places`` decimals: "0.000058", "1234.5", "1"."""
    if value is None:
        return ""
    text = f"{value:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
