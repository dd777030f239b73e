"""The widgets that mirror the session: the editor, the variables form and the run board.

What the user types goes into the :class:`~promptstudio.session.Session` at once; what
changes the session from elsewhere (a version or a draft opened) is shown by the widgets.
The widgets' own reading of a value is what the session keeps (the values of the
template's current names, the columns as the board has them), so the session never holds
what the screen does not show. The cases table is mirrored by the Evaluate tab's flow,
which loads a prompt's cases (``ui/evaluate/eval_flow.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QTimer

from promptstudio.events import Change
from promptstudio.runs.columns import ColumnConfig
from promptstudio.session import Session
from promptstudio.tools import ToolDef
from promptstudio.ui.board.run_board import RunBoard
from promptstudio.ui.editor.template_editor import TemplateEditor
from promptstudio.ui.editor.tools_panel import ToolsPanel
from promptstudio.ui.editor.variables_form import VariablesForm

# A longer text is read from the editor when the session is next asked for it (or after a
# short pause), not at every key: reading a megabyte out of Qt takes milliseconds.
LAZY_CHARS = 100_000
SETTLE_MS = 100


class SessionBinding(QObject):
    def __init__(
        self,
        session: Session,
        editor: TemplateEditor,
        variables: VariablesForm,
        board: RunBoard,
    ) -> None:
        super().__init__(editor)
        self.session, self.editor, self.variables, self.board = session, editor, variables, board
        self._writing = False  # a widget's change is going into the session now
        self._read_back: str | None = None  # the editor's text as last read lazily
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(session.settle)
        editor.textChanged.connect(self._template_edited)
        variables.valuesChanged.connect(self._values_edited)
        board.configChanged.connect(self._columns_edited)
        events = session.events
        events.template.connect(self._show_template)
        events.values.connect(self._show_values)
        events.columns.connect(self._show_columns)
        self._template_edited()
        self._values_edited()
        self._columns_edited()

    # ---- widget -> session -------------------------------------------------------------

    @contextmanager
    def _from_widgets(self) -> Iterator[None]:
        was, self._writing = self._writing, True
        try:
            yield
        finally:
            self._writing = was

    def _template_edited(self) -> None:
        if self.editor.document().characterCount() > LAZY_CHARS and not self._writing:
            self._read_back = None
            self.session.template_edited(self._read_template)
            self._settle.start()
            return
        with self._from_widgets():
            self.session.template = self.editor.toPlainText()

    def _read_template(self) -> str:
        self._read_back = self.editor.toPlainText()
        return self._read_back

    def _values_edited(self) -> None:
        with self._from_widgets():
            self.session.values = self.variables.values()

    def _columns_edited(self) -> None:
        with self._from_widgets():
            self.session.columns = self.board.configs()

    # ---- session -> widget -------------------------------------------------------------

    def _show_template(self, change: Change[str]) -> None:
        read_back, self._read_back = self._read_back, None
        if change.value is read_back:  # the editor's own text, read lazily
            return
        if not self._writing:
            with self._from_widgets():  # read back at once (line ends, …)
                self.editor.setPlainText(change.value)

    def _show_values(self, change: Change[dict[str, object]]) -> None:
        if not self._writing:
            self.variables.set_values(change.value)

    def _show_columns(self, change: Change[tuple[ColumnConfig, ...]]) -> None:
        # Fresh columns also for the same settings: answers belong to what was run.
        if not self._writing:
            self.board.set_configs(list(change.value))


class ToolsBinding(QObject):
    """The Tools panel mirrors the session's tools (and the board checks calls against
    them); a valid list typed in the panel goes into the session."""

    def __init__(self, session: Session, panel: ToolsPanel, board: RunBoard) -> None:
        super().__init__(panel)
        self.session, self.panel, self.board = session, panel, board
        panel.toolsChanged.connect(self._typed)
        session.events.tools.connect(self._show)
        panel.set_tools(session.tools)
        board.set_tools(session.tools)

    def _typed(self, tools: tuple[ToolDef, ...]) -> None:
        self.session.tools = tools
        self.board.set_tools(tools)

    def _show(self, change: Change[tuple[ToolDef, ...]]) -> None:
        self.panel.set_tools(change.value)
        self.board.set_tools(change.value)
