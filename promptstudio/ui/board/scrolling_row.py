"""A row of controls that scrolls sideways instead of widening the window.

A toolbar laid out in a plain ``QHBoxLayout`` makes its pane at least as wide as all of its
buttons, and the main window at least as wide as its widest pane: the Evaluate tab's two
toolbars alone kept the window wider than a 1280 px screen. In a ``ScrollingRow`` the row
keeps its natural width when there is room and scrolls (keyboard focus brings a control into
view) when there is not. Its height follows: a scroll bar is only given room when shown.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QLayout, QScrollArea, QSizePolicy, QWidget

MIN_WIDTH = 160  # what the row asks of its pane; the rest scrolls


class ScrollingRow(QScrollArea):
    def __init__(self, layout: QLayout, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = QWidget(self)
        self.row.setLayout(layout)
        self.setWidget(self.row)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def _height(self, width: int) -> int:
        """The row's height, with room for the scroll bar only when it shows. Until the
        row has its real width (a widget starts 100 px wide) it is taken to fit, or its
        first, too tall hint would shape the splitters around it."""
        inner = self.row.minimumSizeHint()
        overflows = self.testAttribute(Qt.WidgetAttribute.WA_Resized) and inner.width() > width
        bar = self.horizontalScrollBar().sizeHint().height() if overflows else 0
        return inner.height() + bar

    def sizeHint(self) -> QSize:
        inner = self.row.sizeHint()
        return QSize(inner.width(), self._height(self.width()))

    def minimumSizeHint(self) -> QSize:
        return QSize(MIN_WIDTH, self._height(self.width()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        height = self._height(event.size().width())
        if height != self.height():
            self.setFixedHeight(height)
