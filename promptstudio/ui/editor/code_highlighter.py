"""Syntax colours for code, JSON and YAML shown read-only, from Pygments: the export
preview, an answer's JSON view, and fenced code in answers (blocks that name their language,
see :mod:`promptstudio.ui.code_fences`).

Qt asks for one block (line) at a time, and only for the blocks that changed, so each call
lexes one line, never the document. No lexer state is carried from line to line: the
exports put every string on one line (``repr``, JSON), so a line alone lexes right, and a
YAML block scalar or a Markdown fence simply keeps the colours of its lines. Pygments has
had regular expressions that take exponential time (ReDoS), so only the first
``LINE_LIMIT`` characters of a line are lexed; the rest stays plain. Pygments is imported
when the first line is lexed, not before (the window starts without it).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFontDatabase, QSyntaxHighlighter, QTextCharFormat, QTextFormat
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit

from promptstudio.ui.editor.highlighter import DARK, LIGHT, _format
from promptstudio.ui.theme import palette_is_dark

if TYPE_CHECKING:
    from pygments.lexer import Lexer
    from pygments.token import _TokenType

LINE_LIMIT = 2_000  # characters of one line that are lexed
CODE_LANGUAGE = QTextFormat.Property.BlockCodeLanguage  # a code block's language

# Pygments' name for the language of each export suffix.
LANGUAGES = {
    ".py": "python",
    ".sh": "bash",
    ".json": "json",
    ".yaml": "yaml",
    ".md": "markdown",
    ".j2": "jinja",
    ".prompty": "yaml+jinja",
}


@cache
def _kinds() -> tuple[tuple[_TokenType, str], ...]:
    """The first token type that contains a token names its colour (highlighter.LIGHT/DARK)."""
    from pygments.token import Comment, Keyword, Name, Number, Operator, String

    return (
        (Comment, "comment"),
        (String, "string"),
        (Number, "number"),
        (Keyword.Constant, "number"),
        (Keyword, "keyword"),
        (Operator.Word, "keyword"),
        (Name.Tag, "attribute"),
        (Name.Attribute, "attribute"),
        (Name.Builtin, "variable"),
        (Name.Function, "variable"),
        (Name.Class, "variable"),
        (Name.Variable, "variable"),
        (Name.Decorator, "delimiter"),
    )


@cache
def _lexer(language: str) -> Lexer | None:
    """Pygments' lexer for ``language`` (a name or alias), or None for one it does not know
    (a fence may name anything)."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@cache
def _kind(token: _TokenType) -> str | None:
    return next((kind for parent, kind in _kinds() if token in parent), None)


class CodeHighlighter(QSyntaxHighlighter):
    """Colours the text of ``editor`` as ``language`` (a Pygments name, or None for none),
    and each block that names its own language (a code block), in colours that follow the
    editor's palette (light or dark)."""

    def __init__(self, editor: QPlainTextEdit | QTextEdit, language: str | None = None) -> None:
        super().__init__(editor.document())
        self._editor = editor
        self._language = language
        self._code_blocks = True
        self._formats: dict[str, QTextCharFormat] = {}
        self._code_formats: dict[str, QTextCharFormat] = {}
        self._code = QTextCharFormat()
        self._follow_palette()
        editor.installEventFilter(self)

    @property
    def language(self) -> str | None:
        return self._language

    def set_language(self, language: str | None) -> None:
        if language != self._language:
            self._language = language
            self.rehighlight()

    def show_text(
        self, put_text: Callable[[], None], language: str | None, *, code_blocks: bool
    ) -> None:
        """Let ``put_text()`` replace the editor's text uncoloured, then colour it once as
        ``language`` (and its code blocks if ``code_blocks``): every line is lexed once, and
        not at all when there is nothing to colour (an answer still streaming)."""
        self._language, self._code_blocks = None, False
        put_text()
        self._language, self._code_blocks = language, code_blocks
        if language is not None or code_blocks:
            self.rehighlight()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._editor and event.type() == QEvent.Type.PaletteChange:
            self._follow_palette()
            self.rehighlight()
        return False

    def _follow_palette(self) -> None:
        colours = DARK if palette_is_dark(self._editor.palette()) else LIGHT
        self._formats = {
            kind: _format(colours[kind], bold=kind == "delimiter", italic=kind == "comment")
            for kind in ("comment", "string", "number", "attribute", "variable", "delimiter")
        }
        self._formats["keyword"] = _format(colours["delimiter"], bold=True)
        # A code block inside prose (an answer) is set in the fixed-pitch font, as code is.
        self._code = QTextCharFormat()
        self._code.setFontFamilies(
            [QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()]
        )
        self._code.setFontFixedPitch(True)
        self._code_formats = {}
        for kind, colour in self._formats.items():
            self._code_formats[kind] = QTextCharFormat(colour)
            self._code_formats[kind].merge(self._code)

    def highlightBlock(self, text: str) -> None:
        language, formats = self._language, self._formats
        if language is None and self._code_blocks:
            language = self.currentBlock().blockFormat().stringProperty(CODE_LANGUAGE) or None
            if language is not None and text:
                formats = self._code_formats
                self.setFormat(0, len(text), self._code)
        if language is None or not text:
            return
        lexer = _lexer(language)
        if lexer is None:
            return
        line = text[:LINE_LIMIT]
        # The newline ends line comments as the lexer expects; nothing reaches past ``line``.
        for start, token, value in lexer.get_tokens_unprocessed(line + "\n"):
            kind = _kind(token)
            if kind is not None and start < len(line):
                self.setFormat(start, min(len(value), len(line) - start), formats[kind])
