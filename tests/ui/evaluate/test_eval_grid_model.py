"""The evaluation grid model: Qt's model checks, verdict texts, colours, tooltips, flips.

``build_run`` (a 10 cases × 3 models run) is shared with the other evaluation UI tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication

from promptstudio.evals.graders import NOT_GRADED, GradeResult
from promptstudio.evals.results import (
    CANCELLED,
    DONE,
    FAILED,
    CellResult,
    EvalCase,
    EvalColumn,
    EvalRun,
)
from promptstudio.ui.evaluate.eval_grid_model import FLIPPED_ROLE, EvalGridModel
from promptstudio.ui.theme import _dark_palette

COLUMNS = (
    EvalColumn("gpt", "GPT-4o mini", "gpt-4o-mini", "https://api.openai.com/v1"),
    EvalColumn("claude", "Claude Haiku", "claude-3-5-haiku", "https://api.anthropic.com/v1"),
    EvalColumn("local", "Llama 3 (local)", "llama3", "http://localhost:11434/v1"),
)
CITIES = ("Paris", "Rome", "Madrid", "Berlin", "Vienna", "Lisbon", "Oslo", "Athens", "Dublin")
COUNTRIES = ("France", "Italy", "Spain", "Germany", "Austria", "Portugal", "Norway", "Greece")
# (case position, column key) → what that cell is; every other cell passes.
PLAN: Mapping[tuple[int, str], str] = {
    (0, "gpt"): "cached",
    (3, "claude"): "fail",
    (2, "local"): "error",
    (5, "local"): "error",
    (7, "local"): "fail",
    (8, "local"): "cancelled",
    (9, "local"): "none",
}
Role = Qt.ItemDataRole


def build_run(
    changes: Mapping[tuple[int, str], str] | None = None, *, version: int = 7, cases: int = 10
) -> EvalRun:
    """A finished run following :data:`PLAN` (``changes`` override single cells)."""
    plan = {**PLAN, **(changes or {})}
    case_list = tuple(
        EvalCase(
            str(100 + n),
            n,
            {"country": COUNTRIES[n % len(COUNTRIES)], "style": "one word"},
            description="Capital, trick question" if n == 4 else "",
            expected=CITIES[n % len(CITIES)],
        )
        for n in range(cases)
    )
    run = EvalRun(COLUMNS, case_list, version_number=version, created_at="2026-11-22T10:03:00Z")
    for case in case_list:
        for number, column in enumerate(COLUMNS):
            kind = plan.get((case.position, column.key), "pass")
            run.cells[(case.key, column.key)] = make_cell(case, column.key, number, kind)
    return run


def make_cell(case: EvalCase, column_key: str, number: int, kind: str) -> CellResult:
    city = case.expected or ""
    cost = None if column_key == "local" else 0.00004 * (number + 1) * (case.position + 1)
    latency = 300.0 + 90 * number + 41 * case.position
    if kind == "error":
        return CellResult(case.key, column_key, FAILED, error="HTTP 500: upstream error")
    if kind == "cancelled":
        return CellResult(case.key, column_key, CANCELLED)
    good = kind in ("pass", "cached")
    text = f"The capital is {city}." if good else "I am not sure, maybe Atlantis?"
    contains = GradeResult(
        good, float(good), f"'{city}' {'found' if good else 'not found'}", "contains"
    )
    judge = {"reason": "Names the capital." if good else "Wrong city.", "reply": "Reasoning…"}
    rubric = GradeResult(good, 0.9 if good else 0.2, judge["reason"], "llm-rubric", judge)
    return CellResult(
        case.key, column_key, DONE, text, latency_ms=latency, ttft_ms=latency / 3,
        input_tokens=52, output_tokens=7, cost=0.0 if kind == "cached" else cost,
        cached=kind == "cached", grades=() if kind == "none" else (contains, rubric),
    )  # fmt: skip


@pytest.fixture
def model(qtbot) -> Iterator[EvalGridModel]:
    grid = EvalGridModel()
    tester = QAbstractItemModelTester(grid, QAbstractItemModelTester.FailureReportingMode.Fatal)
    grid.set_run(build_run())
    yield grid
    del tester


def at(model: EvalGridModel, case: int, column: int, role: int = Role.DisplayRole) -> object:
    return model.data(model.index(case, column), role)


def test_shape_and_headers(model: EvalGridModel) -> None:
    assert (model.rowCount(), model.columnCount()) == (10, 3)
    horizontal = Qt.Orientation.Horizontal
    assert model.headerData(1, horizontal) == "Claude Haiku"
    assert model.headerData(1, horizontal, Role.ToolTipRole) == (
        "claude-3-5-haiku @ https://api.anthropic.com/v1"
    )
    vertical = Qt.Orientation.Vertical
    assert model.headerData(0, vertical) == "1. country=France, style=one word"
    assert model.headerData(4, vertical) == "5. Capital, trick question"
    assert model.headerData(4, vertical, Role.ToolTipRole) == "country = Austria\nstyle = one word"
    assert model.headerData(10, vertical) is None


def test_display_texts(model: EvalGridModel) -> None:
    assert at(model, 1, 0) == "✓ pass"
    assert at(model, 0, 0) == "✓ pass ⟲"  # a cache hit
    assert at(model, 3, 1) == "✗ fail"
    assert at(model, 2, 2) == "⚠ error"
    assert at(model, 8, 2) == "cancelled"
    assert at(model, 9, 2) == "— no checks"
    assert at(model, 9, 2, FLIPPED_ROLE) is False


def test_cell_not_run_yet(model: EvalGridModel) -> None:
    run = model.run
    assert run is not None
    del run.cells[("101", "gpt")]
    assert at(model, 1, 0) == "…"
    assert at(model, 1, 0, Role.BackgroundRole) is None
    assert at(model, 1, 0, Role.ToolTipRole) is None
    assert model.cell_at(model.index(1, 0)) is None


def test_backgrounds(model: EvalGridModel) -> None:
    passed, failed = at(model, 1, 0, Role.BackgroundRole), at(model, 3, 1, Role.BackgroundRole)
    error = at(model, 2, 2, Role.BackgroundRole)
    assert isinstance(passed, QColor) and isinstance(failed, QColor)
    assert passed.green() > passed.red() and failed.red() > failed.green()
    assert error == failed  # a failed request is a failure
    assert at(model, 9, 2, Role.BackgroundRole) is None  # no checks
    assert at(model, 8, 2, Role.BackgroundRole) is None  # cancelled


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two opaque colours."""

    def luminance(colour: QColor) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        r, g, b_ = (channel(c) for c in (colour.redF(), colour.greenF(), colour.blueF()))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("dark", [False, True])
