"""👍 / 👎 and a note on one answer: the same small row under a run column's answer, a
pinned tab, an evaluation cell and an answer in History.

Clicking the pressed thumb again clears the verdict. The note is taken when editing ends
(Enter or leaving the field). ``rated`` carries the new :class:`Rating`; the owner stores
it (``storage.ratings``) and calls :meth:`set_rating` with what was stored. Keyboard: Tab
reaches both buttons and the note; Alt+Up rates good and Alt+Down bad while the row or its
answer has focus (the owner may add :meth:`shortcuts_for` to an answer view).
"""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QToolButton, QWidget

from promptstudio.storage.ratings import BAD, GOOD, MAX_NOTE_CHARS, NO_RATING, Rating

GOOD_KEYS = "Alt+Up"
BAD_KEYS = "Alt+Down"
EMOJI_FAMILIES = ("Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", "Twemoji",
                  "JoyPixels", "EmojiOne", "Symbola")  # fmt: skip
TEXT_MARKS = ("+1", "−1")  # where no font draws 👍 👎 (a bare Linux box shows boxes)


@functools.cache
def marks() -> tuple[str, str]:
    """(good, bad) as this machine can draw them: 👍 👎, else +1 −1."""
    found = set(QFontDatabase.families())
    if any(family in found for family in EMOJI_FAMILIES):
        return ("👍", "👎")
    if QFontMetrics(QFont()).inFontUcs4(0x1F44D):
        return ("👍", "👎")
    return TEXT_MARKS


def mark(rating: Rating | None) -> str:
    """The rating's mark for a grid or tree cell ("" for none)."""
    if rating is None or rating.verdict is None:
        return ""
    return marks()[0] if rating.verdict == GOOD else marks()[1]


class RatingBar(QWidget):
    rated = Signal(object)  # Rating

    def __init__(self, what: str = "answer", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ratingBar")
        self._rating = NO_RATING
        good, bad = marks()
        self.good = self._thumb(good, f"Rate this {what} good ({GOOD_KEYS})", "ratingGood")
        self.bad = self._thumb(bad, f"Rate this {what} bad ({BAD_KEYS})", "ratingBad")
        self.good.clicked.connect(lambda: self._verdict(GOOD))
        self.bad.clicked.connect(lambda: self._verdict(BAD))
        self.note = QLineEdit(self)
        self.note.setObjectName("ratingNote")
        self.note.setPlaceholderText("Note (optional)")
        self.note.setAccessibleName(f"Note on this {what}")
        self.note.setToolTip("Why it is good or bad; found by the library search")
        self.note.setMaxLength(MAX_NOTE_CHARS)
        self.note.setClearButtonEnabled(True)
        self.note.editingFinished.connect(self._note_done)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(4)
        layout.addWidget(self.good)
        layout.addWidget(self.bad)
        layout.addWidget(self.note, 1)
        self.shortcuts_for(self)

    def _thumb(self, mark: str, name: str, object_name: str) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName(object_name)
        button.setText(mark)
        button.setCheckable(True)
        button.setAccessibleName(name)
        button.setToolTip(name)
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return button

    def shortcuts_for(self, widget: QWidget) -> None:
        """Alt+Up / Alt+Down rate while ``widget`` (or a child) has focus."""
        for keys, verdict in ((GOOD_KEYS, GOOD), (BAD_KEYS, BAD)):
            shortcut = QShortcut(QKeySequence(keys), widget)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda v=verdict: self.rate(v) if self.isEnabled() else None)

    def rating(self) -> Rating:
        return self._rating

    def set_rating(self, rating: Rating) -> None:
        """Show ``rating`` (stored, or none) without announcing it."""
        self._rating = rating
        self.good.setChecked(rating.verdict == GOOD)
        self.bad.setChecked(rating.verdict == BAD)
        if self.note.text() != rating.note:
            self.note.setText(rating.note)

    def rate(self, verdict: int) -> None:
        """Toggle ``verdict`` (as clicking its button does)."""
        self._verdict(verdict)

    def _verdict(self, verdict: int) -> None:
        chosen = None if self._rating.verdict == verdict else verdict
        self._announce(Rating(chosen, self.note.text().strip()))

    def _note_done(self) -> None:
        note = self.note.text().strip()
        if note != self._rating.note:
            self._announce(Rating(self._rating.verdict, note))

    def _announce(self, rating: Rating) -> None:
        self.set_rating(rating)
        self.rated.emit(rating)
