"""A prompt's version history as a table model, loaded a page at a time.

A long-lived prompt can have thousands of versions, so the model asks the database for one
page of :data:`PAGE_SIZE` summaries and lets the view pull the next page when it scrolls
to the end (``canFetchMore``/``fetchMore``). Pages arrive asynchronously through the
:class:`TaskOwner`; a generation counter drops pages that belong to an earlier prompt or
an earlier refresh, so a slow answer can never land in the wrong history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel

from promptstudio.durations import format_seconds
from promptstudio.storage import Database, library
from promptstudio.storage.library import ResponseRow, RunWithResponses, VersionSummary
from promptstudio.storage.ratings import rating_from
from promptstudio.ui.formatting import NO_VALUE, format_cost
from promptstudio.ui.rating_bar import mark
from promptstudio.ui.tasks import TaskOwner

PAGE_SIZE = 200
ID_ROLE = Qt.ItemDataRole.UserRole + 1
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 2
RESPONSE_ROLE = Qt.ItemDataRole.UserRole + 3
Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    VERSION = 0
    WHEN = 1
    MESSAGE = 2
    LABELS = 3
    KIND = 4
    RUNS = 5
    BEST_COST = 6
    BEST_LATENCY = 7


HEADERS = {
    Column.VERSION: "Version",
    Column.WHEN: "When",
    Column.MESSAGE: "Message",
    Column.LABELS: "Labels",
    Column.KIND: "Kind",
    Column.RUNS: "Runs",
    Column.BEST_COST: "Best cost",
    Column.BEST_LATENCY: "Best latency",
}
_NUMERIC = {Column.RUNS, Column.BEST_COST, Column.BEST_LATENCY}


def local_time(created_at: str) -> datetime:
    """A stored UTC timestamp ("…Z") in the user's time zone."""
    moment = datetime.fromisoformat(created_at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone()


def format_when(created_at: str, now: datetime | None = None) -> str:
    """ "14:02" for today, else the date: the table stays narrow and ordered by number."""
    moment = local_time(created_at)
    today = (now or datetime.now().astimezone()).astimezone(moment.tzinfo).date()
    return moment.strftime("%H:%M") if moment.date() == today else moment.strftime("%Y-%m-%d")


def version_title(number: int, message: str, *, limit: int = 60) -> str:
    """ "v5 · tighter tone": how a version is named above a diff."""
    first_line = message.strip().splitlines()[0] if message.strip() else ""
    if len(first_line) > limit:
        first_line = first_line[: limit - 1] + "…"
    return f"v{number} · {first_line}" if first_line else f"v{number}"


class VersionHistoryModel(QAbstractTableModel):
    """Newest first; one row per version, no template text (see ``version_history``)."""

    loaded = Signal()  # after each page (or refresh) has landed in the model

    def __init__(
        self,
        db: Database,
        tasks: TaskOwner,
        parent: QObject | None = None,
        *,
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__(parent)
        self._db, self._tasks = db, tasks
        self.page_size = page_size
        self._prompt_id: int | None = None
        self._rows: list[VersionSummary] = []
        self._exhausted = True  # no more pages to ask for
        self._generation = 0  # bumped by set_prompt/refresh: older pages are dropped
        self._pending: int | None = None  # generation of the load in flight
        self._bold = QFont()
        self._bold.setBold(True)

    # ---- loading -------------------------------------------------------------------------

    @property
    def prompt_id(self) -> int | None:
        return self._prompt_id

    @property
    def loading(self) -> bool:
        return self._pending is not None

    def set_prompt(self, prompt_id: int | None) -> None:
        """Show another prompt's history: empty at once, the first page when it arrives."""
        self.beginResetModel()
        self._prompt_id = prompt_id
        self._rows = []
        self._exhausted = prompt_id is None
        self._generation += 1
        self._pending = None
        self.endResetModel()
        if prompt_id is not None:
            self.refresh()

    def refresh(self) -> None:
        """Reload in the background (new versions, labels, run counts)."""
        if self._prompt_id is not None:
            self._start(self._reload)

    async def reload(self) -> None:
        """Reload and wait for it: for callers that change history and then read the model.

        Returns when this load is done or superseded by a newer one; a failure is reported
        by the :class:`TaskOwner` like any other load's, not raised twice here.
        """
        task = self._start(self._reload) if self._prompt_id is not None else None
        if task is not None:
            await asyncio.wait({task})

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008 (Qt API)
        return not parent.isValid() and not self._exhausted and self._pending is None

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008 (Qt API)
        """Start loading the next page; its rows are inserted when it arrives."""
        if self.canFetchMore(parent) and self._rows:
            self._start(self._next_page)

    def _start(
        self, load: Callable[[int, int], Coroutine[Any, Any, None]]
    ) -> asyncio.Task[Any] | None:
        """Mark a load in flight at once (so the view cannot ask twice) and run it.

        The flag is cleared by a done-callback, which also runs when the task is cancelled
        before it started (a coroutine's own ``finally`` would not).
        """
        assert self._prompt_id is not None
        self._generation += 1
        generation = self._pending = self._generation
        task = self._tasks.start("history.page", load(self._prompt_id, generation))
        if task is None:  # shutting down: nothing is loading
            self._end_load(generation)
            return None
        task.add_done_callback(lambda _task: self._end_load(generation))
        return task

    def _end_load(self, generation: int) -> None:
        if self._pending == generation:
            self._pending = None

    async def _reload(self, prompt_id: int, generation: int) -> None:
        """Fetch every loaded row again in one query and merge (see :meth:`_merge`)."""
        limit = len(self._rows) + self.page_size
        fresh = await self._db.acall(library.version_history, prompt_id, limit=limit)
        if generation != self._generation:
            return
        self._end_load(generation)
        self._merge(fresh)
        self._exhausted = len(fresh) < limit
        self.loaded.emit()

    async def _next_page(self, prompt_id: int, generation: int) -> None:
        before_id = self._rows[-1].id
        page = await self._db.acall(
            library.version_history, prompt_id, limit=self.page_size, before_id=before_id
        )
        if generation != self._generation:
            return
        self._end_load(generation)
        if page:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()
        self._exhausted = len(page) < self.page_size
        self.loaded.emit()

    def _merge(self, fresh: list[VersionSummary]) -> None:
        """Apply a reload so the view keeps its selection and scroll position.

        History only grows at the top: new versions are inserted above the known rows and
        those are updated in place (labels, run counts); anything else resets the model.
        """
        old_ids = [row.id for row in self._rows]
        fresh_ids = [row.id for row in fresh]
        top = 0  # with nothing known yet every row is a tail row
        if old_ids:
            top = fresh_ids.index(old_ids[0]) if old_ids[0] in fresh_ids else -1
        if top < 0 or fresh_ids[top : top + len(old_ids)] != old_ids:
            self.beginResetModel()
            self._rows = fresh
            self.endResetModel()
            return
        if top:
            self.beginInsertRows(QModelIndex(), 0, top - 1)
            self._rows[:0] = fresh[:top]
            self.endInsertRows()
        known = slice(top, top + len(old_ids))
        if self._rows[known] != fresh[known]:
            self._rows[known] = fresh[known]
            self.dataChanged.emit(
                self.index(known.start, 0), self.index(known.stop - 1, len(Column) - 1)
            )
        tail = fresh[known.stop :]
        if tail:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(tail) - 1)
            self._rows.extend(tail)
            self.endInsertRows()

    # ---- lookups -------------------------------------------------------------------------

    def summary(self, row: int) -> VersionSummary:
        return self._rows[row]

    def row_of(self, version_id: int) -> int:
        for number, row in enumerate(self._rows):
            if row.id == version_id:
                return number
        return -1

    # ---- Qt model API --------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(Column(section))
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row, column = self._rows[index.row()], Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return _text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(column)
        if role == Qt.ItemDataRole.FontRole and column == Column.LABELS and row.labels:
            return self._bold
        if role == ID_ROLE:
            return row.id
        if role == SUMMARY_ROLE:
            return row
        return None


def _text(row: VersionSummary, column: Column) -> str:
    match column:
        case Column.VERSION:
            return f"v{row.number}"
        case Column.WHEN:
            return format_when(row.created_at)
        case Column.MESSAGE:
            return row.message.strip().splitlines()[0] if row.message.strip() else ""
        case Column.LABELS:
            return ", ".join(row.labels)
        case Column.KIND:
            return row.kind
        case Column.RUNS:
            return str(row.run_count) if row.run_count else NO_VALUE
        case Column.BEST_COST:
            return format_cost(row.best_cost)
        case Column.BEST_LATENCY:
            return format_seconds(row.best_total_ms)


def _tooltip(row: VersionSummary, column: Column) -> str | None:
    match column:
        case Column.WHEN:
            return local_time(row.created_at).strftime("%Y-%m-%d %H:%M:%S")
        case Column.MESSAGE:
            return row.message or None
        case Column.RUNS:
            return f"{row.run_count} runs, {row.response_count} answers"
        case Column.BEST_COST | Column.BEST_LATENCY:
            return "Among this version's finished answers"
        case _:
            return None


def _alignment(column: Column) -> int:
    horizontal = Qt.AlignmentFlag.AlignRight if column in _NUMERIC else Qt.AlignmentFlag.AlignLeft
    return int(horizontal | Qt.AlignmentFlag.AlignVCenter)


RUN_HEADERS = ("Run / model", "Status", "TTFT", "Total", "Tokens", "Cost")


class RunsTreeModel(QStandardItemModel):
    """A version's runs, each with its answers as children: a small tree filled at once.

    Runs of one version are few (each is a press of Run), so this model holds them all;
    each answer's row keeps its :class:`ResponseRow` under :data:`RESPONSE_ROLE`.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(0, len(RUN_HEADERS), parent)
        self.setHorizontalHeaderLabels(list(RUN_HEADERS))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for column in range(2, len(RUN_HEADERS)):  # figures line up under their titles
            self.setHeaderData(
                column, Qt.Orientation.Horizontal, right, Qt.ItemDataRole.TextAlignmentRole
            )

    def set_runs(self, runs: Sequence[RunWithResponses]) -> None:
        self.removeRows(0, self.rowCount())
        for entry in runs:
            title = QStandardItem(_run_title(entry))
            title.setEditable(False)
            font = title.font()
            font.setBold(True)  # a run's row stands out from its answers
            title.setFont(font)
            title.setToolTip(_run_variables(entry, limit=2000) or "No variables")
            for response in entry.responses:
                title.appendRow(_response_items(response))
            self.appendRow([title, *(_cell("") for _ in RUN_HEADERS[1:])])

    def index_of(self, response_id: int) -> QModelIndex | None:
        """Where the answer ``response_id`` is, if it is one of these runs'."""
        for run in range(self.rowCount()):
            parent = self.index(run, 0)
            for row in range(self.rowCount(parent)):
                index = self.index(row, 0, parent)
                found = self.response(index)
                if found is not None and found.id == response_id:
                    return index
        return None

    def response(self, index: QModelIndex) -> ResponseRow | None:
        """The answer on ``index``'s row; None for a run's row."""
        value = index.siblingAtColumn(0).data(RESPONSE_ROLE) if index.isValid() else None
        return value if isinstance(value, ResponseRow) else None


def _cell(text: str, *, numeric: bool = False) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    if numeric:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _run_variables(entry: RunWithResponses, *, limit: int) -> str:
    text = ", ".join(f"{name}={value}" for name, value in entry.run.variables.items())
    text = " ".join(text.split())  # one line, whatever the values hold
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _run_title(entry: RunWithResponses) -> str:
    when = local_time(entry.run.created_at).strftime("%Y-%m-%d %H:%M")
    count = len(entry.responses)
    parts = [f"Run at {when}", f"{count} answer{'' if count == 1 else 's'}"]
    variables = _run_variables(entry, limit=80)
    return " · ".join([*parts, variables] if variables else parts)


def status_note(response: ResponseRow) -> str:
    """Why an answer without an error is not complete ("" for the others)."""
    if response.status == library.INTERRUPTED:
        return "PromptStudio stopped while this answer streamed: this is what had arrived."
    if response.status == library.STREAMING:
        return "Still streaming: this is what has arrived so far."
    return ""


def rated_label(response: ResponseRow) -> tuple[str, str]:
    """The answer's first cell with its rating's mark, and its tooltip with the note."""
    shown = mark(rating_from(response.rating, response.rating_note))
    human = f"  {shown}" if shown else ""
    note = f"\nNote: {response.rating_note}" if response.rating_note else ""
    return response.model + human + ("  ✎" if note and not human else ""), response.base_url + note


def _response_items(response: ResponseRow) -> list[QStandardItem]:
    text, tip = rated_label(response)
    if response.steps:  # a conversation went on from this answer
        text += f" · conversation of {len(response.steps) + 1} answers"
    model = _cell(text)
    model.setData(response, RESPONSE_ROLE)
    model.setToolTip(tip)
    status = _cell(response.status)
    if response.error or status_note(response):
        status.setToolTip(response.error or status_note(response))
    if response.input_tokens is None and response.output_tokens is None:
        tokens = NO_VALUE
    else:
        mark = "~" if response.usage_estimated else ""
        used = (response.input_tokens or 0, response.output_tokens or 0)
        tokens = f"{mark}{used[0]} → {mark}{used[1]}"
    return [
        model,
        status,
        _cell(format_seconds(response.ttft_ms), numeric=True),
        _cell(format_seconds(response.total_ms), numeric=True),
        _cell(tokens, numeric=True),
        _cell(format_cost(response.total_cost), numeric=True),  # every step's
    ]
