"""Improve, Generate and Optimise in the real window, against the fake server playing the
improver, the case generator and the graded model."""

from __future__ import annotations

from PySide6.QtCore import Qt

from promptstudio.storage import library, optimisations
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM
from tests.improve.fakes import SUMS, studio
from tests.ui.conftest import new_prompt, serve_at_once

TEMPLATE = "user:\nWhat is {{ a }} + {{ b }}? Reply with the number."


def set_up(qtbot, window: MainWindow, fake_llm: FakeLLM, *models: str) -> int:
    fake_llm.respond(studio)
    serve_at_once(window)
    prompt_id = new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText(TEMPLATE)
    board = window.run_board
    while len(board.columns) < len(models):
        board.add_column()
    for column, model in zip(board.columns, models, strict=True):
        column.set_target(fake_llm.base_url, model)
    qtbot.waitUntil(lambda: [c.model for c in window.workspace.session.columns] == list(models))
    return prompt_id


def test_the_diff_dialog_shows_the_rewrite_and_critique_and_accept_saves_a_child(
    window: MainWindow, qtbot, fake_llm: FakeLLM
) -> None:
    prompt_id = set_up(qtbot, window, fake_llm, "improver-good")
    window.registry["improve.improve"].trigger()
    dialog = window.improve.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.model.currentText().startswith("improver-good")
    assert not dialog.accept_button.isEnabled()
    qtbot.keyClicks(dialog.goal, "shorter answers")
    qtbot.keyClick(dialog.goal, Qt.Key.Key_Return)  # the default button: Ask
    qtbot.waitUntil(dialog.accept_button.isEnabled, timeout=10_000)
    assert dialog.diff.left.toPlainText().startswith("user:")
    assert "Think step by step." in dialog.diff.right.toPlainText()
    assert "Think step by step." not in dialog.diff.left.toPlainText()
    assert dialog.diff.summary.text().startswith("+") and "−0" in dialog.diff.summary.text()
    assert "reasons first" in dialog.critique.toPlainText()
    assert "shorter answers" in fake_llm.chat_requests()[-1].json["messages"][-1]["content"]
    assert dialog.accessibleName() and dialog.accept_button.accessibleName()

    with qtbot.waitSignal(window.improve.improved, timeout=10_000) as saved:
        qtbot.mouseClick(dialog.accept_button, Qt.MouseButton.LeftButton)
    version = saved.args[0]
    db = window.workspace.db
    stored = db.call(library.list_versions, prompt_id)
    newest, original = stored[0], stored[1]
    assert newest.id == version.id and newest.kind == "improved"
    assert newest.parent_id == original.id and original.template == TEMPLATE
    qtbot.waitUntil(lambda: "Think step by step." in window.editor.toPlainText())
    assert "Saved as v" in dialog.status.text()

    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)  # both at once
    qtbot.waitUntil(lambda: dialog.right_answer.toPlainText() != "", timeout=10_000)
    assert dialog.answers.isVisible()


def test_a_rewrite_dropping_a_variable_is_rejected_in_the_dialog(
    window: MainWindow, qtbot, fake_llm: FakeLLM
) -> None:
    prompt_id = set_up(qtbot, window, fake_llm, "improver-dropper")
    dialog = window.improve.open_improve()
    qtbot.mouseClick(dialog.ask_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Rejected"), timeout=10_000)
    assert "drops the variable {{ b }}" in dialog.status.text()
    assert not dialog.accept_button.isEnabled() and not dialog.run_button.isEnabled()
    assert window.workspace.db.call(library.count_versions, prompt_id) <= 1


def test_generated_cases_are_added_to_the_table_and_stored_as_generated(
    window: MainWindow, qtbot, fake_llm: FakeLLM
) -> None:
    prompt_id = set_up(qtbot, window, fake_llm, "improver-good")
    window.tasks.start("generate-cases", window.improve.generate_cases(3))
    model = window.evaluate.cases.model
    qtbot.waitUntil(lambda: len(model.cases()) == 3, timeout=10_000)
    assert window.bottom_tabs.currentWidget() is window.evaluate
    rows = window.workspace.db.call(library.list_cases, prompt_id)
    assert [row.generated for row in rows] == [True, True, True]
    assert rows[0].vars == {"a": "1", "b": "2"}


def test_optimise_in_the_window_shows_the_table_and_chart_and_promotes(
    window: MainWindow, qtbot, fake_llm: FakeLLM
) -> None:
    prompt_id = set_up(qtbot, window, fake_llm, "adder", "improver-good")
    db = window.workspace.db
    db.call(library.replace_cases, prompt_id, [
        {"vars": {"a": a, "b": b}, "assert": [{"type": "equals", "value": str(a + b)}]}
        for a, b in SUMS
    ])  # fmt: skip
    window.eval_flow.open_prompt(prompt_id)
    qtbot.waitUntil(lambda: len(window.evaluate.cases.model.cases()) == len(SUMS))
    window.registry["improve.optimise"].trigger()
    dialog = window.optimise.dialog
    assert dialog is not None
    dialog.improver.setCurrentIndex(1)  # it proposes; the other column is evaluated
    dialog.rounds.setValue(2)
    dialog.candidates.setValue(2)
    with qtbot.waitSignal(window.optimise.finished, timeout=60_000) as done:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    report = done.args[0]
    assert report.original.graded == len(SUMS)  # the improver's column is not evaluated
    assert report.chosen.round == 1 and report.chosen.pass_rate > report.original.pass_rate
    assert dialog.table_model.rowCount() == 1 + sum(len(r.candidates) for r in report.rounds)
    assert dialog.chart.points[0][0] == 0 and len(dialog.chart.points) == len(report.rounds) + 1
    assert dialog.promote_button.isEnabled()
    [row] = db.call(optimisations.list_optimisations, prompt_id)
    assert row.chosen_version_id == report.chosen.version_id
    qtbot.mouseClick(dialog.promote_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Think step by step." in window.editor.toPlainText(), timeout=10_000)
