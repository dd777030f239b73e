"""The run board: N columns side by side, one prompt sent to all of them.

The board manages the columns (add, duplicate, move, remove, fold, maximise), runs them
(the run worker puts each update into the board's feed; the single flush timer, ~30 Hz,
drains it into every streaming column), keeps answers pinned beside them
(:class:`~promptstudio.ui.board.pinned_answers.PinnedAnswers`) and shows the summary row
that marks the fastest answer across columns. Columns scroll horizontally beyond the
window's width.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from promptstudio.providers import PRESETS as PROFILE_PRESETS
from promptstudio.providers import ProviderProfile
from promptstudio.runs import TargetResult, TargetStatus
from promptstudio.runs.columns import MAX_SAMPLES, split_sample_key
from promptstudio.runs.feed import Feed, TargetUpdate
from promptstudio.tools import ToolDef
from promptstudio.ui.board.column_header import COLUMN_MIME, target_summary
from promptstudio.ui.board.column_stats import cost_text, ms_text
from promptstudio.ui.board.pinned_answers import PinnedAnswers
from promptstudio.ui.board.run_column import ColumnConfig, RunColumn

if TYPE_CHECKING:  # the compare dialog (with the diff) is imported when first opened
    from promptstudio.ui.board.compare_dialog import CompareDialog

FLUSH_INTERVAL_MS = 33
MAX_COLUMNS = 16


class ColumnsArea(QScrollArea):
    """Scrolls the columns sideways. Its height never drops below what a column needs (a
    scroll area does not pass its widget's minimum on), so on a small screen the editor
    above gives way instead of the answers being cut off at the bottom; only on a screen
    shorter than :attr:`ROOMY` (200% scale) it may drop to :attr:`SHORTEST`, and the
    columns scroll up and down instead of making the window taller than the screen."""

    SHORTEST = 150  # a column's title line and a few lines of its answer
    ROOMY = 720  # logical pixels of screen height that hold a whole column below the editor

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        strip = self.widget()
        if strip is None:
            return hint
        bar = self.horizontalScrollBar().sizeHint().height()
        needed = strip.minimumSizeHint().height() + bar + 2 * self.frameWidth()
        screen = self.screen()
        if screen is not None and screen.availableGeometry().height() < self.ROOMY:
            needed = min(needed, self.SHORTEST)
        return QSize(hint.width(), max(hint.height(), needed))

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The strip's minimum changed (a label wrapped, a row appeared under an answer):
        this area's minimum did too, so the splitters above make room for it."""
        if event.type() == QEvent.Type.LayoutRequest and watched is self.widget():
            self.updateGeometry()
        return super().eventFilter(watched, event)


class ColumnRow(QHBoxLayout):
    """The columns side by side, as tall as the board shows them. A column's word-wrapped
    labels give it a height for each width; the scroll area would then size the strip by
    that (the columns' preferred height) and cut off what sits under the answer (Continue,
    the rating) on a small screen. Without it, the strip takes the view's height."""

    def hasHeightForWidth(self) -> bool:
        return False


class ColumnStrip(QWidget):
    """The row the columns sit in; it takes a dragged column and moves it where it drops."""

    def __init__(self, board: RunBoard) -> None:
        super().__init__(board)
        self._board = board
        self.setAcceptDrops(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(COLUMN_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(COLUMN_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        data = event.mimeData()
        if not data.hasFormat(COLUMN_MIME):
            return
        column_id = bytes(data.data(COLUMN_MIME).data()).decode()
        columns = self._board.columns
        dragged = next((c for c in columns if c.column_id == column_id), None)
        if dragged is not None:
            current, index = columns.index(dragged), self.drop_index(event.position().x())
            target = index - 1 if index > current else index  # the slot, once it is out
            if target != current:
                self._board.move_column(column_id, target - current)
            event.acceptProposedAction()

    def drop_index(self, x: float) -> int:
        """Where a column dropped at ``x`` goes: before the first visible column whose
        middle lies to the right of ``x``."""
        columns = self._board.columns
        for column in columns:
            if not column.isHidden() and x < column.geometry().center().x():
                return columns.index(column)
        return len(columns)


class RunBoard(QWidget):
    runAllRequested = Signal()
    stopAllRequested = Signal()
    runColumnRequested = Signal(str)
    stopColumnRequested = Signal(str)
    toolStepRequested = Signal(str)  # column id: answer its tool calls with the mocks
    endpointChanged = Signal(str)  # column id
    configChanged = Signal()
    previewRequested = Signal(str)  # column id
    modelsRequested = Signal(str)  # column id
    columnAdded = Signal(str)  # column id: a new column, e.g. to show its key status
    answerPinned = Signal(str, str, str)  # label, detail, text: to keep with the prompt
    pinClosed = Signal(int)  # a kept pin's id
    continueRequested = Signal(str, str)  # column id, the user's next turn
    conversationUseRequested = Signal(str, str)  # column id, "prompt" or "case"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runBoard")
        self.columns: list[RunColumn] = []
        self.profiles: list[ProviderProfile] = list(PROFILE_PRESETS)
        self.tools: tuple[ToolDef, ...] = ()  # the prompt's tools, shown in every column
        self.run_all_button = QPushButton("Run all  (Ctrl+Enter)", self)
        self.run_all_button.setObjectName("runButton")
        self.stop_all_button = QPushButton("Stop all  (Esc)", self)
        self.stop_all_button.setObjectName("stopButton")
        self.stop_all_button.setEnabled(False)
        self.add_button = QPushButton("Add column", self)
        self.add_button.setObjectName("addColumn")
        self.repeats = QSpinBox(self)
        self.repeats.setObjectName("samples")
        self.repeats.setRange(1, MAX_SAMPLES)
        self.repeats.setPrefix("× ")
        self.repeats.setToolTip(
            "Samples per column: run each column n times to see how consistent the answers are "
            "(sets every column; a column asking for more than one shows × n in its title)"
        )
        self.repeats.setAccessibleName("Samples per column")
        self.summary = QLabel(self)
        self.summary.setObjectName("runSummary")
        self.summary.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("<b>Run</b>", self))
        bar.addWidget(self.run_all_button)
        bar.addWidget(self.stop_all_button)
        bar.addWidget(self.add_button)
        bar.addWidget(QLabel("Samples", self))
        bar.addWidget(self.repeats)
        bar.addStretch(1)

        self._strip = ColumnStrip(self)
        self._row = ColumnRow(self._strip)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._scroll = ColumnsArea(self)
        self._scroll.setObjectName("columnsArea")
        self._scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the columns take Tab, not the area
        self._scroll.setWidgetResizable(True)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._scroll.setWidget(self._strip)
        self.pinned = PinnedAnswers(self)
        self.pinned.pinClosed.connect(self.pinClosed)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self._scroll)
        split.addWidget(self.pinned)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.summary)

        self._active: set[str] = set()
        self._feed: Feed[str, TargetUpdate] = Feed()  # the run worker puts, flush() drains
        self.maximised: str | None = None
        self.folded_ids: dict[str, bool] = {}  # column id -> folded, for later layouts
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_INTERVAL_MS)
        self._timer.timeout.connect(self.flush)
        self.run_all_button.clicked.connect(self.runAllRequested)
        self.stop_all_button.clicked.connect(self.stopAllRequested)
        self.add_button.clicked.connect(lambda: self.add_column())
        self.repeats.valueChanged.connect(self.set_samples)
        self.add_column()

    # ---- the column set ------------------------------------------------------------------

    def column(self, column_id: str) -> RunColumn:
        return next(c for c in self.columns if c.column_id == column_id)

    def configs(self) -> list[ColumnConfig]:
        return [column.config() for column in self.columns]

    def set_configs(self, configs: Sequence[ColumnConfig]) -> None:
        """Replace the columns (e.g. with a stored version's); at least one remains.

        Folding is a way of looking, not part of the prompt: a column keeps its fold by id,
        and a column new to the board takes the fold of the one it replaces."""
        by_position = [column.folded for column in self.columns]
        for column in list(self.columns):
            self._drop(column)
        self.summary.clear()
        for index, config in enumerate(configs or [ColumnConfig()]):
            added = self.add_column(config, notify=False)
            if added is not None:
                fold = self.folded_ids.get(config.id)
                if fold is None and index < len(by_position):
                    fold = by_position[index]
                added.set_folded(bool(fold))
        self.configChanged.emit()

    # ---- samples -------------------------------------------------------------------------

    def set_samples(self, samples: int) -> None:
        """Every column asks for ``samples`` answers per run (the "Samples" box)."""
        for column in self.columns:
            column.set_sample_count(samples)

    # ---- folding ---------------------------------------------------------------------------

    def folded(self) -> list[str]:
        """The ids of the folded columns (kept with the column layout in ui-state)."""
        return [column.column_id for column in self.columns if column.folded]

    def set_folded_ids(self, column_ids: Iterable[str]) -> None:
        """Fold the columns with these ids (and remember them for later layouts)."""
        wanted = set(column_ids)
        self.folded_ids.update(dict.fromkeys(wanted, True))
        for column in self.columns:
            column.set_folded(column.column_id in wanted)

    def toggle_fold_all(self) -> None:
        """Fold every column's settings, or unfold them all when all are folded."""
        fold = not all(column.folded for column in self.columns)
        for column in self.columns:
            column.set_folded(fold)

    def focus_answer(self, reason: Qt.FocusReason = Qt.FocusReason.OtherFocusReason) -> None:
        """Put the keyboard in the first column's answer (Ctrl+3, F6)."""
        self.columns[0].output.setFocus(reason)

    def add_column(
        self, config: ColumnConfig | None = None, *, after: str | None = None, notify: bool = True
    ) -> RunColumn | None:
        if len(self.columns) >= MAX_COLUMNS:
            self.summary.setText(f"At most {MAX_COLUMNS} columns.")
            return None
        if config is None:  # a new column starts like the last one, so it is quick to vary
            config = ColumnConfig(samples=self.repeats.value())
            if self.columns:
                config = replace(self.columns[-1].config().duplicate(), model="")
        column = RunColumn(config, self.profiles, self._strip)
        column.set_tools(self.tools)
        column.runRequested.connect(self.runColumnRequested)
        column.stopRequested.connect(self.stopColumnRequested)
        column.toolStepRequested.connect(self.toolStepRequested)
        column.duplicateRequested.connect(self.duplicate_column)
        column.removeRequested.connect(self.remove_column)
        column.endpointChanged.connect(self.endpointChanged)
        column.configChanged.connect(self.configChanged)
        column.moveRequested.connect(self.move_column)
        column.maximiseRequested.connect(self.toggle_maximised)
        column.previewRequested.connect(self.previewRequested)
        column.compareRequested.connect(self._offer_comparisons)
        column.pinRequested.connect(self.pin_answer)
        column.modelsRequested.connect(self.modelsRequested)
        column.foldedChanged.connect(self.folded_ids.__setitem__)  # kept for later layouts
        column.continueRequested.connect(self.continueRequested)
        column.conversationUseRequested.connect(self.conversationUseRequested)
        index = len(self.columns)
        if after is not None:
            index = [c.column_id for c in self.columns].index(after) + 1
        if notify and self.columns:  # a new column looks like its neighbour
            column.set_folded(self.columns[index - 1].folded)
        self.columns.insert(index, column)
        self._row.insertWidget(index, column, 1)
        self._update_buttons()
        self.columnAdded.emit(column.column_id)
        if notify:
            self.configChanged.emit()
        return column

    def show_banner(self, banner: QWidget) -> None:
        """Show ``banner`` between the run bar and the columns (the first-launch offer)."""
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, banner)
        banner.show()

    def set_tools(self, tools: Sequence[ToolDef]) -> None:
        """The prompt's tools: each column checks the calls it shows against them."""
        self.tools = tuple(tools)
        for column in self.columns:
            column.set_tools(self.tools)

    def set_profiles(self, profiles: Sequence[ProviderProfile]) -> None:
        self.profiles = list(profiles)
        for column in self.columns:
            column.set_profiles(self.profiles)

    def duplicate_column(self, column_id: str) -> RunColumn | None:
        return self.add_column(self.column(column_id).config().duplicate(), after=column_id)

    def move_column(self, column_id: str, delta: int) -> None:
        column = self.column(column_id)
        index = self.columns.index(column)
        target = max(0, min(len(self.columns) - 1, index + delta))
        if target == index:
            return
        self.columns.insert(target, self.columns.pop(index))
        self._row.removeWidget(column)
        self._row.insertWidget(target, column, 1)
        self._update_buttons()
        self.configChanged.emit()

    def toggle_maximised(self, column_id: str) -> None:
        """Show only this column, or every column again."""
        self.maximised = None if self.maximised == column_id else column_id
        for column in self.columns:
            column.setHidden(self.maximised is not None and column.column_id != self.maximised)

    def remove_column(self, column_id: str) -> None:
        if len(self.columns) <= 1 or column_id in self._active:
            return
        if self.maximised == column_id:
            self.toggle_maximised(column_id)
        self._drop(self.column(column_id))
        self._update_buttons()
        self.configChanged.emit()

    def _drop(self, column: RunColumn) -> None:
        self.columns.remove(column)
        self._row.removeWidget(column)
        column.deleteLater()

    def _update_buttons(self) -> None:
        """Each column's place, what can be added, and the columns' samples (the largest,
        should stored columns differ) in the box."""
        for index, column in enumerate(self.columns):
            column.set_place(index, len(self.columns))
        self.add_button.setEnabled(len(self.columns) < MAX_COLUMNS)
        self.repeats.blockSignals(True)
        self.repeats.setValue(max((c.sample_count for c in self.columns), default=1))
        self.repeats.blockSignals(False)

    # ---- reading the answers ------------------------------------------------------------

    def _offer_comparisons(self, column_id: str) -> None:
        """Fill the column's "Compare the answer with": its previous run, the other answers."""
        column = self.column(column_id)
        choices: list[tuple[str, Callable[[], object]]] = []
        if column.answers.previous_text is not None:
            choices.append(("Its previous run", functools.partial(compare_previous, column, self)))
        for other in self.columns:
            if other is not column and other.result is not None:
                compare = functools.partial(compare_answers, column, other, self)
                choices.append((other.config().model or "no model", compare))
        column.offer_comparisons(choices)

    def pin_answer(self, column_id: str) -> None:
        """Keep this answer as a tab beside later runs (``answerPinned`` asks for it to be
        kept with the prompt; :meth:`add_pin` then shows it)."""
        column = self.column(column_id)
        text = column.answer_text()
        if not text:
            return
        stamp = datetime.now().strftime("%H:%M:%S")
        config = column.config()
        label = f"{config.model or 'answer'} · {stamp}"
        self.answerPinned.emit(label, target_summary(config), text)

    def add_pin(self, pin_id: int | None, label: str, detail: str, text: str) -> None:
        """Show a pinned answer as a tab; ``pin_id`` is its id in the library, if kept."""
        self.pinned.add_pin(pin_id, label, detail, text)

    def set_pins(self, pins: Iterable[tuple[int | None, str, str, str]]) -> None:
        """Show these pins (id, label, detail, text) instead of the current ones."""
        self.pinned.set_pins(pins)

    def pin_ids(self) -> list[int | None]:
        return self.pinned.pin_ids()

    # ---- runs ------------------------------------------------------------------------------

    @property
    def active_ids(self) -> frozenset[str]:
        """The columns streaming now (a run's or a conversation's next step)."""
        return frozenset(self._active)

    def begin(self, column_ids: Iterable[str], samples: int | None = None) -> None:
        """Columns start a run of ``samples`` answers each (default: each column's own)."""
        for column_id in column_ids:
            column = self.column(column_id)
            column.begin_run(samples)
            self._active.add(column_id)
        self.summary.clear()
        self.stop_all_button.setEnabled(True)
        self._timer.start()

    def on_update(self, key: str, result: TargetResult, delta: str) -> None:
        """The run engine's callback, on the run worker's thread: it only puts the update in
        the feed; the GUI's flush timer does all widget work."""
        self._feed.put(key, TargetUpdate(result, delta, result.output_chunks))

    def flush(self) -> None:
        """Hand the running columns what arrived since the last flush, and show it (what
        arrived for a column that ended meanwhile is dropped)."""
        arrived: dict[str, dict[int, list[TargetUpdate]]] = {}
        for key, updates in self._feed.drain().items():
            column_id, sample = split_sample_key(key)
            arrived.setdefault(column_id, {})[sample] = updates
        for column in self.columns:
            if column.column_id in self._active:
                column.flush(arrived.get(column.column_id, {}))

    def end(self, column_ids: Iterable[str]) -> None:
        self.flush()  # what the run reported before it ended
        for column_id in column_ids:
            self._active.discard(column_id)
            if any(c.column_id == column_id for c in self.columns):
                self.column(column_id).end_run()
        if not self._active:
            self._timer.stop()
            self.stop_all_button.setEnabled(False)
        self.summary.setText(summary_text(self.columns))


