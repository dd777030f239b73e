"""The column header's run, stop and close symbols read in light and dark themes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QToolButton

from promptstudio.ui.board.run_column import ColumnConfig, RunColumn
from promptstudio.ui.theme import apply_theme, contrast


@pytest.fixture
def column(qtbot) -> Iterator[RunColumn]:
    widget = RunColumn(ColumnConfig(model="m"))
    qtbot.addWidget(widget)
    widget.resize(420, 400)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    apply_theme("light")


def symbol_contrast(column: RunColumn, button: QToolButton) -> float:
    """The contrast of the symbol's strongest pixels with the header behind them: the
    button as the user sees it, cut out of a picture of the whole column."""
    image = column.grab(QRect(button.mapTo(column, QPoint(0, 0)), button.size())).toImage()
    pixels = [
        QColor(image.pixel(x, y)) for x in range(image.width()) for y in range(image.height())
    ]
    background = Counter(c.rgb() for c in pixels).most_common(1)[0][0]
    ratios = sorted((contrast(QColor(background), c) for c in pixels), reverse=True)
    return ratios[min(8, len(ratios) - 1)]  # a few pixels, not one anti-aliased dot


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_header_symbols_have_3_to_1_contrast(column: RunColumn, qtbot, theme: str) -> None:
    apply_theme(theme)
    qtbot.wait(1)
    column.stop_button.setEnabled(True)  # as during a run
    for button in (column.run_button, column.stop_button, column.remove_button):
        assert button.accessibleName()
        ratio = symbol_contrast(column, button)
        assert ratio >= 3.0, (theme, button.toolTip(), ratio)
