"""The evaluation grid as a table model: a row per test case, a column per model.

The run object is shared with whoever fills it (the runner puts each finished cell into
``run.cells`` and then calls :meth:`EvalGridModel.update_cell`), so the model keeps no
copy of the cells: a finished cell costs one ``dataChanged`` for one index, however big
the grid. With a baseline (an earlier run of the same cases) cells whose verdict flipped
get their own text and an amber background, so regressions stand out at a glance. With
repeats a cell says how many of its samples passed (``✓ 3/3``); a case whose samples
disagree is flaky: ``≈ 2/3``, its own colour, a tooltip line and accessible text saying so.
"""

from __future__ import annotations

import html
from typing import Any, Final

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from promptstudio.durations import format_ms
from promptstudio.evals.results import (
    CANCELLED,
    FAILED,
    CellResult,
    EvalRun,
    Flip,
    case_verdict,
    compare_runs,
    match_columns,
)
from promptstudio.evals.stats import is_flaky
from promptstudio.ui.board.tool_calls_view import calls_html
from promptstudio.ui.formatting import format_cost
from promptstudio.ui.rating_bar import mark
from promptstudio.ui.theme import verdict_colours

FLIPPED_ROLE: Final = Qt.ItemDataRole.UserRole + 1
FLAKY_ROLE: Final = Qt.ItemDataRole.UserRole + 2
FLAKY_MARK: Final = "≈"
TOOLTIP_ANSWER_CHARS: Final = 800
HEADER_TITLE_CHARS: Final = 40
TOOLTIP_VALUE_CHARS: Final = 400
CACHED_MARK: Final = " ⟲"
Index = QModelIndex | QPersistentModelIndex

_PENDING_ROLES = (
    Qt.ItemDataRole.AccessibleTextRole,
    Qt.ItemDataRole.ToolTipRole,
)


def verdict_colour(kind: str, *, background: bool = False) -> QColor:
    """The colour for ``pass``, ``fail`` or ``flip`` text (or background) in this theme."""
    text, behind = verdict_colours(kind)
    return behind if background else text


def verdict_text(cell: CellResult | None) -> str:
    """What a cell says: its verdict, or why it has none."""
    if cell is None:
        return "…"
    if cell.status == FAILED:
        return "⚠ error"
    if cell.status == CANCELLED:
        return "cancelled"
    passed = cell.passed
    ungraded = len(cell.grades) - len(cell.graded)
    if passed is None:
        return "— not graded" if ungraded else "— no checks"
    verdict = "✓ pass" if passed else "✗ fail"
    return f"{verdict} ({ungraded} not graded)" if ungraded else verdict


