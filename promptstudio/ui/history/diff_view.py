"""Side-by-side diff: two template versions line by line, or two answers word by word.

The rows come from :mod:`promptstudio.diffing`; this module only draws them. In line mode
both sides hold one block per row (a blank filler block where a side has no line), so
one scroll value fits both and rows stay aligned. Row colours are painted under the
visible rows only; changed words get a character format, set in one edit block per
side: no per-row widget calls for unchanged text and no extra selections to repaint.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Literal

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontDatabase,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from promptstudio.diffing import DiffRow, Span, diff_lines, diff_words, summarize

# Translucent, so they tint the base colour of a light or a dark palette alike.
DELETED = QBrush(QColor(229, 83, 75, 46))
INSERTED = QBrush(QColor(46, 160, 67, 46))
REPLACED = QBrush(QColor(212, 167, 44, 46))
FILLER = QBrush(QColor(128, 128, 128, 56), Qt.BrushStyle.BDiagPattern)  # no line here
WORD_REMOVED = QColor(229, 83, 75, 120)
WORD_INSERTED = QColor(46, 160, 67, 120)
CURRENT_MARK = QColor(66, 133, 244)

# QTextDocument turns these into block breaks, which would break row alignment; each is
# shown as a same-width stand-in so UTF-16 offsets stay right.
_BLOCK_BREAKS = str.maketrans(
    {"\u2029": "↵", "\u2028": "↵", "\ufdd0": "\ufffd", "\ufdd1": "\ufffd"}
)

Mode = Literal["lines", "words"]
_Change = tuple[int, int, int, int]  # Qt positions: left start, left end, right start, end


class _Gutter(QWidget):
    def __init__(self, editor: DiffEditor) -> None:
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self._editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._editor.paint_gutter(self, event)


class DiffEditor(QPlainTextEdit):
    """One read-only side of a diff; its gutter shows this side's own line numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.use_fixed_font(True)
        self.document().setUndoRedoEnabled(False)
        self.numbers: list[int | None] = []  # per block; None for a filler
        self.row_brushes: list[QBrush | None] = []  # per block: the row's background
        self.marked = range(0)  # blocks of the current change, flagged in the gutter
        self._digits = 1
        self._gutter = _Gutter(self)
        self.updateRequest.connect(self._on_update_request)
        self._update_margin()

    def show_text(
        self, text: str, numbers: list[int | None], row_brushes: list[QBrush | None]
    ) -> None:
        self.numbers = numbers
        self.row_brushes = row_brushes
        self.marked = range(0)
        self._digits = len(str(max((n for n in numbers if n is not None), default=1)))
        # A highlight left at the cursor by the last comparison would colour all new text.
        self.setCurrentCharFormat(QTextCharFormat())
        self.setPlainText(text)
        self._update_margin()

    def use_fixed_font(self, fixed: bool) -> None:
        """Monospace for templates, the reading font for free text."""
        kind = QFontDatabase.SystemFont.FixedFont if fixed else QFontDatabase.SystemFont.GeneralFont
        font = QFontDatabase.systemFont(kind)
        font.setPointSize(max(font.pointSize(), 10))
        self.setFont(font)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)

    def mark(self, start: int, end: int) -> None:
        """Flag the blocks of positions ``start`` to ``end`` (exclusive) as the current change."""
        document = self.document()
        first = document.findBlock(start).blockNumber()
        last = document.findBlock(max(start, end - 1)).blockNumber()
        self.marked = range(first, last + 1)
        self._gutter.update()

    def gutter_width(self) -> int:
        return 14 + self.fontMetrics().horizontalAdvance("9") * max(self._digits, 2)

    def paint_gutter(self, gutter: QWidget, event: QPaintEvent) -> None:
        painter = QPainter(gutter)
        painter.fillRect(event.rect(), self.palette().color(QPalette.ColorRole.AlternateBase))
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        width, line_height = gutter.width(), self.fontMetrics().height()
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        while block.isValid() and top <= event.rect().bottom():
            height = round(self.blockBoundingRect(block).height())
            number = block.blockNumber()
            if block.isVisible() and top + height >= event.rect().top():
                brush = self._row_brush(number)
                if brush is not None:
                    painter.fillRect(0, top, width, height, brush)
                if number in self.marked:
                    painter.fillRect(width - 3, top, 3, height, CURRENT_MARK)
                line = self.numbers[number] if number < len(self.numbers) else None
                if line is not None:
                    painter.drawText(
                        0, top, width - 8, line_height, Qt.AlignmentFlag.AlignRight, str(line)
                    )
            block = block.next()
            top += height
        painter.end()

    def paintEvent(self, event: QPaintEvent) -> None:
        # Row colours go under the text, across the whole width (a block format's
        # background would stop short of the right edge).
        if self.row_brushes:
            painter = QPainter(self.viewport())
            width = self.viewport().width()
            block = self.firstVisibleBlock()
            top = self.blockBoundingGeometry(block).translated(self.contentOffset()).top()
            while block.isValid() and top <= event.rect().bottom():
                height = self.blockBoundingRect(block).height()
                brush = self._row_brush(block.blockNumber())
                if brush is not None:
                    painter.fillRect(QRectF(0, top, width, height), brush)
                block = block.next()
                top += height
            painter.end()
        super().paintEvent(event)

    def _row_brush(self, number: int) -> QBrush | None:
        return self.row_brushes[number] if number < len(self.row_brushes) else None

    def _update_margin(self) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)
        rect = self.contentsRect()
        self._gutter.setGeometry(QRect(rect.left(), rect.top(), self.gutter_width(), rect.height()))

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_margin()


