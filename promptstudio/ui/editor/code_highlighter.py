"""Syntax colours for code, JSON and YAML shown read-only (the export preview), from Pygments.

Qt asks for one block (line) at a time, and only for the blocks that changed, so each call
lexes one line, never the document. No lexer state is carried from line to line: the
exports put every string on one line (``repr``, JSON), so a line alone lexes right, and a
YAML block scalar or a Markdown fence simply keeps the colours of its lines. Pygments has
had regular expressions that take exponential time (ReDoS), so only the first
``LINE_LIMIT`` characters of a line are lexed; the rest stays plain.
"""

from __future__ import annotations

from functools import cache

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, Keyword, Name, Number, Operator, String, _TokenType
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import QPlainTextEdit

from promptstudio.ui.editor.highlighter import DARK, LIGHT, _format
from promptstudio.ui.theme import palette_is_dark

LINE_LIMIT = 2_000  # characters of one line that are lexed

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

# The first token type that contains a token names its colour (see highlighter.LIGHT/DARK).
_KINDS: tuple[tuple[_TokenType, str], ...] = (
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
def _lexer(language: str) -> Lexer:
    return get_lexer_by_name(language, stripnl=False, ensurenl=False)


@cache
def _kind(token: _TokenType) -> str | None:
    return next((kind for parent, kind in _KINDS if token in parent), None)


class CodeHighlighter(QSyntaxHighlighter):
    """Colours the text of ``editor`` as ``language`` (a Pygments name, or None for none),
    in colours that follow the editor's palette (light or dark)."""

    def __init__(self, editor: QPlainTextEdit, language: str | None = None) -> None:
        super().__init__(editor.document())
        self._editor = editor
        self._language = language
        self._formats: dict[str, QTextCharFormat] = {}
        self._follow_palette()
        editor.installEventFilter(self)

    @property
    def language(self) -> str | None:
        return self._language

    def set_language(self, language: str | None) -> None:
        if language != self._language:
            self._language = language
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

    def highlightBlock(self, text: str) -> None:
        if self._language is None or not text:
            return
        line = text[:LINE_LIMIT]
        # The newline ends line comments as the lexer expects; nothing reaches past ``line``.
        for start, token, value in _lexer(self._language).get_tokens_unprocessed(line + "\n"):
            kind = _kind(token)
            if kind is not None and start < len(line):
                self.setFormat(start, min(len(value), len(line) - start), self._formats[kind])