class EvalGridModel(QAbstractTableModel):
    """Cases × model columns of one :class:`EvalRun`, optionally against a baseline run."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._run: EvalRun | None = None
        self._baseline: EvalRun | None = None
        self._matches: dict[str, str] = {}  # column key → the baseline's column key
        self._flips: dict[tuple[str, str], Flip] = {}
        self._rows: dict[str, int] = {}
        self._columns: dict[str, int] = {}
        # column key → (short, in words): its batch's state, for cells not answered yet
        self._pending: dict[str, tuple[str, str]] = {}
        self._pending_run: int | None = None

    @property
    def run(self) -> EvalRun | None:
        return self._run

    @property
    def baseline(self) -> EvalRun | None:
        return self._baseline

    def set_run(self, run: EvalRun | None) -> None:
        self.beginResetModel()
        self._run = run
        self._rows = {case.key: row for row, case in enumerate(run.cases)} if run else {}
        self._columns = {col.key: n for n, col in enumerate(run.columns)} if run else {}
        self._compare()
        self.endResetModel()

    def set_baseline(self, run: EvalRun | None) -> None:
        """Compare with an earlier run (None: stop comparing); every cell may change."""
        self._baseline = run
        self._compare()
        if self.rowCount() and self.columnCount():
            last = self.index(self.rowCount() - 1, self.columnCount() - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def update_cell(self, cell: CellResult) -> None:
        """Show a cell the caller has just stored in the shared run."""
        row, column = self._rows.get(cell.case_key), self._columns.get(cell.column_key)
        if row is None or column is None:
            return
        key = (cell.case_key, cell.column_key)
        self._flips.pop(key, None)
        was = self._baseline_verdict(*key)
        now = None if self._run is None else case_verdict(self._run, *key)
        if was is not None and now is not None and was != now:
            self._flips[key] = Flip(*key, was, now)
        index = self.index(row, column)
        self.dataChanged.emit(index, index)

    def set_pending(self, eval_id: int, texts: dict[str, tuple[str, str]]) -> None:
        """Cells of evaluation ``eval_id`` still waiting on a batch say ``texts[column]``
        (shown; in words for the tooltip and screen readers)."""
        same, changed = eval_id == self._pending_run, set(self._pending) | set(texts)
        self._pending_run, self._pending = eval_id, dict(texts)
        if not (self.rowCount() and self.columnCount()):
            return
        if same:  # only the waiting columns' text (each second: their elapsed time)
            for column in sorted(self._columns[key] for key in changed if key in self._columns):
                top, bottom = self.index(0, column), self.index(self.rowCount() - 1, column)
                self.dataChanged.emit(top, bottom, [Qt.ItemDataRole.DisplayRole, *_PENDING_ROLES])
        else:
            last = self.index(self.rowCount() - 1, self.columnCount() - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def update_rating(self, case_key: str, column_key: str) -> None:
        """A person's rating of a cell changed (``EvalRun.ratings``): show its mark."""
        row, column = self._rows.get(case_key), self._columns.get(column_key)
        if row is not None and column is not None:
            index = self.index(row, column)
            self.dataChanged.emit(index, index)

    def cell_at(self, index: Index) -> CellResult | None:
        key = self._key(index)
        return None if key is None or self._run is None else self._run.cell(*key)

    def baseline_cell_at(self, index: Index) -> CellResult | None:
        key = self._key(index)
        return None if key is None else self._baseline_cell(*key)

    def outcomes_at(self, index: Index) -> list[bool] | None:
        """The graded verdicts of every sample of a cell when the run has repeats, else None."""
        key = self._key(index)
        if key is None or self._run is None or self._run.repeat == 1:
            return None
        return [c.passed for c in self._run.samples(*key) if c.passed is not None]

    def flips(self) -> list[Flip]:
        """The flipped cells in grid order."""
        order = {key: n for n, key in enumerate(self._grid_keys())}
        return sorted(self._flips.values(), key=lambda f: order[(f.case_key, f.column_key)])

    # ---- Qt model --------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._run is None else len(self._run.cases)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._run is None else len(self._run.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        key = self._key(index)
        if key is None:
            return None
        cell = self.cell_at(index)
        flip = self._flips.get(key)
        outcomes = self.outcomes_at(index)
        pending = self._pending_text(cell, key[1])
        if pending is not None and role == Qt.ItemDataRole.DisplayRole:
            return pending[0]
        if pending is not None and role in _PENDING_ROLES:
            return pending[1]
        if role == Qt.ItemDataRole.DisplayRole:
            text = verdict_text(cell) if outcomes is None else _repeats_text(outcomes)
            if outcomes == [] and cell is not None and self._run is not None:  # no checks
                text = f"{verdict_text(cell)} · {len(self._run.samples(*key))} samples"
            if flip is not None:
                text = "✗ → ✓" if flip.after else "✓ → ✗"
            text = text + CACHED_MARK if cell is not None and cell.cached else text
            human = mark(self._run.ratings.get(key)) if self._run is not None else ""
            return f"{text}  {human}" if human else text
        if role == FLIPPED_ROLE:
            return flip is not None
        if role == FLAKY_ROLE:
            return outcomes is not None and is_flaky(outcomes)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            spoken = verdict_text(cell) if outcomes is None else _repeats_words(outcomes)
            return spoken if flip is None else f"{spoken}; changed since the baseline"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            kind = _colour_kind(cell, flip, outcomes)
            background = role == Qt.ItemDataRole.BackgroundRole
            return None if kind is None else verdict_colour(kind, background=background)
        if role == Qt.ItemDataRole.ToolTipRole:
            return None if cell is None else self._tooltip(cell, flip, index)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        run = self._run
        if run is None or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        tooltip = role == Qt.ItemDataRole.ToolTipRole
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(run.columns):
            column = run.columns[section]
            if not tooltip:
                return column.label
            return f"{column.model} @ {column.base_url}" if column.base_url else column.model
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(run.cases):
            case = run.cases[section]
            if not tooltip:
                return f"{case.position + 1}. {_clip(case.title, HEADER_TITLE_CHARS)}"
            lines = [
                f"{name} = {_clip(str(value), TOOLTIP_VALUE_CHARS)}"
                for name, value in case.vars.items()
            ]
            return "\n".join(lines) or "No variables"
        return None

    # ---- helpers -------------------------------------------------------------------------

    def _compare(self) -> None:
        if self._run is None or self._baseline is None:
            self._matches, self._flips = {}, {}
            return
        self._matches = match_columns(self._baseline, self._run)
        flips = compare_runs(self._baseline, self._run)
        self._flips = {(flip.case_key, flip.column_key): flip for flip in flips}

    def _pending_text(self, cell: CellResult | None, column_key: str) -> tuple[str, str] | None:
        if cell is not None or self._run is None or self._run.id != self._pending_run:
            return None
        return self._pending.get(column_key)

    def _key(self, index: Index) -> tuple[str, str] | None:
        run = self._run
        if run is None or not index.isValid() or index.model() is not self:
            return None
        if not (0 <= index.row() < len(run.cases) and 0 <= index.column() < len(run.columns)):
            return None
        return run.cases[index.row()].key, run.columns[index.column()].key

    def _grid_keys(self) -> list[tuple[str, str]]:
        run = self._run
        return [(a.key, b.key) for a in run.cases for b in run.columns] if run else []

    def _baseline_verdict(self, case_key: str, column_key: str) -> bool | None:
        old_key = self._matches.get(column_key)
        if self._baseline is None or old_key is None:
            return None
        return case_verdict(self._baseline, case_key, old_key)

    def _baseline_cell(self, case_key: str, column_key: str) -> CellResult | None:
        old_key = self._matches.get(column_key)
        if self._baseline is None or old_key is None:
            return None
        return self._baseline.cell(case_key, old_key)

    def _tooltip(self, cell: CellResult, flip: Flip | None, index: Index) -> str:
        answer = (
            cell.error
            or cell.text
            or ("(tool calls only)" if cell.tool_calls else "(empty answer)")
        )
        if len(answer) > TOOLTIP_ANSWER_CHARS:
            answer = answer[:TOOLTIP_ANSWER_CHARS] + "…"
        parts = [f"<pre style='white-space: pre-wrap'>{html.escape(answer, quote=False)}</pre>"]
        if cell.tool_calls:  # as the run column lists them
            parts.append(calls_html(cell.tool_calls, None, finished=True))
        for grade in cell.grades:
            verdict = "–" if not grade.graded else "✓" if grade.passed else "✗"
            reason = html.escape(grade.reason, quote=False)
            parts.append(f"{verdict} <b>{html.escape(grade.grader, quote=False)}</b> — {reason}")
        timing = [f"latency {format_ms(cell.latency_ms)}"]
        timing.append("served from cache (cost $0)" if cell.cached else format_cost(cell.cost))
        parts.append(" · ".join(timing))
        outcomes = self.outcomes_at(index)
        if outcomes is not None:
            marks = " ".join("✓" if passed else "✗" for passed in outcomes) or "none graded"
            parts.append(f"<b>{html.escape(_repeats_words(outcomes))}</b> ({marks})")
        if flip is not None:
            before = self.baseline_cell_at(index)
            parts.append(f"<b>Baseline:</b> {verdict_text(before)}")
        return "<br>".join(parts)


def _repeats_text(outcomes: list[bool]) -> str:
    """ "✓ 3/3", "✗ 0/3", "≈ 2/3" (flaky), or "…" before any sample was graded."""
    if not outcomes:
        return "…"
    passed = sum(outcomes)
    mark = FLAKY_MARK if is_flaky(outcomes) else "✓" if passed else "✗"
    return f"{mark} {passed}/{len(outcomes)}"


def _repeats_words(outcomes: list[bool]) -> str:
    """What a screen reader (and the tooltip) says about a repeated case."""
    if not outcomes:
        return "No sample graded yet"
    passed, total = sum(outcomes), len(outcomes)
    if is_flaky(outcomes):
        return f"Flaky: {passed} of {total} samples passed"
    return f"All {total} samples passed" if passed else f"All {total} samples failed"


def _colour_kind(
    cell: CellResult | None, flip: Flip | None, outcomes: list[bool] | None = None
) -> str | None:
    if flip is not None:
        return "flip"
    if outcomes is not None and outcomes:
        return "flaky" if is_flaky(outcomes) else "pass" if all(outcomes) else "fail"
    passed = None if cell is None else cell.passed
    return None if passed is None else "pass" if passed else "fail"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
