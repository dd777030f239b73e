"""The run board: N columns side by side, one prompt sent to all of them.

The board owns the single flush timer (~30 Hz) that moves buffered text into every
streaming column, and the summary row that marks the fastest answer across columns.
Columns scroll horizontally beyond the window's width.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from promptstudio.providers import PRESETS as PROFILE_PRESETS
from promptstudio.providers import ProviderProfile
from promptstudio.runs import TargetResult, TargetStatus
from promptstudio.runs.columns import MAX_SAMPLES, split_sample_key
from promptstudio.runs.feed import Feed, TargetUpdate
from promptstudio.tools import ToolDef
from promptstudio.ui import a11y
from promptstudio.ui.board.run_column import (
    COLUMN_MIME,
    ColumnConfig,
    RunColumn,
    cost_text,
    ms_text,
)

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
    """The row the columns sit in; it takes a dragged column and moves it."""

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
        if any(c.column_id == column_id for c in self._board.columns):
            self._board.move_to(column_id, self._board.drop_index(event.position().x()))
            event.acceptProposedAction()


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
        self.pinned = QTabWidget(self)
        self.pinned.setObjectName("pinnedAnswers")
        a11y.name_tabs(self.pinned, "Pinned answers")
        self.pinned.setTabsClosable(True)
        self.pinned.setDocumentMode(True)
        self.pinned.tabCloseRequested.connect(self._close_pinned)
        self.pinned.hide()
        self._split = split = QSplitter(Qt.Orientation.Horizontal, self)
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

    def _show_samples(self) -> None:
        """The box shows the columns' count (the largest, should stored columns differ)."""
        self.repeats.blockSignals(True)
        self.repeats.setValue(max((c.sample_count for c in self.columns), default=1))
        self.repeats.blockSignals(False)

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

    def _remember_fold(self, column_id: str, folded: bool) -> None:
        self.folded_ids[column_id] = folded

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
        column.compareRequested.connect(self._fill_compare_menu)
        column.pinRequested.connect(self.pin_answer)
        column.modelsRequested.connect(self.modelsRequested)
        column.foldedChanged.connect(self._remember_fold)
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

    def drop_index(self, x: float) -> int:
        """Where a column dropped at ``x`` (strip coordinates) goes: before the first
        visible column whose middle lies to the right of ``x``."""
        visible = [c for c in self.columns if not c.isHidden()]
        for column in visible:
            if x < column.geometry().center().x():
                return self.columns.index(column)
        return len(self.columns)

    def move_to(self, column_id: str, index: int) -> None:
        """Move a column so it lands in slot ``index`` of the order before the move."""
        column = self.column(column_id)
        current = self.columns.index(column)
        target = index - 1 if index > current else index
        if target != current:
            self.move_column(column_id, target - current)

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
        only = len(self.columns) == 1
        for index, column in enumerate(self.columns):
            column.remove_button.setEnabled(not only)
            column.move_left.setEnabled(index > 0)
            column.move_right.setEnabled(index < len(self.columns) - 1)
            a11y.name_column(column, index + 1)
        self.add_button.setEnabled(len(self.columns) < MAX_COLUMNS)
        self._show_samples()

    # ---- reading the answers ------------------------------------------------------------

    def _fill_compare_menu(self, column_id: str) -> None:
        column = self.column(column_id)
        menu = column.compare_menu
        menu.clear()
        if column.previous_text is not None:
            menu.addAction("Its previous run", lambda: self.compare_with_previous(column_id))
        for other in self.columns:
            if other is not column and other.result is not None:
                compare = functools.partial(self.compare, column_id, other.column_id)
                menu.addAction(other.config().model or "no model", compare)
        if menu.isEmpty():
            menu.addAction("No other answer yet").setEnabled(False)

    def compare(self, left_id: str, right_id: str) -> CompareDialog:
        from promptstudio.ui.board.compare_dialog import CompareDialog

        left, right = self.column(left_id), self.column(right_id)
        dialog = CompareDialog(
            left.config().model or "left", left.answer_text(),
            right.config().model or "right", right.answer_text(), self,
        )  # fmt: skip
        dialog.open()
        return dialog

    def compare_with_previous(self, column_id: str) -> CompareDialog:
        from promptstudio.ui.board.compare_dialog import CompareDialog

        column = self.column(column_id)
        model = column.config().model or "this column"
        dialog = CompareDialog(
            f"{model} · previous run", column.previous_text or "",
            f"{model} · this run", column.answer_text(), self,
        )  # fmt: skip
        dialog.open()
        return dialog

    def pin_answer(self, column_id: str) -> None:
        """Keep this answer as a tab beside later runs (``answerPinned`` asks for it to be
        kept with the prompt; :meth:`add_pin` then shows it)."""
        column = self.column(column_id)
        text = column.answer_text()
        if not text:
            return
        stamp = datetime.now().strftime("%H:%M:%S")
        label = f"{column.config().model or 'answer'} · {stamp}"
        self.answerPinned.emit(label, column.title.toolTip().split("\n")[0], text)

    def add_pin(self, pin_id: int | None, label: str, detail: str, text: str) -> None:
        """Show a pinned answer as a tab; ``pin_id`` is its id in the library, if kept."""
        view = QPlainTextEdit(self.pinned)
        view.setReadOnly(True)
        a11y.keyboard_selectable(view)
        view.setPlainText(text)
        view.setObjectName("pinnedAnswer")
        view.setAccessibleName(f"Pinned answer: {label}")
        index = self.pinned.addTab(view, label)
        self.pinned.setTabToolTip(index, detail)
        self.pinned.tabBar().setTabData(index, pin_id)
        self.pinned.setCurrentIndex(index)
        self._show_pinned()

    def set_pins(self, pins: Iterable[tuple[int | None, str, str, str]]) -> None:
        """Show these pins (id, label, detail, text) instead of the current ones."""
        while self.pinned.count():
            self._remove_pin_tab(0)
        for pin in pins:
            self.add_pin(*pin)
        self._show_pinned()

    def pin_ids(self) -> list[int | None]:
        bar = self.pinned.tabBar()
        return [bar.tabData(index) for index in range(bar.count())]

    def _show_pinned(self) -> None:
        """Show the pins beside the columns, taking a quarter of the width at most the first
        time (a splitter gives a newly shown pane its size hint, and the columns shrank to
        a strip)."""
        if not self.pinned.count():
            self.pinned.hide()
            return
        if not self.pinned.isHidden():
            return
        self.pinned.show()
        total = sum(self._split.sizes()) or self._split.width()
        side = min(max(total // 4, 200), 420)
        self._split.setSizes([max(total - side, 1), side])

    def _close_pinned(self, index: int) -> None:
        pin_id = self.pinned.tabBar().tabData(index)
        self._remove_pin_tab(index)
        self._show_pinned()
        if pin_id is not None:
            self.pinClosed.emit(pin_id)

    def _remove_pin_tab(self, index: int) -> None:
        widget = self.pinned.widget(index)
        self.pinned.removeTab(index)
        if widget is not None:
            widget.deleteLater()

    # ---- runs ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return bool(self._active)

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
        """Hand the running columns what arrived since the last flush, and show it."""
        running = {c.column_id: c for c in self.columns if c.column_id in self._active}
        for key, updates in self._feed.drain().items():
            column_id, sample = split_sample_key(key)
            column = running.get(column_id)
            if column is not None:  # not a column that ended meanwhile
                column.receive(sample, updates)
        for column in running.values():
            column.flush()

    def end(self, column_ids: Iterable[str]) -> None:
        self.flush()  # what the run reported before it ended
        for column_id in column_ids:
            self._active.discard(column_id)
            if any(c.column_id == column_id for c in self.columns):
                self.column(column_id).end_run()
        if not self._active:
            self._timer.stop()
            self.stop_all_button.setEnabled(False)
        self.update_summary()

    def update_summary(self) -> None:
        done = [
            (column, column.result)
            for column in self.columns
            if column.result is not None and column.result.status == TargetStatus.DONE
        ]
        if len(done) < 2:
            self.summary.setText(run_cost_text(self.columns) if done else "")
            return
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
        parts.append(run_cost_text(self.columns))
        self.summary.setText("  ·  ".join(parts))


def run_cost_text(columns: Sequence[RunColumn]) -> str:
    """The run's total cost over every sample; says when some prices are unknown."""
    results = [r for column in columns for r in column.samples if r is not None]
    finished = [r for r in results if r.status.finished]
    known = [r.cost for r in finished if r.cost is not None]
    if not finished:
        return ""
    if not known:
        return "run cost — (no price known for these models)"
    total = f"run cost {cost_text(sum(known))}"
    unknown = len(finished) - len(known)
    return total + (f" + {unknown} without a known price" if unknown else "")
