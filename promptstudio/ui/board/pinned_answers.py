"""Answers pinned beside the run board's columns, a closable tab each.

It sits in the board's splitter, next to the columns, and shows only while it holds a pin.
A tab's data is the pin's id in the library (None for a pin not kept); closing a kept pin
says so through :attr:`PinnedAnswers.pinClosed`.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPlainTextEdit, QSplitter, QTabWidget, QWidget

from promptstudio.ui import a11y
from promptstudio.ui.code_fences import mark_fences
from promptstudio.ui.editor.code_highlighter import CodeHighlighter


class PinnedAnswers(QTabWidget):
    pinClosed = Signal(int)  # a kept pin's id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pinnedAnswers")
        a11y.name_tabs(self, "Pinned answers")
        self.setTabsClosable(True)
        self.setDocumentMode(True)
        self.tabCloseRequested.connect(self._close)
        self.hide()

    def add_pin(self, pin_id: int | None, label: str, detail: str, text: str) -> None:
        """Show a pinned answer as a tab; ``pin_id`` is its id in the library, if kept."""
        view = QPlainTextEdit(self)
        view.setReadOnly(True)
        a11y.keyboard_selectable(view)
        view.setPlainText(text)
        CodeHighlighter(view)  # owned by the view's document; colours its fenced code
        mark_fences(view.document())
        view.setObjectName("pinnedAnswer")
        view.setAccessibleName(f"Pinned answer: {label}")
        index = self.addTab(view, label)
        self.setTabToolTip(index, detail)
        self.tabBar().setTabData(index, pin_id)
        self.setCurrentIndex(index)
        self._show_beside()

    def set_pins(self, pins: Iterable[tuple[int | None, str, str, str]]) -> None:
        """Show these pins (id, label, detail, text) instead of the current ones."""
        while self.count():
            self._remove(0)
        for pin in pins:
            self.add_pin(*pin)
        self._show_beside()

    def pin_ids(self) -> list[int | None]:
        bar = self.tabBar()
        return [bar.tabData(index) for index in range(bar.count())]

    def _show_beside(self) -> None:
        """Show the pins beside the columns, taking a quarter of the width at most the first
        time (a splitter gives a newly shown pane its size hint, and the columns shrank to
        a strip)."""
        if not self.count():
            self.hide()
            return
        if not self.isHidden():
            return
        self.show()
        split = self.parentWidget()
        if isinstance(split, QSplitter):
            total = sum(split.sizes()) or split.width()
            side = min(max(total // 4, 200), 420)
            split.setSizes([max(total - side, 1), side])

    def _close(self, index: int) -> None:
        pin_id = self.tabBar().tabData(index)
        self._remove(index)
        self._show_beside()
        if pin_id is not None:
            self.pinClosed.emit(pin_id)

    def _remove(self, index: int) -> None:
        widget = self.widget(index)
        self.removeTab(index)
        if widget is not None:
            widget.deleteLater()
