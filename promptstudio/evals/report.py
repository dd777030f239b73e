"""An evaluation's results as files: CSV for spreadsheets, JSON for scripts.

The CSV is flat (one row per cell, grid order) so a spreadsheet can filter and pivot it:
every case variable gets its own column, numbers are plain decimals, never
``5.8e-05``, and text a spreadsheet would run as a formula is quoted
(:mod:`promptstudio.csv_cells`). The JSON keeps the run's own structure (``to_dict`` of
each part) plus the per-model summary, so a script needs no knowledge of how we compute pass rates.
Every pass rate carries its 95% Wilson interval: the JSON summary's ``pass_rate_low`` and
``pass_rate_high``, and on every CSV row its model's (``model_pass_rate``, ``…_low``,
``…_high``); a comparison (:mod:`promptstudio.evals.compare`) adds its sentence and ROI line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from promptstudio.csv_cells import csv_text
from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import EvalRun, cells_in_order, summarize
from promptstudio.evals.stats import percent_text

if TYPE_CHECKING:
    from promptstudio.evals.compare import Comparison

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
    "batch",  # answered by a provider batch (its cost at the batch price)
    "error",
    "answer",
    "grades",
    "sample",
    "model_pass_rate",
    "model_pass_rate_low",
    "model_pass_rate_high",
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
    rates = {summary.column_key: summary for summary in summarize(run)}
    for cell in cells_in_order(run):
        rate = rates[cell.column_key]
        interval = rate.pass_interval
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
            "batch": "yes" if cell.batch else "no",
            "error": cell.error or "",
            "answer": cell.text,
            "grades": grade_summary(cell.grades),
            "sample": str(cell.sample + 1),
            "model_pass_rate": _decimal(rate.pass_rate, 4),
            "model_pass_rate_low": _decimal(None if interval is None else interval.low, 4),
            "model_pass_rate_high": _decimal(None if interval is None else interval.high, 4),
            **_human(run, cell.case_key, cell.column_key),
        }
        for name, field in var_fields.items():
            row[field] = _value_text(case.vars[name]) if name in case.vars else ""
        rows.append([row[field] for field in header])
    return csv_text(rows)


def results_to_json(run: EvalRun, comparisons: Sequence[Comparison] = ()) -> str:
    """The whole run, indented: columns, cases, every stored cell and the summary (and the
    comparisons given, each with its paired test and ROI line)."""
    document: dict[str, object] = {
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
    if run.repeat > 1:
        document["repeat"] = run.repeat
    if comparisons:
        document["comparisons"] = [comparison.to_dict() for comparison in comparisons]
    return json.dumps(document, indent=2, ensure_ascii=False)


def results_to_html(run: EvalRun, comparisons: Sequence[Comparison] = ()) -> str:
    """A page to share: each model's figures with their 95% intervals, the comparisons (ROI
    line and McNemar's sentence), then every answer. Self-contained, everything escaped."""
    from html import escape

    title = f"Evaluation of {run.title}"
    rows = []
    for s in summarize(run):
        interval = s.pass_interval
        rate = (
            "—" if s.pass_rate is None else f"{s.passed}/{s.graded} · {percent_text(s.pass_rate)}"
        )
        if interval is not None:
            rate += f" (95% CI {interval.percent()})"
        repeats = "—"
        if s.repeat > 1 and s.pass_at_k is not None and s.pass_hat_k is not None:
            repeats = (
                f"pass@{s.repeat} {percent_text(s.pass_at_k)} · "
                f"pass^{s.repeat} {percent_text(s.pass_hat_k)} · "
                f"{s.flaky} flaky"
            )
        cost = "cost unknown" if s.total_cost is None else f"${_decimal(s.total_cost, 6)}"
        cells = (s.label, rate, repeats, _decimal(s.mean_score, 2) or "—", cost)
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    compared = "".join(
        f"<li><b>{escape(c.roi_line())}</b><br>{escape(c.sentence())}</li>" for c in comparisons
    )
    cases = {case.key: case for case in run.cases}
    columns = {column.key: column for column in run.columns}
    answers = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(text)}</td>"
            for text in (
                f"{cases[cell.case_key].position + 1}. {cases[cell.case_key].title}",
                columns[cell.column_key].label,
                str(cell.sample + 1),
                _verdict(cell.passed) or cell.status,
                cell.error or cell.text,
            )
        )
        + "</tr>"
        for cell in cells_in_order(run)
    )
    return (
        f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif}}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px;"
        "vertical-align:top;white-space:pre-wrap}</style></head><body>"
        f"<h1>{escape(title)}</h1><h2>Models</h2><table><tr><th>Model</th>"
        "<th>Pass rate (95% Wilson interval)</th><th>Repeats</th><th>Mean score</th>"
        f"<th>Cost</th></tr>{''.join(rows)}</table>"
        + (f"<h2>Comparisons</h2><ul>{compared}</ul>" if compared else "")
        + "<h2>Answers</h2><table><tr><th>Case</th><th>Model</th><th>Sample</th>"
        f"<th>Verdict</th><th>Answer</th></tr>{answers}</table></body></html>\n"
    )


def _human(run: EvalRun, case_key: str, column_key: str) -> dict[str, str]:
    rating = run.ratings.get((case_key, column_key))
    return {"human": rating.label if rating else "", "human_note": rating.note if rating else ""}


def grade_summary(grades: Iterable[GradeResult]) -> str:
    """ "contains: passed — reason; regex: failed — reason": every check on one line."""
    parts = []
    for grade in grades:
        verdict = "passed" if grade.passed else "failed"
        reason = " ".join(grade.reason.split())
        if not grade.graded:  # its reason starts "Not graded: "
            parts.append(f"{grade.grader}: {reason}")
            continue
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
