"""Before sending: the exact messages each column will send, and roughly how many tokens.

The preview renders with the same function the run uses, so what is shown is what goes
on the wire (the key and transport details aside).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from promptstudio.chat import Message
from promptstudio.ui.run_column import ColumnConfig

CHARS_PER_TOKEN = 4  # a rough, model-independent estimate; say so in the UI


def estimate_tokens(messages: Sequence[Message]) -> int:
    return sum(-(-len(m.content) // CHARS_PER_TOKEN) + 4 for m in messages)


def messages_html(messages: Sequence[Message]) -> str:
    parts = []
    for message in messages:
        parts.append(
            f"<p><b>{escape(message.role)}</b></p>"
            f"<pre style='white-space: pre-wrap'>{escape(message.content)}</pre>"
        )
    return "".join(parts) or "<p><i>No messages: the template renders to nothing.</i></p>"


class PreviewDialog(QDialog):
    def __init__(
        self,
        messages: Sequence[Message],
        columns: Sequence[ColumnConfig],
        parent: QWidget | None = None,
        *,
        focus: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("previewDialog")
        self.setWindowTitle("Preview the messages")
        self.tabs = QTabWidget(self)
        tokens = estimate_tokens(messages)
        for config in columns:
            page = QWidget(self.tabs)
            view = QTextBrowser(page)
            view.setObjectName("previewMessages")
            view.setHtml(messages_html(messages))
            limit = config.params.max_tokens
            summary = QLabel(
                f"{len(messages)} message{'s' if len(messages) != 1 else ''} · about {tokens:,} "
                "input tokens (estimated at 4 characters a token)"
                + (f" · up to {limit:,} output tokens" if limit else ""),
                page,
            )
            summary.setObjectName("previewSummary")
            layout = QVBoxLayout(page)
            layout.addWidget(summary)
            layout.addWidget(view, 1)
            index = self.tabs.addTab(page, config.model or "no model")
            self.tabs.setTabToolTip(index, f"{config.model} at {config.base_url}")
            if config.id == focus:
                self.tabs.setCurrentIndex(index)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.resize(640, 520)
