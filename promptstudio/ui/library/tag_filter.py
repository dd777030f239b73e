"""The library's tag chooser: "All tags", or one tag (with its count) to filter the tree by."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from promptstudio.storage import Database, library
from promptstudio.ui.library.library_model import LibraryModel
from promptstudio.ui.tasks import TaskOwner


class TagFilter(QComboBox):
    filtered = Signal(bool)
    """The user chose a tag (True) or "All tags" (False); the model is filtering by it."""

    def __init__(
        self, db: Database, tasks: TaskOwner, model: LibraryModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._db, self._tasks, self._model = db, tasks, model
        self.setObjectName("libraryTags")
        # Compact in a narrow pane whatever the tag names; the popup shows them in full.
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(9)
        self.addItem("All tags", None)
        self.currentIndexChanged.connect(self._on_chosen)

    def reload(self) -> None:
        """Read the tags and their counts again (as a task), keeping the chosen one."""
        self._tasks.start("library:tags", self._read())

    async def _read(self) -> None:
        tags = await self._db.acall(library.list_tags)
        current = self._model.tag_filter
        self.blockSignals(True)
        self.clear()
        self.addItem("All tags", None)
        for tag in tags:
            self.addItem(f"{tag.tag} ({tag.prompts})", tag.tag)
        found = self.findData(current) if current is not None else 0
        self.setCurrentIndex(max(found, 0))
        self.blockSignals(False)
        if found < 0:  # the filtered tag is gone
            self._model.set_tag_filter(None)

    def _on_chosen(self, row: int) -> None:
        tag = self.itemData(row)
        self.filtered.emit(tag is not None)
        self._model.set_tag_filter(tag)
