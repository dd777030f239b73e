"""The image part of a variable's field: a picker, a thumbnail of what will be sent, and
drops of image files. The value stays a path (or a data URL) in the variable's text."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QDropEvent, QPixmap
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from promptstudio.images import ImageError, load_image, sniff
from promptstudio.ui import file_dialogs

THUMBNAIL = 96  # pixels, the longer side
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.gif *.webp);;All files (*)"


def dropped_image(mime: QMimeData) -> str | None:
    """The path of the first local image file in a drag, or None."""
    for url in mime.urls() if mime.hasUrls() else ():
        path = url.toLocalFile()
        if path and Path(path).is_file():
            try:
                with open(path, "rb") as file:
                    if sniff(file.read(16)) is not None:
                        return path
            except OSError:
                continue
    return None


class ImageRow(QWidget):
    """ "Choose image…", a thumbnail and a line saying what will be sent (or why not)."""

    chosen = Signal(str)  # a path picked or dropped

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.dialog: QFileDialog | None = None
        self.pick = QPushButton("Choose image…", self)
        self.pick.setObjectName(f"imagePick:{name}")
        self.pick.setAccessibleName(f"Choose an image for {name}")
        self.pick.setToolTip("Pick an image file, or drop one here (PNG, JPEG, GIF, WebP)")
        self.pick.clicked.connect(self.open_picker)
        self.thumbnail = QLabel(self)
        self.thumbnail.setObjectName(f"imageThumbnail:{name}")
        self.thumbnail.setAccessibleName(f"Image of {name}")
        self.thumbnail.setFixedSize(THUMBNAIL, THUMBNAIL)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setFrameShape(QLabel.Shape.StyledPanel)
        self.status = QLabel(self)
        self.status.setObjectName(f"imageStatus:{name}")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.thumbnail)
        layout.addWidget(self.status, 1)
        layout.addWidget(self.pick, 0, Qt.AlignmentFlag.AlignTop)
        self.show_value("")

    def open_picker(self) -> None:
        """A non-modal file dialog; the chosen file becomes the value."""
        dialog = QFileDialog(self, f"Image for {self.name}")
        dialog.setObjectName("imagePicker")
        dialog.setNameFilter(IMAGE_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        file_dialogs.place(dialog, "images")
        dialog.fileSelected.connect(self.chosen.emit)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def show_value(self, text: str) -> None:
        """Show the image ``text`` names (path or data URL), or what is wrong with it."""
        text = text.strip()
        self.thumbnail.clear()
        if not text:
            self.thumbnail.setText("No image")
            self.status.setText("Choose an image or drop one here.")
            return
        try:
            image = load_image(text)
        except ImageError as exc:
            self.thumbnail.setText("⚠")
            self.status.setText(exc.message)
            self.thumbnail.setAccessibleDescription(exc.message)
            return
        if not image.data:
            self.thumbnail.setText("URL")
            self.status.setText(f"Sent as a link; the API fetches {image.url}")
            return
        pixmap = QPixmap()
        pixmap.loadFromData(image.data)
        if not pixmap.isNull():
            self.thumbnail.setPixmap(
                pixmap.scaled(
                    THUMBNAIL,
                    THUMBNAIL,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        label = image.label()
        self.status.setText(label)
        self.thumbnail.setAccessibleDescription(label)


class ImageDrops(QObject):
    """Takes drops of image files on a widget (and its text viewport) as the value."""

    dropped = Signal(str)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QDropEvent) and event.type() in (
            QEvent.Type.DragEnter,
            QEvent.Type.DragMove,
            QEvent.Type.Drop,
        ):
            path = dropped_image(event.mimeData())
            if path is None:
                return False
            event.acceptProposedAction()
            if event.type() == QEvent.Type.Drop:
                self.dropped.emit(path)
            return True
        return False
