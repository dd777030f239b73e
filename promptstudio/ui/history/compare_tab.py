"""History's Compare tab: one model's newest answer for two versions, word by word."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from promptstudio.storage.library import ResponseRow, VersionRow
from promptstudio.ui.history.diff_view import DiffView
from promptstudio.ui.history.hint_stack import HintStack
from promptstudio.ui.history.history_model import format_cost, format_seconds, version_title


class CompareTab(QWidget):
    """A model chooser over a word diff of that model's answers to two versions."""

    modelChanged = Signal()
    """The user chose another model: compare again."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("historyCompareModel")
        self.model_combo.setAccessibleName("Model to compare")
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.currentTextChanged.connect(lambda _text: self.modelChanged.emit())
        self.comparison = DiffView(self)
        self.comparison.setObjectName("historyComparison")
        self.stack = HintStack(self.comparison, self)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 0)
        bar.addWidget(QLabel("Model:", self))
        bar.addWidget(self.model_combo)
        about = QLabel("the newest answer of each version, compared word by word", self)
        about.setWordWrap(True)  # wraps rather than widen the window's minimum (200% scale)
        bar.addWidget(about, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

    def set_models(self, models: list[str]) -> None:
        """The models that answered the prompt; the chosen one stays if it is among them."""
        chosen = self.model_combo.currentText()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItems(models)
        if chosen in models:
            self.model_combo.setCurrentText(chosen)
        self.model_combo.blockSignals(False)
        self.model_combo.setEnabled(bool(models))

    def show_answers(
        self,
        older: VersionRow,
        newer: VersionRow,
        older_answers: list[ResponseRow],
        newer_answers: list[ResponseRow],
    ) -> None:
        left, right = best_answer(older_answers), best_answer(newer_answers)
        self.comparison.set_titles(answer_title(older, left), answer_title(newer, right))
        self.comparison.clear_formats()
        self.comparison.show_words(left.text if left else "", right.text if right else "")
        self.stack.show_content()


def best_answer(responses: list[ResponseRow]) -> ResponseRow | None:
    """The newest finished answer; a failed or cancelled one only if there is no other."""
    done = [response for response in responses if response.status == "done"]
    found = done or responses
    return found[0] if found else None


def answer_title(version: VersionRow, response: ResponseRow | None) -> str:
    title = version_title(version.number, version.message, limit=40)
    if response is None:
        return f"{title} · no answer from this model"
    figures = [format_seconds(response.total_ms), format_cost(response.cost)]
    if response.status != "done":
        figures.insert(0, response.status)
    return f"{title} · " + " · ".join(figures)