def test_text_is_readable_in_both_themes(
    model: EvalGridModel, qapp: QApplication, dark: bool
) -> None:
    previous = qapp.palette()
    if dark:
        qapp.setPalette(_dark_palette())
    try:
        model.set_baseline(build_run({(3, "claude"): "pass"}, version=5))
        base = qapp.palette().base().color()
        for row, column in ((1, 0), (3, 1), (2, 2)):  # pass, flipped, error
            fg = at(model, row, column, Role.ForegroundRole)
            bg = at(model, row, column, Role.BackgroundRole)
            assert isinstance(fg, QColor) and isinstance(bg, QColor)
            assert contrast(fg, bg) >= 4.5, (row, column, fg.name(), bg.name())
            assert (bg.lightness() < 128) == (base.lightness() < 128)  # soft, theme's side
        assert (base.lightness() < 128) is dark
    finally:
        qapp.setPalette(previous)


def test_tooltip_has_answer_grades_and_cost(model: EvalGridModel) -> None:
    tip = at(model, 3, 1, Role.ToolTipRole)
    assert isinstance(tip, str)
    assert "<pre style='white-space: pre-wrap'>I am not sure, maybe Atlantis?</pre>" in tip
    assert "✗ <b>contains</b> — 'Berlin' not found" in tip
    assert "✗ <b>llm-rubric</b> — Wrong city." in tip
    assert "latency 513 ms" in tip and "$0.00032" in tip
    cached = at(model, 0, 0, Role.ToolTipRole)
    assert isinstance(cached, str) and "served from cache (cost $0)" in cached


def test_checks_not_graded_here_are_shown_as_such(model: EvalGridModel) -> None:
    run = build_run()
    case = run.cases[1]
    skipped = GradeResult(False, 0.0, "Not graded: why.", "python", {NOT_GRADED: True})
    gpt, local = run.cell(case.key, "gpt"), run.cell(case.key, "local")
    assert gpt is not None and local is not None
    run.cells[(case.key, "gpt")] = dataclasses.replace(gpt, grades=(*gpt.grades, skipped))
    run.cells[(case.key, "local")] = dataclasses.replace(local, grades=(skipped,))
    model.set_run(run)
    assert at(model, 1, 0) == "✓ pass (1 not graded)"
    assert at(model, 1, 2) == "— not graded"
    tip = at(model, 1, 2, Role.ToolTipRole)
    assert isinstance(tip, str)
    assert "– <b>python</b> — Not graded: why." in tip


def test_tooltip_escapes_and_shortens_the_answer(model: EvalGridModel) -> None:
    run = model.run
    assert run is not None
    run.cells[("101", "gpt")] = CellResult("101", "gpt", DONE, "<b>x</b>" + "y" * 2000)
    tip = at(model, 1, 0, Role.ToolTipRole)
    assert isinstance(tip, str)
    assert "&lt;b&gt;x&lt;/b&gt;" in tip and "<b>x</b>" not in tip
    assert "y" * 792 + "…</pre>" in tip and "y" * 793 not in tip
    error = at(model, 2, 2, Role.ToolTipRole)
    assert isinstance(error, str) and "HTTP 500: upstream error" in error


