"""One column of the run board: where to send the prompt, and the answer streaming back.

Streamed text is collected in a buffer and written to the view only by the board's flush
timer (~30 Hz), so a fast model costs one widget update per frame, never one per token.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from typing import Any

import jsonschema
from PySide6.QtCore import QByteArray, QEvent, QMimeData, QPoint, QStringListModel, Qt, Signal
from PySide6.QtGui import (
    QDrag,
    QFontDatabase,
    QGuiApplication,
    QIntValidator,
    QMouseEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QTabBar,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from promptstudio.durations import format_ms as ms_text
from promptstudio.evals.json_answers import format_json
from promptstudio.providers import PRESETS as PROFILE_PRESETS
from promptstudio.providers import (
    GenerationParams,
    ProviderError,
    ProviderProfile,
    resolve_api,
    supported_params,
)
from promptstudio.providers.param_rules import PARAM_RULES as RULES
from promptstudio.runs import TargetResult, TargetStatus
from promptstudio.runs.columns import ColumnConfig as ColumnConfig  # the widgets import it here
from promptstudio.runs.consistency import consistency
from promptstudio.runs.feed import TargetUpdate
from promptstudio.ui.board.answer_view import AnswerView
from promptstudio.ui.formatting import format_cost
from promptstudio.ui.theme import symbol_icon

VIEW_MODES = ("Text", "Markdown", "JSON")
API_NAMES = {"chat": "Chat Completions", "responses": "Responses", "messages": "Anthropic Messages"}
RENDER_INTERVAL_S = 0.5
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


def profile_label(profile: ProviderProfile) -> str:
    return f"{profile.name} — {profile.base_url}"


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

    def __init__(
        self,
        config: ColumnConfig,
        profiles: Sequence[ProviderProfile] = PROFILE_PRESETS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.column_id = config.id
        self.profiles: list[ProviderProfile] = list(profiles)
        self.setObjectName(f"runColumn:{config.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(MIN_COLUMN_WIDTH)

        self.title = DragHandle(self)
        self.title.setObjectName("columnTitle")
        self.title.setMinimumWidth(40)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.status = QLabel("Ready", self)
        self.status.setObjectName("runStatus")
        self.run_button = self._tool(
            "run", "Run this column", lambda: self.runRequested.emit(self.column_id)
        )
        self.stop_button = self._tool(
            "stop", "Stop this column", lambda: self.stopRequested.emit(self.column_id)
        )
        self.stop_button.setEnabled(False)
        self.menu_button = QToolButton(self)
        self.menu_button.setText("⋯")
        self.menu_button.setToolTip("More for this column")
        self.menu_button.setAutoRaise(True)
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.menu_button)
        emit = self.column_id
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
        self.remove_button = self._tool(
            "close",
            "Remove this column",
            lambda: self.removeRequested.emit(self.column_id),
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

        self.endpoint = QComboBox(self)
        self.endpoint.setObjectName("endpoint")
        self.endpoint.setEditable(True)
        self.endpoint.setToolTip(
            "A provider from Settings > Providers, or the base URL of any OpenAI-compatible "
            "server (including /v1)"
        )
        self.endpoint.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # Sized by a few characters, not by the longest "name — URL": that one alone made
        # every column 640 px wide and the window wider than a 1280 px screen.
        self.endpoint.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.endpoint.setMinimumContentsLength(12)
        self._fill_profiles()
        self.model = QLineEdit(self)
        self.model.setObjectName("model")
        self.model.setPlaceholderText("model name, e.g. llama3.2 or gpt-4o-mini")
        self.model_list = QStringListModel(self)
        completer = QCompleter(self.model_list, self.model)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.model.setCompleter(completer)
        self.models_button = QToolButton(self)
        self.models_button.setText("↻")
        self.models_button.setObjectName("fetchModels")
        self.models_button.setToolTip("Fetch the server's model list")
        self.models_button.setAccessibleName("Fetch the server's model list")
        self.models_button.clicked.connect(lambda: self.modelsRequested.emit(self.column_id))
        self.models_status = QLabel(self)  # "fetching…", "12 models" or "no list"
        self.models_status.setObjectName("modelsStatus")
        self.models_status.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.key = QLineEdit(self)
        self.key.setObjectName("apiKey")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("optional; goes to the OS keychain")
        self.key_status = QLabel(self)
        self.key_status.setObjectName("keyStatus")
        self.key_status.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.temperature = QDoubleSpinBox(self)
        self.temperature.setRange(-0.1, RULES["temperature"].maximum)
        self.temperature.setSingleStep(0.1)
        self.temperature.setSpecialValueText("default")
        self.temperature.setValue(-0.1)
        self.max_tokens = QSpinBox(self)
        self.max_tokens.setRange(0, int(RULES["max_tokens"].maximum))
        self.max_tokens.setSpecialValueText("default")
        form = QFormLayout()
        form.addRow("&Server", self.endpoint)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.models_button)
        model_row.addWidget(self.models_status)
        model_label = QLabel("&Model", self)
        model_label.setBuddy(self.model)
        form.addRow(model_label, model_row)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.key_status)
        key_label = QLabel("API &key", self)
        key_label.setBuddy(self.key)
        form.addRow(key_label, key_row)
        params = QHBoxLayout()
        params.addWidget(QLabel("Temp.", self))
        params.addWidget(self.temperature)
        params.addWidget(QLabel("Max tokens", self))
        params.addWidget(self.max_tokens)
        self.more_button = QToolButton(self)
        self.more_button.setText("More")
        self.more_button.setCheckable(True)
        self.more_button.setToolTip("top_p, seed and stop sequences")
        params.addWidget(self.more_button)
        params.addStretch(1)
        form.addRow(params)
        self.top_p = QDoubleSpinBox(self)
        self.top_p.setRange(-0.01, RULES["top_p"].maximum)
        self.top_p.setSingleStep(0.05)
        self.top_p.setSpecialValueText("default")
        self.top_p.setValue(-0.01)
        self.seed = QLineEdit(self)
        self.seed.setPlaceholderText("none")
        self.seed.setValidator(QIntValidator(0, int(RULES["seed"].maximum), self))
        self.seed.setMaximumWidth(110)
        self.stop = QLineEdit(self)
        self.stop.setObjectName("stopSequences")
        self.stop.setPlaceholderText("stop sequences, separated by |")
        self.top_k = QSpinBox(self)
        self.top_k.setRange(0, int(RULES["top_k"].maximum))
        self.top_k.setSpecialValueText("default")
        self.reasoning = QComboBox(self)
        self.reasoning.setObjectName("reasoningEffort")
        self.reasoning.addItems(["default", *RULES["reasoning_effort"].choices])
        self.thinking = QSpinBox(self)
        self.thinking.setRange(0, int(RULES["thinking_budget"].maximum))
        self.thinking.setSingleStep(1024)
        self.thinking.setSpecialValueText("off")
        self.json_mode = QCheckBox("JSON", self)
        self.json_mode.setToolTip("Ask for a JSON object (JSON mode)")
        self.schema_button = QToolButton(self)
        self.schema_button.setText("Schema…")
        self.schema_button.setCheckable(False)
        self.schema_button.setToolTip("Constrain the answer to a JSON schema")
        self.schema_button.clicked.connect(self.edit_schema)
        self.json_schema: dict[str, Any] | None = None
        self.more = QWidget(self)
        more = QGridLayout(self.more)
        more.setContentsMargins(0, 0, 0, 0)
        rows = (
            (("top_p", self.top_p), ("top_k", self.top_k), ("Seed", self.seed)),
            (("Reasoning", self.reasoning), ("Thinking", self.thinking), ("Stop", self.stop)),
        )
        for row, cells in enumerate(rows):
            for column, (label, widget) in enumerate(cells):
                more.addWidget(QLabel(label, self.more), row, column * 2)
                more.addWidget(widget, row, column * 2 + 1)
        json_row = QHBoxLayout()
        json_row.addWidget(self.json_mode)
        json_row.addWidget(self.schema_button)
        json_row.addStretch(1)
        more.addLayout(json_row, 2, 0, 1, 6)
        self.param_widgets: dict[str, QWidget] = {
            "temperature": self.temperature, "max_tokens": self.max_tokens,
            "top_p": self.top_p, "top_k": self.top_k, "seed": self.seed, "stop": self.stop,
            "reasoning_effort": self.reasoning, "thinking_budget": self.thinking,
            "json_mode": self.json_mode, "json_schema": self.schema_button,
        }  # fmt: skip
        self.more.hide()
        form.addRow(self.more)
        self.more_button.toggled.connect(self.more.setVisible)
        self.settings_panel = QWidget(self)  # what folding hides: server, model, parameters
        self.settings_panel.setObjectName("columnSettings")
        self.settings_panel.setLayout(form)
        form.setContentsMargins(0, 0, 0, 0)

        self.output = AnswerView(self)
        self.output.setObjectName("output")
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont))
        self.output.setPlaceholderText("The answer streams here.")
        self.rendered = QTextBrowser(self)
        self.rendered.setObjectName("renderedOutput")
        self.rendered.setOpenExternalLinks(False)
        self.rendered.setMinimumHeight(48)
        self.views = QStackedWidget(self)
        self.views.addWidget(self.output)
        self.views.addWidget(self.rendered)
        self.samples_bar = QTabBar(self)
        self.samples_bar.setObjectName("samples")
        self.samples_bar.setDocumentMode(True)
        self.samples_bar.setExpanding(False)
        self.samples_bar.hide()
        self.consistency = QLabel(self)
        self.consistency.setObjectName("consistency")
        self.consistency.hide()
        self.view_mode = QComboBox(self)
        self.view_mode.setObjectName("viewMode")
        self.view_mode.addItems(VIEW_MODES)
        self.view_mode.setToolTip("Show the answer as text, rendered Markdown or formatted JSON")
        self.wrap = QCheckBox("Wrap", self)
        self.wrap.setChecked(True)
        self.copy_button = QToolButton(self)
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy this answer")
        self.copy_button.setAutoRaise(True)
        self.json_status = QLabel(self)
        self.json_status.setObjectName("jsonStatus")
        self.json_status.hide()
        view_bar = QHBoxLayout()
        view_bar.addWidget(self.samples_bar, 1)
        view_bar.addWidget(self.view_mode)
        view_bar.addWidget(self.wrap)
        view_bar.addWidget(self.copy_button)
        self.error = QLabel(self)
        self.error.setObjectName("runError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d93025;")
        self.error.hide()
        self.metrics = QLabel(self)
        self.metrics.setObjectName("runMetrics")
        self.metrics.setWordWrap(True)
        self.metrics.setToolTip(METRICS_TIP)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.settings_panel)
        layout.addWidget(self.metrics)
        layout.addWidget(self.error)
        layout.addWidget(self.consistency)
        layout.addLayout(view_bar)
        layout.addWidget(self.json_status)
        layout.addWidget(self.views, 1)

        self._pending: list[str] = []  # text for the view at the next flush
        self._shown = 0  # how many of the selected sample's deltas the view has
        self.samples: list[TargetResult | None] = [None]
        self.previous_text: str | None = None  # the answer shown before this run
        self.selected = 0
        self._dirty = False
        self._rendered_at = 0.0
        self.flushes = 0  # how many times text reached the widget (tests, benchmarks)
        self.set_config(config)
        self.endpoint.currentTextChanged.connect(self._on_endpoint)
        self.model.textChanged.connect(self._on_changed)
        self.temperature.valueChanged.connect(self._on_changed)
        self.max_tokens.valueChanged.connect(self._on_changed)
        self.top_p.valueChanged.connect(self._on_changed)
        self.seed.textChanged.connect(self._on_changed)
        self.stop.textChanged.connect(self._on_changed)
        self.top_k.valueChanged.connect(self._on_changed)
        self.reasoning.currentTextChanged.connect(self._on_changed)
        self.thinking.valueChanged.connect(self._on_changed)
        self.json_mode.toggled.connect(self._on_changed)
        self.samples_bar.currentChanged.connect(self.select_sample)
        self.view_mode.currentTextChanged.connect(lambda _mode: self._refresh_view(force=True))
        self.wrap.toggled.connect(self._set_wrap)
        self.copy_button.clicked.connect(self.copy_answer)
        self._show_fold_state()

    def _tool(self, symbol: str, tip: str, slot: Any) -> QToolButton:
        button = QToolButton(self)
        button.setProperty("symbol", symbol)
        button.setIcon(symbol_icon(symbol, self.palette()))
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def changeEvent(self, event: QEvent) -> None:
        """A new theme: draw the header's symbols again in its colours."""
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "remove_button"):
            for button in (self.run_button, self.stop_button, self.remove_button):
                button.setIcon(symbol_icon(str(button.property("symbol")), self.palette()))
        super().changeEvent(event)

    # ---- configuration -----------------------------------------------------------------

    def config(self) -> ColumnConfig:
        temperature, top_p = self.temperature.value(), self.top_p.value()
        stops = tuple(part.strip() for part in self.stop.text().split("|") if part.strip())
        effort = self.reasoning.currentText()
        params = GenerationParams(
            temperature=None if temperature < 0 else round(temperature, 2),
            top_p=None if top_p < 0 else round(top_p, 2),
            max_tokens=self.max_tokens.value() or None,
            stop=stops,
            seed=int(self.seed.text()) if self.seed.text() else None,
            top_k=self.top_k.value() or None,
            reasoning_effort=None if effort == "default" else effort,
            thinking_budget=self.thinking.value() or None,
            json_mode=self.json_mode.isChecked(),
            json_schema=self.json_schema,
        )
        profile = self.profile()
        return ColumnConfig(
            base_url=self.base_url(),
            model=self.model.text().strip(),
            params=params,
            id=self.column_id,
            profile=profile.id if profile is not None else "",
        )

    def set_config(self, config: ColumnConfig) -> None:
        self._select_endpoint(config.profile, config.base_url)
        self.model.setText(config.model)
        params = config.params
        self.temperature.setValue(-0.1 if params.temperature is None else params.temperature)
        self.max_tokens.setValue(params.max_tokens or 0)
        self.top_p.setValue(-0.01 if params.top_p is None else params.top_p)
        self.seed.setText("" if params.seed is None else str(params.seed))
        self.stop.setText(" | ".join(params.stop))
        self.top_k.setValue(params.top_k or 0)
        self.reasoning.setCurrentText(params.reasoning_effort or "default")
        self.thinking.setValue(params.thinking_budget or 0)
        self.json_mode.setChecked(bool(params.json_mode))
        self.json_schema = params.json_schema
        self._update_schema_button()
        extras = (params.top_p, params.seed, params.top_k, params.reasoning_effort,
                  params.thinking_budget, params.json_schema)  # fmt: skip
        if params.stop or params.json_mode or any(v is not None for v in extras):
            self.more_button.setChecked(True)
        self._update_title()

    # ---- providers -----------------------------------------------------------------------

    def _fill_profiles(self) -> None:
        self.endpoint.blockSignals(True)
        text = self.endpoint.currentText()
        self.endpoint.clear()
        for profile in self.profiles:
            self.endpoint.addItem(profile_label(profile), profile.id)
            self.endpoint.setItemData(
                self.endpoint.count() - 1, profile.base_url, Qt.ItemDataRole.ToolTipRole
            )
        self.endpoint.setCurrentText(text)
        self.endpoint.blockSignals(False)

    def set_profiles(self, profiles: Sequence[ProviderProfile]) -> None:
        """New or edited providers (from settings); keep what this column points at."""
        profile, base_url = self.profile(), self.base_url()
        self.profiles = list(profiles)
        self._fill_profiles()
        self._select_endpoint(profile.id if profile else "", base_url)

    def profile(self) -> ProviderProfile | None:
        """The chosen provider, or None when a base URL was typed."""
        text = self.endpoint.currentText().strip()
        return next((p for p in self.profiles if profile_label(p) == text), None)

    def base_url(self) -> str:
        profile = self.profile()
        return profile.base_url if profile is not None else self.endpoint.currentText().strip()

    def _select_endpoint(self, profile_id: str, base_url: str) -> None:
        chosen = next((p for p in self.profiles if p.id == profile_id), None)
        if chosen is None:  # a typed URL that one of the providers serves counts as it
            url = base_url.rstrip("/")
            chosen = next((p for p in self.profiles if p.base_url == url), None)
        self.endpoint.setCurrentText(profile_label(chosen) if chosen else base_url)

    def set_target(self, base_url: str, model: str) -> None:
        self._select_endpoint("", base_url)
        self.model.setText(model)

    def models_fetching(self) -> None:
        """The model list was asked for: show that it is on its way."""
        self.models_button.setEnabled(False)
        self._show_models_status("fetching…", "Fetching the server's model list…")

    def models_failed(self, message: str) -> None:
        self.models_button.setEnabled(True)
        self._show_models_status("no list", f"Could not list the models: {message}")
        self.error.setText(f"Could not list the models: {message}")
        self.error.show()

    def _show_models_status(self, short: str, long: str) -> None:
        self.models_status.setText(short)
        self.models_status.setToolTip(long)
        self.models_status.setAccessibleName(long)
        self.models_button.setAccessibleDescription(long)

    def set_models(self, models: Sequence[str]) -> None:
        self.models_button.setEnabled(True)
        self.model_list.setStringList(list(models))
        self.models_button.setToolTip(f"{len(models)} models; fetch the list again")
        count = f"{len(models)} model{'s' if len(models) != 1 else ''}"
        self._show_models_status(count, f"{count} at this server; type to pick one")
        if models and self.model.hasFocus():
            self.model.completer().complete()

    def _on_endpoint(self, _text: str) -> None:
        self._on_changed()
        self.endpointChanged.emit(self.column_id)

    def _on_changed(self, *_args: object) -> None:
        self._update_title()
        self._update_supported()
        self.configChanged.emit()

    def api(self) -> str:
        """The protocol this column will speak: chat, responses or messages."""
        profile = self.profile()
        kind = profile.kind if profile is not None else "openai-compatible"
        try:
            return resolve_api(kind, profile.api if profile else "auto", self.model.text())
        except ProviderError:
            return "chat"

    def _update_supported(self) -> None:
        """Grey out what this column's API cannot carry (it would be refused on send)."""
        profile = self.profile()
        kind = profile.kind if profile is not None else "openai-compatible"
        api = self.api()
        supported = supported_params(api, kind)
        for name, widget in self.param_widgets.items():
            widget.setEnabled(name in supported)
            if name not in supported:
                widget.setToolTip(f"Not available with the {API_NAMES.get(api, api)} API")

    def edit_schema(self) -> QInputDialog:
        dialog = QInputDialog(self)
        dialog.setObjectName("schemaDialog")
        dialog.setWindowTitle("JSON schema")
        dialog.setLabelText("The answer must match this JSON schema (empty: none):")
        dialog.setOption(QInputDialog.InputDialogOption.UsePlainTextEditForTextInput)
        dialog.setTextValue(json.dumps(self.json_schema, indent=2) if self.json_schema else "")
        dialog.textValueSelected.connect(self.set_schema_text)
        dialog.open()
        return dialog

    def set_schema_text(self, text: str) -> bool:
        """Take a schema typed as JSON; a bad one is refused with the reason."""
        if not text.strip():
            self.json_schema = None
        else:
            try:
                schema = json.loads(text)
                if not isinstance(schema, dict):
                    raise ValueError("a schema is a JSON object")
                jsonschema.validators.validator_for(schema).check_schema(schema)
            except (ValueError, jsonschema.SchemaError) as exc:
                message = exc.message if isinstance(exc, jsonschema.SchemaError) else str(exc)
                self.fail_before_start(f"Not a usable JSON schema: {message}")
                return False
            self.json_schema = schema
            self.error.hide()
        self._update_schema_button()
        self._on_changed()
        return True

    def _update_schema_button(self) -> None:
        self.schema_button.setText("Schema ✓" if self.json_schema else "Schema…")

    def _update_title(self) -> None:
        model = self.model.text().strip() or "no model"
        profile = self.profile()
        endpoint = profile.name if profile is not None else self.base_url()
        folded = self.fold_button.isChecked()
        extra = "".join(f" · {part}" for part in params_summary(self.config().params))
        self.title.setText(f"<b>{model}</b> · {endpoint}{extra if folded else ''}")
        self.title.setToolTip(f"{model} at {self.base_url()}{extra}\nDrag to move this column.")

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
        self._show_fold_state()
        self._update_title()
        self.foldedChanged.emit(self.column_id, folded)

    def _show_fold_state(self) -> None:
        folded = self.fold_button.isChecked()
        self.fold_button.setArrowType(Qt.ArrowType.RightArrow if folded else Qt.ArrowType.DownArrow)
        name = "Show this column's settings" if folded else "Fold this column's settings"
        self.fold_button.setAccessibleName(name)
        self.fold_button.setToolTip(f"{name} (every column: {FOLD_SHORTCUT})")

    # ---- a run ---------------------------------------------------------------------------

    @property
    def result(self) -> TargetResult | None:
        """The answer on show (the selected sample)."""
        return self.samples[self.selected] if self.selected < len(self.samples) else None

    def answer_text(self) -> str:
        result = self.result
        return result.text if result is not None else self.output.toPlainText()

    def begin_run(self, samples: int = 1) -> None:
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
        self.output.clear()
        self.rendered.clear()
        self.json_status.hide()
        self.error.hide()
        self.metrics.clear()
        self.status.setText("Waiting…")
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)

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
            self.flushes += 1
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

    def end_run(self) -> None:
        self.flush()
        self._refresh_view(force=True)
        self._show_status()
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def fail_before_start(self, message: str) -> None:
        self.status.setText("Not sent")
        self.error.setText(message)
        self.error.show()
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def copy_answer(self) -> None:
        QGuiApplication.clipboard().setText(self.answer_text())

    def _set_wrap(self, wrap: bool) -> None:
        self.output.setLineWrapMode(
            QPlainTextEdit.LineWrapMode.WidgetWidth if wrap else QPlainTextEdit.LineWrapMode.NoWrap
        )
        self.rendered.setLineWrapMode(
            QTextBrowser.LineWrapMode.WidgetWidth if wrap else QTextBrowser.LineWrapMode.NoWrap
        )

    def _refresh_view(self, *, force: bool) -> None:
        """Text shows the live stream; Markdown and JSON re-render at most twice a second."""
        mode = self.view_mode.currentText()
        self.views.setCurrentIndex(0 if mode == "Text" else 1)
        if mode == "Text":
            self.json_status.hide()
            return
        now = time.monotonic()
        if not force and now - self._rendered_at < RENDER_INTERVAL_S:
            return
        self._rendered_at = now
        text = self.answer_text()
        if mode == "Markdown":
            self.json_status.hide()
            self.rendered.setMarkdown(text)
            return
        pretty, problem = format_json(text, self.json_schema)
        self.rendered.setPlainText(pretty)
        valid = "Valid JSON, matches the schema" if self.json_schema else "Valid JSON"
        self.json_status.setText(problem or valid)
        self.json_status.setStyleSheet("color: #d93025;" if problem else "color: #3c7a3c;")
        self.json_status.setVisible(bool(text.strip()))

    def _show_status(self) -> None:
        results = [r for r in self.samples if r is not None]
        for number, sample in enumerate(self.samples):
            mark = SAMPLE_MARK.get(sample.status, "") if sample is not None else ""
            self.samples_bar.setTabText(number, f"{number + 1}{mark}")
        result = self.result
        if result is None:
            return
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


def ending_text(result: TargetResult, reason: str) -> str:
    """Why an answer ended early, and how much of it had arrived."""
    if result.output_chunks or result.text:
        return f"Stopped after {result.output_chunks} tokens: {reason}"
    if result.status == TargetStatus.FAILED:
        return f"Failed: {reason}"
    return f"Stopped before the first token: {reason}"


def params_summary(params: GenerationParams) -> list[str]:
    """The parameters that differ from the server's defaults, briefly (a folded title)."""
    parts = []
    if params.temperature is not None:
        parts.append(f"T {params.temperature:g}")
    if params.max_tokens is not None:
        parts.append(f"max {params.max_tokens}")
    if params.top_p is not None:
        parts.append(f"top_p {params.top_p:g}")
    if params.top_k is not None:
        parts.append(f"top_k {params.top_k}")
    if params.seed is not None:
        parts.append(f"seed {params.seed}")
    if params.reasoning_effort:
        parts.append(f"reasoning {params.reasoning_effort}")
    if params.thinking_budget:
        parts.append(f"thinking {params.thinking_budget}")
    if params.stop:
        parts.append(f"{len(params.stop)} stop")
    if params.json_schema:
        parts.append("JSON schema")
    elif params.json_mode:
        parts.append("JSON")
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
