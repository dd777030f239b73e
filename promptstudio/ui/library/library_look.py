"""How a library tree node looks: its tooltip and its icon (a star for starred prompts)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

from promptstudio.ui.library.library_nodes import Node, NodeKind
from promptstudio.ui.theme import CONTROL_CONTRAST, ensure_contrast

# Amber, dark enough for 3:1 on a white base and light enough on a black one (either theme).
STAR_COLOUR = ensure_contrast(
    QColor("#e0a100"), [QColor("#ffffff"), QColor("#000000")], CONTROL_CONTRAST
)


def _star_icon() -> QIcon:
    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    font = QFont(QApplication.font())
    font.setPixelSize(15)
    painter.setFont(font)
    painter.setPen(STAR_COLOUR)
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "★")
    painter.end()
    return QIcon(pixmap)


def _when(stamp: str) -> str:
    return stamp[:16].replace("T", " ") + " UTC"


def tooltip(node: Node) -> str:
    prompt = node.prompt
    if prompt is None:
        if node.kind == NodeKind.TRASH:
            return "Trashed prompts: restore them, or delete them for good"
        if node.kind == NodeKind.STARRED:
            return "Prompts you starred"
        return node.path
    lines = [
        prompt.name,
        f"Folder: {prompt.folder or '(top level)'}",
        f"Tags: {', '.join(prompt.tags) if prompt.tags else 'none'}",
        f"Edited {_when(prompt.updated_at)}",
    ]
    if prompt.trashed_at is not None:
        lines.append(f"In the trash since {_when(prompt.trashed_at)}")
    return "\n".join(lines)


class NodeIcons:
    """The icons of the tree's nodes, each made once."""

    def __init__(self) -> None:
        self._icons: dict[str, QIcon] = {}

    def icon(self, node: Node) -> QIcon:
        if node.kind == NodeKind.STARRED or (node.prompt is not None and node.prompt.starred):
            name = "star"
        else:
            name = {
                NodeKind.FOLDER: "folder",
                NodeKind.TRASH: "trash",
            }.get(node.kind, "prompt")
        if name not in self._icons:
            pixmaps = {
                "folder": QStyle.StandardPixmap.SP_DirIcon,
                "trash": QStyle.StandardPixmap.SP_TrashIcon,
                "prompt": QStyle.StandardPixmap.SP_FileIcon,
            }
            style = QApplication.style()
            self._icons[name] = (
                _star_icon() if name == "star" else style.standardIcon(pixmaps[name])
            )
        return self._icons[name]
