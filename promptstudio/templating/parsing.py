"""Parsing with positions: Jinja reports only line numbers, the editor needs columns.

:class:`PositionedParser` is Jinja's parser fed from our own raw-token walk
(:class:`~promptstudio.templating.source.RawTokenTracker`), so every token it sees carries
its source offset. That gives syntax errors a column and every variable use an exact spot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jinja2 import Template, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.lexer import Token, TokenStream
from jinja2.parser import Parser

from promptstudio.templating.environment import GuardedSandbox, environment
from promptstudio.templating.errors import TemplateError
from promptstudio.templating.source import TEMPLATE_NAME, LineIndex, RawTokenTracker, normalise


class PositionedToken(Token):
    """A Jinja token that remembers the source offset it was lexed from."""

    offset: int


class PositionedParser(Parser):
    """Jinja's parser over positioned tokens; records where each variable name sits."""

    def __init__(self, env: GuardedSandbox, source: str) -> None:
        super().__init__(env, "", TEMPLATE_NAME)  # empty source: the real stream follows
        self.tracker = RawTokenTracker(env, source)
        #: Offset of every ``Name`` node, keyed by the node. Assignment targets are parsed as
        #: loads too and get their ``store`` context afterwards: check ``node.ctx``.
        self.name_offsets: dict[nodes.Name, int] = {}
        #: Offset of the tag name of the innermost statement that ran into the end of the
        #: template (``if`` in ``{% if x %}`` never closed): where "unexpected end" points.
        self.unclosed_statement: int | None = None

    def parse(self) -> nodes.Template:
        # Built here, not in __init__: TokenStream lexes its first token at once, and that
        # can already fail (an unclosed comment), which must surface as a syntax error.
        self.stream = TokenStream(PositionedTokenIterator(self), TEMPLATE_NAME, None)
        return super().parse()

    def parse_statement(self) -> nodes.Node | list[nodes.Node]:
        token = self.stream.current
        try:
            return super().parse_statement()
        except TemplateSyntaxError:
            # The innermost statement sees the error first; outer ones keep its offset.
            at_end = self.stream.current.type == "eof"
            if at_end and self.unclosed_statement is None and isinstance(token, PositionedToken):
                self.unclosed_statement = token.offset
            raise

    def parse_primary(self, with_namespace: bool = False) -> nodes.Expr:
        token = self.stream.current
        node = super().parse_primary(with_namespace)
        if isinstance(node, nodes.Name) and isinstance(token, PositionedToken):
            self.name_offsets[node] = token.offset
        return node


class PositionedTokenIterator:
    """Jinja's ``lexer.wrap`` over our raw tokens, tagging each token with its offset."""

    def __init__(self, parser: PositionedParser) -> None:
        tracker = parser.tracker
        self._tracker = tracker
        self._tokens = tracker.env.lexer.wrap(tracker.tokens(), TEMPLATE_NAME)

    def __iter__(self) -> PositionedTokenIterator:
        return self

    def __next__(self) -> Token:
        token = next(self._tokens)
        positioned = PositionedToken(*token)
        positioned.offset = self._tracker.last_start  # wrap yields one token per raw token
        return positioned


@dataclass
class ParsedTemplate:
    """A parsed template with what later steps need to position things in it."""

    source: str
    ast: nodes.Template
    lines: LineIndex
    name_offsets: dict[nodes.Name, int] = field(default_factory=dict)


def parse(source: str) -> ParsedTemplate:
    """Parse normalised ``source``; raise :class:`TemplateError` with line and column."""
    parser = PositionedParser(environment(), source)
    lines = LineIndex(source)
    try:
        ast = parser.parse()
    except TemplateSyntaxError as exc:
        raise syntax_error(exc, parser, lines) from None
    return ParsedTemplate(source, ast, lines, parser.name_offsets)


_LEXER_AT = re.compile(r" at (\d+)$")


def syntax_error(
    exc: TemplateSyntaxError, parser: PositionedParser, lines: LineIndex
) -> TemplateError:
    """Turn Jinja's line-only error into ours, finding the column from the failing token."""
    message = exc.message or "syntax error"
    line, column = exc.lineno or 1, 1
    current = parser.stream.current
    at = _LEXER_AT.search(message)
    if at:  # the lexer names the offset itself: "unexpected char '?' at 5"
        message = message[: at.start()]
        line, column = lines.position(int(at.group(1)))
    elif parser.tracker.lexer_failed:
        tracker = parser.tracker
        if message.startswith("Missing end of") and tracker.spans:
            offset = tracker.last_start  # the opening ``{#`` that is never closed
        else:  # it failed on what follows the last good raw token
            offset = _skip_spaces(lines.text, tracker.last_end)
        column = _column_on(lines, line, offset)
    elif current.type == "eof":
        line, column = lines.position(_unclosed_offset(parser, lines))
    elif isinstance(current, PositionedToken):
        column = _column_on(lines, line, current.offset)
    return TemplateError(message, line, column)


def compile_error(exc: TemplateSyntaxError, parsed: ParsedTemplate) -> TemplateError:
    """A compile-time error (``No filter named 'x'.``), pointed at the name it quotes."""
    line = exc.lineno or 1
    message = exc.message or "invalid template"
    return TemplateError(message, line, quoted_name_column(parsed.lines, line, message))


def compile_template(parsed: ParsedTemplate) -> Template:
    """Compile an already parsed template (so it is parsed once, with positions)."""
    try:
        return environment().from_string(parsed.ast)
    except TemplateSyntaxError as exc:
        raise compile_error(exc, parsed) from None


def check(source: str) -> TemplateError | None:
    """Syntax check (parse and compile, nothing runs); returns the error instead of raising."""
    try:
        compile_template(parse(normalise(source)))
    except TemplateError as exc:
        return exc
    return None


_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")


def quoted_name_column(lines: LineIndex, line: int, message: str) -> int:
    """Column of the first name quoted in ``message`` that appears as a word on ``line``.

    Jinja's messages quote what they complain about (``'x' is undefined``,
    ``No filter named 'upper2'.``); finding it on the reported line gives a useful column.
    Falls back to 1.
    """
    text = lines.line_text(line)
    for match in _QUOTED.finditer(message):
        word = match.group(1) or match.group(2)
        found = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)
        if found:
            return found.start() + 1
    return 1


def _unclosed_offset(parser: PositionedParser, lines: LineIndex) -> int:
    """Where an error at the end of the template points: what was left open.

    A ``{{``/``{%`` tag never closed, else the opening of the innermost block statement never
    ended (``{% for %}`` without ``{% endfor %}``), else the last non-blank character: never
    a position past the end of the text.
    """
    tracker = parser.tracker
    opening = tracker.open_tag()
    if opening is None and parser.unclosed_statement is not None:
        opening = tracker.tag_start(parser.unclosed_statement)
    if opening is not None:
        return opening
    return max(len(lines.text.rstrip()) - 1, 0)


def _column_on(lines: LineIndex, line: int, offset: int) -> int:
    """Column of ``offset`` if it is on ``line``, else 1 (positions that don't line up)."""
    found_line, column = lines.position(offset)
    return column if found_line == line else 1


def _skip_spaces(text: str, offset: int) -> int:
    while offset < len(text) and text[offset] in " \t":
        offset += 1
    return offset
