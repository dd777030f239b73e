"""The one error every import and export raises on purpose."""

from __future__ import annotations

from promptstudio.errors import PromptStudioError


class ExchangeError(PromptStudioError):
    """A file cannot be imported (or a prompt exported); ``line`` is 1-based when known."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(f"Line {line}: {message}" if line is not None else message)
        self.line = line
        self.reason = message

    def in_file(self, name: str) -> ExchangeError:
        """The same error, its message naming the file: ``notes.prompty, line 3: ...``."""
        where = f"{name}, line {self.line}" if self.line is not None else name
        located = self._copy()
        located.message = f"{where}: {self.reason}"
        located.args = (located.message,)
        return located

    def _copy(self) -> ExchangeError:
        return ExchangeError(self.reason, line=self.line)


class OutsideReferenceError(ExchangeError):
    """A file refers to files outside its own folder, which are not read unless allowed.

    ``references`` are the references as written (``file://../notes.txt``), so a caller can
    name them or ask whether to read them anyway (``allow_outside_refs=True``).
    """

    def __init__(self, message: str, references: tuple[str, ...]) -> None:
        super().__init__(message)
        self.references = references

    def _copy(self) -> ExchangeError:
        return OutsideReferenceError(self.reason, self.references)
