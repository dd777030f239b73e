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

from PySide6.QtCore import QObject

from promptstudio.events import Change
from promptstudio.runs.columns import ColumnConfig
from promptstudio.session import Session
from promptstudio.ui.board.run_board import RunBoard
from promptstudio.ui.editor.template_editor import TemplateEditor
from promptstudio.ui.editor.variables_form import VariablesForm


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
        with self._from_widgets():
            self.session.template = self.editor.toPlainText()

    def _values_edited(self) -> None:
        with self._from_widgets():
            self.session.values = self.variables.values()

    def _columns_edited(self) -> None:
        with self._from_widgets():
            self.session.columns = self.board.configs()

    # ---- session -> widget -------------------------------------------------------------

    def _show_template(self, change: Change[str]) -> None:
        if not self._writing:
            self.editor.setPlainText(change.value)  # reads itself back (line ends, …)

    def _show_values(self, change: Change[dict[str, object]]) -> None:
        if not self._writing:
            self.variables.set_values(change.value)

    def _show_columns(self, change: Change[tuple[ColumnConfig, ...]]) -> None:
        # Fresh columns also for the same settings: answers belong to what was run.
        if not self._writing:
            self.board.set_configs(list(change.value))
