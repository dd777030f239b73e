"""The root of PromptStudio's typed errors.

Every error the core raises on purpose derives from :class:`PromptStudioError` and carries
a message a person can read. The UI turns them into messages in one place
(``promptstudio.ui.messages``); the CLI prints them to stderr.
"""

from __future__ import annotations


class PromptStudioError(Exception):
    """An expected failure with a message fit for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
