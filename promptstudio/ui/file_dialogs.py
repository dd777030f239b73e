"""Where file dialogs open: the last folder used for that kind of file, else Documents.

Qt's dialogs start in the working directory (the program's own folder when it is started
from a launcher) and forget where the user went. Each kind of file (prompts, test cases,
results) keeps its own last folder, in the UI state (``ui-state.ini``) once the main
window hands it over with :func:`use_state`, in memory before that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog

FileKind = Literal["prompts", "cases", "results", "images"]
KEY: Final = "folders/{}"

_state: QSettings | None = None
_memory: dict[str, str] = {}


def use_state(state: QSettings | None) -> None:
    """Keep the last folders in ``state`` (the main window's UI state), or in memory."""
    global _state
    _state = state


def start_folder(kind: FileKind) -> str:
    """The last folder used for ``kind`` if it still exists, else Documents, else home."""
    saved = _state.value(KEY.format(kind)) if _state is not None else _memory.get(kind)
    if isinstance(saved, str) and saved and Path(saved).is_dir():
        return saved
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if documents and Path(documents).is_dir():
        return documents
    return str(Path.home())


def remember(kind: FileKind, chosen: str) -> None:
    """Keep the folder of what was chosen (of a chosen folder: where it is)."""
    if not chosen:
        return
    folder = str(Path(chosen).parent)
    if _state is not None:
        _state.setValue(KEY.format(kind), folder)
    else:
        _memory[kind] = folder


def place(dialog: QFileDialog, kind: FileKind) -> QFileDialog:
    """Open ``dialog`` where ``kind`` was last chosen, and remember the next choice.

    Call it before ``selectFile`` (a suggested name lands in this folder).
    """
    dialog.setDirectory(start_folder(kind))
    dialog.filesSelected.connect(lambda files: remember(kind, files[0]) if files else None)
    return dialog
