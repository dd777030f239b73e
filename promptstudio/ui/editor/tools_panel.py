"""The Tools panel: the prompt's tool definitions as JSON, checked as you type.

The text is a JSON list of tools (``name``, ``description``, ``parameters`` as a JSON
Schema, and an optional ``mock`` result); :func:`promptstudio.tools.parse_tools` reads it.
A problem is shown under the editor with its line and column, and the line is marked as
the template editor marks a template error. Only a valid list reaches the session
(``toolsChanged``); the text being typed is never thrown away.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from promptstudio.tools import ToolDef, ToolsError, parse_tools, tools_text
from promptstudio.ui.editor.error_marks import error_selections
from promptstudio.ui.theme import set_status

CHECK_DELAY_MS = 150  # typing pauses this long before the list is read again

EXAMPLE = """[
  {
    "name": "get_weather",
    "description": "The current weather in a city",
    "parameters": {
      "type": "object",
      "properties": {"city": {"type": "string"}},
      "required": ["city"]
    },
    "mock": "{\\"city\\": \\"{{ city }}\\", \\"temp_c\\": 21}"
  }
]"""


class ToolsPanel(QWidget):
    """Edit the tool list; ``toolsChanged(tuple)`` with every valid list typed."""

    toolsChanged = Signal(tuple)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolsPanel")
        title = QLabel("<b>Tools</b>", self)
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("toolsEditor")
        self.editor.setAccessibleName("Tool definitions (JSON)")
        self.editor.setAccessibleDescription(
            "A JSON list of tools: name, description, parameters (a JSON Schema) and an "
            "optional mock result."
        )
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setPlaceholderText(
            "Tools the model may call, as a JSON list. For example:\n" + EXAMPLE
        )
        self.editor.setTabChangesFocus(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        title.setBuddy(self.editor)
        self.status = QLabel(self)
        self.status.setObjectName("toolsStatus")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Tools check")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(title)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.status)
        self.tools: tuple[ToolDef, ...] = ()
        self.error: ToolsError | None = None
        self._showing = False  # set_tools is writing the editor
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_DELAY_MS)
        self._timer.timeout.connect(self.check)
        self.editor.textChanged.connect(self._typed)
        self._say()

    def set_tools(self, tools: Sequence[ToolDef]) -> None:
        """Show ``tools`` (a version opened); nothing is announced."""
        tools = tuple(tools)
        if tools == self.tools and self.error is None:
            return
        self._showing = True
        try:
            self.editor.setPlainText(tools_text(tools))
        finally:
            self._showing = False
        self._timer.stop()
        self.tools, self.error = tools, None
        self._mark(None)
        self._say()

    def focus_editor(self) -> None:
        self.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _typed(self) -> None:
        if not self._showing:
            self._timer.start()

    def check(self) -> None:
        """Read the list now: show its problem at its line, or take it."""
        self._timer.stop()
        try:
            tools = parse_tools(self.editor.toPlainText())
        except ToolsError as exc:
            self.error = exc
            self._mark(exc)
            self._say()
            return
        self.error = None
        self._mark(None)
        changed = tools != self.tools
        self.tools = tools
        self._say()
        if changed:
            self.toolsChanged.emit(tools)

    def _say(self) -> None:
        error = self.error
        if error is not None:
            self.status.setText(f"Line {error.line}, column {error.column}: {error.reason}")
            set_status(self.status, "error")
        elif self.tools:
            count = len(self.tools)
            names = ", ".join(tool.name for tool in self.tools)
            self.status.setText(f"✓ {count} tool{'s' if count != 1 else ''}: {names}")
            set_status(self.status, "ok")
        else:
            self.status.setText("No tools: the model answers in text only.")
            self.status.setStyleSheet("")

    def _mark(self, error: ToolsError | None) -> None:
        document = self.editor.document()
        marks = [] if error is None else error_selections(document, error.line, error.column)
        self.editor.setExtraSelections(marks)

    @property
    def marked_line(self) -> int | None:
        """The line marked as wrong (1-based), if any."""
        selections = self.editor.extraSelections()
        return selections[0].cursor.blockNumber() + 1 if selections else None
