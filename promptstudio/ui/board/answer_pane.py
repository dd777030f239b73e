"""A run column's answer: the streaming text, its rendered (Markdown or JSON) view, and the
bar that picks the sample and the view.

Text mode shows the live stream; Markdown and JSON re-render at most twice a second. Valid
JSON and the closed code blocks of Markdown are coloured (Pygments), once per render; JSON
that does not parse yet and a code block still open stay plain, so a stream lexes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QStackedWidget,
    QTabBar,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from promptstudio.ui import a11y
from promptstudio.ui.board.answer_view import AnswerView
from promptstudio.ui.code_fences import fences_finished
from promptstudio.ui.editor.code_highlighter import CodeHighlighter
from promptstudio.ui.theme import set_status

VIEW_MODES = ("Text", "Markdown", "JSON")
RENDER_INTERVAL_S = 0.5


class AnswerPane(QWidget):
    """The answer on show, as text, Markdown or checked JSON, with the samples' tabs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.output = AnswerView(self)
        self.output.setObjectName("output")
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont))
        self.output.setPlaceholderText("The answer streams here.")
        self.output.setAccessibleName("Answer")
        self.rendered = QTextBrowser(self)
        self.rendered.setObjectName("renderedOutput")
        self.rendered.setAccessibleName("Answer, formatted")
        a11y.keyboard_selectable(self.rendered)
        self.rendered.setOpenExternalLinks(False)
        self.rendered.setMinimumHeight(48)
        self.rendered_colours = CodeHighlighter(self.rendered)
        self.views = QStackedWidget(self)
        self.views.addWidget(self.output)
        self.views.addWidget(self.rendered)
        self.samples_bar = QTabBar(self)
        self.samples_bar.setObjectName("samples")
        self.samples_bar.setAccessibleName("Samples")
        self.samples_bar.setDocumentMode(True)
        self.samples_bar.setExpanding(False)
        self.samples_bar.hide()
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(view_bar)
        layout.addWidget(self.json_status)
        layout.addWidget(self.views, 1)
        #: The whole answer on show ("Copy"); the column points it at the selected sample.
        self.text_source: Callable[[], str] = self.output.toPlainText
        self._rendered_at = 0.0
        self.wrap.toggled.connect(self.set_wrap)
        self.copy_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.text_source())
        )

    def clear(self) -> None:
        self.output.clear()
        self.rendered.clear()
        self.json_status.hide()

    def set_wrap(self, wrap: bool) -> None:
        self.output.setLineWrapMode(
            QPlainTextEdit.LineWrapMode.WidgetWidth if wrap else QPlainTextEdit.LineWrapMode.NoWrap
        )
        self.rendered.setLineWrapMode(
            QTextBrowser.LineWrapMode.WidgetWidth if wrap else QTextBrowser.LineWrapMode.NoWrap
        )

    def due(self, *, force: bool) -> bool:
        """Show the chosen view; whether it wants the answer rendered now (Markdown and JSON:
        at most twice a second unless ``force``; text needs nothing, it streams)."""
        mode = self.view_mode.currentText()
        self.views.setCurrentIndex(0 if mode == "Text" else 1)
        if mode == "Text":
            self.json_status.hide()
            return False
        now = time.monotonic()
        if not force and now - self._rendered_at < RENDER_INTERVAL_S:
            return False
        self._rendered_at = now
        return True

    def show_rendered(self, text: str, schema: dict[str, Any] | None) -> None:
        """Render ``text`` as Markdown, or as JSON checked against ``schema`` if there is one."""
        if self.view_mode.currentText() == "Markdown":
            self.json_status.hide()
            self.rendered_colours.show_text(
                lambda: self.rendered.setMarkdown(text), None, code_blocks=fences_finished(text)
            )
            return
        # On first use: importing the evaluations package costs the window's start ~40 ms.
        from promptstudio.evals.json_answers import format_json

        pretty, problem = format_json(text, schema)
        parsed = problem is None or not problem.startswith("Not valid JSON")
        self.rendered_colours.show_text(
            lambda: self.rendered.setPlainText(pretty),
            "json" if parsed and pretty.strip() else None,
            code_blocks=False,
        )
        valid = "Valid JSON, matches the schema" if schema else "Valid JSON"
        self.json_status.setText(problem or valid)
        set_status(self.json_status, "error" if problem else "ok")
        self.json_status.setVisible(bool(text.strip()))
