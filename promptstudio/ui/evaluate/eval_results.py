"""The Evaluate results pane: the grid, the selected cell in full, the summary and chart.

Cells arrive one at a time while a run goes on; the grid shows each at once, but the
summary and chart recompute every figure over the whole run, so they are refreshed by a
single-shot timer at most :data:`SUMMARY_INTERVAL_MS` apart rather than once per cell.
Below them, the comparisons (:mod:`promptstudio.evals.compare`, made by the flow off the
GUI thread): for each pair, one quotable ROI line and McNemar's sentence.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from promptstudio.durations import format_ms
from promptstudio.evals.agreement import (
    agreement_short,
    agreement_text,
    has_judge_verdicts,
    judge_agreement,
)
from promptstudio.evals.compare import Comparison
from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import (
    CellResult,
    EvalCase,
    EvalColumn,
    EvalRun,
    ModelSummary,
    match_columns,
    summarize,
)
from promptstudio.storage.ratings import NO_RATING, Rating
from promptstudio.ui import a11y
from promptstudio.ui.board.tool_calls_view import calls_text
from promptstudio.ui.evaluate.eval_chart import EvalChart
from promptstudio.ui.evaluate.eval_grid_model import EvalGridModel, verdict_text
from promptstudio.ui.evaluate.eval_summary_model import EvalSummaryModel
from promptstudio.ui.evaluate.pair_picker import PairPicker
from promptstudio.ui.formatting import format_cost
from promptstudio.ui.rating_bar import RatingBar

SUMMARY_INTERVAL_MS: Final = 200
RULE: Final = "─" * 40
PLACEHOLDER: Final = "Select a cell to see the whole answer and how it was graded."


class EvalResultsView(QWidget):
    """Grid and detail on top; per-model summary table and chart side by side below."""

    cellRated = Signal(str, str, object)  # case key, column key, Rating: to be stored
    # The judge's agreement with the ratings: a short form and in full ("", "": no judge)
    agreementChanged = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid_model = EvalGridModel(self)
        self._summary_model = EvalSummaryModel(self)
        self._baseline_summaries: list[ModelSummary] | None = None
        self._matches: dict[str, str] = {}

        self._grid = _compact_table("evalGrid", self._grid_model)
        self._grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self._detail = QPlainTextEdit(readOnly=True, placeholderText=PLACEHOLDER)
        self._detail.setObjectName("evalDetail")
        a11y.keyboard_selectable(self._detail)
        self._detail.setAccessibleName("Detail of the chosen cell")
        self._summary = _compact_table("evalSummary", self._summary_model)
        self._grid.setAccessibleName("Results: cases by model")
        self._summary.setAccessibleName("Summary per model")
        self._summary.verticalHeader().hide()
        header = self._summary.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # labels: take the rest
        self._chart = EvalChart()
        self._chart.setObjectName("evalChart")

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self._grid)
        self._rating = RatingBar("evaluation answer")
        self._rating.rated.connect(self._rated)
        self._rating.shortcuts_for(self._grid)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self._detail, 1)
        detail_layout.addWidget(self._rating)
        top.addWidget(detail)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        chart_scroll = QScrollArea(widgetResizable=True)  # many models: scroll, don't squeeze
        chart_scroll.setFrameShape(QFrame.Shape.NoFrame)
        chart_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        chart_scroll.setWidget(self._chart)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self._summary)
        bottom.addWidget(chart_scroll)
        bottom.setSizes([680, 420])  # the summary's eight columns want the room
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([420, 280])
        self._comparison = QLabel(self)
        self._comparison.setObjectName("evalComparison")
        self._comparison.setAccessibleName("Comparison")
        self._comparison.setWordWrap(True)
        self._comparison.setTextFormat(Qt.TextFormat.PlainText)  # model names are not markup
        self._comparison.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._comparison.setContentsMargins(6, 4, 6, 4)
        self._comparison.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self._comparison.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a keyboard path to copy it
        self._comparisons: list[Comparison] = []
        # A third part of the splitter, scrolling: several models make a dozen lines.
        self._comparison_scroll = QScrollArea(widgetResizable=True)
        self._comparison_scroll.setObjectName("evalComparisonArea")
        self._comparison_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._comparison_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._pairs = PairPicker(self)
        comparisons = QWidget()
        comparisons_layout = QVBoxLayout(comparisons)
        comparisons_layout.setContentsMargins(0, 0, 0, 0)
        comparisons_layout.addWidget(self._pairs)  # first: in sight without scrolling
        comparisons_layout.addWidget(self._comparison)
        comparisons_layout.addStretch(1)
        self._comparison_scroll.setWidget(comparisons)
        split.addWidget(self._comparison_scroll)
        split.setStretchFactor(2, 1)
        split.setSizes([420, 280, 90])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.set_comparisons([])

        self._summary_timer = QTimer(self, singleShot=True, interval=SUMMARY_INTERVAL_MS)
        self._summary_timer.timeout.connect(self.refresh_summary)
        self._grid.selectionModel().currentChanged.connect(self._show)

    @property
    def grid_model(self) -> EvalGridModel:
        return self._grid_model

    @property
    def summary_model(self) -> EvalSummaryModel:
        return self._summary_model

    @property
    def chart(self) -> EvalChart:
        return self._chart

    @property
    def grid(self) -> QTableView:
        return self._grid

    @property
    def detail(self) -> QPlainTextEdit:
        return self._detail

    def comparisons(self) -> list[Comparison]:
        return list(self._comparisons)

    def comparison_text(self) -> str:
        return self._comparison.text()

    def set_comparisons(self, comparisons: list[Comparison]) -> None:
        """Show the paired comparisons: per pair its ROI line, then the test in words (and
        the mean score's change with its bootstrap interval)."""
        self._comparisons = list(comparisons)
        lines = [line for comparison in comparisons for line in comparison_lines(comparison)]
        self._comparison.setText("\n".join(lines))
        self._comparison_scroll.setVisible(bool(lines))

    @property
    def pair_picker(self) -> PairPicker:
        return self._pairs

    @property
    def rating_bar(self) -> RatingBar:
        return self._rating

    def set_rating(self, case_key: str, column_key: str, rating: Rating) -> None:
        """A rating as stored: in the run, the grid, the bar and the judge's agreement."""
        run = self._grid_model.run
        if run is None:
            return
        if rating.empty:
            run.ratings.pop((case_key, column_key), None)
        else:
            run.ratings[(case_key, column_key)] = rating
        self._grid_model.update_rating(case_key, column_key)
        current = self._grid_model.cell_at(self._grid.currentIndex())
        if current is not None and (current.case_key, current.column_key) == (
            case_key,
            column_key,
        ):
            self._rating.set_rating(rating)
        self._announce_agreement(run)

    def _announce_agreement(self, run: EvalRun | None) -> None:
        if run is None or not has_judge_verdicts(run):
            self.agreementChanged.emit("", "")
            return
        agreement = judge_agreement(run)
        self.agreementChanged.emit(agreement_short(agreement), agreement_text(agreement))

    def _rated(self, rating: Rating) -> None:
        cell = self._grid_model.cell_at(self._grid.currentIndex())
        if cell is not None:
            self.cellRated.emit(cell.case_key, cell.column_key, rating)

    def set_run(self, run: EvalRun | None) -> None:
        """Show another run (its cells may still be arriving); the first cell is selected."""
        self._grid_model.set_run(run)
        self._pairs.set_columns(run.columns if run is not None else ())
        self._compare()
        if self._grid_model.rowCount() and self._grid_model.columnCount():
            self._grid.setCurrentIndex(self._grid_model.index(0, 0))
        self._show(self._grid.currentIndex())
        self.refresh_summary()
        self._announce_agreement(run)

    def set_pending(self, eval_id: int, texts: dict[str, tuple[str, str]]) -> None:
        """What the cells of evaluation ``eval_id`` waiting on a batch say (short, in
        words), by column."""
        self._grid_model.set_pending(eval_id, texts)

    def set_baseline(self, run: EvalRun | None) -> None:
        """Compare with an earlier run: flipped cells, pass-rate changes, baseline answers."""
        self._grid_model.set_baseline(run)
        self._compare()
        self._show(self._grid.currentIndex())
        self.refresh_summary()

    def update_cell(self, cell: CellResult) -> None:
        """A cell the caller has stored in the shared run: shown now, summed up soon."""
        self._grid_model.update_cell(cell)
        current = self._grid_model.cell_at(self._grid.currentIndex())
        if current is not None and (current.case_key, current.column_key) == (
            cell.case_key,
            cell.column_key,
        ):
            self._show(self._grid.currentIndex())
        if not self._summary_timer.isActive():
            self._summary_timer.start()

    def refresh_summary(self) -> None:
        """Recompute the summary table and chart now."""
        self._summary_timer.stop()
        run = self._grid_model.run
        summaries = summarize(run) if run is not None else []
        self._summary_model.set_summaries(summaries, self._baseline_summaries, self._matches)
        self._chart.set_summaries(summaries)

    def _compare(self) -> None:
        run, baseline = self._grid_model.run, self._grid_model.baseline
        if run is None or baseline is None:
            self._baseline_summaries, self._matches = None, {}
        else:
            self._baseline_summaries = summarize(baseline)
            self._matches = match_columns(baseline, run)

    def _show(self, index: QModelIndex | QPersistentModelIndex) -> None:
        run = self._grid_model.run
        cell = self._grid_model.cell_at(index) if run is not None else None
        # Only stored answers can be rated (a live evaluation's cells are not, yet).
        self._rating.setEnabled(run is not None and run.id is not None and cell is not None)
        key = (cell.case_key, cell.column_key) if cell is not None else None
        self._rating.set_rating(run.ratings.get(key, NO_RATING) if run and key else NO_RATING)
        if run is None or not index.isValid():
            self._detail.clear()
            return
        case, column = run.cases[index.row()], run.columns[index.column()]
        text = describe_cell(case, column, self._grid_model.cell_at(index))
        for more in run.samples(case.key, column.key)[1:]:  # repeats: every answer, in order
            text += f"\n\nSample {more.sample + 1} of {run.repeat}\n{RULE}\n"
            text += more.text if more.error is None else f"Error: {more.error}"
        baseline = self._grid_model.baseline
        if baseline is not None:
            before = self._grid_model.baseline_cell_at(index)
            text += f"\n\nBaseline: {baseline.title}\n{RULE}\n" + _baseline_text(before)
        self._detail.setPlainText(text)


def comparison_lines(comparison: Comparison) -> list[str]:
    """The ROI line, McNemar's sentence and (with scores) the mean score's change."""
    lines = [comparison.roi_line(), f"    {comparison.sentence()}"]
    score = score_change_text(comparison)
    return lines + ([f"    {score}"] if score else [])


def score_change_text(comparison: Comparison) -> str:
    """ "Mean score +0.12 (95% paired bootstrap CI +0.02 to +0.25)"; "" without scores other
    than 0 and 1 (then the pass rate's change says the same)."""
    change = comparison.score_change
    if change is None or not comparison.fractional_scores:  # pass/fail only: the rate says it
        return ""
    low, high = change.interval.low, change.interval.high
    return (
        f"Mean score {change.mean_difference:+.2f} "
        f"(95% paired bootstrap CI {low:+.2f} to {high:+.2f})"
    ).replace("-", "−")


def describe_cell(case: EvalCase, column: EvalColumn, cell: CellResult | None) -> str:
    """Everything about one cell as plain text: who answered what, and every verdict."""
    where = f" @ {column.base_url}" if column.base_url else ""
    lines = [f"{column.label} — {column.model}{where}", f"Case {case.position + 1}: {case.title}"]
    lines += [f"  {name} = {_indented(_value(value), 4)}" for name, value in case.vars.items()]
    if case.expected is not None:
        lines.append(f"Expected: {case.expected}")
    status = verdict_text(cell) if cell is not None else "not run yet"
    if cell is not None and cell.cached:
        status += " · served from cache (cost $0)"
    lines += ["", f"Status: {status}"]
    if cell is None:
        return "\n".join(lines)
    if cell.error:
        lines.append(f"Error: {cell.error}")
    first = f" (first token {format_ms(cell.ttft_ms)})" if cell.ttft_ms is not None else ""
    counts = ((cell.input_tokens, "in"), (cell.output_tokens, "out"))
    tokens = " · ".join(f"{n} {side}" for n, side in counts if n is not None) or "—"
    lines += [
        f"Latency: {format_ms(cell.latency_ms)}{first}",
        f"Tokens: {tokens}",
        f"Cost: {format_cost(cell.cost)}",
        "",
        "Answer",
        RULE,
        cell.text or ("(no answer)" if not cell.tool_calls else "(tool calls only)"),
    ]
    if cell.tool_calls:
        lines += ["", "Tool calls", RULE, calls_text(cell.tool_calls)]
    if cell.grades:
        lines += ["", "Checks", RULE]
        lines += [_grade_text(grade) for grade in cell.grades]
    return "\n".join(lines)


def _grade_text(grade: GradeResult) -> str:
    if not grade.graded:
        return f"– {grade.grader}\n  {_indented(grade.reason, 2)}"
    verdict = "✓" if grade.passed else "✗"
    lines = [
        f"{verdict} {grade.grader} — score {grade.score:.2f}",
        f"  {_indented(grade.reason, 2)}",
    ]
    details = grade.details
    if details.get("error"):
        lines.append(f"  Judge error: {_indented(str(details['error']), 4)}")
    if details.get("reply"):
        lines.append(f"  Judge's reasoning:\n    {_indented(str(details['reply']), 4)}")
    return "\n".join(lines)


def _baseline_text(cell: CellResult | None) -> str:
    if cell is None:
        return "This case did not run with this model in the baseline."
    answer = cell.error or cell.text or "(no answer)"
    return f"Status: {verdict_text(cell)}\n{answer}"


def _value(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


def _indented(text: str, spaces: int) -> str:
    return text.replace("\n", "\n" + " " * spaces)


def _compact_table(name: str, model: EvalGridModel | EvalSummaryModel) -> QTableView:
    """A table with rows one line high: a 1000-case grid should fit many rows on screen."""
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setWordWrap(False)
    a11y.leave_on_tab(table)
    row_height = table.fontMetrics().height() + 6
    table.verticalHeader().setMinimumSectionSize(row_height)
    table.verticalHeader().setDefaultSectionSize(row_height)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    return table
