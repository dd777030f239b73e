"""Issue 22: a finished run, a save and an error are said to a screen reader (Qt's
QAccessibleAnnouncementEvent), and the focus stays where it was."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAccessibleAnnouncementEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from promptstudio.errors import PromptStudioError
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM, Reply
from tests.ui.conftest import new_prompt, serve_at_once
from tests.ui.evaluate.test_evaluate_in_window import evaluate, set_up


def test_a_run_and_a_save_are_announced_without_moving_the_focus(
    window: MainWindow, qtbot, fake_llm: FakeLLM
) -> None:
    assert hasattr(QAccessibleAnnouncementEvent, "setPoliteness")  # this PySide6 has it
    said: list[str] = []
    window.announcer.announced.connect(said.append)
    new_prompt(qtbot, window)
    serve_at_once(window)
    fake_llm.script(Reply(text="Hello there"), model="m1")
    window.editor.setPlainText("user:\nSay hello")
    window.run_board.columns[0].set_target(fake_llm.base_url, "m1")
    window.editor.setFocus()
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    qtbot.waitUntil(lambda: any(s.startswith("Run finished") for s in said))
    assert "Run finished: column 1 (m1) done" in said
    assert QApplication.focusWidget() is window.editor
    window.editor.appendPlainText("Be brief.")
    window.registry["prompt.save"].trigger()
    qtbot.waitUntil(lambda: any(s.startswith("Saved v") for s in said))
    assert QApplication.focusWidget() is window.editor


def test_an_error_is_announced_assertively(window: MainWindow, qtbot) -> None:
    said: list[str] = []
    window.announcer.announced.connect(said.append)

    async def fails() -> None:
        raise PromptStudioError("The disk is full")

    window.tasks.start("failing", fails())
    qtbot.waitUntil(lambda: any("The disk is full" in s for s in said))
    box = window.findChild(QMessageBox, "errorMessageBox")
    assert box is not None
    box.close()


def test_a_finished_evaluation_is_announced(
    window: MainWindow, qtbot, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    said: list[str] = []
    window.announcer.announced.connect(said.append)
    set_up(qtbot, window, fake_llm, tmp_path)
    window.editor.setFocus()
    evaluate(qtbot, window)
    qtbot.waitUntil(lambda: any("good 100%" in s for s in said))
    assert QApplication.focusWidget() is window.editor
