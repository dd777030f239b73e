"""👍 / 👎 and a note under each run column's answer, and on the pinned answers.

A column's answer can be rated once it is stored (``RunFlow.answerStored``): the rating
goes to that response (``storage.ratings``); with several samples, to the sample on show.
While a run streams, or before any, the row is disabled. The ⋯ menu of the column holds
the same two verdicts ("Rate the answer good / bad", Alt+Up / Alt+Down with focus in the
column). A pinned answer's rating goes to the pin: one row in the pinned tabs' corner
rates the pin on show.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction

from promptstudio.runs.columns import split_sample_key
from promptstudio.storage import Database
from promptstudio.storage.ratings import (
    BAD,
    GOOD,
    NO_RATING,
    Rating,
    pin_ratings,
    set_rating,
)
from promptstudio.ui.board.run_board import RunBoard
from promptstudio.ui.board.run_column import RunColumn
from promptstudio.ui.rating_bar import BAD_KEYS, GOOD_KEYS, RatingBar
from promptstudio.ui.run_flow import RunFlow, StoredAnswer
from promptstudio.ui.tasks import TaskOwner


class AnswerRatings(QObject):
    """The rating rows of the board's columns and pins, and where their ratings go."""

    def __init__(self, db: Database, runs: RunFlow, board: RunBoard, tasks: TaskOwner) -> None:
        super().__init__(board)
        self.db, self.board, self.tasks = db, board, tasks
        self.bars: dict[str, RatingBar] = {}
        # column id -> sample -> (response id, its rating), for the column's last run
        self._stored: dict[str, dict[int, tuple[int, Rating]]] = {}
        for column in board.columns:
            self._attach(column.column_id)
        board.columnAdded.connect(self._attach)
        runs.runStarted.connect(self._started)
        runs.answerStored.connect(self._stored_answer)
        self.pin_bar = RatingBar("pinned answer")
        self.pin_bar.setObjectName("pinRatingBar")
        self.pin_bar.note.setMaximumWidth(180)
        self.pin_bar.rated.connect(self._rate_pin)
        self.pin_bar.shortcuts_for(board.pinned)
        self._pins: dict[int, Rating] = {}
        board.pinned.setCornerWidget(self.pin_bar, Qt.Corner.TopRightCorner)
        # After the board has given the new tab its pin id (it does so right after adding).
        board.pinned.currentChanged.connect(lambda _index: QTimer.singleShot(0, self._show_pin))

    # ---- run columns ---------------------------------------------------------------------

    def _attach(self, column_id: str) -> None:
        column = self.board.column(column_id)
        bar = RatingBar("answer", column)
        bar.setObjectName("answerRatingBar")
        good = QAction(f"Rate the answer good\t{GOOD_KEYS}", column)
        good.triggered.connect(lambda: bar.rate(GOOD) if bar.isEnabled() else None)
        bad = QAction(f"Rate the answer bad\t{BAD_KEYS}", column)
        bad.triggered.connect(lambda: bar.rate(BAD) if bar.isEnabled() else None)
        column.add_footer(bar, [good, bad])
        bar.shortcuts_for(column)
        bar.rated.connect(lambda rating: self._rate_column(column_id, rating))
        column.sampleShown.connect(lambda _index: self._refresh(column_id))
        column.destroyed.connect(lambda: self._forget(column_id, bar))
        self.bars[column_id] = bar
        self._refresh(column_id)

    def _forget(self, column_id: str, bar: RatingBar) -> None:
        """A column went (a new one may carry its id already: the old goes later)."""
        if self.bars.get(column_id) is bar:
            del self.bars[column_id]
            self._stored.pop(column_id, None)

    def _column(self, column_id: str) -> RunColumn | None:
        return next((c for c in self.board.columns if c.column_id == column_id), None)

    def _started(self, column_ids: list[str]) -> None:
        """A run began: the answers on show are not stored yet."""
        for column_id in column_ids:
            self._stored.pop(column_id, None)
            self._refresh(column_id)

    def _stored_answer(self, answer: StoredAnswer) -> None:
        column_id, sample = split_sample_key(answer.result.target.key)
        self._stored.setdefault(column_id, {})[sample] = (answer.response_id, NO_RATING)
        self._refresh(column_id)

    def _current(self, column_id: str) -> tuple[int, Rating] | None:
        """The stored answer the column shows now (None while its run streams)."""
        column = self._column(column_id)
        return self._stored.get(column_id, {}).get(column.answers.selected) if column else None

    def _refresh(self, column_id: str) -> None:
        bar = self.bars.get(column_id)
        if bar is None:
            return
        current = self._current(column_id)
        bar.setEnabled(current is not None)
        bar.setVisible(current is not None)  # no answer to rate: no row taking height
        bar.set_rating(current[1] if current is not None else NO_RATING)

    def _rate_column(self, column_id: str, rating: Rating) -> None:
        current, column = self._current(column_id), self._column(column_id)
        if current is None or column is None:
            return
        response_id, sample = current[0], column.answers.selected

        async def store() -> None:
            stored = await self.db.acall(set_rating, "response", response_id, rating)
            if self._stored.get(column_id, {}).get(sample, (None,))[0] == response_id:
                self._stored[column_id][sample] = (response_id, stored)
                self._refresh(column_id)

        self.tasks.start(f"rate-answer:{response_id}", store())

    # ---- pins ------------------------------------------------------------------------------

    def show_pins(self, prompt_id: int) -> None:
        """Read the prompt's pins' ratings (the pins flow shows its pins)."""

        async def load() -> None:
            self._pins = await self.db.acall(pin_ratings, prompt_id)
            self._show_pin()

        self.tasks.start("pin-ratings", load())

    def _current_pin(self) -> int | None:
        index = self.board.pinned.currentIndex()
        ids = self.board.pin_ids()
        return ids[index] if 0 <= index < len(ids) else None

    def _show_pin(self) -> None:
        pin_id = self._current_pin()
        self.pin_bar.setEnabled(pin_id is not None)
        self.pin_bar.set_rating(self._pins.get(pin_id, NO_RATING) if pin_id else NO_RATING)

    def _rate_pin(self, rating: Rating) -> None:
        pin_id = self._current_pin()
        if pin_id is None:
            return

        async def store() -> None:
            self._pins[pin_id] = await self.db.acall(set_rating, "pin", pin_id, rating)
            self._show_pin()

        self.tasks.start(f"rate-pin:{pin_id}", store())
