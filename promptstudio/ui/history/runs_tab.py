"""History's Runs tab: the runs of one version with their answers, and the answer picked."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from promptstudio.chat import Message
from promptstudio.runs.thread import messages_from, stored_turns
from promptstudio.storage.library import ResponseRow, RunWithResponses
from promptstudio.storage.ratings import NO_RATING, Rating, rating_from
from promptstudio.ui import a11y
from promptstudio.ui.board.thread_view import transcript
from promptstudio.ui.board.tool_calls_view import calls_text
from promptstudio.ui.code_fences import mark_fences
from promptstudio.ui.editor.code_highlighter import CodeHighlighter
from promptstudio.ui.formatting import format_cost
from promptstudio.ui.history.hint_stack import HintStack
from promptstudio.ui.history.history_model import (
    RESPONSE_ROLE,
    RunsTreeModel,
    rated_label,
    status_note,
)
from promptstudio.ui.rating_bar import RatingBar


class RunsTab(HintStack):
    """A tree of runs and their answers beside the text of the current answer."""

    answerRated = Signal(int, object)  # response id, Rating: to be stored

    def __init__(self, parent: QWidget | None = None) -> None:
        page = QWidget(parent)
        super().__init__(page, parent)
        self.model = RunsTreeModel(self)
        self.tree = QTreeView(page)
        self.tree.setObjectName("historyRuns")
        self.tree.setAccessibleName("Runs and their answers")
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        metrics = self.tree.fontMetrics()
        for column, sample in enumerate(("", "cancelled", "0.00 s", "00.0 s", "~0000 → ~0000")):
            if column:
                self.tree.setColumnWidth(column, metrics.horizontalAdvance(sample) + 20)
        self.tree.setColumnWidth(5, metrics.horizontalAdvance("$0.000058") + 20)
        self.tree.selectionModel().currentChanged.connect(self._on_response)
        self.answer = QPlainTextEdit(page)
        self.answer.setObjectName("historyAnswer")
        self.answer.setAccessibleName("Answer of the chosen run")
        self.answer.setReadOnly(True)
        a11y.keyboard_selectable(self.answer)
        self.answer.setPlaceholderText("Select an answer to read it.")
        self.answer_colours = CodeHighlighter(self.answer)  # its fenced code
        self.title = QLabel(page)
        self.title.setObjectName("historyRunsTitle")
        self.rating = RatingBar("answer", page)
        self.rating.rated.connect(self._rated)
        self.rating.shortcuts_for(self.tree)
        self.rating.setEnabled(False)
        self.rated_only = QCheckBox("Rated only", page)
        self.rated_only.setObjectName("historyRatedOnly")
        self.rated_only.setAccessibleName("Show only rated answers")
        self.rated_only.setToolTip("Show only the answers you rated or wrote a note on")
        self.rated_only.toggled.connect(self._filter)
        reading = QWidget(page)
        reading_layout = QVBoxLayout(reading)
        reading_layout.setContentsMargins(0, 0, 0, 0)
        reading_layout.addWidget(self.answer, 1)
        reading_layout.addWidget(self.rating)
        splitter = QSplitter(Qt.Orientation.Horizontal, page)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.tree)
        splitter.addWidget(reading)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(4, 4, 4, 4)
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.rated_only)
        page_layout.addLayout(heading)
        page_layout.addWidget(splitter, 1)

    def show_runs(
        self, number: int, runs: list[RunWithResponses], answer_id: int | None = None
    ) -> None:
        """Version ``number``'s runs, with ``answer_id`` (else the first answer) current."""
        self.model.set_runs(runs)
        self.answer.clear()
        if not runs:
            self.show_hint(f"v{number} has not been run.")
            return
        count = sum(len(entry.responses) for entry in runs)
        self.title.setText(
            f"<b>Runs of v{number}</b> · {len(runs)} run"
            f"{'' if len(runs) == 1 else 's'}, {count} answer{'' if count == 1 else 's'}"
        )
        for row in range(self.model.rowCount()):
            self.tree.setFirstColumnSpanned(row, QModelIndex(), True)
        self.tree.expandAll()
        self._filter()
        first = self.model.index(0, 0, self.model.index(0, 0))
        found = self.model.index_of(answer_id) if answer_id is not None else None
        if found is not None:
            self.tree.setCurrentIndex(found)
        elif first.isValid():
            self.tree.setCurrentIndex(first)
        self.show_content()

    def show_rating(self, response_id: int, rating: Rating) -> None:
        """A rating as stored: in the tree's row and, if it is current, in the bar."""
        index = self.model.index_of(response_id)
        response = self.model.response(index) if index is not None else None
        if index is None or response is None:
            return
        rated = dataclasses.replace(response, rating=rating.verdict, rating_note=rating.note)
        item = self.model.itemFromIndex(index.siblingAtColumn(0))
        item.setData(rated, RESPONSE_ROLE)
        text, tip = rated_label(rated)
        item.setText(text)
        item.setToolTip(tip)
        current = self.model.response(self.tree.currentIndex())
        if current is not None and current.id == response_id:
            self.rating.set_rating(rating)
        self._filter()

    def _rated(self, rating: Rating) -> None:
        response = self.model.response(self.tree.currentIndex())
        if response is not None:
            self.answerRated.emit(response.id, rating)

    def _filter(self) -> None:
        """Hide the answers nobody rated while "Rated only" is on."""
        only = self.rated_only.isChecked()
        for run in range(self.model.rowCount()):
            parent = self.model.index(run, 0)
            shown = 0
            for row in range(self.model.rowCount(parent)):
                response = self.model.response(self.model.index(row, 0, parent))
                rated = response is not None and (
                    response.rating is not None or bool(response.rating_note)
                )
                self.tree.setRowHidden(row, parent, only and not rated)
                shown += int(rated or not only)
            self.tree.setRowHidden(run, QModelIndex(), only and not shown)

    def _on_response(self, current: QModelIndex, _previous: QModelIndex) -> None:
        response = self.model.response(current)
        self.rating.setEnabled(response is not None)
        self.rating.set_rating(
            NO_RATING if response is None else rating_from(response.rating, response.rating_note)
        )
        if response is None:
            self.answer.clear()
        elif response.steps or response.tool_calls:
            self.answer.setPlainText(conversation_text(response))
        elif response.error or status_note(response):
            why = response.error or status_note(response)
            self.answer.setPlainText(f"{response.text}\n\n[{response.status}] {why}")
        else:
            self.answer.setPlainText(response.text)
        mark_fences(self.answer.document())


def conversation_text(response: ResponseRow) -> str:
    """A stored answer and the conversation that went on from it, turn by turn: each
    answer with the tool calls it made (name, arguments, the result sent back), each
    step's typed turns, and how an answer ended when it did not finish."""
    turns = stored_turns(response)[len(messages_from(response.messages)) :]
    ends = [(response.status, response.error), *((s.status, s.error) for s in response.steps)]
    parts, answers = [], iter(ends)
    for position, turn in enumerate(turns):
        if turn.role == "tool":  # shown under the call it answers
            continue
        if turn.role != "assistant":
            parts.append(transcript([turn]))
            continue
        status, error = next(answers, ("done", None))
        ended = f"\n[{status}] {error or ''}".rstrip() if status != "done" else ""
        text = transcript([Message("assistant", turn.content + ended)]).rstrip("\n")
        results = [t for t in turns[position + 1 :] if t.role == "tool"]
        calls = calls_text(turn.tool_calls, results)
        parts.append(f"{text}\n{calls}" if calls else text)
    count = len(response.steps) + 1
    parts.append(f"— {count} answer{'s' if count != 1 else ''} · cost "
                 f"{format_cost(response.total_cost)}")  # fmt: skip
    return "\n\n".join(parts)
