"""The one place where errors become what the user sees.

Core errors (:class:`PromptStudioError` and its subclasses) already carry a readable
message; anything else is a bug, logged with its traceback and shown briefly.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from promptstudio.errors import PromptStudioError

log = logging.getLogger(__name__)


def describe(error: BaseException) -> tuple[str, str]:
    """(title, text) for an error."""
    from promptstudio.evals.gates import GateRefused
    from promptstudio.exchange import ExchangeError
    from promptstudio.local.server import LocalServerError
    from promptstudio.providers.errors import ProviderError
    from promptstudio.storage import LibraryWriteError
    from promptstudio.templating import TemplateError

    if isinstance(error, TemplateError):
        return "Template error", f"Line {error.line}, column {error.column}: {error.message}"
    if isinstance(error, ExchangeError):
        return "Import or export failed", error.message
    if isinstance(error, ProviderError):
        return "The model request failed", error.message
    if isinstance(error, LibraryWriteError):
        return "Not saved", error.message
    if isinstance(error, GateRefused):
        return "Label not moved", error.message
    if isinstance(error, LocalServerError):
        return "The local model", error.message
    if isinstance(error, PromptStudioError):
        return "PromptStudio", error.message
    log.error("unexpected error", exc_info=error)
    return "Unexpected error", f"{type(error).__name__}: {error}"


def show_error(parent: QWidget, error: BaseException) -> QMessageBox:
    """A non-modal message box (``open()``, never ``exec()`` inside async code)."""
    title, text = describe(error)
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorMessageBox")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
