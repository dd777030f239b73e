"""Prompts dragged in the library tree: their ids in the drag's data, and reading them back."""

from __future__ import annotations

import json
from collections.abc import Iterable

from PySide6.QtCore import QMimeData

from promptstudio.storage import PromptRow

MIME_TYPE = "application/x-promptstudio-prompt-ids"


def prompts_mime(prompts: Iterable[PromptRow]) -> QMimeData:
    """The drag's data: the prompts' ids (each once), and their names as text."""
    ids: list[int] = []
    names: list[str] = []
    for prompt in prompts:
        if prompt.id not in ids:
            ids.append(prompt.id)
            names.append(prompt.name)
    mime = QMimeData()
    mime.setData(MIME_TYPE, json.dumps(ids).encode())
    mime.setText("\n".join(names))
    return mime


def dropped_ids(data: QMimeData) -> list[int]:
    """The prompt ids in dropped data; none if it holds something else."""
    if not data.hasFormat(MIME_TYPE):
        return []
    try:
        ids = json.loads(bytes(data.data(MIME_TYPE).data()).decode())
    except ValueError:
        return []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []
