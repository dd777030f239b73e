"""The per-model summary table: Qt's model checks, each figure's text, baseline changes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QAbstractItemModelTester

from promptstudio.evals.results import ModelSummary, match_columns, summarize
from promptstudio.ui.evaluate.eval_summary_model import Column, EvalSummaryModel
from tests.ui.evaluate.test_eval_grid_model import build_run

Role = Qt.ItemDataRole


def summary(**changes: object) -> ModelSummary:
    figures: dict[str, object] = {
        "column_key": "a", "label": "GPT", "cells": 10, "graded": 10, "passed": 8,
        "failed_requests": 1, "cached": 2, "pass_rate": 0.8, "mean_score": 0.8567,
        "mean_latency_ms": 840.4, "p95_latency_ms": 12_345.0, "total_cost": 0.00123,
    }  # fmt: skip
    figures.update(changes)
    return ModelSummary(**figures)  # type: ignore[arg-type]


@pytest.fixture
def model(qtbot) -> Iterator[EvalSummaryModel]:
    table = EvalSummaryModel()
    tester = QAbstractItemModelTester(table, QAbstractItemModelTester.FailureReportingMode.Fatal)
    yield table
    del tester


def row_texts(model: EvalSummaryModel, row: int) -> list[str]:
    return [model.data(model.index(row, column)) for column in range(model.columnCount())]


def test_headers(model: EvalSummaryModel) -> None:
    names = [model.headerData(n, Qt.Orientation.Horizontal) for n in range(model.columnCount())]
    assert names == [
        "Model", "Pass rate", "Mean score", "Mean latency", "p95 latency", "Cost", "Cached",
        "Errors", "Repeats",
    ]  # fmt: skip
    tip = model.headerData(Column.PASS_RATE, Qt.Orientation.Horizontal, Role.ToolTipRole)
    assert "failed request counts as a failure" in tip
    assert model.headerData(0, Qt.Orientation.Vertical) is None


def test_row_texts(model: EvalSummaryModel) -> None:
    model.set_summaries([summary()])
    assert row_texts(model, 0) == [
        "GPT", "8/10 · 80% [49–94%]", "0.86", "840 ms", "12.3 s", "$0.0012", "2", "1", "—",
    ]  # fmt: skip
    assert model.data(model.index(0, Column.PASS_RATE), Role.ForegroundRole) is None


def test_nothing_known(model: EvalSummaryModel) -> None:
    model.set_summaries(
        [
            summary(
                graded=0, passed=0, cached=0, pass_rate=None, mean_score=None,
                mean_latency_ms=None, p95_latency_ms=None, total_cost=None,
            )
        ]
    )  # fmt: skip
    assert row_texts(model, 0)[1:6] == ["—"] * 5


def test_all_cached_costs_nothing(model: EvalSummaryModel) -> None:
    model.set_summaries([summary(cached=10, total_cost=0.0)])
    assert model.data(model.index(0, Column.COST)) == "$0 (cached)"
    model.set_summaries([summary(cached=9, total_cost=0.0)])
    assert model.data(model.index(0, Column.COST)) == "$0"


def test_baseline_shows_the_change(model: EvalSummaryModel) -> None:
    before = summary(column_key="old", label="GPT (v5)", passed=6, pass_rate=0.6)
    other = summary(column_key="b", label="Local", passed=8, pass_rate=0.8)
    model.set_summaries(
        [summary(), other, summary(column_key="c", label="New model")],
        [before, summary(column_key="ob", passed=9, pass_rate=0.9)],
        {"a": "old", "b": "ob"},
    )
    assert model.data(model.index(0, Column.PASS_RATE)) == "8/10 · 80% [49–94%] (+20)"
    assert model.data(model.index(1, Column.PASS_RATE)) == "8/10 · 80% [49–94%] (-10)"
    nothing_to_compare = model.data(model.index(2, Column.PASS_RATE))
    assert nothing_to_compare == "8/10 · 80% [49–94%]"
    tip = model.data(model.index(0, Column.PASS_RATE), Role.ToolTipRole)
    assert tip == "Baseline (GPT (v5)): 6/10 · 60% [31–83%]"
    up = model.data(model.index(0, Column.PASS_RATE), Role.ForegroundRole)
    down = model.data(model.index(1, Column.PASS_RATE), Role.ForegroundRole)
    assert isinstance(up, QColor) and isinstance(down, QColor)
    assert up.green() > up.red() and down.red() > down.green()


def test_unchanged_pass_rate(model: EvalSummaryModel) -> None:
    model.set_summaries([summary()], [summary(column_key="x")], {"a": "x"})
    assert model.data(model.index(0, Column.PASS_RATE)) == "8/10 · 80% [49–94%] (±0)"


def test_refresh_of_the_same_models_keeps_rows(model: EvalSummaryModel, qtbot) -> None:
    model.set_summaries([summary(), summary(column_key="b")])
    with qtbot.assertNotEmitted(model.modelReset), qtbot.waitSignal(model.dataChanged) as blocker:
        model.set_summaries([summary(passed=9, pass_rate=0.9), summary(column_key="b")])
    assert (blocker.args[1].row(), blocker.args[1].column()) == (1, len(Column) - 1)
    assert model.data(model.index(0, Column.PASS_RATE)) == "9/10 · 90% [60–98%]"
    with qtbot.waitSignal(model.modelReset):
        model.set_summaries([summary(column_key="z")])
    assert model.rowCount() == 1


def test_from_a_real_run(model: EvalSummaryModel) -> None:
    baseline = build_run({(3, "claude"): "pass", (1, "claude"): "fail"}, version=5)
    run = build_run()
    model.set_summaries(summarize(run), summarize(baseline), match_columns(baseline, run))
    assert [row_texts(model, n)[0] for n in range(3)] == [
        "GPT-4o mini",
        "Claude Haiku",
        "Llama 3 (local)",
    ]
    gpt, claude, local = (row_texts(model, n) for n in range(3))
    assert gpt[1] == "10/10 · 100% [72–100%] (±0)"
    assert gpt[6] == "1"  # one cache hit
    assert claude[1] == "9/10 · 90% [60–98%] (±0)"  # one flip each way
    # 2 errors + 1 fail; cancelled and unchecked left out
    assert local[1] == "5/8 · 63% [31–86%] (±0)"
    assert (local[5], local[7]) == ("—", "2")  # a local model has no price


def test_repeats_column_gives_pass_at_k_pass_hat_k_and_flaky(model: EvalSummaryModel) -> None:
    model.set_summaries([summary(repeat=3, pass_at_k=1.0, pass_hat_k=2 / 3, flaky=1)])
    assert model.data(model.index(0, Column.REPEATS)) == "pass@3 100% · pass^3 67% · 1 flaky"
    model.set_summaries([summary()])
    assert model.data(model.index(0, Column.REPEATS)) == "—"


def test_all_passed_and_nothing_graded_intervals(model: EvalSummaryModel) -> None:
    model.set_summaries([summary(passed=10, pass_rate=1.0), summary(column_key="b", passed=0,
                                                                      pass_rate=0.0)])  # fmt: skip
    assert model.data(model.index(0, Column.PASS_RATE)) == "10/10 · 100% [72–100%]"
    assert model.data(model.index(1, Column.PASS_RATE)) == "0/10 · 0% [0–28%]"


def test_the_window_the_cli_and_the_report_show_one_percentage() -> None:
    """5 of 8 passed: every place says 63%, none 62% (the CLI once rounded halves to even)."""
    from promptstudio.cli.eval_output import _pass_text, _table_lines
    from promptstudio.evals.graders import GradeResult
    from promptstudio.evals.report import results_to_html
    from promptstudio.evals.results import (
        DONE,
        CellResult,
        EvalCase,
        EvalColumn,
        EvalRun,
        summarize,
    )
    from promptstudio.ui.evaluate.eval_flow import _summary_line
    from promptstudio.ui.evaluate.eval_summary_model import pass_rate_text

    column = EvalColumn("m", "model", "model", "http://api")
    run = EvalRun((column,), tuple(EvalCase(str(n), n, {}) for n in range(8)))
    for n in range(8):
        grade = GradeResult(n < 5, float(n < 5), "why", "equals")
        run.put(CellResult(str(n), "m", DONE, text="a", grades=(grade,)))
    [summary] = summarize(run)
    window = pass_rate_text(summary)
    assert window.startswith("5/8 · 63% [")
    interval = window.split("[")[1].rstrip("]")
    assert _pass_text(summary, run) == f"5/8 63% ({interval})"
    assert any("5/8 63%" in line for line in _table_lines(run))
    assert f"model 63% [{interval}]" in _summary_line(run)
    page = results_to_html(run)
    assert "5/8 · 63%" in page and "62%" not in page
