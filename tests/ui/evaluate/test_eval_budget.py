"""The Evaluate tab's plan and budget: the plan before spending, and a stop in budget."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog

from promptstudio.ui.evaluate.eval_plan import PlanDialog
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM
from tests.ui.evaluate.test_evaluate_in_window import set_up


def test_the_plan_sends_nothing_and_the_budget_stops_the_evaluation(
    window: MainWindow, qtbot, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    set_up(qtbot, window, fake_llm, tmp_path)
    window.settings.update({"prices.overrides": "good: 1000, 2000\nokay: 1000, 2000"})
    for column in window.run_board.columns:
        column.max_tokens.setValue(5)
    window.registry["eval.plan"].trigger()
    qtbot.waitUntil(lambda: window.findChild(PlanDialog, "evalPlanDialog") is not None)
    dialog = window.findChild(PlanDialog, "evalPlanDialog")
    assert dialog is not None
    text = dialog.text.toPlainText()
    assert "good: 10 requests, 0 cached (free)" in text
    assert "max_tokens 5 each" in text and "unknown for bad (no price)" in text
    assert "total: 30 requests" in text
    assert fake_llm.chat_requests() == []  # planning sent nothing
    dialog.done(QDialog.DialogCode.Rejected)

    pane = window.evaluate
    assert pane.budget.accessibleName()
    pane.budget.setText("$0.05")
    with qtbot.waitSignal(window.eval_flow.evaluated, timeout=30_000) as done:
        pane.run_button.click()
    run = done.args[0]
    stop = run.settings["stopped_for_budget"]
    assert stop["max_cost"] == 0.05 and 0 < stop["spent"] <= 0.05
    assert 0 < len(fake_llm.chat_requests()) < 30
    assert len(run.cells) == len(fake_llm.chat_requests())  # what finished is stored
    assert pane.status.text().startswith("Stopped for budget ($0.0")

    pane.budget.setText("lots")
    pane.run_button.click()
    qtbot.waitUntil(lambda: "not an amount" in window.statusBar().currentMessage() or bool(
        window.findChildren(QDialog)))  # fmt: skip