def test_update_cell_signals_exactly_that_index(model: EvalGridModel, qtbot) -> None:
    run = model.run
    assert run is not None
    case = run.cases[6]
    cell = make_cell(case, "claude", 1, "fail")
    run.cells[(case.key, "claude")] = cell
    with qtbot.waitSignal(model.dataChanged, timeout=1000) as blocker:
        model.update_cell(cell)
    top_left, bottom_right = blocker.args[0], blocker.args[1]
    assert (top_left.row(), top_left.column()) == (6, 1)
    assert (bottom_right.row(), bottom_right.column()) == (6, 1)
    assert at(model, 6, 1) == "✗ fail"


def test_update_cell_of_an_unknown_case_is_ignored(model: EvalGridModel, qtbot) -> None:
    with qtbot.assertNotEmitted(model.dataChanged):
        model.update_cell(CellResult("nope", "gpt", DONE))


def test_baseline_marks_flips(model: EvalGridModel, qtbot) -> None:
    baseline = build_run({(3, "claude"): "pass", (1, "claude"): "fail"}, version=5)
    with qtbot.waitSignal(model.dataChanged, timeout=1000) as blocker:
        model.set_baseline(baseline)
    top_left, bottom_right = blocker.args[0], blocker.args[1]
    assert (top_left.row(), top_left.column(), bottom_right.row(), bottom_right.column()) == (
        0, 0, 9, 2,
    )  # fmt: skip
    assert [(f.case_key, f.column_key, f.after) for f in model.flips()] == [
        ("101", "claude", True),
        ("103", "claude", False),
    ]
    assert at(model, 1, 1) == "✗ → ✓"
    assert at(model, 3, 1) == "✓ → ✗"
    assert at(model, 3, 1, FLIPPED_ROLE) is True and at(model, 3, 0, FLIPPED_ROLE) is False
    flipped, failed = at(model, 3, 1, Role.BackgroundRole), at(model, 7, 2, Role.BackgroundRole)
    assert flipped == at(model, 1, 1, Role.BackgroundRole)  # amber both ways
    assert flipped not in (failed, at(model, 1, 0, Role.BackgroundRole))
    tip = at(model, 3, 1, Role.ToolTipRole)
    assert isinstance(tip, str) and "<b>Baseline:</b> ✓ pass" in tip
    before = model.baseline_cell_at(model.index(3, 1))
    assert before is not None and before.passed is True and before is baseline.cell("103", "claude")


def test_update_cell_can_flip_and_unflip(model: EvalGridModel) -> None:
    model.set_baseline(build_run(version=5))
    assert model.flips() == []
    run = model.run
    assert run is not None
    cell = make_cell(run.cases[5], "gpt", 0, "fail")
    run.cells[(cell.case_key, "gpt")] = cell
    model.update_cell(cell)
    assert at(model, 5, 0) == "✓ → ✗" and len(model.flips()) == 1
    cell = make_cell(run.cases[5], "gpt", 0, "pass")
    run.cells[(cell.case_key, "gpt")] = cell
    model.update_cell(cell)
    assert at(model, 5, 0) == "✓ pass" and model.flips() == []


def test_clearing_run_and_baseline(model: EvalGridModel) -> None:
    model.set_baseline(build_run({(3, "claude"): "pass"}, version=5))
    model.set_baseline(None)
    assert model.flips() == [] and at(model, 3, 1) == "✗ fail"
    assert model.baseline_cell_at(model.index(3, 1)) is None
    model.set_run(None)
    assert (model.rowCount(), model.columnCount()) == (0, 0)
    assert model.cell_at(QModelIndex()) is None
    assert model.headerData(0, Qt.Orientation.Horizontal) is None


def test_a_cells_tool_calls_are_in_its_tooltip_and_detail(model: EvalGridModel) -> None:
    from promptstudio.chat import ToolCall
    from promptstudio.ui.evaluate.eval_results import describe_cell

    run = model.run
    assert run is not None
    call = ToolCall("call_1", "get_order_status", '{"order_id": "<A1>"}')
    cell = CellResult("101", "gpt", DONE, "", tool_calls=(call,))
    run.cells[("101", "gpt")] = cell
    tip = at(model, 1, 0, Role.ToolTipRole)
    assert isinstance(tip, str)
    assert "(tool calls only)" in tip and "Tool call <b>get_order_status</b>" in tip
    assert "&quot;order_id&quot;: &quot;&lt;A1&gt;&quot;" in tip
    detail = describe_cell(run.cases[1], COLUMNS[0], cell)
    assert "Tool calls\n" in detail
    assert 'Tool call get_order_status\n  {\n    "order_id": "<A1>"\n  }' in detail
