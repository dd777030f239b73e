"""One column of the run board: where to send the prompt, and the answer streaming back.

The settings panel (server, model, key, API, generation settings) is a
:class:`~promptstudio.ui.board.column_settings.ColumnSettings`, the answer an
:class:`~promptstudio.ui.board.answer_pane.AnswerPane`. Streamed text is collected in a
buffer and written to the view only by the board's flush timer (~30 Hz), so a fast model
costs one widget update per frame, never one per token.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import QDrag, QMouseEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from promptstudio.chat import Message
from promptstudio.durations import format_ms as ms_text
from promptstudio.local.model import SMALL_MODEL_NOTE, is_local_profile
from promptstudio.providers import PRESETS as PROFILE_PRESETS
from promptstudio.providers import GenerationParams, ProviderProfile
from promptstudio.providers.param_rules import PARAM_RULES
from promptstudio.runs import TargetResult, TargetStatus
from promptstudio.runs.columns import ColumnConfig as ColumnConfig  # the widgets import it here
from promptstudio.runs.consistency import consistency
from promptstudio.runs.feed import TargetUpdate
from promptstudio.tools import ToolDef
from promptstudio.ui import a11y
from promptstudio.ui.board.answer_pane import AnswerPane
from promptstudio.ui.board.column_settings import ColumnSettings
from promptstudio.ui.board.param_editors import (
    ChoiceEdit,
    FlagEdit,
    NumberEdit,
    SchemaEdit,
    TextsEdit,
)
from promptstudio.ui.board.thread_view import ThreadView, TurnBar
from promptstudio.ui.board.tool_calls_view import ToolCallsView, ToolStepBar, calls_html
from promptstudio.ui.formatting import format_cost
from promptstudio.ui.theme import set_status, symbol_icon

MIN_COLUMN_WIDTH = 340  # the parameter row's width: below it, labels are cut
FOLD_SHORTCUT = "Ctrl+Shift+M"  # the board's action: fold or unfold every column's settings
SAMPLE_MARK = {TargetStatus.DONE: " ✓", TargetStatus.FAILED: " ✗", TargetStatus.CANCELLED: " ■"}
STATUS_TEXT = {
    TargetStatus.QUEUED: "Queued",
    TargetStatus.WAITING: "Waiting…",
    TargetStatus.STREAMING: "Streaming…",
    TargetStatus.DONE: "Done",
    TargetStatus.FAILED: "Failed",
    TargetStatus.CANCELLED: "Stopped",
}


METRICS_TIP = (
    "TTFT (time to first token): from sending the request to the first text of the answer, "
    "retries included. Total: from sending the request to the end of the answer. Neither "
    "counts waiting in the queue for the server, nor PromptStudio's own start-up."
)
QUEUED_TIP = (
    "Waiting for an earlier request to the same server to end: a server on this machine "
    "gets one request at a time unless its provider says otherwise (Settings › Providers "
    "› Requests at once)."
)


COLUMN_MIME = "application/x-promptstudio-column"


class DragHandle(QLabel):
    """The column's title; drag it to move the column."""

    def __init__(self, column: RunColumn) -> None:
        super().__init__(column)
        self._column = column
        self._press: QPoint | None = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        moved = (event.position().toPoint() - self._press).manhattanLength()
        if moved < QApplication.startDragDistance():
            return
        self._press = None
        data = QMimeData()
        data.setData(COLUMN_MIME, QByteArray(self._column.column_id.encode()))
        drag = QDrag(self)
        drag.setMimeData(data)
        drag.setPixmap(self._column.grab().scaledToWidth(160))
        drag.exec(Qt.DropAction.MoveAction)


