"""Pinned answers belong to the prompt they were pinned on.

The board shows pins and says when one is made or closed; this flow keeps them in the
library (``library.pin_answer``) and shows a prompt's own pins when it is opened, so a pin
neither follows the user to other prompts nor disappears on restart.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QObject

from promptstudio.storage import Database, library
from promptstudio.ui.board.run_board import RunBoard
from promptstudio.ui.tasks import TaskOwner
from promptstudio.ui.workspace import Workspace


class PinsFlow(QObject):
    def __init__(
        self, db: Database, workspace: Workspace, board: RunBoard, tasks: TaskOwner
    ) -> None:
        super().__init__(board)
        self.db, self.workspace, self.board, self.tasks = db, workspace, board, tasks
        self._shown: int | None = None  # the prompt whose pins are on show
        self._numbers = itertools.count()
        workspace.promptOpened.connect(self.show_prompt)
        board.answerPinned.connect(self.pin)
        board.pinClosed.connect(self.unpin)

    def show_prompt(self, prompt_id: int) -> None:
        """Show this prompt's pins (and no other prompt's)."""
        if prompt_id == self._shown:
            return
        self._shown = prompt_id
        self.board.set_pins([])

        async def load() -> None:
            pins = await self.db.acall(library.list_pins, prompt_id)
            if self._shown == prompt_id:
                self.board.set_pins((p.id, p.label, p.detail, p.text) for p in pins)

        self.tasks.start("pins", load())

    def pin(self, label: str, detail: str, text: str) -> None:
        prompt_id = self.workspace.prompt_id
        if prompt_id is None:  # nothing open to keep it with: shown for now only
            self.board.add_pin(None, label, detail, text)
            return

        async def keep() -> None:
            row = await self.db.acall(library.pin_answer, prompt_id, label, detail, text)
            if self._shown == prompt_id:
                self.board.add_pin(row.id, label, detail, text)

        self.tasks.start(f"pin:{next(self._numbers)}", keep())

    def unpin(self, pin_id: int) -> None:
        async def forget() -> None:
            await self.db.acall(library.unpin, pin_id)

        self.tasks.start(f"unpin:{pin_id}", forget())
