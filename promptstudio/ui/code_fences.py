"""Fenced code blocks in answers (```` ```python ```` … ```` ``` ````), found as the text
arrives, and marked for :class:`~promptstudio.ui.editor.code_highlighter.CodeHighlighter`.

A block is marked once its closing fence is in, so nothing is lexed while a block is still
streaming and no line is lexed twice. The mark is the block format property Qt's own Markdown
reader gives a code block (``QTextFormat.BlockCodeLanguage``), so one highlighter colours an
answer's text and its rendered Markdown alike.

Fences follow CommonMark: up to three spaces, then three or more backticks or tildes; the
first word after an opening fence names the language; a closing fence is the same character,
at least as long, with nothing after it but spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtGui import QTextBlock, QTextBlockFormat, QTextCursor, QTextDocument

from promptstudio.ui.editor.code_highlighter import CODE_LANGUAGE

FENCE_RE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
HEAD = 200  # characters of a line kept to recognise a fence: no fence line is longer


@dataclass(frozen=True)
class CodeLines:
    """Lines ``first`` to ``last`` (numbered from 0) are code in ``language``."""

    first: int
    last: int
    language: str


class FenceScanner:
    """Follows text as it arrives and says which lines turned out to be fenced code."""

    def __init__(self) -> None:
        self.line = 0  # the number of the line text is arriving on
        self._head = ""  # that line's start, up to HEAD characters
        self._open: tuple[str, str, int] | None = None  # marker, language, first code line
        self._reported = -1  # the last line of the open block already reported

    def feed(self, text: str) -> list[CodeLines]:
        """Take the next piece of text; the code lines whose block it closed (or, when its
        last line reads as a closing fence, is closing)."""
        found: list[CodeLines] = []
        start = 0
        while (end := text.find("\n", start)) >= 0:
            self._head += text[start : min(end, start + HEAD - len(self._head))]
            found += self._end_line()
            start = end + 1
        self._head += text[start : start + max(HEAD - len(self._head), 0)]
        if self._open is not None and self._closes(self._head):
            found += self._report(self.line - 1)  # the answer may end on this line
        return found

    @property
    def finished(self) -> bool:
        """Whether every block opened so far is closed (or its closing fence is arriving)."""
        return self._open is None or self._closes(self._head)

    def _end_line(self) -> list[CodeLines]:
        head, self._head = self._head.rstrip("\r"), ""
        line, self.line = self.line, self.line + 1
        if self._open is None:
            match = FENCE_RE.fullmatch(head)
            if match and not (match[1][0] == "`" and "`" in match[2]):
                words = match[2].split()
                self._open = (match[1], words[0].lower() if words else "", line + 1)
                self._reported = line
            return []
        if not self._closes(head):
            return []
        found = self._report(line - 1)
        self._open = None
        return found

    def _closes(self, line: str) -> bool:
        match = FENCE_RE.fullmatch(line.rstrip("\r"))
        assert self._open is not None
        marker = self._open[0]
        return bool(
            match
            and match[1][0] == marker[0]
            and len(match[1]) >= len(marker)
            and not match[2].strip()
        )

    def _report(self, last: int) -> list[CodeLines]:
        assert self._open is not None
        first, self._reported = self._reported + 1, max(self._reported, last)
        language = self._open[1]
        return [CodeLines(first, last, language)] if language and first <= last else []


def mark_code(first: QTextBlock, last: QTextBlock, language: str) -> None:
    """Name ``language`` on the blocks ``first`` to ``last``; a CodeHighlighter on their
    document colours them then (only them)."""
    cursor = QTextCursor(first)
    cursor.setPosition(last.position(), QTextCursor.MoveMode.KeepAnchor)
    code = QTextBlockFormat()
    code.setProperty(CODE_LANGUAGE, language)
    cursor.mergeBlockFormat(code)


def mark_fences(document: QTextDocument) -> None:
    """Mark the fenced code of a document set as plain text (one block a line)."""
    for code in FenceScanner().feed(document.toPlainText()):
        mark_code(
            document.findBlockByNumber(code.first),
            document.findBlockByNumber(code.last),
            code.language,
        )


def fences_finished(text: str) -> bool:
    """Whether every fenced block in ``text`` is closed (a streamed answer's may not be)."""
    scanner = FenceScanner()
    scanner.feed(text)
    return scanner.finished
