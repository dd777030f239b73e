"""Writes to the library from its tree: each runs as its own task, then the tree reloads.

Writes must never cancel each other, so each task has its own name. A failed write
reloads too, which undoes what the model showed ahead of it (a rename in place).
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from promptstudio.storage import Database, PromptRow, library
from promptstudio.ui.tasks import TaskOwner

if TYPE_CHECKING:
    from promptstudio.ui.library.library_model import LibraryModel

T = TypeVar("T")


class LibraryWrites:
    """The writes of one :class:`LibraryModel`; its ``changed``, ``renamed`` and
    ``trashed`` signals tell when they are done."""

    def __init__(self, db: Database, tasks: TaskOwner, model: LibraryModel) -> None:
        self._db, self._tasks, self._model = db, tasks, model
        self._number = itertools.count(1)

    def start(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        """Run a write as its own task: writes must never cancel each other."""
        return self._tasks.start(f"library:write:{next(self._number)}", coro)

    async def apply(
        self,
        write: Callable[[sqlite3.Connection], T],
        *,
        renamed: Mapping[str, str] | None = None,
    ) -> T:
        """Run ``write`` on the database thread, then reload (also after a failure).

        ``renamed`` maps old folder paths to new ones, so a renamed folder stays open.
        """
        try:
            result = await self._db.acall(write)
        except Exception:
            await self._model.reload()  # undo what setData showed ahead of the write
            raise
        await self._model.reload(renamed)
        self._model.changed.emit()
        return result

    async def rename_prompt(self, prompt_id: int, name: str) -> None:
        prompt = await self.apply(lambda c: library.rename_prompt(c, prompt_id, name))
        self._model.renamed.emit(prompt.id, prompt.name)

    async def trash(self, ids: Sequence[int]) -> list[PromptRow]:
        """Move prompts to the trash; returns them as they are now."""
        prompts = await self.apply(lambda c: [library.trash_and_get(c, i) for i in ids])
        for prompt in prompts:
            self._model.trashed.emit(prompt.id)
        return prompts
