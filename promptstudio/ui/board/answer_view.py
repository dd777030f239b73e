"""The text view of a streamed answer: cheap appends, and no line breaks that are not there.

Qt lays out a whole paragraph (a text block) again on every append, so a 35,000-character
paragraph costs ~14 ms per append and a 300,000-character one ~200 ms (measured here),
enough to freeze eight streaming columns. The view therefore keeps long paragraphs in
pieces of about :data:`PIECE` characters, each its own block. A piece is cut where its
paragraph wraps anyway, at the start of its last laid-out line: line wrapping is greedy,
so the lines before the cut and the lines after it are the lines the whole paragraph would
have had, and the cut is invisible. When the width changes, the pieces are cut again
(:meth:`AnswerView.reflow`). Blocks that continue a paragraph are marked
(:data:`CONTINUES`), so :meth:`AnswerView.toPlainText` and a copied selection give the
answer exactly, without the cuts.

Without wrapping there are no line ends to cut at; pieces are then cut after a space,
and the cut shows.

Fenced code (```` ```python ````) is coloured as each block's closing fence arrives
(:mod:`promptstudio.ui.code_fences`): a delta is scanned for fences, never lexed, and each
code line is lexed once.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QSize, Qt, QTimer
from PySide6.QtGui import QTextBlock, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from promptstudio.ui import a11y
from promptstudio.ui.code_fences import CodeLines, FenceScanner, mark_code
from promptstudio.ui.editor.code_highlighter import CodeHighlighter

PIECE = 2000  # characters a paragraph's open block may reach before it is cut
CONTINUES = 1  # the user state of a block that continues the previous block's paragraph
REFLOW_DELAY_MS = 60


class AnswerView(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        a11y.keyboard_selectable(self)  # Shift+arrows select, Ctrl+C copies
        self.setUndoRedoEnabled(False)  # a streamed answer has nothing to undo
        # A scroll bar that appeared mid-stream would narrow the text and make every
        # column cut its pieces again at once; one that is always there never does.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self._cut_width = -1  # the viewport width the pieces were cut for
        self._reflow = QTimer(self)
        self._reflow.setSingleShot(True)
        self._reflow.setInterval(REFLOW_DELAY_MS)
        self._reflow.timeout.connect(self.reflow)
        self._fences = FenceScanner()
        self.code_colours: CodeHighlighter | None = None  # made for the first code block

    def minimumSizeHint(self) -> QSize:
        """A few lines at the least (in the font it shows): on a small screen the editor
        above gives way before the answer is squeezed to nothing."""
        hint = super().minimumSizeHint()
        lines = 5 * self.fontMetrics().lineSpacing() + 2 * self.frameWidth()
        return QSize(hint.width(), max(hint.height(), lines))

    # ---- the text -----------------------------------------------------------------------

    def append_text(self, text: str) -> None:
        """Add streamed text at the end (a flush of the column's buffer)."""
        document = self.document()
        if document.isEmpty():
            self._cut_width = self._wrap_width()
            self._fences = FenceScanner()
        elif self._cut_width != self._wrap_width() and document.blockCount() > 1:
            self._reflow.start()  # cut for another width: cut again once it settles
        cursor = QTextCursor(document)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        start = 0
        while start < len(text):  # a big flush goes in slices, so no block grows huge
            room = max(PIECE - (document.lastBlock().length() - 1), 0) + 1
            end = min(len(text), start + room)
            cursor.insertText(text[start:end])
            start = end
            self._cut_open_block()
        code = self._fences.feed(text)
        if code:
            self._colour(code)

    def set_text(self, text: str) -> None:
        """Show ``text`` from scratch (another sample, or a new width)."""
        self.clear()
        self._cut_width = self._wrap_width()
        self.append_text(text)

    def toPlainText(self) -> str:
        """The text as given: the pieces of a paragraph are joined without a line break."""
        return self._text_between(0, self.document().characterCount())

    def createMimeDataFromSelection(self) -> QMimeData:
        """Copying a selection gives the answer's own text, without the cuts."""
        cursor = self.textCursor()
        data = QMimeData()
        data.setText(self._text_between(cursor.selectionStart(), cursor.selectionEnd()))
        return data

    def paragraphs(self) -> int:
        """How many paragraphs are shown (blocks that do not continue another)."""
        count, block = 0, self.document().firstBlock()
        while block.isValid():
            count += block.userState() != CONTINUES
            block = block.next()
        return count

    # ---- code ---------------------------------------------------------------------------

    def _colour(self, code: list[CodeLines]) -> None:
        """Mark the lines of fenced blocks just closed; the highlighter colours those only.
        The lines are near the end, so they are found walking back from it."""
        if self.code_colours is None:
            self.code_colours = CodeHighlighter(self)
        first = min(lines.first for lines in code)
        pieces: dict[int, list[QTextBlock]] = {}  # line number: its blocks, last first
        line, block = self._fences.line, self.document().lastBlock()
        while block.isValid() and line >= first:
            pieces.setdefault(line, []).append(block)
            if block.userState() != CONTINUES:
                line -= 1
            block = block.previous()
        for lines in code:
            starts, ends = pieces.get(lines.first), pieces.get(lines.last)
            if starts and ends:  # else the text was not put in through append_text
                mark_code(starts[-1], ends[0], lines.language)

    # ---- cutting ------------------------------------------------------------------------

    def reflow(self) -> None:
        """Cut the pieces again for the current width, keeping the scroll position."""
        self._reflow.stop()
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        fraction = bar.value() / bar.maximum() if bar.maximum() else 0.0
        self.set_text(self.toPlainText())
        bar.setValue(bar.maximum() if at_end else round(fraction * bar.maximum()))

    def _wrap_width(self) -> int:
        wraps = self.lineWrapMode() != QPlainTextEdit.LineWrapMode.NoWrap
        return self.viewport().width() if wraps else 0

    def _cut_open_block(self) -> None:
        block = self.document().lastBlock()
        if block.length() - 1 <= PIECE:
            return
        cut = self._cut_position(block)
        if cut <= 0:
            return
        cursor = QTextCursor(block)
        cursor.setPosition(block.position() + cut)
        cursor.insertBlock()
        self.document().lastBlock().setUserState(CONTINUES)

    def _cut_position(self, block: QTextBlock) -> int:
        """Where to end this piece: the start of its last line (that line is still open),
        or without wrapping, after the last space."""
        layout = block.layout()
        if layout is not None and layout.lineCount() == 0:
            self.document().documentLayout().blockBoundingRect(block)  # lays it out
        if self._wrap_width() and layout is not None and layout.lineCount() > 1:
            return layout.lineAt(layout.lineCount() - 1).textStart()
        text = block.text()
        return text.rfind(" ", 0, len(text) - 1) + 1

    def _text_between(self, start: int, end: int) -> str:
        document = self.document()
        block = document.findBlock(start)
        parts: list[str] = []
        while block.isValid() and block.position() <= end:
            if parts:
                parts.append("" if block.userState() == CONTINUES else "\n")
            offset = block.position()
            parts.append(block.text()[max(0, start - offset) : max(0, end - offset)])
            block = block.next()
        return "".join(parts)

    # ---- events -------------------------------------------------------------------------

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self._cut_width != self._wrap_width():
            if self.document().blockCount() > 1:
                self._reflow.start()
            else:
                self._cut_width = self._wrap_width()
        return super().viewportEvent(event)

    def setLineWrapMode(self, mode: QPlainTextEdit.LineWrapMode) -> None:
        super().setLineWrapMode(mode)
        if self.document().blockCount() > 1:
            self._reflow.start()
