"""Before sending: the exact messages each column will send, and roughly how many tokens.

The preview renders with the same function the run uses, so what is shown is what goes
on the wire (the key and transport details aside), with the system prompt where the
column's provider puts it, and the images it will send (each with its type, size and hash,
or why the column's API would refuse it). Token counts are estimates (about 4 characters a
token, images by their pixels); a cost is shown only for models with a known price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from promptstudio.chat import Image, Message, Text
from promptstudio.images import check_size, dimensions
from promptstudio.providers.pricing import PriceTable, estimate_tokens
from promptstudio.ui import a11y
from promptstudio.ui.board.run_column import ColumnConfig, cost_text
from promptstudio.ui.theme import status_colours

ANTHROPIC_DEFAULT_MAX_TOKENS = 4096  # what the Anthropic provider sends when unset
IMAGE_SCHEME = "image"  # the preview's own URLs for the images it shows, by hash
PREVIEW_HEIGHT = 160


@dataclass(frozen=True)
class ColumnPreview:
    config: ColumnConfig
    api: str  # chat, responses or messages: decides where the system prompt goes
    prices: PriceTable


def messages_html(messages: Sequence[Message], api: str) -> str:
    parts = []
    if api == "messages":  # Anthropic: system text travels in its own field
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        if system:
            parts.append(_block("system — sent as the request's system field", system))
        messages = [m for m in messages if m.role != "system"]
    parts += [_block(m.role, m.content) if not m.parts else _parts_block(m, api) for m in messages]
    return "".join(parts) or "<p><i>No messages: the template renders to nothing.</i></p>"


def _parts_block(message: Message, api: str) -> str:
    """A message with images: its text and each image as it will be sent, in order."""
    html = [f"<p><b>{escape(message.role)}</b></p>"]
    for part in message.parts:
        if isinstance(part, Text):
            if part.text.strip():
                html.append(f"<pre style='white-space: pre-wrap'>{escape(part.text)}</pre>")
            continue
        if part.data:
            html.append(
                f"<p><img src='{IMAGE_SCHEME}:{part.sha256}' alt='{escape(part.alt)}' "
                f"height='{_shown_height(part)}'></p>"
            )
            caption = f"image {part.label()}"
        else:
            caption = f"image {part.alt or ''} sent as a link: {part.url} (the API fetches it)"
        html.append(f"<p><i>{escape(caption)}</i></p>")
        problem = check_size(part, api)
        if problem is not None:
            html.append(
                f"<p style='color:{status_colours()['error']}'><b>Refused before sending:</b> "
                f"{escape(problem)}</p>"
            )
    return "".join(html)


def _shown_height(image: Image) -> int:
    """The image's own height, at most :data:`PREVIEW_HEIGHT` (small images not blown up)."""
    size = dimensions(image.data)
    return min(PREVIEW_HEIGHT, size[1]) if size else PREVIEW_HEIGHT


def add_image_resources(document: QTextDocument, messages: Sequence[Message]) -> None:
    """Give the document the images the HTML of :func:`messages_html` shows."""
    for message in messages:
        for image in message.images:
            if image.data:
                picture = QImage.fromData(image.data)
                url = QUrl(f"{IMAGE_SCHEME}:{image.sha256}")
                document.addResource(QTextDocument.ResourceType.ImageResource, url, picture)


def _block(title: str, text: str) -> str:
    return f"<p><b>{escape(title)}</b></p><pre style='white-space: pre-wrap'>{escape(text)}</pre>"


def summary_text(messages: Sequence[Message], column: ColumnPreview) -> str:
    tokens = estimate_tokens(messages, column.api)
    limit = column.config.params.max_tokens
    if limit is None and column.api == "messages":
        limit = ANTHROPIC_DEFAULT_MAX_TOKENS
    count = len(messages)
    parts = [f"{count} message{'s' if count != 1 else ''}",
             f"about {tokens:,} input tokens (estimated)"]  # fmt: skip
    if limit:
        parts.append(f"up to {limit:,} output tokens")
    model = column.config.model
    if not model or column.prices.price_for(model) is None:
        parts.append("cost — (no price known for this model)")
    elif limit:
        cost = column.prices.estimate(model, tokens, limit)
        parts.append(f"at most {cost_text(cost)}" if cost is not None else "cost —")
    else:
        cost = column.prices.estimate(model, tokens, 0)
        parts.append(f"input {cost_text(cost)} + output" if cost is not None else "cost —")
    return " · ".join(parts)


class PreviewDialog(QDialog):
    def __init__(
        self,
        messages: Sequence[Message],
        columns: Sequence[ColumnPreview],
        parent: QWidget | None = None,
        *,
        focus: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("previewDialog")
        self.setWindowTitle("Preview the messages")
        self.tabs = QTabWidget(self)
        a11y.name_tabs(self.tabs, "Columns")
        for column in columns:
            config = column.config
            page = QWidget(self.tabs)
            view = QTextBrowser(page)
            view.setObjectName("previewMessages")
            view.setAccessibleName(f"Messages for {config.model or 'a column'}")
            add_image_resources(view.document(), messages)
            view.setHtml(messages_html(messages, column.api))
            summary = QLabel(summary_text(messages, column), page)
            summary.setObjectName("previewSummary")
            summary.setWordWrap(True)
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
