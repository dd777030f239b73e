"""The line under the template editor: "Template OK · 2 variables", or the error as a link
that puts the cursor on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QWidget

from promptstudio.ui.theme import set_status, status_colours

if TYPE_CHECKING:
    from promptstudio.templating import TemplateError


class TemplateStatus(QLabel):
    """Shows the latest analysis; its error link is ``linkActivated``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("templateStatus")
        self._shown: tuple[TemplateError | None, int] | None = None

    def show_analysis(self, error: TemplateError | None, variables: int) -> None:
        self._shown = (error, variables)
        if error is None:
            self.setText(f"Template OK · {variables} variable{'s' if variables != 1 else ''}")
            set_status(self, "ok")
        else:
            self.setText(
                f'<a href="#error" style="color: {status_colours()["error"]}">'
                f"Line {error.line}, column {error.column}</a>: "
                f"{error.message.replace('<', '&lt;')}"
            )
            set_status(self, "error")

    def redraw(self) -> None:
        """In a new theme: the error link's colour is in its text."""
        if self._shown is not None and self._shown[0] is not None:
            self.show_analysis(*self._shown)