def summary_text(columns: Sequence[RunColumn]) -> str:
    """The summary row after a run: the fastest, quickest to the first token and cheapest
    answer when two or more are done, and what the run cost."""
    done = [
        (column, column.result)
        for column in columns
        if column.result is not None and column.result.status == TargetStatus.DONE
    ]
    if len(done) < 2:
        return run_cost_text(columns) if done else ""
    parts = []
    timed = [(c, r) for c, r in done if r.total_ms is not None]
    if timed:
        fastest, result = min(timed, key=lambda pair: pair[1].total_ms or 0.0)
        parts.append(f"Fastest: {fastest.config().model} ({ms_text(result.total_ms)})")
    first = [(c, r) for c, r in done if r.ttft_ms is not None]
    if first:
        quickest, result = min(first, key=lambda pair: pair[1].ttft_ms or 0.0)
        parts.append(f"first token: {quickest.config().model} ({ms_text(result.ttft_ms)})")
    priced = [(c, r) for c, r in done if r.cost is not None]
    if priced:
        cheapest, result = min(priced, key=lambda pair: pair[1].cost or 0.0)
        parts.append(f"cheapest: {cheapest.config().model} ({cost_text(result.cost)})")
    parts.append(run_cost_text(columns))
    return "  ·  ".join(parts)


