"""Typed template errors, positioned so the editor can point at the offending spot."""

from __future__ import annotations

from promptstudio.errors import PromptStudioError


class TemplateError(PromptStudioError):
    """A template that cannot be parsed or rendered.

    ``line`` and ``column`` are 1-based and refer to the newline-normalised source;
    ``message`` is plain text without a location prefix, so the UI can place it itself.
    """

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column

    def location(self) -> str:
        """``LINE:COL``, the form editors and compilers print."""
        return f"{self.line}:{self.column}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, {self.line}, {self.column})"


class RenderLimitExceeded(TemplateError):
    """Rendering was stopped: output too large, too slow, or an operation too big to run."""


class NothingToSend(TemplateError):
    """The template renders to no messages: empty, only whitespace, or all of it left out
    (``{% if false %}``). Refused like a template error, so nothing empty is ever sent."""

    MESSAGE = "nothing to send: the template renders to no messages"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE, 1, 1)


class ImageRefused(TemplateError):
    """An image in the prompt (``![alt](SOURCE)``) that cannot be sent: missing, not a
    PNG/JPEG/GIF/WebP, or too big. Positioned at the markup when it is in the template."""

    def __init__(self, message: str, line: int = 1, column: int = 1, *, markup: str = "") -> None:
        super().__init__(message, line, column)
        self.markup = markup
