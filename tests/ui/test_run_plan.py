"""A run of more than RUN_PLAN_THRESHOLD requests shows its plan first and sends nothing
until "Run"."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog

from promptstudio.evals.plan import RUN_PLAN_THRESHOLD
from promptstudio.ui.evaluate.eval_plan import PlanDialog
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM, Reply
from tests.ui.conftest import new_prompt


def test_a_run_of_many_samples_shows_its_plan_first(
    window: MainWindow, qtbot, fake_llm: FakeLLM
) -> None:
    fake_llm.script(Reply(text="ok"))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Say ok")
    board = window.run_board
    board.add_column()
    for column in board.columns:
        column.set_target(fake_llm.base_url, "m")
    board.repeats.setValue(RUN_PLAN_THRESHOLD // 2 + 1)  # two columns: over the threshold
    flow = window.workspace.runs
    window.registry["run.run"].trigger()
    qtbot.waitUntil(lambda: isinstance(flow.plan_dialog, PlanDialog))
    dialog = flow.plan_dialog
    assert dialog is not None
    requests = 2 * (RUN_PLAN_THRESHOLD // 2 + 1)
    assert f"total: {requests} requests, 0 from the cache" in dialog.text.toPlainText()
    assert fake_llm.chat_requests() == []
    with qtbot.waitSignal(window.workspace.runFinished, timeout=20_000):
        dialog.done(QDialog.DialogCode.Accepted)
    assert len(fake_llm.chat_requests()) == requests
    board.repeats.setValue(1)  # a small run goes at once
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert len(fake_llm.chat_requests()) == requests + 2
