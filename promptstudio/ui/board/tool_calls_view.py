"""A run column's tool calls, as they arrive: the tool's name, its arguments pretty-printed,
and whether they fit the tool's schema (✓, or the first schema error). Earlier steps of a
tool conversation (calls, the mock results sent back) are listed above the current one."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from promptstudio.chat import Message, ToolCall
from promptstudio.tools import ToolDef, argument_error, tool_named
from promptstudio.ui.theme import status_colours


@dataclass(frozen=True, slots=True)
class CallCheck:
    """What the column says of one call."""

    name: str
    arguments: str  # pretty-printed when they are JSON, else as streamed so far
    problem: str | None  # None: valid; "" while the arguments still stream


def check_call(call: ToolCall, tools: Sequence[ToolDef], *, finished: bool) -> CallCheck:
    """The column's reading of ``call`` against the prompt's ``tools``."""
    try:
        pretty = json.dumps(json.loads(call.arguments or "{}"), indent=2, ensure_ascii=False)
    except json.JSONDecodeError:
        if not finished:
            return CallCheck(call.name, call.arguments, "")
        pretty = call.arguments
    tool = tool_named(tools, call.name)
    if tool is None:
        return CallCheck(call.name, pretty, "the prompt has no tool of this name")
    return CallCheck(call.name, pretty, argument_error(tool, call.arguments))


def calls_html(
    calls: Sequence[ToolCall],
    tools: Sequence[ToolDef],
    *,
    finished: bool,
    results: Sequence[Message] = (),
) -> str:
    """The calls as the column shows them; ``results`` are tool turns answering them."""
    answered = {turn.tool_call_id: turn.content for turn in results}
    parts = []
    for call in calls:
        check = check_call(call, tools, finished=finished)
        if check.problem is None:
            verdict = f'<span style="color:{status_colours()["ok"]}">✓</span>'
        elif check.problem == "":
            verdict = "…"
        else:
            bad = status_colours()["error"]
            verdict = f'<span style="color:{bad}">✗ {html.escape(check.problem)}</span>'
        parts.append(
            f"Tool call <b>{html.escape(check.name or '…')}</b> {verdict}"
            f"<pre style='margin:2px 0 4px 12px'>{html.escape(check.arguments)}</pre>"
        )
        if call.id in answered:
            result = html.escape(answered[call.id])
            parts.append(
                f"<div style='margin-left:12px'>→ mock result: <code>{result}</code></div>"
            )
    return "".join(parts)


class ToolCallsView(QLabel):
    """The calls of the answer on show; hidden while there are none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolCalls")
        self.setAccessibleName("Tool calls")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self._shown = ""
        self.hide()

    def show_calls(self, earlier: str, current: str) -> None:
        """Show the earlier steps' record (HTML) and the current answer's calls (HTML)."""
        text = earlier + current
        if text != self._shown:
            self._shown = text
            self.setText(text)
        self.setVisible(bool(text))

    def plain_text(self) -> str:
        """What the view says, without markup (tests, screen readers' fallback)."""
        from PySide6.QtGui import QTextDocument

        document = QTextDocument()
        document.setHtml(self.text())
        return document.toPlainText()


class ToolStepBar(QWidget):
    """Under a column's tool calls: send the mock results back (one step), answer calls
    automatically, and what the steps so far took together."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolSteps")
        self.send = QPushButton("Send tool results", self)
        self.send.setObjectName("sendToolResults")
        self.send.setAccessibleName("Send the mock tool results")
        self.send.setToolTip(
            "Answer each call with its tool's mock result and stream the model's next turn"
        )
        self.auto = QCheckBox("Auto", self)
        self.auto.setObjectName("autoToolSteps")
        self.auto.setAccessibleName("Answer tool calls automatically")
        self.auto.setToolTip(
            "Send the mock results after every answer that calls tools, up to the steps "
            "set in Settings › Run defaults › Tool steps; Esc stops"
        )
        self.summary = QLabel(self)
        self.summary.setObjectName("toolStepsSummary")
        self.summary.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.send)
        row.addWidget(self.auto)
        row.addWidget(self.summary, 1)
        self.hide()