def run_cost_text(columns: Sequence[RunColumn]) -> str:
    """The run's total cost over every sample; says when some prices are unknown."""
    results = [r for column in columns for r in column.answers.samples if r is not None]
    finished = [r for r in results if r.status.finished]
    known = [r.cost for r in finished if r.cost is not None]
    if not finished:
        return ""
    if not known:
        return "run cost — (no price known for these models)"
    total = f"run cost {cost_text(sum(known))}"
    unknown = len(finished) - len(known)
    return total + (f" + {unknown} without a known price" if unknown else "")


def compare_answers(left: RunColumn, right: RunColumn, parent: QWidget) -> CompareDialog:
    """Show the answers of two columns side by side, their differences marked."""
    from promptstudio.ui.board.compare_dialog import CompareDialog

    dialog = CompareDialog(
        left.config().model or "left", left.answer_text(),
        right.config().model or "right", right.answer_text(), parent,
    )  # fmt: skip
    dialog.open()
    return dialog


def compare_previous(column: RunColumn, parent: QWidget) -> CompareDialog:
    """Show a column's answer beside the one its previous run gave."""
    from promptstudio.ui.board.compare_dialog import CompareDialog

    model = column.config().model or "this column"
    dialog = CompareDialog(
        f"{model} · previous run", column.answers.previous_text or "",
        f"{model} · this run", column.answer_text(), parent,
    )  # fmt: skip
    dialog.open()
    return dialog
