"""What the library's menus and keys do to it: create, duplicate, move, star, tag, trash.

Each action runs as its own task through the model's writes (:class:`LibraryWrites`), so
the tree reloads after the write; then the tree shows the prompt the action is about.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from promptstudio.storage import library
from promptstudio.storage.tree import create_untitled
from promptstudio.ui.library.library_model import LibraryModel
from promptstudio.ui.library.library_tree import LibraryTree


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


class LibraryActions(QObject):
    promptCreated = Signal(int)
    """A prompt was created here (new or duplicate); it is already selected in the tree."""
    promptSelected = Signal(int)
    """A prompt came back from the trash: open it (the tree highlights it)."""
    statusMessage = Signal(str)

    def __init__(
        self, model: LibraryModel, tree: LibraryTree, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.model, self.tree, self.writes = model, tree, model.writes

    def new_prompt(self, folder: str | None = None) -> None:
        """Create "Untitled N" in ``folder`` (default: the selected one) and edit its name."""
        where = self.tree.current_folder() if folder is None else folder
        self.writes.start(self._new_prompt(where))

    async def _new_prompt(self, folder: str) -> None:
        prompt = await self.writes.apply(lambda c: create_untitled(c, folder))
        self.promptCreated.emit(prompt.id)
        await self.tree.select(prompt.id, edit=True)

    def duplicate(self, prompt_id: int) -> None:
        self.writes.start(self._duplicate(prompt_id))

    async def _duplicate(self, prompt_id: int) -> None:
        copy = await self.writes.apply(lambda c: library.duplicate_prompt(c, prompt_id))
        self.promptCreated.emit(copy.id)
        await self.tree.select(copy.id)
        self.statusMessage.emit(f"Created “{copy.name}”")

    def move_to(self, prompt_id: int, folder: str) -> None:
        self.writes.start(self._move(prompt_id, folder))

    async def _move(self, prompt_id: int, folder: str) -> None:
        await self.writes.apply(lambda c: library.move_prompt(c, prompt_id, folder))
        await self.tree.select(prompt_id)

    def set_starred(self, prompt_id: int, starred: bool) -> None:
        self.writes.start(self.writes.apply(lambda c: library.set_starred(c, prompt_id, starred)))

    def set_tags(self, prompt_id: int, text: str) -> None:
        """Tags from comma-separated text; blanks and repeats are dropped by the store."""
        tags = text.split(",")
        self.writes.start(self.writes.apply(lambda c: library.set_tags(c, prompt_id, tags)))

    def trash(self, prompt_id: int) -> None:
        self.writes.start(self._trash(prompt_id))

    async def _trash(self, prompt_id: int) -> None:
        for prompt in await self.writes.trash([prompt_id]):
            self.statusMessage.emit(f"Moved “{prompt.name}” to the trash")

    def restore(self, prompt_id: int) -> None:
        self.writes.start(self._restore(prompt_id))

    async def _restore(self, prompt_id: int) -> None:
        prompt = await self.writes.apply(lambda c: library.restore_prompt(c, prompt_id))
        await self.tree.select(prompt_id)
        self.promptSelected.emit(prompt_id)  # the editor shows what the tree highlights
        self.statusMessage.emit(f"Restored “{prompt.name}” to {prompt.folder or 'the top level'}")

    def delete_forever(self, prompt_id: int) -> None:
        self.writes.start(self.writes.apply(lambda c: library.delete_forever(c, prompt_id)))

    def empty_trash(self) -> None:
        self.writes.start(self._empty_trash())

    async def _empty_trash(self) -> None:
        count = await self.writes.apply(library.empty_trash)
        self.statusMessage.emit(f"Emptied the trash: {plural(count, 'prompt')} deleted for good")

    def create_folder(self, path: str) -> None:
        self.writes.start(self._create_folder(path))

    async def _create_folder(self, path: str) -> None:
        folder = await self.writes.apply(lambda c: library.create_folder(c, path))
        index = self.model.index_of_folder(folder)
        if index.isValid():
            self.tree.set_current(index, notify=False)

    def delete_folder(self, path: str) -> None:
        """Remove an empty folder; the store refuses one that still holds prompts."""
        self.writes.start(self.writes.apply(lambda c: library.delete_folder(c, path)))
