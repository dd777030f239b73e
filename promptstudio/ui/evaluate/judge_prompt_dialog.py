"""Read and edit the prompt a judge model is given for ``llm-rubric`` checks.

The prompt is a template like any other (role markers, ``{{ rubric }}``, ``{{ output }}``
and the case's variables); it is checked as it is typed, and OK is refused while it does
not render. "Default" puts the built-in prompt back (stored as no prompt at all, so a
better default in a later version reaches the user). Below it, the prompts of promptfoo's
other model-graded checks can be read (not edited) one at a time.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from promptstudio.evals.graders import GraderError
from promptstudio.evals.judge import DEFAULT_JUDGE_PROMPT, judge_messages
from promptstudio.evals.model_prompts import PROMPTS
from promptstudio.ui import a11y
from promptstudio.ui.theme import set_status


class JudgePromptDialog(QDialog):
    chosen = Signal(object)  # the edited prompt, or None for the default one

    def __init__(self, prompt: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("judgePromptDialog")
        self.setWindowTitle("Judge prompt")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(640, 480)
        about = QLabel(
            "The judge model reads this for every 'llm-rubric' check. {{ rubric }} is the "
            "check's text, {{ output }} the answer graded; the case's variables work too. "
            'It must reply with JSON: {"reason", "score", "pass"}.',
            self,
        )
        about.setWordWrap(True)
        self.agreement = QLabel(self)  # how far the judge agrees with the user's ratings
        self.agreement.setObjectName("judgeAgreement")
        self.agreement.setWordWrap(True)
        self.agreement.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("judgePromptEditor")
        self.editor.setAccessibleName("Judge prompt")
        self.editor.setPlainText(prompt if prompt is not None else DEFAULT_JUDGE_PROMPT)
        self.problem = QLabel(self)
        self.problem.setObjectName("judgePromptProblem")
        set_status(self.problem, "error")
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            self,
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        restore = self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.setText("Default")
        restore.clicked.connect(lambda: self.editor.setPlainText(DEFAULT_JUDGE_PROMPT))
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addWidget(self.agreement)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.problem)
        self._add_other_prompts(layout)
        layout.addWidget(self.buttons)
        self.editor.textChanged.connect(self._check)
        self._check()

    def _add_other_prompts(self, layout: QVBoxLayout) -> None:
        """A picker and a read-only view of the other model-graded checks' prompts."""
        label = QLabel("Prompts of the other model-graded checks (read only):", self)
        self.other = QComboBox(self)
        self.other.setObjectName("judgeOtherPrompts")
        self.other.setAccessibleName("Model-graded check whose judge prompt is shown")
        self.other.addItems(list(PROMPTS))
        label.setBuddy(self.other)
        self.other_view = QPlainTextEdit(self)
        self.other_view.setObjectName("judgeOtherPromptView")
        self.other_view.setAccessibleName("Judge prompt of the chosen check")
        self.other_view.setReadOnly(True)
        a11y.keyboard_selectable(self.other_view)
        self.other.currentTextChanged.connect(
            lambda name: self.other_view.setPlainText(PROMPTS.get(name, ""))
        )
        self.other_view.setPlainText(PROMPTS[self.other.currentText()])
        layout.addWidget(label)
        layout.addWidget(self.other)
        layout.addWidget(self.other_view, 1)

    def set_agreement(self, text: str) -> None:
        """The judge's agreement with the user's 👍/👎 on the shown evaluation (kappa and
        the counts), so the prompt can be tuned until it agrees."""
        self.agreement.setText(text)
        self.agreement.setVisible(bool(text))

    def text(self) -> str:
        return self.editor.toPlainText()

    def _check(self) -> bool:
        try:
            judge_messages("The rubric.", "The answer.", self.text())
        except GraderError as exc:
            self.problem.setText(exc.message)
            ok = False
        else:
            self.problem.clear()
            ok = True
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        return ok

    def accept(self) -> None:
        if not self._check():
            return
        text = self.text()
        self.chosen.emit(None if text.strip() == DEFAULT_JUDGE_PROMPT.strip() else text)
        super().accept()
