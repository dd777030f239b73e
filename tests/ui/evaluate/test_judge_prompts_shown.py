"""The judge prompt dialog also shows, read only, the prompts of the other model-graded checks."""

from __future__ import annotations

from PySide6.QtCore import Qt

from promptstudio.evals.model_prompts import PROMPTS
from promptstudio.ui.evaluate.judge_prompt_dialog import JudgePromptDialog


def test_each_model_graded_checks_prompt_can_be_read(qtbot) -> None:
    dialog = JudgePromptDialog(None)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.other_view.isReadOnly()
    assert dialog.other.accessibleName() and dialog.other_view.accessibleName()
    dialog.other.setFocus()
    seen = {dialog.other.currentText(): dialog.other_view.toPlainText()}
    for _ in range(len(PROMPTS) - 1):  # the keyboard walks through every check
        qtbot.keyClick(dialog.other, Qt.Key.Key_Down)
        seen[dialog.other.currentText()] = dialog.other_view.toPlainText()
    assert seen == dict(PROMPTS)
    dialog.reject()
