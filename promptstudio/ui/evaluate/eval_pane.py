"""The Evaluate tab: the prompt's test cases above, the results of a run on them below.

A view only: :class:`~promptstudio.ui.evaluate.eval_flow.EvalFlow` loads, saves and runs. The
toolbar holds what an evaluation needs: run (Ctrl+Shift+E), fresh answers instead of the
cache, how many samples of each case every model gives (repeats), which column judges
rubrics and with what prompt, an earlier evaluation to compare with, and results export;
a progress bar with Stop shows while it runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from promptstudio.runs.columns import MAX_SAMPLES
from promptstudio.storage.library import EvalRunRow
from promptstudio.ui.board.scrolling_row import ScrollingRow
from promptstudio.ui.evaluate.cases_table import CasesTable
from promptstudio.ui.evaluate.eval_plan import BudgetField
from promptstudio.ui.evaluate.eval_results import EvalResultsView

NO_JUDGE = ""
RESULTS_MIN_HEIGHT = 120


class EvalPane(QWidget):
    runRequested = Signal()
    stopRequested = Signal()
    exportRequested = Signal()
    judgePromptRequested = Signal()
    planRequested = Signal()
    judgeColumnChosen = Signal(str)  # a run column's id, or "" for none
    shownRunChosen = Signal(int)  # a stored evaluation's id
    baselineChosen = Signal(object)  # a stored evaluation's id, or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evalPane")
        self.cases = CasesTable(self)
        self.results = EvalResultsView(self)

        self.run_button = QPushButton("Evaluate", self)
        self.run_button.setObjectName("evalRun")
        self.run_button.setToolTip("Run every test case on every run column (Ctrl+Shift+E)")
        self.run_button.clicked.connect(self.runRequested)
        self.fresh = QCheckBox("Fresh answers", self)
        self.fresh.setObjectName("evalFresh")
        self.fresh.setToolTip(
            "Ask the models again instead of reusing a cached answer to the same request"
        )
        self.batch = QCheckBox("Send as a batch", self)
        self.batch.setObjectName("evalBatch")
        self.batch.setAccessibleName("Send as a batch")
        self.batch.setToolTip(
            "Evaluate through the providers' batch APIs (OpenAI, Anthropic): half the price, "
            "answers within 24 hours; the grid fills in as batches end, also after a restart"
        )
        self.repeat = QSpinBox(self)
        self.repeat.setObjectName("evalRepeat")
        self.repeat.setRange(1, MAX_SAMPLES)
        self.repeat.setAccessibleName("Samples per case")
        self.repeat.setToolTip(
            "Ask every model this many times per case: pass@n, pass^n and flaky cases are "
            "shown; each sample is cached, so running again costs nothing"
        )
        repeat_label = QLabel("each asked", self)
        self.repeat.setSuffix(" ×")
        repeat_label.setBuddy(self.repeat)
        self.cases.add_beside_count(repeat_label, self.repeat)  # "10 cases, each asked 3 ×"
        self.budget = BudgetField(self)
        budget_label = QLabel("Budget:", self)
        budget_label.setBuddy(self.budget)
        self.cases.add_beside_checks(budget_label, self.budget)  # the toolbar has no room
        self.cases.add_beside_checks(self.batch)
        self.judge = QComboBox(self)
        self.judge.setObjectName("evalJudge")
        self.judge.setToolTip("The run column whose model grades 'llm-rubric' checks")
        self.judge.activated.connect(
            lambda index: self.judgeColumnChosen.emit(str(self.judge.itemData(index) or ""))
        )
        self.judge_prompt = QToolButton(self)
        self.judge_prompt.setObjectName("evalJudgePrompt")
        self.judge_prompt.setText("Judge prompt…")
        self.judge_prompt.setToolTip("Read or edit the prompt the judge model is given")
        self.judge_prompt.clicked.connect(self.judgePromptRequested)
        self.judge_agreement = _agreement_label(self)
        self.results.agreementChanged.connect(self.judge_agreement.set_agreement)
        self.shown = QComboBox(self)
        self.shown.setObjectName("evalShown")
        self.shown.setToolTip("Which stored evaluation the grid shows")
        self.shown.activated.connect(self._shown_chosen)
        # 14 characters at least (more when there is room): with 24, the bar alone was
        # wider than the tab at 1280 px and had to scroll.
        self.shown.setMinimumContentsLength(14)
        self.baseline = QComboBox(self)
        self.baseline.setObjectName("evalBaseline")
        self.baseline.setToolTip("Compare with an earlier evaluation: flipped cases are marked")
        self.baseline.setMinimumContentsLength(14)
        self.baseline.activated.connect(
            lambda index: self.baselineChosen.emit(self.baseline.itemData(index))
        )
        self.export_button = QToolButton(self)
        self.export_button.setObjectName("evalExport")
        self.export_button.setText("Export results…")
        self.export_button.setToolTip("Save the shown results as CSV or JSON")
        self.export_button.clicked.connect(self.exportRequested)

        self.progress = QProgressBar(self)
        self.progress.setObjectName("evalProgress")
        self.progress.setFormat("%v of %m answers")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("evalStop")
        self.stop_button.setToolTip("Stop the evaluation; finished answers are kept (Esc)")
        self.stop_button.clicked.connect(self.stopRequested)
        self.status = _StatusLine(self)
        self.status.setObjectName("evalStatus")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        bar.addWidget(self.run_button)
        bar.addWidget(self.fresh)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Judge:", self))
        bar.addWidget(self.judge)
        bar.addWidget(self.judge_prompt)
        bar.addWidget(self.judge_agreement)
        bar.addStretch(1)
        bar.addWidget(QLabel("Showing:", self))
        bar.addWidget(self.shown)
        bar.addWidget(QLabel("Compare with:", self))
        bar.addWidget(self.baseline)
        bar.addWidget(self.export_button)
        running = QHBoxLayout()
        running.setContentsMargins(6, 0, 6, 0)
        running.addWidget(self.progress, 1)
        running.addWidget(self.stop_button)
        running.addWidget(self.status, 1)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("evalSplitter")
        self.splitter.addWidget(self.cases)
        self.splitter.addWidget(self.results)
        self.splitter.setChildrenCollapsible(False)
        self.results.setMinimumHeight(RESULTS_MIN_HEIGHT)  # on a short screen: the cases' room
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 400])  # the cases are edited here: they get the most
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(ScrollingRow(bar, self))
        layout.addLayout(running)
        layout.addWidget(self.splitter, 1)
        self.set_running(False)
        self.set_history([], None, None)
        self.status.clear()

    # ---- what the flow sets ----------------------------------------------------------------

    def request_plan(self) -> None:
        """Run › Plan the evaluation (cost)…: the flow answers with the plan dialog."""
        self.planRequested.emit()

    def set_judge_columns(self, columns: Sequence[tuple[str, str]], chosen: str | None) -> None:
        """Offer the run columns (id, label) as judges; keep ``chosen`` if it is one."""
        self.judge.clear()
        self.judge.addItem("No judge", NO_JUDGE)
        for column_id, label in columns:
            self.judge.addItem(label, column_id)
        index = self.judge.findData(chosen) if chosen else -1
        self.judge.setCurrentIndex(index if index >= 0 else (1 if columns else 0))

    def repeats(self) -> int:
        """How many samples of each case the next evaluation asks every model for."""
        return self.repeat.value()

    def judge_column(self) -> str:
        return str(self.judge.currentData() or "")

    def set_history(
        self, runs: Sequence[EvalRunRow], shown: int | None, baseline: int | None
    ) -> None:
        """List the stored evaluations (newest first) in the two pickers."""
        self.shown.clear()
        self.baseline.clear()
        self.baseline.addItem("Nothing", None)
        if not runs:
            self.shown.addItem("No evaluation yet", None)
        for row in runs:
            title = _title(row)
            self.shown.addItem(title, row.id)
            if row.id != shown:
                self.baseline.addItem(title, row.id)
        for combo, wanted in ((self.shown, shown), (self.baseline, baseline)):
            index = combo.findData(wanted) if wanted is not None else -1
            combo.setCurrentIndex(max(index, 0))
        self.shown.setEnabled(bool(runs))
        self.baseline.setEnabled(len(runs) > 1)
        self.export_button.setEnabled(bool(runs))

    def set_running(self, running: bool, total: int = 0) -> None:
        self.run_button.setEnabled(not running)
        self.progress.setVisible(running)
        self.stop_button.setVisible(running)
        self.stop_button.setEnabled(running)
        if running:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(0)

    def advance(self, done: int) -> None:
        self.progress.setValue(done)

    def _shown_chosen(self, index: int) -> None:
        eval_id = self.shown.itemData(index)
        if eval_id is not None:
            self.shownRunChosen.emit(int(eval_id))


class _AgreementLabel(QLabel):
    """The judge's agreement with the person's ratings: κ here, in full (the counts) in its
    tooltip and in the judge prompt dialog (``full``); hidden when nothing was judged."""

    def set_agreement(self, short: str, text: str) -> None:
        self.full = text
        super().setText(short)
        self.setToolTip(text)
        self.setAccessibleDescription(text)
        self.setVisible(bool(short))
        self.setAccessibleDescription(text)
        self.setVisible(bool(text))


def _agreement_label(parent: QWidget) -> _AgreementLabel:
    label = _AgreementLabel(parent)
    label.setObjectName("evalJudgeAgreement")
    label.setAccessibleName("Judge's agreement with your ratings")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.set_agreement("", "")
    return label


class _StatusLine(QLabel):
    """A label that takes no room while it says nothing (the cases get the height)."""

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setVisible(bool(text))

    def clear(self) -> None:
        self.setText("")


def _title(row: EvalRunRow) -> str:
    version = f"v{row.version_number}" if row.version_number is not None else "v?"
    when = row.created_at[:16].replace("T", " ")
    models = len(row.columns)
    stopped = " · stopped" if row.status == "cancelled" else ""
    return (
        f"{version} · {when} · {len(row.cases)} cases × {models} model"
        f"{'s' if models != 1 else ''}{stopped}"
    )
