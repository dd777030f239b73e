"""Syntax colours for templates, computed block by block.

Qt calls :meth:`highlightBlock` only for blocks that changed (and the ones after, while
the carried state changes), so a keystroke re-lexes one line, never the document. The
state carried between blocks says whether a ``{{ }}``, ``{% %}`` or ``{# #}`` is still
open at the end of the line.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

OUTSIDE, IN_EXPR, IN_TAG, IN_COMMENT = 0, 1, 2, 3
OPENERS = {"{{": IN_EXPR, "{%": IN_TAG, "{#": IN_COMMENT}
CLOSERS = {IN_EXPR: "}}", IN_TAG: "%}", IN_COMMENT: "#}"}
OPEN_RE = re.compile(r"\{\{|\{%|\{#")
ROLE_RE = re.compile(r"^\s*(system|user|assistant):\s*$", re.IGNORECASE)
ROLE_WORD_RE = re.compile(r"(system|user|assistant):", re.IGNORECASE)
# Statement tags and comments render to nothing, so "{% endfor %}user:" is a marker line.
SILENT_TAG_RE = re.compile(r"\{%.*?%\}|\{#.*?#\}")
TOKEN_RE = re.compile(
    r"""(?P<string>'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?)"""
    r"|(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<punct>[.|])"
)
KEYWORDS = frozenset(
    (
        "for in if elif else endif endfor set endset macro endmacro call endcall filter "
        "endfilter block endblock extends include import from as with endwith not and or is "
        "true false none True False None recursive raw endraw loop"
    ).split()
)


LIGHT = {
    "delimiter": "#a626a4", "variable": "#0b62c4", "name": "#50637a", "attribute": "#986801",
    "string": "#50a14f", "number": "#c2410c", "comment": "#8a8f98", "role": "#b4231b",
    "role_background": "#fbeceb",
}  # fmt: skip
DARK = {
    "delimiter": "#d38ce0", "variable": "#6cb6ff", "name": "#a9b7c6", "attribute": "#e5c07b",
    "string": "#98c379", "number": "#f0a35e", "comment": "#7f848e", "role": "#ff7b72",
    "role_background": "#3d1f1f",
}  # fmt: skip


def _format(color: str, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class TemplateHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._variables: frozenset[str] = frozenset()
        self.formats: dict[str, QTextCharFormat] = {}
        self.set_dark(False)

    def set_dark(self, dark: bool) -> None:
        """Colours that read well on a light or a dark editor background."""
        palette = DARK if dark else LIGHT
        self.formats = {
            "delimiter": _format(palette["delimiter"], bold=True),
            "keyword": _format(palette["delimiter"]),
            "variable": _format(palette["variable"], bold=True),
            "name": _format(palette["name"]),
            "attribute": _format(palette["attribute"]),
            "string": _format(palette["string"]),
            "number": _format(palette["number"]),
            "comment": _format(palette["comment"], italic=True),
            "role": _format(palette["role"], bold=True),
        }
        self.formats["role"].setBackground(QColor(palette["role_background"]))
        self.rehighlight()

    def set_variables(self, names: frozenset[str]) -> None:
        """Input variables get their own colour; re-colour only when the set changes."""
        if names != self._variables:
            self._variables = names
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        state = max(self.previousBlockState(), OUTSIDE)
        if state == OUTSIDE and ROLE_RE.match(text):
            self.setFormat(0, len(text), self.formats["role"])
            self.setCurrentBlockState(OUTSIDE)
            return
        if state == OUTSIDE and "{{" not in text:
            self._marker_after_tags(text)
        pos = 0
        while pos < len(text):
            if state == OUTSIDE:
                match = OPEN_RE.search(text, pos)
                if match is None:
                    break
                self.setFormat(match.start(), 2, self._opener_format(match.group()))
                state = OPENERS[match.group()]
                pos = match.end()
                continue
            end = text.find(CLOSERS[state], pos)
            stop = len(text) if end < 0 else end
            if state == IN_COMMENT:
                self.setFormat(pos, stop - pos, self.formats["comment"])
            else:
                self._highlight_code(text, pos, stop)
            if end < 0:
                pos = len(text)
                break
            self.setFormat(end, 2, self._opener_format("{#" if state == IN_COMMENT else "{{"))
            state = OUTSIDE
            pos = end + 2
        self.setCurrentBlockState(state)

    def _marker_after_tags(self, text: str) -> None:
        spans = [m.span() for m in SILENT_TAG_RE.finditer(text)]
        if not spans or not ROLE_RE.match(SILENT_TAG_RE.sub("", text)):
            return
        for word in ROLE_WORD_RE.finditer(text):
            if not any(start <= word.start() < end for start, end in spans):
                self.setFormat(word.start(), word.end() - word.start(), self.formats["role"])
                return

    def _opener_format(self, opener: str) -> QTextCharFormat:
        return self.formats["comment" if opener == "{#" else "delimiter"]

    def _highlight_code(self, text: str, start: int, stop: int) -> None:
        after_punct = False
        for match in TOKEN_RE.finditer(text, start, stop):
            kind = match.lastgroup
            begin, length = match.start(), match.end() - match.start()
            if kind == "name":
                word = match.group()
                if after_punct:
                    fmt = self.formats["attribute"]
                elif word in KEYWORDS:
                    fmt = self.formats["keyword"]
                elif word in self._variables:
                    fmt = self.formats["variable"]
                else:
                    fmt = self.formats["name"]
                self.setFormat(begin, length, fmt)
            elif kind in ("string", "number"):
                self.setFormat(begin, length, self.formats[kind])
            after_punct = kind == "punct"
