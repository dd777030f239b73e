"""One owner for the UI's background asyncio tasks.

qasync's ``asyncSlot`` keeps no strong reference to its task and lets ``CancelledError``
escape (qasync #98, #126), so every coroutine the UI starts goes through
:class:`TaskOwner`: it keeps the task alive, cancels the previous task of the same name,
and reports failures through one signal instead of losing them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class TaskOwner(QObject):
    failed = Signal(object)  # the exception a task raised
    finished = Signal(str)  # the task's name, whether it succeeded, failed or was cancelled

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self.closed = False

    def start(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        """Run ``coro`` as the task ``name``, cancelling an earlier one of that name.

        After :meth:`shutdown` (the window closed) nothing starts: a late timer or signal
        gets None and its coroutine is closed unrun."""
        if self.closed:
            coro.close()
            log.debug("not starting %s: shut down", name)
            return None
        self.cancel(name)
        task = asyncio.ensure_future(coro)
        self._tasks[name] = task
        task.add_done_callback(functools.partial(self._on_done, name))
        return task

    def is_running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    def cancel(self, name: str) -> None:
        task = self._tasks.get(name)
        if task is not None and not task.done():
            task.cancel()

    def cancel_all(self) -> None:
        for name in list(self._tasks):
            self.cancel(name)

    def shutdown(self) -> None:
        """Cancel everything and start nothing new (the window is closing)."""
        self.closed = True
        self.cancel_all()

    def _on_done(self, name: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(name) is task:
            del self._tasks[name]
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log.debug("task %s failed", name, exc_info=error)
            self.failed.emit(error)
        self.finished.emit(name)