class RunColumn(QFrame):
    runRequested = Signal(str)  # column id
    toolStepRequested = Signal(str)  # column id: send the mock tool results back
    stopRequested = Signal(str)
    duplicateRequested = Signal(str)
    removeRequested = Signal(str)
    endpointChanged = Signal(str)  # column id
    configChanged = Signal()
    moveRequested = Signal(str, int)  # column id, -1 left / +1 right
    maximiseRequested = Signal(str)
    previewRequested = Signal(str)
    compareRequested = Signal(str)  # column id: the board asks which other answer
    modelsRequested = Signal(str)  # column id: fetch the server's model list
    pinRequested = Signal(str)
    foldedChanged = Signal(str, bool)  # column id, folded
    continueRequested = Signal(str, str)  # column id, the user's next turn
    conversationUseRequested = Signal(str, str)  # column id, "prompt" or "case"

    def __init__(
        self,
        config: ColumnConfig,
        profiles: Sequence[ProviderProfile] = PROFILE_PRESETS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.column_id = config.id
        self.sample_count = config.samples  # answers a run asks for (the board sets it)
        self.setObjectName(f"runColumn:{config.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(MIN_COLUMN_WIDTH)
        header = self._header()

        self.settings_panel = panel = ColumnSettings(profiles, self)  # what folding hides
        self.profiles = panel.profiles  # the providers offered (the panel keeps the list)
        # Its controls, as the board, the workspace and the tests reach them.
        self.endpoint, self.model, self.key = panel.endpoint, panel.model, panel.key
        self.models_button, self.models_status = panel.models_button, panel.models_status
        self.model_list, self.key_status = panel.model_list, panel.key_status
        self.api_choice, self.more_button, self.more = (
            panel.api_choice,
            panel.more_button,
            panel.more,
        )
        self.param_widgets = panel.editors
        self.temperature = panel.editor("temperature", NumberEdit)
        self.max_tokens = panel.editor("max_tokens", NumberEdit)
        self.top_p = panel.editor("top_p", NumberEdit)
        self.top_k = panel.editor("top_k", NumberEdit)
        self.seed = panel.editor("seed", NumberEdit)
        self.thinking = panel.editor("thinking_budget", NumberEdit)
        self.stop = panel.editor("stop", TextsEdit)
        self.reasoning = panel.editor("reasoning_effort", ChoiceEdit)
        self.json_mode = panel.editor("json_mode", FlagEdit)
        self.schema_button = panel.editor("json_schema", SchemaEdit)

        self.answer = AnswerPane(self)
        self.answer.text_source = self.answer_text
        self.output, self.rendered, self.views = (
            self.answer.output,
            self.answer.rendered,
            self.answer.views,
        )
        self.samples_bar, self.view_mode = self.answer.samples_bar, self.answer.view_mode
        self.wrap, self.copy_button = self.answer.wrap, self.answer.copy_button
        self.json_status = self.answer.json_status
        self.consistency = QLabel(self)
        self.consistency.setObjectName("consistency")
        self.consistency.hide()
        self.error = QLabel(self)
        self.error.setObjectName("runError")
        self.error.setWordWrap(True)
        set_status(self.error, "error")
        self.error.hide()
        self.metrics = QLabel(self)
        self.metrics.setObjectName("runMetrics")
        self.metrics.setWordWrap(True)
        self.metrics.setToolTip(METRICS_TIP)
        self.tools: tuple[ToolDef, ...] = ()  # the prompt's, to check calls against
        self.tool_calls = ToolCallsView(self)
        self.tool_steps = ""  # the record of earlier tool steps (ToolCallsView HTML)
        self.tool_bar = ToolStepBar(self)
        self.tool_bar.send.clicked.connect(lambda: self.toolStepRequested.emit(self.column_id))
        self.thread_view = ThreadView(self)  # the conversation before the answer
        self.turn_bar = TurnBar(self)  # Continue, and the next turn's input
        emit = config.id
        self.turn_bar.sent.connect(lambda text: self.continueRequested.emit(emit, text))
        self.turn_bar.stopRequested.connect(lambda: self.stopRequested.emit(emit))
        self.turn_bar.copyRequested.connect(
            lambda use: self.conversationUseRequested.emit(emit, use)
        )

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.settings_panel)
        layout.addWidget(self.metrics)
        layout.addWidget(self.error)
        layout.addWidget(self.consistency)
        layout.addWidget(self.thread_view, 1)
        layout.addWidget(self.tool_calls)
        layout.addWidget(self.tool_bar)
        layout.addWidget(self.answer, 1)
        layout.addWidget(self.turn_bar)

        self._pending: list[str] = []  # text for the view at the next flush
        self._shown = 0  # how many of the selected sample's deltas the view has
        self.samples: list[TargetResult | None] = [None]
        self.previous_text: str | None = None  # the answer shown before this run
        self.selected = 0
        self._dirty = False
        self.set_config(config)
        panel.changed.connect(self._update_title)
        panel.changed.connect(self.configChanged)
        panel.endpointChanged.connect(lambda: self.endpointChanged.emit(self.column_id))
        panel.modelsRequested.connect(lambda: self.modelsRequested.emit(self.column_id))
        panel.refused.connect(self.show_problem)
        self.samples_bar.currentChanged.connect(self.select_sample)
        self.view_mode.currentTextChanged.connect(lambda _mode: self._refresh_view(force=True))
        self.set_folded(False)

    def add_footer(self, row: QWidget, actions: Sequence[Any] = ()) -> None:
        """A row under the answer (the rating bar) and its QActions in the ⋯ menu."""
        layout, menu = self.layout(), self.menu_button.menu()
        assert layout is not None and menu is not None
        layout.addWidget(row)
        menu.addSeparator()
        menu.addActions(list(actions))

    def _header(self) -> QHBoxLayout:
        """The title line: fold, title (drag it), status, run, stop, the menu and remove."""
        self.title = DragHandle(self)
        self.title.setObjectName("columnTitle")
        self.title.setMinimumWidth(40)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.status = QLabel("Ready", self)
        self.status.setObjectName("runStatus")
        emit = self.column_id
        self.run_button = tool_button(
            self, "run", "Run this column", lambda: self.runRequested.emit(emit)
        )
        self.stop_button = tool_button(
            self, "stop", "Stop this column", lambda: self.stopRequested.emit(emit)
        )
        self.stop_button.setEnabled(False)
        self.menu_button = QToolButton(self)
        self.menu_button.setText("⋯")
        self.menu_button.setToolTip("More for this column")
        self.menu_button.setAccessibleName("More for this column")
        self.menu_button.setAutoRaise(True)
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.menu_button)
        menu.addAction("Duplicate", lambda: self.duplicateRequested.emit(emit))
        self.move_left = menu.addAction("Move left", lambda: self.moveRequested.emit(emit, -1))
        self.move_right = menu.addAction("Move right", lambda: self.moveRequested.emit(emit, 1))
        menu.addAction("Maximise / restore", lambda: self.maximiseRequested.emit(emit))
        menu.addAction("Preview the messages…", lambda: self.previewRequested.emit(emit))
        menu.addSeparator()
        self.compare_menu = menu.addMenu("Compare the answer with")
        self.compare_menu.aboutToShow.connect(lambda: self.compareRequested.emit(emit))
        menu.addAction("Pin the answer", lambda: self.pinRequested.emit(emit))
        self.menu_button.setMenu(menu)
        self.remove_button = tool_button(
            self, "close", "Remove this column", lambda: self.removeRequested.emit(emit)
        )
        self.fold_button = QToolButton(self)
        self.fold_button.setObjectName("foldSettings")
        self.fold_button.setCheckable(True)
        self.fold_button.setAutoRaise(True)
        self.fold_button.toggled.connect(self.set_folded)
        header = QHBoxLayout()
        header.addWidget(self.fold_button)
        header.addWidget(self.title, 1)
        header.addWidget(self.status)
        for button in (self.run_button, self.stop_button, self.menu_button, self.remove_button):
            header.addWidget(button)
        a11y.chain([self.fold_button, self.run_button, self.stop_button, self.menu_button,
                    self.remove_button])  # fmt: skip
        return header

    def changeEvent(self, event: QEvent) -> None:
        """A new theme: draw the header's symbols again in its colours."""
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "remove_button"):
            for button in (self.run_button, self.stop_button, self.remove_button):
                button.setIcon(symbol_icon(str(button.property("symbol")), self.palette()))
        super().changeEvent(event)

    # ---- configuration -----------------------------------------------------------------

    def config(self) -> ColumnConfig:
        return self.settings_panel.config(self.column_id, self.sample_count)

    def set_config(self, config: ColumnConfig) -> None:
        self.sample_count = config.samples
        self.settings_panel.set_config(config)
        self._update_title()

    def set_sample_count(self, samples: int) -> None:
        """How many answers a run of this column asks for (the board's "Samples")."""
        if samples != self.sample_count:
            self.sample_count = samples
            self._update_title()
            self.configChanged.emit()

    def set_profiles(self, profiles: Sequence[ProviderProfile]) -> None:
        """New or edited providers (from settings); keep what this column points at."""
        self.settings_panel.set_profiles(profiles)

    def profile(self) -> ProviderProfile | None:
        """The chosen provider, or None when a base URL was typed."""
        return self.settings_panel.profile()

    def base_url(self) -> str:
        return self.settings_panel.base_url()

    def api(self) -> str:
        """The protocol this column will speak: chat, responses or messages."""
        return self.settings_panel.api()

    def set_target(self, base_url: str, model: str) -> None:
        self.settings_panel.select_endpoint("", base_url)
        self.model.setText(model)

    def models_fetching(self) -> None:
        """The model list was asked for: show that it is on its way."""
        self.settings_panel.models_fetching()

    def models_failed(self, message: str) -> None:
        self.settings_panel.models_failed(message)
        self.error.setText(f"Could not list the models: {message}")
        self.error.show()

    def set_models(self, models: Sequence[str]) -> None:
        self.settings_panel.set_models(models)

    def set_schema_text(self, text: str) -> bool:
        """Take a JSON schema typed as JSON (empty: none); a bad one is refused, and why."""
        taken = self.schema_button.set_schema_text(text)
        if taken:
            self.error.hide()
        return taken

    def _update_title(self) -> None:
        config = self.config()
        model = config.model or "no model"
        profile = self.profile()
        endpoint = profile.name if profile is not None else config.base_url
        samples = [f"× {config.samples}"] if config.samples > 1 else []
        extra = "".join(f" · {part}" for part in [*samples, *params_summary(config.params)])
        shown = extra if self.folded else "".join(f" · {part}" for part in samples)
        small = is_local_profile(profile)  # the managed local model: say what it is for
        shown += " · <i>small model, for trying</i>" if small else ""
        note = f"\n{SMALL_MODEL_NOTE}" if small else ""
        self.title.setText(f"<b>{model}</b> · {endpoint}{shown}")
        self.title.setToolTip(
            f"{model} at {config.base_url}{extra}{note}\nDrag to move this column."
        )
        a11y.name_column(self)

    # ---- folding: the settings as one line, so the answer gets the room ------------------

    @property
    def folded(self) -> bool:
        return self.fold_button.isChecked()

    def set_folded(self, folded: bool) -> None:
        """Show the server, model and parameters, or only the title line that names them."""
        if self.fold_button.isChecked() != folded:
            self.fold_button.setChecked(folded)  # comes back here through ``toggled``
            return
        self.settings_panel.setVisible(not folded)
        self._update_title()
        self.fold_button.setArrowType(Qt.ArrowType.RightArrow if folded else Qt.ArrowType.DownArrow)
        name = "Show this column's settings" if folded else "Fold this column's settings"
        a11y.name_column(self)
        self.fold_button.setToolTip(f"{name} (every column: {FOLD_SHORTCUT})")
        self.foldedChanged.emit(self.column_id, folded)

    # ---- a run ---------------------------------------------------------------------------

    @property
    def result(self) -> TargetResult | None:
        """The answer on show (the selected sample)."""
        return self.samples[self.selected] if self.selected < len(self.samples) else None

    def answer_text(self) -> str:
        result = self.result
        return result.text if result is not None else self.output.toPlainText()

    def begin_run(self, samples: int | None = None) -> None:
        """A run starts: ``samples`` answers (default: the column's own count)."""
        samples = self.sample_count if samples is None else samples
        if self.result is not None and self.result.text:
            self.previous_text = self.result.text
        self._pending.clear()
        self._shown = 0
        self.samples = [None] * samples
        self.selected = 0
        self.samples_bar.blockSignals(True)
        while self.samples_bar.count():
            self.samples_bar.removeTab(0)
        for number in range(samples):
            self.samples_bar.addTab(str(number + 1))
        self.samples_bar.setCurrentIndex(0)
        self.samples_bar.blockSignals(False)
        self.samples_bar.setVisible(samples > 1)
        self.consistency.hide()
        self.tool_steps = ""
        self.tool_calls.show_calls("", "")
        self.tool_bar.summary.clear()
        self.answer.clear()
        self.thread_view.clear_turns()
        self.error.hide()
        self.metrics.clear()
        self.status.setText("Waiting…")
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self._update_turns()

    def receive(self, sample: int, updates: Sequence[TargetUpdate]) -> None:
        """Take what the run worker reported on one sample since the board's last flush."""
        self.samples[sample] = updates[-1].result
        self._dirty = True
        if sample != self.selected:
            return
        shown = self._shown  # deltas up to this one are in the view (or in _pending)
        self._pending += [u.delta for u in updates if u.chunks > shown and u.delta]
        self._shown = max(shown, updates[-1].chunks)  # counts only grow, in order

    def flush(self) -> None:
        """Write buffered text and refresh the figures; called by the board's timer."""
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            bar = self.output.verticalScrollBar()
            follow = bar.value() >= bar.maximum() - 40
            self.output.append_text(text)
            if follow:
                bar.setValue(bar.maximum())
            self._refresh_view(force=False)
        retrying = self.result is not None and self.result.retry is not None
        if self._dirty or retrying:  # a retry's countdown moves without new events
            self._dirty = False
            self._show_status()

    def select_sample(self, index: int) -> None:
        if not 0 <= index < len(self.samples):
            return
        self.selected = index
        self._pending.clear()
        result = self.samples[index]
        text, self._shown = result.text_so_far() if result is not None else ("", 0)
        self.output.set_text(text)
        self._refresh_view(force=True)
        self._show_status()
        self._update_turns()

    def end_run(self) -> None:
        self.flush()
        self._refresh_view(force=True)
        self._show_status()
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self._update_turns()

    def show_thread(self, turns: Sequence[Message], prompt_size: int, summary: str) -> None:
        """Show the conversation's turns after the prompt, before the answer on show."""
        self.thread_view.show_turns(turns, prompt_size, summary)
        self._update_turns()

    def offer_again(self, text: str) -> None:
        """The reply to the turn ``text`` failed: it is back in the input, to send again."""
        self.turn_bar.offer_again(text)

    def _update_turns(self) -> None:
        result = self.result
        finished = result is not None and result.status.finished and bool(result.text.strip())
        self.turn_bar.set_state(
            can_continue=finished,
            streaming=self.stop_button.isEnabled(),
            has_thread=bool(self.thread_view.turns),
        )

    def show_problem(self, message: str) -> None:
        """Say what is wrong with the column (a value typed out of range, a bad schema)."""
        self.error.setText(message)
        self.error.show()

    def fail_before_start(self, message: str) -> None:
        self.status.setText("Not sent")
        self.show_problem(message)
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _refresh_view(self, *, force: bool) -> None:
        if self.answer.due(force=force):  # the text only when a view renders it
            self.answer.show_rendered(self.answer_text(), self.schema_button.param_value())

    def _show_status(self) -> None:
        results = [r for r in self.samples if r is not None]
        for number, sample in enumerate(self.samples):
            mark = SAMPLE_MARK.get(sample.status, "") if sample is not None else ""
            self.samples_bar.setTabText(number, f"{number + 1}{mark}")
        result = self.result
        if result is None:
            return
        self._show_tool_calls(result)
        retry = result.retry
        if retry is not None and not result.status.finished:
            left = math.ceil(retry.seconds_left)
            self.status.setText(f"Retry {retry.attempt}/{retry.max_retries} in {left} s")
            self.error.setText(f"{retry.reason} — retrying in {left} s")
            self.error.show()
            self.metrics.setText("  ·  ".join(metric_parts(result)))
            return
        if len(self.samples) > 1:
            done = sum(1 for r in results if r.status.finished)
            status = STATUS_TEXT.get(result.status, str(result.status))
            self.status.setText(f"{done}/{len(self.samples)} · {status}")
        else:
            self.status.setText(STATUS_TEXT.get(result.status, str(result.status)))
        self.status.setToolTip(QUEUED_TIP if result.status is TargetStatus.QUEUED else "")
        self.metrics.setText("  ·  ".join(metric_parts(result)))
        if result.status in (TargetStatus.FAILED, TargetStatus.CANCELLED):
            reason = result.error.message if result.error is not None else "stopped by you"
            self.error.setText(ending_text(result, reason))
            self.error.show()
        else:
            self.error.hide()
        finished = [r for r in results if r.status == TargetStatus.DONE]
        if len(self.samples) > 1 and len(finished) == len(self.samples):
            figure = consistency([r.text for r in finished])
            if figure is not None:
                self.consistency.setText(figure.describe())
                self.consistency.setToolTip(f"Most common answer: {figure.majority[:300]}")
                self.consistency.show()

    def _show_tool_calls(self, result: TargetResult) -> None:
        finished = result.status.finished
        current = calls_html(result.tool_calls, self.tools, finished=finished)
        self.tool_calls.show_calls(self.tool_steps, current)
        waiting = result.status is TargetStatus.DONE and bool(result.tool_calls)
        self.tool_bar.setVisible(waiting or bool(self.tool_steps))
        self.tool_bar.send.setEnabled(waiting and self.tools != ())

    def set_tools(self, tools: Sequence[ToolDef]) -> None:
        """The prompt's tools: the calls shown are checked against them."""
        self.tools = tuple(tools)
        if self.result is not None:
            self._show_tool_calls(self.result)

    # ---- intents for the flows (the key status, a typed key, a cancelled model list) ----

    def show_key_status(self, short: str, long: str) -> None:
        """Say where this column's key comes from: ``short`` beside the field, ``long`` as
        its tooltip."""
        self.key_status.setText(short)
        self.key_status.setToolTip(long)
        self.key.setToolTip(long)

    def take_typed_key(self) -> str:
        """The key typed into the column ("" for none), cleared from the field."""
        typed = self.key.text().strip()
        if typed:
            self.key.clear()
        return typed

    def models_stopped(self) -> None:
        """The model list's fetch ended without a list (cancelled): it can be asked again."""
        self.models_button.setEnabled(True)