class DiffView(QWidget):
    """Old text on the left, new on the right, scrolled together; F7 walks the changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("diffView")
        self.left = DiffEditor(self)
        self.right = DiffEditor(self)
        self.left.setObjectName("diffLeft")
        self.right.setObjectName("diffRight")
        self.left.setAccessibleName("Before")
        self.right.setAccessibleName("After")
        self.left_title, self.right_title = QLabel("Before", self), QLabel("After", self)
        self.summary = QLabel(self)
        self.summary.setObjectName("diffSummary")
        self.note = QLabel(self)  # why a big diff is coarser than usual
        self.note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.note.hide()
        self.previous_button = QPushButton("Previous change", self)
        self.next_button = QPushButton("Next change", self)
        self.previous_button.setToolTip("Previous change (Shift+F7)")
        self.next_button.setToolTip("Next change (F7)")
        self.previous_button.clicked.connect(self.previous_change)
        self.next_button.clicked.connect(self.next_change)
        for key, slot in (("F7", self.next_change), ("Shift+F7", self.previous_change)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

        bar = QHBoxLayout()
        bar.addWidget(self.summary)
        bar.addWidget(self.note)
        bar.addStretch(1)
        bar.addWidget(self.previous_button)
        bar.addWidget(self.next_button)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        for title, editor in ((self.left_title, self.left), (self.right_title, self.right)):
            column = QWidget(splitter)
            column_layout = QVBoxLayout(column)
            column_layout.setContentsMargins(0, 0, 0, 0)
            column_layout.setSpacing(2)
            font = title.font()
            font.setBold(True)
            title.setFont(font)
            column_layout.addWidget(title)
            column_layout.addWidget(editor)
            splitter.addWidget(column)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)

        self._mode: Mode = "lines"
        self._changes: list[_Change] = []
        self._current = -1
        self._cursor: tuple[int, int] | None = None  # (side, position) the user moved to
        self._syncing = False
        for side, (editor, other) in enumerate(((self.left, self.right), (self.right, self.left))):
            editor.verticalScrollBar().valueChanged.connect(
                lambda _value, e=editor, o=other: self._sync(e, o, vertical=True)
            )
            editor.horizontalScrollBar().valueChanged.connect(
                lambda _value, e=editor, o=other: self._sync(e, o, vertical=False)
            )
            editor.horizontalScrollBar().rangeChanged.connect(self._match_scroll_bars)
            editor.cursorPositionChanged.connect(
                lambda s=side, e=editor: self._on_cursor(s, e.textCursor().position())
            )
        self._update_buttons()

    # ---- public API ------------------------------------------------------------------

    def set_titles(self, left: str, right: str) -> None:
        self.left_title.setText(left)
        self.right_title.setText(right)

    def clear_formats(self) -> None:
        """Work around the editors reusing the last character format for the next text.

        After a comparison whose highlight ran to the end of a side (an answer against no
        answer), ``setPlainText`` would paint the whole next text as changed.
        """
        for editor in (self.left, self.right):
            editor.setCurrentCharFormat(QTextCharFormat())

    def show_diff(self, old: str, new: str) -> None:
        """Compare two versions line by line, with changed words marked in changed lines."""
        rows = diff_lines(old, new)
        self._set_mode("lines")
        left_lines = [row.old_text.translate(_BLOCK_BREAKS) for row in rows]
        right_lines = [row.new_text.translate(_BLOCK_BREAKS) for row in rows]
        left_brushes = {"replace": REPLACED, "delete": DELETED, "insert": FILLER}
        right_brushes = {"replace": REPLACED, "delete": FILLER, "insert": INSERTED}
        self.left.show_text(
            "\n".join(left_lines),
            [row.old_line for row in rows],
            [left_brushes.get(row.kind) for row in rows],
        )
        self.right.show_text(
            "\n".join(right_lines),
            [row.new_line for row in rows],
            [right_brushes.get(row.kind) for row in rows],
        )
        _paint_words(self.left.document(), rows, left_lines, old_side=True)
        _paint_words(self.right.document(), rows, right_lines, old_side=False)
        self._changes = _row_changes(rows, left_lines, right_lines)
        stats = summarize(rows)
        self.summary.setText(
            f"+{stats.added} −{stats.removed} ~{stats.changed} lines"
            if self._changes
            else "No differences"
        )
        self._after_show(rows.fallback)

    def show_words(self, old: str, new: str) -> None:
        """Compare two free texts, such as two models' answers, word by word (wrapped)."""
        result = diff_words(old, new)
        self._set_mode("words")
        # diff_words normalises line ends; show the same text its spans point into.
        old_text = old.replace("\r\n", "\n").replace("\r", "\n").translate(_BLOCK_BREAKS)
        new_text = new.replace("\r\n", "\n").replace("\r", "\n").translate(_BLOCK_BREAKS)
        self.left.show_text(old_text, list(range(1, old_text.count("\n") + 2)), [])
        self.right.show_text(new_text, list(range(1, new_text.count("\n") + 2)), [])
        _paint_spans(self.left.document(), old_text, result.old_spans, WORD_REMOVED)
        _paint_spans(self.right.document(), new_text, result.new_spans, WORD_INSERTED)
        old_at = _qt_positions(old_text, [p for a, _ in result.changes for p in (a.start, a.end)])
        new_at = _qt_positions(new_text, [p for _, b in result.changes for p in (b.start, b.end)])
        self._changes = [
            (old_at[2 * k], old_at[2 * k + 1], new_at[2 * k], new_at[2 * k + 1])
            for k in range(len(result.changes))
        ]
        count = len(self._changes)
        self.summary.setText(
            f"{result.similarity:.0%} similar · {count} change{'' if count == 1 else 's'}"
        )
        self._after_show(result.fallback)

    def changes(self) -> int:
        """How many changes there are: runs of changed rows, or changed word spans."""
        return len(self._changes)

    def current_change(self) -> int:
        """The change last moved to with next/previous (0-based); -1 before the first."""
        return self._current

    def next_change(self) -> None:
        """Go to the first change after the cursor (the user's last click), wrapping around."""
        if not self._changes:
            return
        if self._cursor is None:
            self.go_to_change(0)
            return
        side, position = self._cursor
        starts = [change[2 * side] for change in self._changes]
        following = bisect_left(starts, position + 1)
        self.go_to_change(following if following < len(starts) else 0)

    def previous_change(self) -> None:
        """Go to the last change before the cursor, wrapping around."""
        if not self._changes:
            return
        if self._cursor is None:
            self.go_to_change(len(self._changes) - 1)
            return
        side, position = self._cursor
        starts = [change[2 * side] for change in self._changes]
        before = bisect_left(starts, position) - 1
        self.go_to_change(before if before >= 0 else len(starts) - 1)

    def go_to_change(self, index: int) -> None:
        """Put both cursors on change ``index``, flag it in the gutters and scroll to it."""
        left_start, left_end, right_start, right_end = self._changes[index]
        self._current = index
        self._syncing = True  # place both sides first, then scroll them together
        try:
            for editor, start, end in (
                (self.left, left_start, left_end),
                (self.right, right_start, right_end),
            ):
                cursor = QTextCursor(editor.document())
                cursor.setPosition(start)
                if self._mode == "words":  # select the changed words
                    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
                editor.setTextCursor(cursor)
                editor.mark(start, end)
                if self._mode == "words":
                    editor.centerCursor()
        finally:
            self._syncing = False
        if self._mode == "lines":
            self.left.centerCursor()
            self._sync(self.left, self.right, vertical=True)
        self._cursor = (0, left_start)
        self._update_buttons()

    # ---- internals -------------------------------------------------------------------

    def _set_mode(self, mode: Mode) -> None:
        if mode != self._mode:
            for editor in (self.left, self.right):
                editor.use_fixed_font(mode == "lines")
        self._mode = mode
        wrap = (
            QPlainTextEdit.LineWrapMode.WidgetWidth
            if mode == "words"
            else QPlainTextEdit.LineWrapMode.NoWrap
        )
        for editor in (self.left, self.right):
            editor.setLineWrapMode(wrap)

    def _after_show(self, fallback: str | None) -> None:
        self._current = -1
        self.note.setText(fallback or "")
        self.note.setVisible(bool(fallback))
        for editor in (self.left, self.right):
            editor.moveCursor(QTextCursor.MoveOperation.Start)
        self._cursor = None  # moving to the start is not the user's choice
        self._update_buttons()

    def _update_buttons(self) -> None:
        for button in (self.previous_button, self.next_button):
            button.setEnabled(bool(self._changes))

    def _on_cursor(self, side: int, position: int) -> None:
        self._cursor = (side, position)

    def _sync(self, source: DiffEditor, target: DiffEditor, *, vertical: bool) -> None:
        """Scroll ``target`` to where ``source`` is: by row, or proportionally when wrapped."""
        if self._syncing:
            return
        self._syncing = True
        try:
            bars: tuple[QScrollBar, QScrollBar] = (
                (source.verticalScrollBar(), target.verticalScrollBar())
                if vertical
                else (source.horizontalScrollBar(), target.horizontalScrollBar())
            )
            here, there = bars
            if self._mode == "lines":
                there.setValue(here.value())
            elif vertical and here.maximum() > 0:
                there.setValue(round(here.value() / here.maximum() * there.maximum()))
        finally:
            self._syncing = False

    def _match_scroll_bars(self) -> None:
        """Both sides get a horizontal bar if one needs it, so their rows stay level."""
        needed = self._mode == "lines" and any(
            editor.horizontalScrollBar().maximum() > 0 for editor in (self.left, self.right)
        )
        policy = (
            Qt.ScrollBarPolicy.ScrollBarAlwaysOn if needed else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )
        for editor in (self.left, self.right):
            if editor.horizontalScrollBarPolicy() != policy:
                editor.setHorizontalScrollBarPolicy(policy)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _qt_positions(text: str, positions: Sequence[int]) -> list[int]:
    """Python string indices as QTextDocument positions (UTF-16 code units)."""
    if _utf16_length(text) == len(text):
        return list(positions)
    astral = [i for i, char in enumerate(text) if ord(char) > 0xFFFF]
    return [position + bisect_left(astral, position) for position in positions]


