"""Labels on versions ("prod", "staging", ...): the dialogs that set and remove them, the writes.

A label names one version of a prompt; setting it on another version moves it there,
unless the label's gate refuses the version (:mod:`promptstudio.evals.gates`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QInputDialog, QWidget

from promptstudio.evals.gates import move_label
from promptstudio.storage import Database, library
from promptstudio.storage.library import LabelRow, VersionSummary
from promptstudio.storage.rows import LabelGate
from promptstudio.ui.history.label_gate_dialog import LabelGateDialog
from promptstudio.ui.tasks import TaskOwner

SUGGESTED_LABELS = ("prod", "staging", "best")


class VersionLabels(QObject):
    """Asks (non-modal) and writes labels for the version History has in focus.

    ``focus`` gives that version, ``prompt_id`` the prompt shown, and ``reload`` shows the
    history again after a write.
    """

    def __init__(
        self,
        db: Database,
        tasks: TaskOwner,
        pane: QWidget,
        focus: Callable[[], VersionSummary | None],
        prompt_id: Callable[[], int | None],
        reload: Callable[[], Coroutine[Any, Any, None]],
    ) -> None:
        super().__init__(pane)
        self._db, self._tasks, self._pane = db, tasks, pane
        self._focus, self._prompt_id, self._reload = focus, prompt_id, reload
        self.rows: list[LabelRow] = []
        """The prompt's labels, for the "Set label" choices."""

    async def set_label(self, version_id: int, name: str) -> None:
        """Point ``name`` at the version, moving it off another version if it was set."""
        prompt_id = self._prompt_id()
        if prompt_id is not None:
            # Through the label's gate: a version below it raises GateRefused (the numbers),
            # which the task owner shows through ui.messages.
            await self._db.acall(move_label, prompt_id, name, version_id)
            await self._reload()

    async def remove_label(self, name: str) -> bool:
        """Drop the prompt's label ``name``; False if it had none by that name."""
        prompt_id = self._prompt_id()
        if prompt_id is None:
            return False
        removed = await self._db.acall(library.remove_label, prompt_id, name)
        await self._reload()
        return bool(removed)

    def ask_label(self) -> QInputDialog | None:
        """Ask for a label name (non-modal); an existing label moves to this version."""
        version = self._focus()
        if version is None:
            return None
        existing = [label.name for label in self.rows]
        folded = {name.casefold() for name in existing}
        choices = existing + [name for name in SUGGESTED_LABELS if name not in folded]
        dialog = QInputDialog(self._pane)
        dialog.setObjectName("labelDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowTitle("Set label")
        dialog.setLabelText(f"Label for v{version.number} (an existing label moves here):")
        dialog.setComboBoxItems(choices)
        dialog.setComboBoxEditable(True)
        dialog.setTextValue("")
        dialog.textValueSelected.connect(lambda text: self._label_chosen(version.id, text))
        dialog.open()
        return dialog

    def _label_chosen(self, version_id: int, text: str) -> None:
        if text.strip():
            self._tasks.start("history.label", self.set_label(version_id, text.strip()))

    def ask_remove_label(self) -> QInputDialog | None:
        """Remove the focused version's label; with several, ask which (non-modal)."""
        version = self._focus()
        if version is None or not version.labels:
            return None
        if len(version.labels) == 1:
            self._tasks.start("history.label", self.remove_label(version.labels[0]))
            return None
        dialog = QInputDialog(self._pane)
        dialog.setObjectName("removeLabelDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowTitle("Remove label")
        dialog.setLabelText(f"Remove which label from v{version.number}?")
        dialog.setComboBoxItems(list(version.labels))
        dialog.textValueSelected.connect(
            lambda name: self._tasks.start("history.label", self.remove_label(name))
        )
        dialog.open()
        return dialog

    def ask_gate(self) -> None:
        """Open the gate dialog (non-modal) on the prompt's labels, read afresh."""
        prompt_id = self._prompt_id()
        if prompt_id is not None:
            self._tasks.start("history.gate", self._open_gate_dialog(prompt_id))

    async def _open_gate_dialog(self, prompt_id: int) -> None:
        labels = await self._db.acall(library.list_labels, prompt_id)
        models = await self._db.acall(library.models_for_prompt, prompt_id)
        version = self._focus()
        current = version.labels[0] if version is not None and version.labels else None
        dialog = LabelGateDialog(labels, models, self._pane, current=current)
        dialog.gateChosen.connect(
            lambda name, gate: self._tasks.start("history.label", self.set_gate(name, gate))
        )
        dialog.open()

    async def set_gate(self, name: str, gate: LabelGate | None) -> None:
        """Store the label's gate (None: no gate); it applies from the next move on."""
        prompt_id = self._prompt_id()
        if prompt_id is not None:
            await self._db.acall(library.set_label_gate, prompt_id, name, gate)
            await self._reload()
