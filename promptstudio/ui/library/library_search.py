"""Searching the library from the pane's search box: typing shows hits in place of the tree.

The search runs a moment after typing stops, as a named task, so a newer query cancels an
older one; clearing the box brings the tree back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLineEdit, QStackedWidget, QTreeView

from promptstudio.storage import Database, SearchHit, library
from promptstudio.storage.search import hit_text
from promptstudio.ui.library.search_results import SearchResultsView
from promptstudio.ui.tasks import TaskOwner

SEARCH_DELAY_MS = 200
SEARCH_LIMIT = 50


class LibrarySearch(QObject):
    """Runs the ``box``'s query and shows the hits in ``results`` (on ``stack``, over ``tree``).

    Opening a hit also shows its prompt in the tree (``select_prompt``)."""

    promptSelected = Signal(int)
    """A name hit was opened: open the prompt."""
    versionRequested = Signal(int, int)
    """Prompt id, version id: a template or answer hit is to go into the editor."""
    matchRequested = Signal(int, int, int)
    """Prompt, version and response id (0: none): show a template or answer hit in History."""
    evaluationRequested = Signal(int, int)
    """Prompt and evaluation id: show the evaluation a noted cell belongs to."""

    def __init__(
        self,
        db: Database,
        tasks: TaskOwner,
        box: QLineEdit,
        results: SearchResultsView,
        stack: QStackedWidget,
        tree: QTreeView,
        select_prompt: Callable[[int], None],
    ) -> None:
        super().__init__(box)
        self._db, self._tasks = db, tasks
        self.box, self.results, self.stack, self.tree = box, results, stack, tree
        self._select_prompt = select_prompt
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._start)
        box.textChanged.connect(self._on_text)
        results.promptSelected.connect(self._open_hit)
        results.versionRequested.connect(self._open_version_hit)
        results.matchRequested.connect(self._open_match)
        results.evaluationRequested.connect(self.evaluationRequested)
        results.evaluationRequested.connect(lambda prompt_id, _: select_prompt(prompt_id))
        results.previewRequested.connect(
            lambda hit: self._tasks.start("library:preview", self._preview(hit))
        )

    def is_searching(self) -> bool:
        return self.stack.currentWidget() is self.results

    def _on_text(self, text: str) -> None:
        if text.strip():
            self._timer.start()
            return
        self._timer.stop()
        self._tasks.cancel("library:search")
        self.stack.setCurrentWidget(self.tree)

    def _start(self) -> None:
        query = self.box.text().strip()
        if query:
            self._tasks.start("library:search", self._search(query))

    async def _search(self, query: str) -> None:
        hits = await self._db.acall(lambda c: library.search(c, query, limit=SEARCH_LIMIT))
        if self.box.text().strip() == query:
            self.results.show_hits(hits, query)
            self.stack.setCurrentWidget(self.results)

    def _open_hit(self, prompt_id: int) -> None:
        self.promptSelected.emit(prompt_id)
        self._select_prompt(prompt_id)

    def _open_version_hit(self, prompt_id: int, version_id: int) -> None:
        self.versionRequested.emit(prompt_id, version_id)
        self._select_prompt(prompt_id)

    def _open_match(self, prompt_id: int, version_id: int, response_id: int) -> None:
        self.matchRequested.emit(prompt_id, version_id, response_id)
        self._select_prompt(prompt_id)

    async def _preview(self, hit: SearchHit) -> None:
        text = await self._db.acall(hit_text, hit)
        self.results.show_preview(hit, text)
