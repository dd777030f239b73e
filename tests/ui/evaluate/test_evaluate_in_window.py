"""Evaluate in the real window: 10 cases × 3 models on the fake server, cache, comparison."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from promptstudio.evals import results
from promptstudio.storage import library
from promptstudio.ui.evaluate.eval_export import export_results
from promptstudio.ui.evaluate.eval_grid_model import FLIPPED_ROLE
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM, Reply
from tests.ui.conftest import new_prompt

TEMPLATE = "user:\nWhat is {{ a }} + {{ b }}? Reply with the number only."
CAREFUL = "user:\nWhat is {{ a }} + {{ b }}? Think carefully, then reply with the number only."
MODELS = ("good", "okay", "bad")


def arithmetic(model: str, body: dict[str, Any]) -> Reply | None:
    """ "good" is always right; "bad" is wrong for a in {2, 5, 8} (right for 2 when told to
    think carefully); "okay" is right, except for 9 when told to think carefully."""
    text = body["messages"][-1]["content"]
    if not text.startswith("What is"):
        return None
    a, b = int(text.split()[2]), int(text.split()[4].rstrip("?"))
    careful = "carefully" in text
    wrong = (model == "bad" and a in {2, 5, 8} and not (careful and a == 2)) or (
        model == "okay" and careful and a == 9
    )
    return Reply(text=str(a + b + (1 if wrong else 0)))


def set_up(qtbot, window: MainWindow, fake_llm: FakeLLM, tmp_path: Path) -> int:
    fake_llm.respond(arithmetic)
    prompt_id = new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText(TEMPLATE)
    board = window.run_board
    while len(board.columns) < len(MODELS):
        board.add_column()
    for column, model in zip(board.columns, MODELS, strict=True):
        column.set_target(fake_llm.base_url, model)
    cases_file = tmp_path / "cases.csv"
    with cases_file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "__expected"])
        for a in range(10):
            writer.writerow([a, 10, str(a + 10)])
    table = window.evaluate.cases
    with qtbot.waitSignal(window.eval_flow.casesSaved, timeout=5000):
        table.import_file(cases_file)
    stored = window.workspace.db.call(library.list_cases, prompt_id)
    assert len(stored) == 10 and stored[3].vars == {"a": "3", "b": "10"}
    assert stored[3].expected == "13"
    return prompt_id


def evaluate(qtbot, window: MainWindow) -> results.EvalRun:
    with qtbot.waitSignal(window.eval_flow.evaluated, timeout=30_000) as done:
        qtbot.keyClick(
            window.editor,
            Qt.Key.Key_E,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        # Let go of Ctrl and Shift: Qt keeps the last modifiers as the application's state,
        # and a later test's selectRow() would read them as Ctrl+Shift held down.
        qtbot.keyRelease(window.editor, Qt.Key.Key_Shift, Qt.KeyboardModifier.NoModifier)
    run = done.args[0]
    assert isinstance(run, results.EvalRun) and run.id is not None
    return run


def pass_rates(run: results.EvalRun) -> dict[str, float | None]:
    return {s.label: s.pass_rate for s in results.summarize(run)}


def test_ten_cases_on_three_models_graded_cached_and_compared(
    window, qtbot, fake_llm, tmp_path
) -> None:
    prompt_id = set_up(qtbot, window, fake_llm, tmp_path)
    first = evaluate(qtbot, window)
    assert window.bottom_tabs.currentWidget() is window.evaluate
    assert len(fake_llm.chat_requests()) == 30
    assert pass_rates(first) == {"good": 1.0, "okay": 1.0, "bad": 0.7}
    assert not window.evaluate.progress.isVisible()

    grid = window.evaluate.results.grid_model
    assert grid.rowCount() == 10 and grid.columnCount() == 3
    bad_column = [c.key for c in first.columns].index(window.run_board.columns[2].column_id)
    cells = [grid.cell_at(grid.index(r, bad_column)) for r in range(10)]
    failing = [r for r, cell in enumerate(cells) if cell is not None and cell.passed is False]
    assert failing == [2, 5, 8]
    assert "✗" in grid.index(5, bad_column).data()
    assert "✓" in grid.index(4, bad_column).data()
    answer = grid.index(5, bad_column).data(Qt.ItemDataRole.ToolTipRole)
    assert "16" in answer  # 5 + 10, off by one
    summary = window.evaluate.results.summary_model
    assert summary.rowCount() == 3
    assert "7/10" in summary.index(2, 1).data()

    # Run again: every answer comes from the cache, at no cost, and says so.
    second = evaluate(qtbot, window)
    assert len(fake_llm.chat_requests()) == 30
    assert all(cell.cached and cell.cost == 0.0 for cell in second.cells.values())
    assert pass_rates(second) == pass_rates(first)
    assert "⟲" in grid.index(0, 0).data()

    # A new version of the prompt: one case flips each way.
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText(CAREFUL)
    third = evaluate(qtbot, window)
    assert len(fake_llm.chat_requests()) == 60
    assert pass_rates(third) == {"good": 1.0, "okay": 0.9, "bad": 0.8}
    assert third.version_number != first.version_number
    baseline = window.eval_flow.baseline
    assert baseline is not None and baseline.version_number == second.version_number
    flipped = {
        (row, column)
        for row in range(10)
        for column in range(3)
        if grid.index(row, column).data(FLIPPED_ROLE)
    }
    okay_column = 1
    assert flipped == {(2, bad_column), (9, okay_column)}
    assert "→" in grid.index(2, bad_column).data()

    # Stored with the version, listed, and exported.
    runs = window.workspace.db.call(library.list_eval_runs, prompt_id)
    assert [row.id for row in runs] == [third.id, second.id, first.id]
    assert window.evaluate.shown.count() == 3
    out = tmp_path / "results.json"
    export_results(window.eval_flow, out)
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert len(exported["cells"]) == 30
    assert {s["label"]: s["pass_rate"] for s in exported["summary"]}["bad"] == 0.8


def test_fresh_answers_skip_the_cache_and_stop_keeps_what_finished(
    window, qtbot, fake_llm, tmp_path
) -> None:
    set_up(qtbot, window, fake_llm, tmp_path)
    evaluate(qtbot, window)
    window.evaluate.fresh.setChecked(True)
    fresh = evaluate(qtbot, window)
    assert len(fake_llm.chat_requests()) == 60
    assert not any(cell.cached for cell in fresh.cells.values())

    fake_llm.respond(None)
    fake_llm.script(Reply(text="slow " * 400, tokens_per_second=40))
    with qtbot.waitSignal(window.eval_flow.evaluated, timeout=30_000) as done:
        window.registry["eval.run"].trigger()
        qtbot.waitUntil(lambda: window.evaluate.progress.isVisible(), timeout=5000)
        qtbot.waitUntil(lambda: len(fake_llm.chat_requests()) > 60, timeout=5000)
        qtbot.keyClick(window.evaluate.stop_button, Qt.Key.Key_Space)
    stopped = done.args[0]
    assert stopped.status == results.CANCELLED
    assert len(stopped.cells) < 30  # cells never started are not stored
    assert any(cell.status == results.CANCELLED for cell in stopped.cells.values())
    assert "stopped" in window.evaluate.shown.itemText(0)


def test_case_edits_are_saved_and_errors_are_shown(window, qtbot, fake_llm, tmp_path) -> None:
    prompt_id = new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("user:\nSay {{ word }}")
    model = window.evaluate.cases.model
    assert model.headerData(0, Qt.Orientation.Horizontal) == "word"
    with qtbot.waitSignal(window.eval_flow.casesSaved, timeout=5000):
        model.add_case({"word": "hello"})
    stored = window.workspace.db.call(library.list_cases, prompt_id)
    assert [c.vars for c in stored] == [{"word": "hello"}]
    with qtbot.waitSignal(window.eval_flow.casesSaved, timeout=5000):
        model.setData(model.index(0, 0), "bye")
    again = window.workspace.db.call(library.list_cases, prompt_id)
    assert again[0].id == stored[0].id and again[0].vars == {"word": "bye"}

    window.run_board.columns[0].set_target(fake_llm.base_url, "m")
    with qtbot.waitSignal(window.tasks.failed, timeout=5000) as failed:
        model.setData(model.index(0, model.columnCount() - 2), "llm-rubric: is polite")
        window.evaluate.set_judge_columns([], None)  # no judge chosen
        window.eval_flow.run()
    assert "judge" in str(failed.args[0])
    assert fake_llm.chat_requests() == []


def test_closing_mid_evaluation_keeps_what_finished(window, qtbot, fake_llm, tmp_path) -> None:
    prompt_id = set_up(qtbot, window, fake_llm, tmp_path)
    slow = Reply(text="slow " * 400, tokens_per_second=40)
    fake_llm.respond(lambda model, body: slow if model == "bad" else arithmetic(model, body))
    window.settings.update({"evaluate.local_limit": 4})  # the slow model must not hold the rest
    window.registry["eval.run"].trigger()
    flow = window.eval_flow
    qtbot.waitUntil(
        lambda: flow.evaluation is not None and flow.evaluation.done >= 20, timeout=20_000
    )
    flow.save_on_exit()  # what closeEvent calls first
    runs = window.workspace.db.call(library.list_eval_runs, prompt_id)
    assert [row.status for row in runs] == ["cancelled"]
    cells = window.workspace.db.call(library.eval_cells, runs[0].id)
    done = [c for c in cells if c["status"] == "done"]
    assert len(done) >= 20 and len(done) < 30  # the finished ones, not the slow rest
    qtbot.wait(200)  # the stopped task ends without storing the evaluation a second time
    assert len(window.workspace.db.call(library.list_eval_runs, prompt_id)) == 1


def test_a_template_error_stops_before_anything_is_sent_and_the_cache_can_be_cleared(
    window, qtbot, fake_llm, tmp_path
) -> None:
    prompt_id = set_up(qtbot, window, fake_llm, tmp_path)
    evaluate(qtbot, window)
    assert len(fake_llm.chat_requests()) == 30
    with qtbot.waitSignal(window.workspace.statusMessage, timeout=5000) as said:
        window.registry["eval.clear_cache"].trigger()
    assert said.args[0] == "Forgot 30 cached answers."
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("user:\nWhat is {{ a + }}")
    with qtbot.waitSignal(window.tasks.failed, timeout=5000) as failed:
        window.registry["eval.run"].trigger()
    assert "Template error at line 2, column 16" in str(failed.args[0])
    assert window.editor.error_position is not None
    assert len(fake_llm.chat_requests()) == 30
    assert len(window.workspace.db.call(library.list_eval_runs, prompt_id)) == 1


def test_results_of_one_prompt_are_not_shown_on_another(
    qtbot, window: MainWindow, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    """An evaluation's summary line and a run's answers and summary row stay with their
    prompt (issue 14, point 23)."""
    other = new_prompt(qtbot, window)
    set_up(qtbot, window, fake_llm, tmp_path)
    evaluate(qtbot, window)
    assert window.evaluate.status.text().startswith("Evaluated v1: ")
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000):
        window.workspace.open_prompt(other)
    qtbot.waitUntil(lambda: window.evaluate.results.grid_model.run is None, timeout=5000)
    assert window.evaluate.status.text() == ""
    # A run on a prompt, then a new prompt: no answer or summary row of the first one.
    window.editor.setPlainText("user:\nWhat is 1 + 2? Reply with the number only.")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    board = window.run_board
    assert "Fastest:" in board.summary.text()
    assert all(column.output.toPlainText() for column in board.columns)
    new_prompt(qtbot, window)
    assert [column.config().model for column in board.columns] == list(MODELS)  # kept
    assert board.summary.text() == ""
    assert not any(column.output.toPlainText() for column in board.columns)
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000):
        window.workspace.open_prompt(other)
    assert board.summary.text() == ""


def test_the_cases_get_most_of_the_evaluate_tab(qtbot, window: MainWindow) -> None:
    """At 1280×800 the cases table shows several rows; the results below it take the
    smaller part, and nothing empty (progress, status) takes room (issue 14, point 20)."""
    new_prompt(qtbot, window)
    window.resize(1280, 800)
    window.bottom_tabs.setCurrentWidget(window.evaluate)
    table = window.evaluate.cases
    qtbot.waitUntil(table.view.isVisible)
    for number in range(12):
        table.model.add_case({"n": str(number)})
    view = table.view
    qtbot.waitUntil(lambda: view.rowHeight(0) > 0)
    cases, results = window.evaluate.splitter.sizes()
    assert cases > results
    assert view.viewport().height() >= 5 * view.rowHeight(0)
    assert not window.evaluate.status.isVisible()


def test_an_evaluation_that_ends_on_another_prompt_leaves_no_line_there(
    qtbot, window: MainWindow, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    other = new_prompt(qtbot, window)
    set_up(qtbot, window, fake_llm, tmp_path)
    fake_llm.respond(lambda _model, _body: Reply(text="11", first_token_delay=0.1))
    with qtbot.waitSignal(window.eval_flow.evaluated, timeout=30_000):
        window.registry["eval.run"].trigger()
        qtbot.waitUntil(lambda: window.evaluate.status.text().startswith("Evaluating"))
        window.workspace.open_prompt(other)
    qtbot.waitUntil(lambda: window.workspace.prompt_id == other)
    assert window.evaluate.status.text() == ""
