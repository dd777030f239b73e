"""Reading the session's template as it is typed: its variables and its first error.

Debounced on the GUI thread (parsing is fast); a long template is read on a worker
thread so typing never waits for Jinja. The names go to the variables form (which writes
the values of exactly those names into the session) and to the editor's highlighter; the
error is marked in the editor.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QObject, QTimer, Signal

from promptstudio import templating
from promptstudio.session import Session
from promptstudio.ui.editor.template_editor import TemplateEditor
from promptstudio.ui.editor.variables_form import VariablesForm
from promptstudio.ui.tasks import TaskOwner

ANALYSIS_DELAY_MS = 150
# Longer templates are analysed off the GUI thread, so typing never waits for Jinja.
INLINE_ANALYSIS_CHARS = 100_000
# A text put into the editor whole (a prompt or version opened) is read on the worker from
# this length on: Jinja takes ~0.1 s per 30,000 characters of a busy template here, and the
# window should show the prompt without waiting for it (issue 21).
OPENED_INLINE_CHARS = 20_000


class TemplateAnalysis(QObject):
    namesRead = Signal(str, int)  # the text read, the analysis run: before ``analysed``
    analysed = Signal(object)  # TemplateError | None

    def __init__(
        self,
        session: Session,
        editor: TemplateEditor,
        variables: VariablesForm,
        tasks: TaskOwner,
    ) -> None:
        super().__init__(editor)
        self.session, self.editor, self.variables, self.tasks = session, editor, variables, tasks
        self.error: templating.TemplateError | None = None
        self.run = 0  # counts analyses; a background one that is overtaken is dropped
        self._analysed_text: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(ANALYSIS_DELAY_MS)
        self._timer.timeout.connect(self.analyse)
        session.events.template.connect(lambda _change: self._timer.start())

    @property
    def in_background(self) -> bool:
        """A long template is being read on a worker thread now."""
        return self.tasks.is_running("analysis")

    def stop(self) -> None:
        self._timer.stop()

    def flush(self, *, wait: bool = True) -> None:
        """Bring the variables up to date with the text before anything reads them.

        A big template is analysed on a worker thread (Jinja takes seconds on a megabyte);
        ``wait`` (a run, a save, an export) analyses it here instead if the result is not
        in yet, while a draft save (``wait=False``) goes on with the names it has.
        """
        self.session.settle()  # a long text's last keys, not yet read from the editor
        if self._timer.isActive():
            self.analyse(in_background=not wait)
        elif wait and self._analysed_text != self.session.template:
            self.analyse(in_background=False)

    def check(self) -> templating.TemplateError | None:
        """The current text's error (read now if need be), marked in the editor."""
        self.flush()
        if self.error is not None:
            self.mark(self.error)
        return self.error

    def mark(self, error: templating.TemplateError) -> None:
        """Show where ``error`` is in the editor."""
        self.editor.set_error(error.line, error.column)

    def analyse(
        self, *, in_background: bool = True, inline_up_to: int = INLINE_ANALYSIS_CHARS
    ) -> None:
        self._timer.stop()
        source = self.session.template
        self.run += 1
        if in_background and len(source) > inline_up_to:
            self.tasks.start("analysis", self._analyse_in_thread(source, self.run))
            return
        self._show(source, *_analysed(source))

    async def _analyse_in_thread(self, source: str, run: int) -> None:
        result = await asyncio.to_thread(_analysed, source)
        if run == self.run:  # else the text changed again: a newer run follows
            self._show(source, *result)

    def _show(
        self, source: str, names: list[str] | None, error: templating.TemplateError | None
    ) -> None:
        self._analysed_text = source
        if names is not None:
            self.variables.set_names(names)
            self.variables.set_image_names(templating.image_variables(source))
            self.editor.highlighter.set_variables(frozenset(names))
        self.namesRead.emit(source, self.run)
        self.error = error
        if error is None:
            self.editor.set_error(None)
        else:
            self.editor.set_error(error.line, error.column)
        self.analysed.emit(error)


def _analysed(source: str) -> tuple[list[str] | None, templating.TemplateError | None]:
    """The template's input names, or the error that stops it being read."""
    try:
        return templating.input_names(source), None
    except templating.TemplateError as exc:
        return None, exc