def _paint_words(
    document: QTextDocument, rows: Sequence[DiffRow], lines: Sequence[str], *, old_side: bool
) -> None:
    """Colour one side's changed words, in one edit block."""
    word = QTextCharFormat()
    word.setBackground(WORD_REMOVED if old_side else WORD_INSERTED)
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    position = 0
    for row, line in zip(rows, lines, strict=True):
        spans = row.old_spans if old_side else row.new_spans
        if spans:
            at = _qt_positions(line, [p for span in spans for p in (span.start, span.end)])
            for k in range(0, len(at), 2):
                cursor.setPosition(position + at[k])
                cursor.setPosition(position + at[k + 1], QTextCursor.MoveMode.KeepAnchor)
                cursor.setCharFormat(word)
        position += _utf16_length(line) + 1
    cursor.endEditBlock()


def _paint_spans(document: QTextDocument, text: str, spans: Sequence[Span], colour: QColor) -> None:
    word = QTextCharFormat()
    word.setBackground(colour)
    at = _qt_positions(text, [p for span in spans for p in (span.start, span.end)])
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    for k in range(0, len(at), 2):
        cursor.setPosition(at[k])
        cursor.setPosition(at[k + 1], QTextCursor.MoveMode.KeepAnchor)
        cursor.setCharFormat(word)
    cursor.endEditBlock()


def _row_changes(
    rows: Sequence[DiffRow], left: Sequence[str], right: Sequence[str]
) -> list[_Change]:
    """Each run of changed rows: where it starts and ends (exclusive) on each side."""
    changes: list[_Change] = []
    left_at = right_at = 0
    start: tuple[int, int] | None = None
    for row, left_line, right_line in zip(rows, left, right, strict=True):
        if row.kind != "equal" and start is None:
            start = (left_at, right_at)
        elif row.kind == "equal" and start is not None:
            changes.append((start[0], left_at, start[1], right_at))
            start = None
        left_at += _utf16_length(left_line) + 1
        right_at += _utf16_length(right_line) + 1
    if start is not None:
        changes.append((start[0], left_at, start[1], right_at))
    return changes
