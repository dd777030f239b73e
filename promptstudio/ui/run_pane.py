"""The run pane: where to send the prompt, and the answer streaming back.

Streamed text is collected in a buffer and written to the view by a timer at ~30 Hz, so a
fast model costs one widget update per frame, never one per token.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from promptstudio.providers import GenerationParams
from promptstudio.runs import TargetResult, TargetStatus

FLUSH_INTERVAL_MS = 33
PRESETS: tuple[tuple[str, str], ...] = (
    ("Ollama", "http://localhost:11434/v1"),
    ("LM Studio", "http://localhost:1234/v1"),
    ("llama.cpp server", "http://localhost:8080/v1"),
    ("vLLM", "http://localhost:8000/v1"),
    ("OpenAI", "https://api.openai.com/v1"),
    ("OpenRouter", "https://openrouter.ai/api/v1"),
)


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


class RunPane(QWidget):
    runRequested = Signal()
    stopRequested = Signal()
    endpointChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runPane")
        self.endpoint = QComboBox(self)
        self.endpoint.setObjectName("endpoint")
        self.endpoint.setEditable(True)
        for name, url in PRESETS:
            self.endpoint.addItem(url)
            self.endpoint.setItemData(self.endpoint.count() - 1, name)
        self.endpoint.setToolTip("Base URL of an OpenAI-compatible server, including /v1")
        self.model = QLineEdit(self)
        self.model.setObjectName("model")
        self.model.setPlaceholderText("model name, e.g. llama3.2 or gpt-4o-mini")
        self.key = QLineEdit(self)
        self.key.setObjectName("apiKey")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("optional; stored in the OS keychain, never in a file")
        self.key_status = QLabel(self)
        self.key_status.setObjectName("keyStatus")
        self.key_status.setWordWrap(True)
        self.temperature = QDoubleSpinBox(self)
        self.temperature.setRange(-0.1, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setSpecialValueText("default")
        self.temperature.setValue(-0.1)
        self.max_tokens = QSpinBox(self)
        self.max_tokens.setRange(0, 1_000_000)
        self.max_tokens.setSpecialValueText("default")
        self.run_button = QPushButton("Run  (Ctrl+Enter)", self)
        self.run_button.setObjectName("runButton")
        self.stop_button = QPushButton("Stop  (Esc)", self)
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setEnabled(False)
        self.output = QPlainTextEdit(self)
        self.output.setObjectName("output")
        self.output.setReadOnly(True)
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont))
        self.output.setPlaceholderText("The answer streams here.")
        self.status = QLabel("Ready", self)
        self.status.setObjectName("runStatus")
        self.metrics = QLabel(self)
        self.metrics.setObjectName("runMetrics")
        self.error = QLabel(self)
        self.error.setObjectName("runError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()

        form = QFormLayout()
        form.addRow("&Endpoint", self.endpoint)
        form.addRow("&Model", self.model)
        form.addRow("API &key", self.key)
        form.addRow("", self.key_status)
        params = QHBoxLayout()
        params.addWidget(QLabel("Temperature", self))
        params.addWidget(self.temperature)
        params.addWidget(QLabel("Max tokens", self))
        params.addWidget(self.max_tokens)
        params.addStretch(1)
        form.addRow(params)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        buttons.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(QLabel("<b>Run</b>", self))
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.output, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.metrics)

        self._pending: list[str] = []
        self._result: TargetResult | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_INTERVAL_MS)
        self._timer.timeout.connect(self.flush)
        self.flushes = 0  # how many times text reached the widget (tests, benchmarks)
        self.run_button.clicked.connect(self.runRequested)
        self.stop_button.clicked.connect(self.stopRequested)
        self.endpoint.currentTextChanged.connect(self.endpointChanged)

    # ---- configuration -----------------------------------------------------------------

    def base_url(self) -> str:
        return self.endpoint.currentText().strip()

    def set_target(self, base_url: str, model: str) -> None:
        if base_url:
            self.endpoint.setCurrentText(base_url)
        self.model.setText(model)

    def params(self) -> GenerationParams:
        temperature = self.temperature.value()
        return GenerationParams(
            temperature=None if temperature < 0 else round(temperature, 2),
            max_tokens=self.max_tokens.value() or None,
        )

    def set_params(self, params: GenerationParams) -> None:
        self.temperature.setValue(-0.1 if params.temperature is None else params.temperature)
        self.max_tokens.setValue(params.max_tokens or 0)

    # ---- a run ---------------------------------------------------------------------------

    def begin_run(self) -> None:
        self._pending.clear()
        self._result = None
        self.output.clear()
        self.error.hide()
        self.metrics.clear()
        self.status.setText("Waiting…")
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self._timer.start()

    def on_update(self, _key: str, result: TargetResult, delta: str) -> None:
        """Called by the run engine for every event: cheap, no widget work here."""
        self._result = result
        if delta:
            self._pending.append(delta)

    def flush(self) -> None:
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            cursor = QTextCursor(self.output.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(text)
            self.flushes += 1
            bar = self.output.verticalScrollBar()
            if bar.value() >= bar.maximum() - 40:
                bar.setValue(bar.maximum())
        if self._result is not None:
            self._show_result(self._result)

    def end_run(self, result: TargetResult | None) -> None:
        if result is not None:
            self._result = result
        self.flush()
        self._timer.stop()
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def fail_before_start(self, message: str) -> None:
        self._timer.stop()
        self.status.setText("Not sent")
        self.error.setText(message)
        self.error.show()
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _show_result(self, result: TargetResult) -> None:
        labels = {
            TargetStatus.QUEUED: "Queued",
            TargetStatus.WAITING: "Waiting…",
            TargetStatus.STREAMING: "Streaming…",
            TargetStatus.DONE: "Done",
            TargetStatus.FAILED: "Failed",
            TargetStatus.CANCELLED: "Stopped",
        }
        self.status.setText(labels.get(result.status, str(result.status)))
        usage = result.usage
        parts = [f"TTFT {_ms(result.ttft_ms)}", f"total {_ms(result.total_ms)}"]
        if usage is not None:
            mark = "~" if usage.estimated else ""
            parts.append(
                f"tokens in {mark}{usage.input_tokens if usage.input_tokens is not None else '—'}"
                f" / out {mark}{usage.output_tokens if usage.output_tokens is not None else '—'}"
            )
        elif result.output_chunks:
            parts.append(f"~{result.output_chunks} tokens so far")
        rate = result.tokens_per_second
        if rate is not None:
            parts.append(f"{rate:.1f} tok/s")
        self.metrics.setText("  ·  ".join(parts))
        if result.status in (TargetStatus.FAILED, TargetStatus.CANCELLED):
            reason = result.error.message if result.error is not None else "stopped by you"
            self.error.setText(f"Stopped after {result.output_chunks} tokens: {reason}")
            self.error.show()
