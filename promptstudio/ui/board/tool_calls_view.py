"""A run column's tool calls, as they arrive: the tool's name, its arguments pretty-printed,
and whether they fit the tool's schema (✓, or the first schema error). Earlier steps of a
tool conversation (calls, the mock results sent back) are listed above the current one."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QWidget,
)

from promptstudio.chat import Message, ToolCall
from promptstudio.runs import TargetResult, TargetStatus
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
    tools: Sequence[ToolDef] | None,
    *,
    finished: bool,
    results: Sequence[Message] = (),
) -> str:
    """The calls as the column shows them; ``results`` are tool turns answering them.
    ``tools`` None: the tools are not known here (no ✓ or schema error is shown)."""
    answered = {turn.tool_call_id: turn.content for turn in results}
    parts = []
    for call in calls:
        check = check_call(call, tools or (), finished=finished)
        if tools is None:
            verdict = ""
        elif check.problem is None:
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


def calls_text(calls: Sequence[ToolCall], results: Sequence[Message] = ()) -> str:
    """The calls as plain text, as the column lists them: each tool's name, its arguments
    pretty-printed, and the result sent back when ``results`` (tool turns) answer it."""
    answered = {turn.tool_call_id: turn.content for turn in results}
    lines = []
    for call in calls:
        check = check_call(call, (), finished=True)
        lines.append(f"Tool call {check.name or '…'}")
        lines += [f"  {line}" for line in check.arguments.splitlines() or ["{}"]]
        if call.id in answered:
            lines.append(f"  → result: {answered[call.id]}")
    return "\n".join(lines)


class ToolCallsView(QScrollArea):
    """The calls of the answer on show; hidden while there are none. It scrolls: a long
    record of tool steps must not push the answer and Continue out of a small window (it
    takes its whole height only when there is room)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolCalls")
        self.setAccessibleName("Tool calls")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.label = QLabel(self)
        self.label.setAccessibleName("Tool calls")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.label.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the label takes the focus
        self.setWidget(self.label)
        self._shown = ""
        self.hide()

    def minimumSizeHint(self) -> QSize:
        """About three lines, then it scrolls."""
        return QSize(super().minimumSizeHint().width(), self.fontMetrics().lineSpacing() * 3)

    def sizeHint(self) -> QSize:
        """All of it, when there is room."""
        width = max(self.viewport().width(), 100)
        return QSize(super().sizeHint().width(), self.label.heightForWidth(width) + 2)

    def show_calls(self, earlier: str, current: str) -> None:
        """Show the earlier steps' record (HTML) and the current answer's calls (HTML)."""
        text = earlier + current
        if text != self._shown:
            self._shown = text
            self.label.setText(text)
            self.updateGeometry()
        self.setVisible(bool(text))

    def text(self) -> str:
        return self.label.text()

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


class ColumnToolSteps:
    """A run column's tool calls: those of the answer on show, checked against the prompt's
    tools, the ``record`` of the earlier steps of a tool conversation above them, and the
    bar that sends the mock results back (one step, or automatically)."""

    def __init__(self, parent: QWidget) -> None:
        self.tools: tuple[ToolDef, ...] = ()  # the prompt's, to check calls against
        self.record = ""  # the earlier tool steps (ToolCallsView HTML)
        self.view = ToolCallsView(parent)
        self.bar = ToolStepBar(parent)

    def clear(self) -> None:
        """A run starts: no calls and no steps yet."""
        self.record = ""
        self.view.show_calls("", "")
        self.bar.summary.clear()

    def show(self, result: TargetResult) -> None:
        """The calls of ``result``; sending their mock results back is offered once it ends."""
        current = calls_html(result.tool_calls, self.tools, finished=result.status.finished)
        self.view.show_calls(self.record, current)
        waiting = result.status is TargetStatus.DONE and bool(result.tool_calls)
        self.bar.setVisible(waiting or bool(self.record))
        self.bar.send.setEnabled(waiting and self.tools != ())

    def automatic(self) -> bool:
        """Whether the mock results go back after every answer that calls tools."""
        return self.bar.auto.isChecked()

    def show_summary(self, text: str) -> None:
        """What the steps so far took together."""
        self.bar.summary.setText(text)
