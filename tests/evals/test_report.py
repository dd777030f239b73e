"""CSV and JSON exports of an evaluation: parsed back and checked value by value."""

from __future__ import annotations

import csv
import io
import json

import pytest

from promptstudio.evals.graders import GradeResult
from promptstudio.evals.report import grade_summary, results_to_csv, results_to_json
from promptstudio.evals.results import (
    CANCELLED,
    DONE,
    FAILED,
    CellResult,
    EvalCase,
    EvalColumn,
    EvalRun,
)

CONTAINS_OK = GradeResult(True, 1.0, "found 'Paris'", "contains")
RUBRIC_BAD = GradeResult(
    False, 0.25, "Too vague,\nno city named.", "llm-rubric", {"reason": "Too vague"}
)


def make_run() -> EvalRun:
    columns = (
        EvalColumn("a", "GPT mini", "gpt-4o-mini", "https://api.openai.com/v1"),
        EvalColumn("b", "Local", "llama3", "http://localhost:11434/v1"),
    )
    cases = (
        EvalCase("10", 0, {"city": "Paris", "n": 3}, description="capital", expected="Paris"),
        EvalCase("11", 1, {"city": "Rome", "tags": ["a", "b"], "model": "x"}),
    )
    run = EvalRun(columns, cases, version_number=7, created_at="2026-11-22T10:03:00Z")
    cells = [
        CellResult(
            "10", "a", DONE, "Paris, of course.\nIt is \"the\" capital.",
            latency_ms=812.25, ttft_ms=120.0, input_tokens=40, output_tokens=9,
            cost=0.000058, grades=(CONTAINS_OK,),
        ),
        CellResult("10", "b", FAILED, error="HTTP 500: server error", latency_ms=30.0),
        CellResult(
            "11", "a", DONE, "Rome", latency_ms=700.0, input_tokens=40, output_tokens=2,
            cost=0.0, cached=True, grades=(CONTAINS_OK, RUBRIC_BAD),
        ),
        CellResult("11", "b", CANCELLED),
    ]  # fmt: skip
    for cell in reversed(cells):  # stored out of order: the export sorts by the grid
        run.cells[(cell.case_key, cell.column_key)] = cell
    return run


def csv_rows(run: EvalRun) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(results_to_csv(run))))


def test_csv_has_one_row_per_cell_in_grid_order() -> None:
    rows = csv_rows(make_run())
    assert [(r["case"], r["column"]) for r in rows] == [
        ("1", "GPT mini"),
        ("1", "Local"),
        ("2", "GPT mini"),
        ("2", "Local"),
    ]


def test_csv_header_puts_each_variable_in_its_own_column() -> None:
    header = results_to_csv(make_run()).split("\n", 1)[0].split(",")
    assert header[:6] == ["case", "description", "city", "n", "tags", "var:model"]
    assert header[6:] == [
        "expected", "column", "model", "status", "passed", "score", "latency_ms", "ttft_ms",
        "input_tokens", "output_tokens", "cost", "cached", "batch", "error", "answer", "grades",
        "sample",
        "model_pass_rate", "model_pass_rate_low", "model_pass_rate_high", "human", "human_note",
    ]  # fmt: skip


def test_csv_values_of_a_passing_cell() -> None:
    first = csv_rows(make_run())[0]
    assert first["description"] == "capital"
    assert first["city"] == "Paris"
    assert first["n"] == "3"
    assert first["tags"] == ""  # not a variable of this case
    assert first["expected"] == "Paris"
    assert first["model"] == "gpt-4o-mini"
    assert first["status"] == "done"
    assert first["passed"] == "pass"
    assert first["score"] == "1"
    assert first["latency_ms"] == "812.2"  # one decimal (round half to even)
    assert first["ttft_ms"] == "120"
    assert (first["input_tokens"], first["output_tokens"]) == ("40", "9")
    assert first["cost"] == "0.000058"  # never 5.8e-05
    assert first["cached"] == "no"
    assert first["batch"] == "no"
    assert first["error"] == ""
    assert first["grades"] == "contains: passed — found 'Paris'"


def test_csv_marks_a_cell_answered_by_a_batch() -> None:
    run = make_run()
    cell = run.cells[("11", "b")] = CellResult("11", "b", DONE, "Rome", cost=0.0001, batch=True)
    assert cell.to_dict()["batch"] is True  # as the JSON report says it
    assert [row["batch"] for row in csv_rows(run)] == ["no", "no", "no", "yes"]


def test_csv_keeps_commas_quotes_and_newlines_in_the_answer() -> None:
    first = csv_rows(make_run())[0]
    assert first["answer"] == 'Paris, of course.\nIt is "the" capital.'


def test_csv_failed_request_is_a_fail_with_its_error() -> None:
    failed = csv_rows(make_run())[1]
    assert failed["status"] == "failed"
    assert failed["passed"] == "fail"
    assert failed["score"] == "0"
    assert failed["error"] == "HTTP 500: server error"
    assert failed["answer"] == ""
    assert failed["cost"] == ""
    assert failed["grades"] == ""


