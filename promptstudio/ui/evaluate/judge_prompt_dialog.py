"""Read and edit the prompt a judge model is given for ``llm-rubric`` checks.

The prompt is a template like any other (role markers, ``{{ rubric }}``, ``{{ output }}``
and the case's variables); it is checked as it is typed, and OK is refused while it does
not render. "Default" puts the built-in prompt back (stored as no prompt at all, so a
better default in a later version reaches the user).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from promptstudio.evals.graders import GraderError
from promptstudio.evals.judge import DEFAULT_JUDGE_PROMPT, judge_messages


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
        self.editor.setPlainText(prompt if prompt is not None else DEFAULT_JUDGE_PROMPT)
        self.problem = QLabel(self)
        self.problem.setObjectName("judgePromptProblem")
        self.problem.setStyleSheet("color: #b3261e;")
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
        layout.addWidget(self.buttons)
        self.editor.textChanged.connect(self._check)
        self._check()

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
