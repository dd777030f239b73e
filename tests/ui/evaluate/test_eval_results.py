"""The Evaluate results pane over a 10 cases × 3 models run: grid, detail, summary, chart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from promptstudio.evals import results
from promptstudio.evals.results import EvalRun, ModelSummary
from promptstudio.ui.evaluate import eval_results
from promptstudio.ui.evaluate.eval_grid_model import FLIPPED_ROLE
from promptstudio.ui.evaluate.eval_results import EvalResultsView
from promptstudio.ui.theme import _dark_palette
from tests.ui.evaluate.test_eval_grid_model import build_run, make_cell

SHOT = Path("/tmp/eval_results.png")
Role = Qt.ItemDataRole


@pytest.fixture
def view(qtbot) -> Iterator[EvalResultsView]:
    pane = EvalResultsView()
    qtbot.addWidget(pane)
    pane.resize(1100, 700)
    pane.show()
    qtbot.waitExposed(pane)
    yield pane


def grid_text(view: EvalResultsView, row: int, column: int, role: int = Role.DisplayRole) -> object:
    model = view.grid_model
    return model.data(model.index(row, column), role)


def summary_row(view: EvalResultsView, row: int) -> list[str]:
    model = view.summary_model
    return [model.data(model.index(row, n)) for n in range(model.columnCount())]


def test_widgets_are_named(view: EvalResultsView) -> None:
    assert view.findChild(type(view.grid), "evalGrid") is view.grid
    assert view.findChild(type(view.detail), "evalDetail") is view.detail
    assert view.findChild(type(view.grid), "evalSummary") is not None
    assert view.findChild(type(view.chart), "evalChart") is view.chart
    assert view.grid.model() is view.grid_model
    assert view.detail.isReadOnly()


def test_run_fills_grid_summary_chart_and_selects_the_first_cell(view: EvalResultsView) -> None:
    view.set_run(build_run())
    assert (view.grid_model.rowCount(), view.grid_model.columnCount()) == (10, 3)
    assert [grid_text(view, 0, n) for n in range(3)] == ["✓ pass ⟲", "✓ pass", "✓ pass"]
    assert [grid_text(view, 2, n) for n in range(3)] == ["✓ pass", "✓ pass", "⚠ error"]
    assert grid_text(view, 3, 1) == "✗ fail"
    assert summary_row(view, 0)[:2] == ["GPT-4o mini", "10/10 · 100% [72–100%]"]
    assert summary_row(view, 1)[1] == "9/10 · 90% [60–98%]"
    assert summary_row(view, 2)[1] == "5/8 · 63% [31–86%]" and summary_row(view, 2)[7] == "2"
    assert [label for label, _, _ in view.chart.bars()] == [
        "GPT-4o mini",
        "Claude Haiku",
        "Llama 3 (local)",
    ]
    current = view.grid.currentIndex()
    assert (current.row(), current.column()) == (0, 0)
    detail = view.detail.toPlainText()
    assert detail.startswith("GPT-4o mini — gpt-4o-mini @ https://api.openai.com/v1\n")
    assert "Status: ✓ pass · served from cache (cost $0)" in detail
    assert "The capital is Paris." in detail


def test_rows_are_compact(view: EvalResultsView) -> None:
    view.set_run(build_run())
    line = view.grid.fontMetrics().height()
    assert line <= view.grid.rowHeight(0) <= line + 8


def test_detail_shows_the_selected_cell_in_full(view: EvalResultsView) -> None:
    view.set_run(build_run())
    view.grid.setCurrentIndex(view.grid_model.index(3, 1))
    detail = view.detail.toPlainText()
    assert detail.startswith("Claude Haiku — claude-3-5-haiku @ https://api.anthropic.com/v1")
    assert "Case 4: country=Germany, style=one word" in detail
    assert "  country = Germany\n  style = one word\nExpected: Berlin" in detail
    assert "Status: ✗ fail" in detail
    assert "I am not sure, maybe Atlantis?" in detail
    assert "✗ contains — score 0.00\n  'Berlin' not found" in detail
    assert (
        "✗ llm-rubric — score 0.20\n  Wrong city.\n  Judge's reasoning:\n    Reasoning…" in detail
    )
    assert "Latency: 513 ms (first token 171 ms)" in detail
    assert "Tokens: 52 in · 7 out" in detail
    assert "Cost: $0.00032" in detail
    assert "Baseline" not in detail
    view.grid.setCurrentIndex(view.grid_model.index(2, 2))
    failed = view.detail.toPlainText()
    assert "Status: ⚠ error\nError: HTTP 500: upstream error" in failed
    assert "Tokens: —" in failed and "Checks" not in failed


def test_keyboard_and_mouse_select_cells(view: EvalResultsView, qtbot) -> None:
    view.set_run(build_run())
    view.grid.setFocus()
    qtbot.keyClick(view.grid, Qt.Key.Key_Down)
    qtbot.keyClick(view.grid, Qt.Key.Key_Right)
    assert "Case 2: " in view.detail.toPlainText()
    assert view.detail.toPlainText().startswith("Claude Haiku")
    target = view.grid.visualRect(view.grid_model.index(5, 2)).center()
    qtbot.mouseClick(view.grid.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert view.detail.toPlainText().startswith("Llama 3 (local)")
    assert "Case 6: " in view.detail.toPlainText()


def test_cells_arriving_update_grid_now_and_summary_later(
    view: EvalResultsView, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished = build_run()
    run = EvalRun(finished.columns, finished.cases, version_number=7)
    calls: list[int] = []

    def counting(run: EvalRun) -> list[ModelSummary]:
        calls.append(1)
        return results.summarize(run)

    monkeypatch.setattr(eval_results, "summarize", counting)
    view.set_run(run)
    assert grid_text(view, 0, 0) == "…" and "Status: not run yet" in view.detail.toPlainText()
    assert summary_row(view, 0)[1] == "—"
    calls.clear()
    for (case_key, column_key), cell in finished.cells.items():
        run.cells[(case_key, column_key)] = cell
        view.update_cell(cell)
    assert grid_text(view, 3, 1) == "✗ fail"  # the grid at once
    assert "The capital is Paris." in view.detail.toPlainText()  # the selected cell too
    assert calls == [] and summary_row(view, 0)[1] == "—"  # not 30 recomputations
    qtbot.waitUntil(lambda: summary_row(view, 0)[1] == "10/10 · 100% [72–100%]", timeout=2000)
    assert calls == [1]
    assert len(view.chart.bars()) == 3


def test_baseline_highlights_flips(view: EvalResultsView) -> None:
    view.set_run(build_run())
    baseline = build_run({(3, "claude"): "pass", (1, "claude"): "fail"}, version=5)
    view.set_baseline(baseline)
    flipped = [(1, 1), (3, 1)]
    assert [grid_text(view, r, c, FLIPPED_ROLE) for r, c in flipped] == [True, True]
    assert grid_text(view, 1, 0, FLIPPED_ROLE) is False
    amber = grid_text(view, 3, 1, Role.BackgroundRole)
    assert amber == grid_text(view, 1, 1, Role.BackgroundRole)
    others = {
        grid_text(view, r, c, Role.BackgroundRole).name()  # type: ignore[attr-defined]
        for r in range(10)
        for c in range(3)
        if (r, c) not in flipped and grid_text(view, r, c, Role.BackgroundRole) is not None
    }
    assert len(others) == 2 and amber.name() not in others  # type: ignore[attr-defined]
    assert summary_row(view, 1)[1] == "9/10 · 90% [60–98%] (±0)"
    view.grid.setCurrentIndex(view.grid_model.index(3, 1))
    detail = view.detail.toPlainText()
    assert "Baseline: v5 · 2026-11-22 10:03\n" in detail
    assert detail.endswith("Status: ✓ pass\nThe capital is Berlin.")
    view.set_baseline(None)
    assert "Baseline" not in view.detail.toPlainText()
    assert summary_row(view, 1)[1] == "9/10 · 90% [60–98%]"


def test_clearing_the_run(view: EvalResultsView) -> None:
    view.set_run(build_run())
    view.set_run(None)
    assert view.grid_model.rowCount() == 0
    assert view.detail.toPlainText() == ""
    assert view.summary_model.rowCount() == 0 and view.chart.bars() == []


@pytest.mark.parametrize("dark", [False, True])
def test_screenshot(view: EvalResultsView, qapp: QApplication, qtbot, dark: bool) -> None:
    previous = qapp.palette()
    if dark:
        qapp.setPalette(_dark_palette())  # reaches existing widgets through posted events
        qtbot.waitUntil(lambda: view.grid.palette().base().color().lightness() < 128)
    try:
        run = build_run()
        run.cells[("109", "gpt")] = make_cell(run.cases[9], "gpt", 0, "fail")
        view.set_run(run)
        view.set_baseline(build_run({(3, "claude"): "pass", (1, "claude"): "fail"}, version=5))
        view.grid.setCurrentIndex(view.grid_model.index(3, 1))
        path = SHOT if not dark else SHOT.with_name("eval_results_dark.png")
        assert view.grab().save(str(path))
        assert path.stat().st_size > 10_000
    finally:
        qapp.setPalette(previous)
