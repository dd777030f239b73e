"""Drafts: unsaved edits survive a switch of prompt, a close and a crash.

Shortly after the session's content changes (and before another prompt opens, and as the
window closes) it is written as the open prompt's draft whenever it differs from what the
library would bring back for that prompt: its latest version, or the draft already there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from promptstudio.session import Content, Session
from promptstudio.storage import Database, LibraryWriteError, library
from promptstudio.ui.tasks import TaskOwner

log = logging.getLogger(__name__)
DRAFT_DELAY_MS = 1500


class Drafts(QObject):
    draftSaved = Signal(int)  # prompt id, once unsaved edits are safe in the database

    def __init__(
        self,
        db: Database,
        session: Session,
        tasks: TaskOwner,
        read_names: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.db, self.session, self.tasks = db, session, tasks
        self._read_names = read_names  # the variables as far as known, before a draft
        # What the library brings back for the open prompt (its latest version or its
        # draft): a draft is written whenever the session differs from it, dirty or not.
        self.stored: Content | None = None
        self._failure: str | None = None  # the last autosave failure, shown once
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DRAFT_DELAY_MS)
        self.timer.timeout.connect(self.save_soon)
        for edited in (session.events.template, session.events.values, session.events.columns):
            edited.connect(lambda _change: self.timer.start())

    @property
    def unstored(self) -> bool:
        """The session differs from what the library would bring back (even when saved)."""
        return self.session.prompt_id is not None and self.session.content() != self.stored

    def save_soon(self) -> None:
        if self.unstored:
            self.tasks.start("draft", self.flush())

    async def flush(self) -> None:
        """Write the draft now if it is due (before another prompt opens)."""
        self.timer.stop()
        if not self.unstored or self.session.prompt_id is None:
            return
        self._read_names()  # a value is only ever typed for a known name
        prompt_id = self.session.prompt_id
        content = self.session.content()
        try:
            await self.db.acall(library.save_draft, prompt_id, *content.key())
        except LibraryWriteError as exc:  # said once, not at every pause in typing
            if exc.message == self._failure:
                log.warning("draft not saved: %s", exc.message)
                return
            self._failure = exc.message
            raise
        self._failure = None
        if prompt_id == self.session.prompt_id:
            self.stored = content
        self.draftSaved.emit(prompt_id)

    def save_on_exit(self) -> None:
        """Blocking: the window closes and the event loop may not run again."""
        self.timer.stop()
        prompt_id = self.session.prompt_id
        if self.unstored and prompt_id is not None:
            self.db.call(library.save_draft, prompt_id, *self.session.content().key())
