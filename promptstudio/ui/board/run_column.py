"""One column of the run board: where to send the prompt, and the answer streaming back.

The column puts its parts together, top to bottom: the title line
(:class:`~promptstudio.ui.board.column_header.ColumnHeader`), the settings panel
(:class:`~promptstudio.ui.board.column_settings.ColumnSettings`, what folding hides), the
stats lines (:class:`~promptstudio.ui.board.column_stats.ColumnStats`), the conversation so
far, the tool calls, the answer
(:class:`~promptstudio.ui.board.answer_pane.AnswerPane`) and the next turn's bar. What a run
streams is handled by :class:`~promptstudio.ui.board.column_answers.ColumnAnswers`; the
board's flush timer (~30 Hz) hands it what arrived, so a fast model costs one widget update
per frame, never one per token. Others ask the column for what they want through its
methods (``show_key_status``, ``fail_before_start``, ``set_place``, ...), not its widgets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from promptstudio.chat import Message
from promptstudio.providers import PRESETS as PROFILE_PRESETS
from promptstudio.providers import ProviderProfile
from promptstudio.runs import TargetResult
from promptstudio.runs.columns import ColumnConfig as ColumnConfig  # the widgets import it here
from promptstudio.runs.feed import TargetUpdate
from promptstudio.tools import ToolDef
from promptstudio.ui import a11y
from promptstudio.ui.board.answer_pane import AnswerPane
from promptstudio.ui.board.column_answers import ColumnAnswers
from promptstudio.ui.board.column_header import COLUMN_MIME as COLUMN_MIME
from promptstudio.ui.board.column_header import FOLD_SHORTCUT as FOLD_SHORTCUT
from promptstudio.ui.board.column_header import ColumnHeader
from promptstudio.ui.board.column_header import params_summary as params_summary
from promptstudio.ui.board.column_settings import ColumnSettings
from promptstudio.ui.board.column_stats import STATUS_TEXT as STATUS_TEXT
from promptstudio.ui.board.column_stats import ColumnStats
from promptstudio.ui.board.column_stats import cost_text as cost_text
from promptstudio.ui.board.column_stats import ms_text as ms_text
from promptstudio.ui.board.param_editors import (
    ChoiceEdit,
    FlagEdit,
    NumberEdit,
    SchemaEdit,
    TextsEdit,
)
from promptstudio.ui.board.thread_view import ThreadView, TurnBar
from promptstudio.ui.board.tool_calls_view import ColumnToolSteps

MIN_COLUMN_WIDTH = 340  # the parameter row's width: below it, labels are cut


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
    compareRequested = Signal(str)  # column id: the board offers the other answers
    modelsRequested = Signal(str)  # column id: fetch the server's model list
    pinRequested = Signal(str)
    foldedChanged = Signal(str, bool)  # column id, folded
    continueRequested = Signal(str, str)  # column id, the user's next turn
    conversationUseRequested = Signal(str, str)  # column id, "prompt" or "case"
    sampleShown = Signal(int)  # the sample now on show (its tab was picked)

    def __init__(
        self,
        config: ColumnConfig,
        profiles: Sequence[ProviderProfile] = PROFILE_PRESETS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.column_id = emit = config.id
        self.sample_count = config.samples  # answers a run asks for (the board sets it)
        self.folded = False  # the settings shown as one line (set_folded)
        self.setObjectName(f"runColumn:{config.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(MIN_COLUMN_WIDTH)
        # The parts, made in the order Tab visits them; their widgets keep their names here
        # (the board's accessible names, the tests and the window's shortcuts use them).
        self.header = header = ColumnHeader(self)
        self.title, self.status, self.fold_button = header.title, header.status, header.fold_button
        self.run_button, self.stop_button = header.run_button, header.stop_button
        self.menu_button, self.remove_button = header.menu_button, header.remove_button
        self.compare_menu = header.compare_menu
        self.move_left, self.move_right = header.move_left, header.move_right
        self.settings_panel = panel = ColumnSettings(profiles, self)  # what folding hides
        self.profiles = panel.profiles  # the providers offered (the panel keeps the list)
        self.endpoint, self.model, self.key = panel.endpoint, panel.model, panel.key
        self.models_button, self.models_status = panel.models_button, panel.models_status
        self.model_list, self.key_status = panel.model_list, panel.key_status
        self.api_choice, self.more_button = panel.api_choice, panel.more_button
        self.more = panel.more
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
        self.answer = answer = AnswerPane(self)
        self.output, self.rendered, self.views = answer.output, answer.rendered, answer.views
        self.samples_bar, self.view_mode = answer.samples_bar, answer.view_mode
        self.wrap, self.copy_button = answer.wrap, answer.copy_button
        self.json_status = answer.json_status
        self.stats = stats = ColumnStats(self, header.status)
        self.consistency, self.error, self.metrics = stats.consistency, stats.error, stats.metrics
        self.tool_steps = ColumnToolSteps(self)
        self.tool_calls, self.tool_bar = self.tool_steps.view, self.tool_steps.bar
        self.tool_bar.send.clicked.connect(lambda: self.toolStepRequested.emit(emit))
        self.thread_view = ThreadView(self)  # the conversation before the answer
        self.turn_bar = TurnBar(self)  # Continue, and the next turn's input
        self.turn_bar.sent.connect(lambda text: self.continueRequested.emit(emit, text))
        self.turn_bar.stopRequested.connect(lambda: self.stopRequested.emit(emit))
        self.turn_bar.copyRequested.connect(
            lambda use: self.conversationUseRequested.emit(emit, use)
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(panel)
        layout.addWidget(self.metrics)
        layout.addWidget(self.error)
        layout.addWidget(self.consistency)
        layout.addWidget(self.thread_view, 1)
        layout.addWidget(self.tool_calls)
        layout.addWidget(self.tool_bar)
        layout.addWidget(answer, 1)
        layout.addWidget(self.turn_bar)
        self.answers = ColumnAnswers(
            answer,
            stats,
            self.tool_steps,
            self.thread_view,
            self.turn_bar,
            streaming=lambda: header.running,
            schema=self.schema_button.param_value,
        )
        self.set_config(config)
        panel.changed.connect(header.show_title)
        panel.changed.connect(self.configChanged)
        panel.endpointChanged.connect(lambda: self.endpointChanged.emit(emit))
        panel.modelsRequested.connect(lambda: self.modelsRequested.emit(emit))
        panel.refused.connect(self.show_problem)
        self.samples_bar.currentChanged.connect(self.sampleShown)
        self.set_folded(False)

    def add_footer(self, row: QWidget, actions: Sequence[QAction] = ()) -> None:
        """A row under the answer (the rating bar) and its QActions in the ⋯ menu."""
        layout = self.layout()
        assert layout is not None
        layout.addWidget(row)
        self.header.add_menu_actions(actions)

    # ---- configuration -----------------------------------------------------------------

    def config(self) -> ColumnConfig:
        return self.settings_panel.config(self.column_id, self.sample_count)

    def set_config(self, config: ColumnConfig) -> None:
        self.sample_count = config.samples
        self.settings_panel.set_config(config)
        self.header.show_title()

    def set_sample_count(self, samples: int) -> None:
        """How many answers a run of this column asks for (the board's "Samples")."""
        if samples != self.sample_count:
            self.sample_count = samples
            self.header.show_title()
            self.configChanged.emit()

    def set_profiles(self, profiles: Sequence[ProviderProfile]) -> None:
        """New or edited providers (from settings); keep what this column points at."""
        self.settings_panel.set_profiles(profiles)

    def profile(self) -> ProviderProfile | None:
        """The chosen provider, or None when a base URL was typed."""
        return self.settings_panel.profile()

    def api(self) -> str:
        """The protocol this column will speak: chat, responses or messages."""
        return self.settings_panel.api()

    def set_target(self, base_url: str, model: str) -> None:
        self.settings_panel.select_endpoint("", base_url)
        self.model.setText(model)

    def focus_model(self) -> None:
        """Put the keyboard in the model field (what one changes first in a new column)."""
        self.model.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def set_schema_text(self, text: str) -> bool:
        """Take a JSON schema typed as JSON (empty: none); a bad one is refused, and why."""
        taken = self.schema_button.set_schema_text(text)
        if taken:
            self.stats.hide_problem()
        return taken

    # ---- the place on the board, folding -----------------------------------------------

    def set_place(self, index: int, count: int) -> None:
        """The column is number ``index`` (from 0) of the board's ``count``: what it can do
        (move left or right, be removed) and the names its controls give."""
        self.header.set_place(index, count)
        a11y.name_column(self, index + 1)

    def set_folded(self, folded: bool) -> None:
        """Show the server, model and parameters, or only the title line that names them."""
        if self.fold_button.isChecked() != folded:
            self.fold_button.setChecked(folded)  # comes back here through ``toggled``
            return
        self.folded = folded
        self.settings_panel.setVisible(not folded)
        self.header.show_title()
        self.header.show_fold(folded)
        self.foldedChanged.emit(self.column_id, folded)

    def offer_comparisons(self, choices: Sequence[tuple[str, Callable[[], object]]]) -> None:
        """Fill "Compare the answer with": each other answer's label and what choosing it does."""
        self.header.offer_comparisons(choices)

    # ---- a run ---------------------------------------------------------------------------

    @property
    def result(self) -> TargetResult | None:
        """The answer on show (the selected sample)."""
        return self.answers.result

    def answer_text(self) -> str:
        return self.answers.text()

    def begin_run(self, samples: int | None = None) -> None:
        """A run starts: ``samples`` answers (default: the column's own count)."""
        self.header.set_running(True)
        self.answers.begin(self.sample_count if samples is None else samples)

    def flush(self, arrived: Mapping[int, Sequence[TargetUpdate]] | None = None) -> None:
        """Show what the run worker reported on each sample since the board's last flush
        (the board's timer calls it)."""
        self.answers.flush(arrived or {})

    def end_run(self) -> None:
        self.header.set_running(False)
        self.answers.end()

    def fail_before_start(self, message: str) -> None:
        self.stats.not_sent(message)
        self.header.set_running(False)

    def show_problem(self, message: str) -> None:
        """Say what is wrong with the column (a value typed out of range, a bad schema)."""
        self.stats.show_problem(message)

    def show_thread(self, turns: Sequence[Message], prompt_size: int, summary: str) -> None:
        """Show the conversation's turns after the prompt, before the answer on show."""
        self.answers.show_thread(turns, prompt_size, summary)

    def offer_again(self, text: str) -> None:
        """The reply to the turn ``text`` failed: it is back in the input, to send again."""
        self.turn_bar.offer_again(text)

    def set_tools(self, tools: Sequence[ToolDef]) -> None:
        """The prompt's tools: the calls shown are checked against them."""
        self.tool_steps.tools = tuple(tools)
        if self.result is not None:
            self.tool_steps.show(self.result)

    # ---- intents for the flows (the key status, a typed key, the model list) ------------

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

    def models_fetching(self) -> None:
        """The model list was asked for: show that it is on its way."""
        self.settings_panel.models_fetching()

    def models_failed(self, message: str) -> None:
        self.settings_panel.models_failed(message)
        self.stats.show_problem(f"Could not list the models: {message}")

    def set_models(self, models: Sequence[str]) -> None:
        self.settings_panel.set_models(models)

    def models_stopped(self) -> None:
        """The model list's fetch ended without a list (cancelled): it can be asked again."""
        self.models_button.setEnabled(True)
