"""The one owner of status-bar messages: every pane and flow says things through it."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, SignalInstance
from PySide6.QtWidgets import QStatusBar

MESSAGE_MS = 5000  # how long a message stays unless told otherwise


class StatusNotifier(QObject):
    """Says one-line messages in the window's status bar.

    Flows call :meth:`say` (or are handed :attr:`statusMessage` to emit on); a pane with a
    ``statusMessage(str)`` signal of its own is forwarded with :meth:`forward`. So every
    message goes one way, and a test can wait for any of them on one signal.
    """

    statusMessage = Signal(str)

    def __init__(self, bar: QStatusBar | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bar = bar
        self.statusMessage.connect(self._show)

    def say(self, text: str, milliseconds: int = MESSAGE_MS) -> None:
        self.statusMessage.emit(text)
        if milliseconds != MESSAGE_MS and self._bar is not None:
            self._bar.showMessage(text, milliseconds)

    def forward(self, signal: SignalInstance) -> None:
        """Say every text ``signal`` (a pane's ``statusMessage(str)``) emits."""
        signal.connect(self.say)

    def current(self) -> str:
        """The message showing now ("" for none)."""
        return self._bar.currentMessage() if self._bar is not None else ""

    def _show(self, text: str) -> None:
        if self._bar is not None:
            self._bar.showMessage(text, MESSAGE_MS)
