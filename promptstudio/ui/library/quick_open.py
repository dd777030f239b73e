"""Ctrl+P: type a few letters of a prompt's name, press Enter to open it.

Matching is fuzzy-ish: the typed characters must appear in the name in order, ignoring
case. Best first: the name starts with the text, then the text starts a word of the name,
then it appears inside a word, then the letters are spread out (closest together first,
then most letters on word starts). The folder path is a last resort, so "bill" finds the
prompts in "Support/Billing". Typing scores every prompt; a library of 10,000 names takes
a few milliseconds.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QPalette, QShowEvent
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QListView, QVBoxLayout, QWidget

from promptstudio.storage import Database, PromptRow, library
from promptstudio.ui.library.search_results import HTML_ROLE, HtmlDelegate, highlighted_html
from promptstudio.ui.tasks import TaskOwner

Index = QModelIndex | QPersistentModelIndex
PROMPT_ID_ROLE = Qt.ItemDataRole.UserRole + 1

PREFIX, WORD_START, INSIDE, SCATTERED, IN_FOLDER = range(5)


@dataclass(frozen=True, slots=True)
class Match:
    rank: tuple[int, ...]
    """Smaller is better."""
    positions: tuple[int, ...]
    """Offsets of the matched characters in the name (empty for a folder match)."""


def _word_start(text: str, at: int) -> bool:
    return at == 0 or (not text[at - 1].isalnum() and text[at].isalnum())


def _word_start_find(text: str, wanted: str, start: int) -> int:
    """Where ``wanted`` first occurs at the start of a word, or -1."""
    at = text.find(wanted, start)
    while at >= 0 and not _word_start(text, at):
        at = text.find(wanted, at + 1)
    return at


def _scattered(query: str, text: str) -> tuple[int, ...] | None:
    """The tightest in-order placement of ``query``'s characters in ``text``."""
    best: tuple[int, ...] | None = None
    for start, char in enumerate(text):
        if char != query[0]:
            continue
        positions = [start]
        for wanted in query[1:]:
            found = text.find(wanted, positions[-1] + 1)
            if found < 0:
                return best  # no later start can fit either
            positions.append(found)
        if best is None or positions[-1] - start < best[-1] - best[0]:
            best = tuple(positions)
    return best


def fuzzy_match(query: str, name: str, folder: str = "") -> Match | None:
    """How well ``query`` matches a prompt; None when it does not."""
    wanted = query.strip().lower()
    text = name.lower()
    if not wanted:
        return Match((PREFIX,), ())  # everything, by name
    if len(text) != len(name):  # lower() changed the length ("İ"): keep offsets aligned
        text = "".join(c if len(c.lower()) != 1 else c.lower() for c in name)
    found = text.find(wanted)
    if found >= 0:
        word = _word_start_find(text, wanted, found)
        if found == 0:
            tier, at = PREFIX, 0
        elif word > 0:
            tier, at = WORD_START, word
        else:
            tier, at = INSIDE, found
        return Match((tier, at, len(name)), tuple(range(at, at + len(wanted))))
    positions = _scattered(wanted, text)
    if positions is not None:
        span = positions[-1] - positions[0]
        on_words = sum(_word_start(text, p) for p in positions)
        return Match((SCATTERED, span, -on_words, positions[0], len(name)), positions)
    path = f"{folder}/{name}".lower()
    if folder and _scattered(wanted, path) is not None:
        return Match((IN_FOLDER, len(path)), ())
    return None


def _runs(positions: Sequence[int]) -> list[tuple[int, int]]:
    """(3, 4, 5, 9) -> [(3, 6), (9, 10)]: one highlight per run of adjacent characters."""
    spans: list[tuple[int, int]] = []
    for position in positions:
        if spans and spans[-1][1] == position:
            spans[-1] = (spans[-1][0], position + 1)
        else:
            spans.append((position, position + 1))
    return spans


class QuickOpenModel(QAbstractListModel):
    """All prompts, narrowed and ordered by the typed text."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._prompts: list[PromptRow] = []
        self._shown: list[tuple[PromptRow, Match]] = []
        self._query = ""

    def set_prompts(self, prompts: Sequence[PromptRow]) -> None:
        self._prompts = list(prompts)
        self.set_query(self._query)

    def set_query(self, query: str) -> None:
        self.beginResetModel()
        self._query = query
        scored = [(p, fuzzy_match(query, p.name, p.folder)) for p in self._prompts]
        matched = [(p, m) for p, m in scored if m is not None]
        self._shown = sorted(matched, key=lambda pm: (pm[1].rank, pm[0].name.casefold(), pm[0].id))
        self.endResetModel()

    def prompt(self, row: int) -> PromptRow:
        return self._shown[row][0]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(self._shown)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._shown):
            return None
        prompt, match = self._shown[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return prompt.name
        if role == PROMPT_ID_ROLE:
            return prompt.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{prompt.folder}/{prompt.name}" if prompt.folder else prompt.name
        if role == HTML_ROLE:
            name = highlighted_html(prompt.name, _runs(match.positions), "<b><u>", "</u></b>")
            if not prompt.folder:
                return name
            muted = QApplication.palette().color(QPalette.ColorRole.PlaceholderText).name()
            folder = html.escape(prompt.folder)
            return f'{name}&nbsp;&nbsp;<span style="color:{muted};">{folder}</span>'
        return None


class QuickOpen(QDialog):
    """Non-modal: open it with ``open()``/``show()``; it reads the prompt list each time."""

    promptChosen = Signal(int)
    loaded = Signal()

    def __init__(self, db: Database, tasks: TaskOwner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quickOpen")
        self.setWindowTitle("Open prompt")
        self.setModal(False)
        self.resize(520, 380)
        self._db = db
        self._tasks = tasks
        self.model = QuickOpenModel(self)
        self.filter = QLineEdit(self)
        self.filter.setObjectName("quickOpenFilter")
        self.filter.setAccessibleName("Prompt name")
        self.filter.setPlaceholderText("Type part of a prompt's name…")
        self.list = QListView(self)
        self.list.setObjectName("quickOpenList")
        self.list.setAccessibleName("Matching prompts")
        self.list.setModel(self.model)
        self.list.setItemDelegate(HtmlDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self.filter.textChanged.connect(self._on_filter)
        self.list.activated.connect(lambda index: self._choose(index))
        self.filter.installEventFilter(self)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.filter.clear()
        self.filter.setFocus()
        self._tasks.start("quick-open:load", self._load())

    async def _load(self) -> None:
        self.model.set_prompts(await self._db.acall(library.list_prompts))
        self._select_first()
        self.loaded.emit()

    def _on_filter(self, text: str) -> None:
        self.model.set_query(text)
        self._select_first()

    def _select_first(self) -> None:
        if self.model.rowCount():
            self.list.setCurrentIndex(self.model.index(0, 0))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.filter and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentIndex().row() + (1 if key == Qt.Key.Key_Down else -1)
                if 0 <= row < self.model.rowCount():
                    self.list.setCurrentIndex(self.model.index(row, 0))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.choose_current()
                return True
        return super().eventFilter(watched, event)

    def visible_names(self) -> list[str]:
        return [self.model.prompt(row).name for row in range(self.model.rowCount())]

    def choose_current(self) -> None:
        self._choose(self.list.currentIndex())

    def _choose(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        prompt_id = self.model.prompt(index.row()).id
        self.accept()
        self.promptChosen.emit(prompt_id)
