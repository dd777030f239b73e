"""A run column's conversation: the turns so far above the answer, and the next user turn
typed below it.

"Continue" on a finished answer opens :class:`TurnBar`'s input: Ctrl+Enter sends the turn,
Esc stops the reply (or closes the input when nothing streams). The reply streams into the
column's answer pane as a run's answer does; :class:`ThreadView` shows every turn before
it, each marked with its role ("You" / the model), and what the conversation cost.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMenu,
    QPlainTextEdit,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from promptstudio.chat import Message
from promptstudio.ui import a11y

ROLE_NAMES = {"user": "You", "assistant": "Assistant", "system": "System"}
ROLE_COLOURS = {"user": "#3b7dd8", "assistant": "#3c9a55", "system": "#a06cc0"}
SEND_KEYS = "Ctrl+Enter"


class ThreadView(QTextBrowser):
    """The conversation before the answer on show: one block per turn, its role on top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("threadView")
        self.setAccessibleName("Conversation so far")
        a11y.keyboard_selectable(self)
        self.setOpenExternalLinks(False)
        self.setMinimumHeight(60)
        self.turns: list[Message] = []
        self.hide()

    def show_turns(self, turns: Sequence[Message], prompt_size: int, summary: str) -> None:
        """``turns`` after the prompt (of ``prompt_size`` messages), then the reply below
        it in the answer pane; ``summary`` says what the conversation cost so far."""
        self.turns = list(turns)
        if not self.turns:
            self.clear_turns()
            return
        noun = "message" if prompt_size == 1 else "messages"
        parts = [f"<p style='color: gray;'>The prompt ({prompt_size} {noun}), then:</p>"]
        for turn in self.turns:
            colour = ROLE_COLOURS.get(turn.role, "gray")
            name = html.escape(ROLE_NAMES.get(turn.role, turn.role))
            text = html.escape(turn.content)
            parts.append(
                f"<p style='margin-bottom: 0px;'><b style='color: {colour};'>{name}</b></p>"
                f"<p style='margin-top: 2px; white-space: pre-wrap;'>{text}</p>"
            )
        if summary:
            parts.append(f"<p style='color: gray;'>{html.escape(summary)}</p>")
        self.setHtml("".join(parts))
        self.show()
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def clear_turns(self) -> None:
        self.turns = []
        self.clear()
        self.hide()

    def text(self) -> str:
        """The turns as plain text, each after its role's name (what a screen reader and a
        copy get)."""
        return transcript(self.turns)


def transcript(turns: Sequence[Message]) -> str:
    """Turns as plain text, each after its role's name ("You:", "Assistant:")."""
    return "\n\n".join(f"{ROLE_NAMES.get(t.role, t.role)}:\n{t.content}" for t in turns)


class TurnEdit(QPlainTextEdit):
    """The next user turn. Ctrl+Enter and Esc are its own while it has the focus (the
    window's Run and Stop shortcuts would take them otherwise)."""

    send = Signal()
    escape = Signal()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and _is_ours(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if _is_send(event):
            self.send.emit()
        elif event.key() == Qt.Key.Key_Escape:
            self.escape.emit()
        else:
            super().keyPressEvent(event)


def _is_ours(event: QEvent) -> bool:
    """Ctrl+Enter or Esc: the keys the turn's input takes before the window's shortcuts."""
    if not isinstance(event, QKeyEvent):
        return False
    return _is_send(event) or event.key() == Qt.Key.Key_Escape


def _is_send(event: QKeyEvent) -> bool:
    enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
    return enter and bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)


class TurnBar(QWidget):
    """ "Continue", the next turn's input, and the conversation's uses (a new prompt, a
    test case)."""

    sent = Signal(str)  # the user's next turn
    stopRequested = Signal()
    copyRequested = Signal(str)  # "prompt" or "case"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.continue_button = QToolButton(self)
        self.continue_button.setObjectName("continueConversation")
        self.continue_button.setText("Continue…")
        self.continue_button.setToolTip(
            "Go on from this answer: it becomes an assistant turn and you type the next turn"
        )
        self.continue_button.setAccessibleName("Continue the conversation")
        self.continue_button.setAutoRaise(True)
        self.continue_button.clicked.connect(self.open_input)
        self.use_button = QToolButton(self)
        self.use_button.setObjectName("useConversation")
        self.use_button.setText("Use the conversation")
        self.use_button.setAccessibleName("Use the conversation")
        self.use_button.setAutoRaise(True)
        self.use_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.use_button)
        self.as_prompt = menu.addAction(
            "As a new prompt", lambda: self.copyRequested.emit("prompt")
        )
        self.as_case = menu.addAction("As a test case", lambda: self.copyRequested.emit("case"))
        self.use_button.setMenu(menu)
        self.input = TurnEdit(self)
        self.input.setObjectName("nextTurn")
        self.input.setAccessibleName("Your next turn")
        self.input.setPlaceholderText(f"Your next turn · {SEND_KEYS} sends · Esc stops")
        self.input.setMaximumHeight(90)
        self.input.setTabChangesFocus(True)
        self.send_button = QToolButton(self)
        self.send_button.setObjectName("sendTurn")
        self.send_button.setText("Send")
        self.send_button.setToolTip(f"Send this turn ({SEND_KEYS})")
        self.send_button.setAccessibleName("Send the turn")
        self.send_button.clicked.connect(self._send)
        self.input.send.connect(self._send)
        self.input.escape.connect(self._escape)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.continue_button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.input, 1)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        self._input_row = QWidget(self)
        self._input_row.setLayout(row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self._input_row)
        self._input_row.hide()
        self._streaming = False
        self.set_state(can_continue=False, streaming=False, has_thread=False)

    @property
    def input_open(self) -> bool:
        return not self._input_row.isHidden()

    def set_state(self, *, can_continue: bool, streaming: bool, has_thread: bool) -> None:
        """What can be done now: continue a finished answer; nothing new while it streams."""
        self._streaming = streaming
        self.continue_button.setEnabled(can_continue and not streaming)
        self.send_button.setEnabled(can_continue and not streaming)
        self.input.setReadOnly(streaming)
        self.use_button.setEnabled(can_continue and not streaming)
        self.as_case.setEnabled(has_thread)
        if not can_continue and not streaming:
            self._input_row.hide()

    def offer_again(self, text: str) -> None:
        """Put ``text`` back in the input, ready to be sent again (its reply failed)."""
        self.continue_button.setEnabled(True)
        self.send_button.setEnabled(True)
        self.input.setReadOnly(False)
        self.input.setPlainText(text)
        self.open_input()

    def open_input(self) -> None:
        """Show the next turn's input and put the cursor in it."""
        self._input_row.show()
        self.input.setFocus()

    def _send(self) -> None:
        text = self.input.toPlainText().strip()
        if not text or self._streaming or not self.send_button.isEnabled():
            return
        self.input.clear()
        self.sent.emit(text)

    def _escape(self) -> None:
        if self._streaming:
            self.stopRequested.emit()
        else:
            self._input_row.hide()
            self.continue_button.setFocus()