def test_csv_cached_cell_costs_zero_and_lists_every_grade() -> None:
    cached = csv_rows(make_run())[2]
    assert cached["cached"] == "yes"
    assert cached["cost"] == "0"
    assert cached["passed"] == "fail"
    assert cached["score"] == "0.625"
    assert cached["tags"] == '["a","b"]'  # compact JSON for a non-string value
    assert cached["var:model"] == "x"  # a variable named like a field keeps its value
    assert cached["model"] == "gpt-4o-mini"
    assert cached["grades"] == (
        "contains: passed — found 'Paris'; llm-rubric: failed — Too vague, no city named."
    )


def test_csv_cancelled_cell_has_no_verdict() -> None:
    cancelled = csv_rows(make_run())[3]
    assert cancelled["status"] == "cancelled"
    assert cancelled["passed"] == ""
    assert cancelled["score"] == ""
    assert cancelled["latency_ms"] == ""


def test_csv_leaves_out_cells_never_run() -> None:
    run = make_run()
    del run.cells[("11", "b")]
    assert len(csv_rows(run)) == 3


def test_grade_summary_without_a_reason() -> None:
    assert grade_summary([GradeResult(False, 0.0, "", "is-json")]) == "is-json: failed"


def test_json_round_trips_the_run() -> None:
    run = make_run()
    data = json.loads(results_to_json(run))
    assert data["version"] == 7
    assert data["created_at"] == "2026-11-22T10:03:00Z"
    assert data["status"] == "done"
    assert data["columns"] == [column.to_dict() for column in run.columns]
    assert data["columns"][1]["base_url"] == "http://localhost:11434/v1"
    assert data["cases"] == [case.to_dict() for case in run.cases]
    assert data["cases"][1]["vars"] == {"city": "Rome", "tags": ["a", "b"], "model": "x"}
    assert [(c["case"], c["column"]) for c in data["cells"]] == [
        ("10", "a"),
        ("10", "b"),
        ("11", "a"),
        ("11", "b"),
    ]
    first, failed, cached, cancelled = data["cells"]
    assert first["cost"] == pytest.approx(0.000058)
    assert first["latency_ms"] == 812.25
    assert first["passed"] is True
    assert failed["passed"] is False and failed["error"] == "HTTP 500: server error"
    assert cached["cached"] is True and cached["cost"] == 0
    assert cached["score"] == 0.625
    assert cached["grades"][1]["details"] == {"reason": "Too vague"}
    assert cancelled["passed"] is None


def test_json_summary_per_model() -> None:
    summary = json.loads(results_to_json(make_run()))["summary"]
    assert [s["column"] for s in summary] == ["a", "b"]
    gpt, local = summary
    assert (gpt["graded"], gpt["passed"], gpt["pass_rate"]) == (2, 1, 0.5)
    assert gpt["cached"] == 1
    assert gpt["total_cost"] == pytest.approx(0.000058)
    assert gpt["mean_latency_ms"] == pytest.approx(756.125)
    assert (local["failed_requests"], local["pass_rate"], local["total_cost"]) == (1, 0.0, None)


def test_json_is_indented_and_keeps_unicode() -> None:
    run = make_run()
    run.cells[("10", "a")] = CellResult("10", "a", DONE, "Ça va — très bien")
    text = results_to_json(run)
    assert text.startswith('{\n  "version": 7,')
    assert "Ça va — très bien" in text


def test_csv_quotes_cells_a_spreadsheet_would_run_as_formulas() -> None:
    evil = '=HYPERLINK("http://evil.example","x")'
    run = EvalRun(
        (EvalColumn("a", "-label", "gpt", "https://api.openai.com/v1"),),
        (EvalCase("10", 0, {"city": "@SUM(A1)", "n": -3}, description="+cmd", expected=evil),),
    )
    run.cells[("10", "a")] = CellResult("10", "a", FAILED, "\tanswer", error="-1 failed")
    [row] = csv_rows(run)
    assert (row["city"], row["n"], row["description"], row["expected"]) == (
        "'@SUM(A1)", "-3", "'+cmd", "'" + evil,
    )  # fmt: skip
    assert (row["column"], row["answer"], row["error"]) == ("'-label", "'\tanswer", "'-1 failed")


def test_a_persons_rating_is_in_the_csv_and_the_json() -> None:
    from promptstudio.storage.ratings import BAD, Rating

    run = make_run()
    case, column = run.cases[0].key, run.columns[1].key
    run.ratings[(case, column)] = Rating(BAD, "made up a number")
    rows = csv_rows(run)
    assert [(r["human"], r["human_note"]) for r in rows][:2] == [
        ("", ""),
        ("bad", "made up a number"),
    ]
    cells = json.loads(results_to_json(run))["cells"]
    rated = [c for c in cells if c["human"]]
    assert [(c["case"], c["column"], c["human_note"]) for c in rated] == [
        (case, column, "made up a number")
    ]