def tool_button(parent: QWidget, symbol: str, tip: str, slot: Any) -> QToolButton:
    """A header button drawn with one of the theme's symbols (redrawn on a new palette)."""
    button = QToolButton(parent)
    button.setProperty("symbol", symbol)
    button.setIcon(symbol_icon(symbol, parent.palette()))
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    button.setAutoRaise(True)
    button.clicked.connect(slot)
    return button


def ending_text(result: TargetResult, reason: str) -> str:
    """Why an answer ended early, and how much of it had arrived."""
    if result.output_chunks or result.text:
        return f"Stopped after {result.output_chunks} tokens: {reason}"
    if result.status == TargetStatus.FAILED:
        return f"Failed: {reason}"
    return f"Stopped before the first token: {reason}"


def params_summary(params: GenerationParams) -> list[str]:
    """The settings that are set, briefly and in the table's order (a folded title): each as
    its rule's ``short`` name and value ("T 0.7", "max 256", "2 stop", "JSON schema")."""
    parts = []
    for name in PARAM_RULES:
        value, rule = getattr(params, name), PARAM_RULES[name]
        if value is None or value is False or value == ():
            continue
        if rule.kind in ("number", "integer", "choice"):
            parts.append(
                f"{rule.short} {value:g}" if rule.kind == "number" else f"{rule.short} {value}"
            )
        elif rule.kind == "texts":
            parts.append(f"{len(value)} {rule.short}")
        else:
            parts.append(rule.short)
    return parts


def metric_parts(result: TargetResult) -> list[str]:
    """TTFT, total, tokens (``~`` when estimated) and tokens/s of one answer."""
    parts = [f"TTFT {ms_text(result.ttft_ms)}", f"total {ms_text(result.total_ms)}"]
    usage = result.usage
    if usage is not None:
        mark = "~" if usage.estimated else ""
        tokens_in = "—" if usage.input_tokens is None else usage.input_tokens
        tokens_out = "—" if usage.output_tokens is None else usage.output_tokens
        parts.append(f"tokens in {mark}{tokens_in} / out {mark}{tokens_out}")
    elif result.output_chunks:
        parts.append(f"~{result.output_chunks} tokens so far")
    rate = result.tokens_per_second
    if rate is not None:
        parts.append(f"{rate:.1f} tok/s")
    if result.status.finished:
        parts.append(cost_text(result.cost))
    return parts


def cost_text(cost: float | None) -> str:
    """A price when we know one; never a made-up number."""
    return "cost —" if cost is None else format_cost(cost)
