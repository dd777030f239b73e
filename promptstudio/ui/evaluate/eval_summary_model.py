"""Per-model figures of an evaluation as a table model: one row per model column.

Every pass rate carries its 95% Wilson interval in brackets: ``8/10 · 80% [49–94%]``.
With a baseline (the same models in an earlier run) it also says how many points it moved,
e.g. ``8/10 · 80% [49–94%] (+20)``, because "did this version help" is the question the
table exists to answer; the tooltip gives the baseline's own figure. With repeats the last
column gives pass@k, pass^k and how many cases were flaky.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Final

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from promptstudio.durations import format_ms
from promptstudio.evals.results import ModelSummary
from promptstudio.evals.stats import Interval, percent, wilson_interval
from promptstudio.ui.evaluate.eval_grid_model import verdict_colour
from promptstudio.ui.formatting import NO_VALUE, format_cost

Index = QModelIndex | QPersistentModelIndex
ALL_CACHED: Final = "$0 (cached)"


class Column(IntEnum):
    MODEL = 0
    PASS_RATE = 1
    MEAN_SCORE = 2
    MEAN_LATENCY = 3
    P95_LATENCY = 4
    COST = 5
    CACHED = 6
    ERRORS = 7
    REPEATS = 8


HEADERS: Final = {
    Column.MODEL: ("Model", "The model column's label"),
    Column.PASS_RATE: (
        "Pass rate",
        "Passed / graded, with its 95% Wilson interval in brackets; a failed request "
        "counts as a failure",
    ),
    Column.MEAN_SCORE: ("Mean score", "The mean of the checks' scores, 0 to 1"),
    Column.MEAN_LATENCY: ("Mean latency", "Whole request, over answered cases"),
    Column.P95_LATENCY: ("p95 latency", "95% of answers came at least this fast"),
    Column.COST: ("Cost", "Total over every case; cache hits cost nothing"),
    Column.CACHED: ("Cached", "Answers served from the cache"),
    Column.ERRORS: ("Errors", "Requests that failed (HTTP errors, cut streams, …)"),
    Column.REPEATS: (
        "Repeats",
        "With n samples per case: pass@n (at least one passed), pass^n (all passed) and "
        "the flaky cases (some samples passed, some failed)",
    ),
}


def pass_rate_text(summary: ModelSummary) -> str:
    """ "8/10 · 80% [49–94%]" (with the 95% interval), or a dash when nothing was graded."""
    interval = pass_interval(summary)
    if summary.pass_rate is None or interval is None:
        return NO_VALUE
    return (
        f"{summary.passed}/{summary.graded} · {percent(summary.pass_rate)}% "
        f"[{interval_text(interval)}]"
    )


def pass_interval(summary: ModelSummary) -> Interval | None:
    """The summary's 95% Wilson interval (computed for a summary made without one)."""
    return summary.pass_interval or wilson_interval(summary.passed, summary.graded)


def interval_text(interval: Interval) -> str:
    """ "49–94%": the bounds rounded as :func:`percent` rounds the rate."""
    return f"{percent(interval.low)}–{percent(interval.high)}%"


def repeats_text(summary: ModelSummary) -> str:
    """ "pass@3 100% · pass^3 67% · 1 flaky", or a dash without repeats."""
    k = summary.repeat
    if k == 1 or summary.pass_at_k is None or summary.pass_hat_k is None:
        return NO_VALUE
    return (
        f"pass@{k} {percent(summary.pass_at_k)}% · pass^{k} {percent(summary.pass_hat_k)}% · "
        f"{summary.flaky} flaky"
    )


def cost_text(summary: ModelSummary) -> str:
    """The total cost; "$0 (cached)" says why a whole column cost nothing; the part paid
    at the batch price is told apart: "$0.030 ($0.020 batch)"."""
    if summary.cells and summary.cached == summary.cells:
        return ALL_CACHED
    if summary.batch_cost is not None:
        return f"{format_cost(summary.total_cost)} ({format_cost(summary.batch_cost)} batch)"
    return format_cost(summary.total_cost)


class EvalSummaryModel(QAbstractTableModel):
    """Rows of :class:`ModelSummary`, optionally against an earlier run's summaries."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ModelSummary] = []
        self._baseline: dict[str, ModelSummary] = {}  # new column key → baseline summary

    def set_summaries(
        self,
        summaries: list[ModelSummary],
        baseline: list[ModelSummary] | None = None,
        matches: dict[str, str] | None = None,
    ) -> None:
        """Show ``summaries``; ``matches`` maps each column key to the baseline's.

        Refreshing the same models in the same order only signals ``dataChanged``, so a
        view keeps its selection and scroll position while a run fills in.
        """
        old_keys = [row.column_key for row in self._rows]
        by_key = {summary.column_key: summary for summary in baseline or ()}
        self._baseline = {new: by_key[old] for new, old in (matches or {}).items() if old in by_key}
        if old_keys == [summary.column_key for summary in summaries] and summaries:
            self._rows = list(summaries)
            last = self.index(len(self._rows) - 1, len(Column) - 1)
            self.dataChanged.emit(self.index(0, 0), last)
            return
        self.beginResetModel()
        self._rows = list(summaries)
        self.endResetModel()

    def summary_at(self, row: int) -> ModelSummary | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        summary = self.summary_at(index.row()) if index.isValid() else None
        if summary is None or not 0 <= index.column() < len(Column):
            return None
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(summary, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column != Column.MODEL:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if column != Column.PASS_RATE:
            return summary.label if role == Qt.ItemDataRole.ToolTipRole else None
        before = self._baseline.get(summary.column_key)
        if role == Qt.ItemDataRole.ToolTipRole:
            if before is None:
                return HEADERS[column][1]
            return f"Baseline ({before.label}): {pass_rate_text(before)}"
        if role == Qt.ItemDataRole.ForegroundRole:
            change = _points(summary, before)
            if change:
                return verdict_colour("pass" if change > 0 else "fail")
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        name, explanation = HEADERS[Column(section)]
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        return explanation if role == Qt.ItemDataRole.ToolTipRole else None

    def _text(self, summary: ModelSummary, column: Column) -> str:
        if column == Column.MODEL:
            return summary.label
        if column == Column.PASS_RATE:
            text = pass_rate_text(summary)
            change = _points(summary, self._baseline.get(summary.column_key))
            return text if change is None else f"{text} ({change:+d})" if change else f"{text} (±0)"
        if column == Column.MEAN_SCORE:
            return NO_VALUE if summary.mean_score is None else f"{summary.mean_score:.2f}"
        if column == Column.MEAN_LATENCY:
            return format_ms(summary.mean_latency_ms)
        if column == Column.P95_LATENCY:
            return format_ms(summary.p95_latency_ms)
        if column == Column.COST:
            return cost_text(summary)
        if column == Column.CACHED:
            return str(summary.cached)
        if column == Column.REPEATS:
            return repeats_text(summary)
        return str(summary.failed_requests)


def _points(summary: ModelSummary, before: ModelSummary | None) -> int | None:
    """How many percentage points the pass rate moved since the baseline (None: unknown)."""
    if before is None or summary.pass_rate is None or before.pass_rate is None:
        return None
    return percent(summary.pass_rate) - percent(before.pass_rate)
