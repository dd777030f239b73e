"""Typed storage errors, so the UI can tell "your file is damaged" from a bug."""

from __future__ import annotations

from promptstudio.errors import PromptStudioError


class StorageError(PromptStudioError):
    """The library file cannot be opened, read or written."""


class NotFound(StorageError):
    """A prompt, version or run that the caller named does not exist."""


class SecretFieldError(StorageError):
    """Data about to be saved contains a field named like a credential.

    Keys live in the keychain only; refusing them here is a second line of defence in case a
    caller mixes an API key into variables, settings or request parameters.
    """


class LibraryWriteError(StorageError):
    """SQLite refused to store something: the disk is full, the library is read-only, the
    file is locked by another program, or the disk failed. The transaction was rolled back,
    so nothing else changed; ``reason`` is "full", "read-only", "locked" or "io"."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
