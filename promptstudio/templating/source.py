"""Source text helpers: newline normalisation, line/column maths, positioned raw tokens.

Every position this package reports refers to the source after :func:`normalise`
(``\\r\\n`` and ``\\r`` become ``\\n``), the same text Jinja's lexer works on.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

from jinja2 import Environment
from jinja2.exceptions import TemplateSyntaxError

#: A Unicode noncharacter that marks rendered text coming from ``{{ }}`` expressions.
#: It never survives into a message; see :mod:`promptstudio.templating.roles`.
SENTINEL = "\ufdd0"
#: Another noncharacter that ends such output, so image markup can tell literal text from
#: values within a line (see :mod:`promptstudio.templating.image_parts`).
OUTPUT_END = "\ufdd1"

TEMPLATE_NAME = "<template>"


def normalise(source: str) -> str:
    """Unify newlines, as Jinja's lexer does, so our offsets match its tokens."""
    return source.replace("\r\n", "\n").replace("\r", "\n")


def defuse(source: str) -> str:
    """Replace sentinels, output ends and thread marks (``templating.threads``) in template
    text (same length, so positions hold) before rendering."""
    return (
        source.replace(SENTINEL, "\ufffd").replace(OUTPUT_END, "\ufffd").replace("\ufdd2", "\ufffd")
    )


class LineIndex:
    """Maps 0-based offsets to 1-based (line, column) pairs and back."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0]
        self._starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n")

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of ``offset``."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._starts, offset) - 1
        return index + 1, offset - self._starts[index] + 1

    def line_start(self, line: int) -> int:
        """Offset of the first character of 1-based ``line`` (clamped to the text)."""
        index = max(0, min(line - 1, len(self._starts) - 1))
        return self._starts[index]

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its newline."""
        start = self.line_start(line)
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]


#: Raw token types that open and close a tag (``{{``, ``{%``, line statements).
_TAG_BEGINS = frozenset({"variable_begin", "block_begin", "linestatement_begin"})
_TAG_ENDS = frozenset({"variable_end", "block_end", "linestatement_end", "data"})


@dataclass
class RawTokenTracker:
    """Walks the lexer's raw tokens and records where each one sits in the source.

    Summing token lengths drifts because ``{%-``/``-%}`` make the lexer drop whitespace, so
    each token is found with ``str.find`` from the end of the previous one instead.
    """

    env: Environment
    source: str
    #: Offset of the last raw token pulled from the lexer, and the end of it.
    last_start: int = 0
    last_end: int = 0
    #: ``(type, start, end)`` of every raw token so far.
    spans: list[tuple[str, int, int]] = field(default_factory=list)
    #: Whether the lexer itself failed (the error then lies just past ``last_end``).
    lexer_failed: bool = False

    def tokens(self) -> Iterator[tuple[int, str, str]]:
        """The lexer's raw ``(lineno, type, value)`` tuples, recording each span."""
        raw = self.env.lexer.tokeniter(self.source, TEMPLATE_NAME)
        while True:
            try:
                lineno, kind, value = next(raw)
            except StopIteration:
                return
            except TemplateSyntaxError:
                self.lexer_failed = True
                raise
            start = self.source.find(value, self.last_end)
            if start < 0:  # should not happen; keep going from where we were
                start = self.last_end
            self.last_start, self.last_end = start, start + len(value)
            self.spans.append((kind, start, self.last_end))
            yield lineno, kind, value

    def open_tag(self) -> int | None:
        """Offset of the ``{{``/``{%`` of a tag the tokens so far leave unclosed, if any."""
        for kind, start, _end in reversed(self.spans):
            if kind in _TAG_ENDS:
                return None
            if kind in _TAG_BEGINS:
                return start
        return None

    def tag_start(self, offset: int) -> int:
        """Offset of the ``{%`` that opens the tag holding the raw token at ``offset``."""
        for kind, start, _end in reversed(self.spans):
            if start <= offset and kind in _TAG_BEGINS:
                return start
        return offset
