"""Pass rate and cost per model as paired horizontal bars, painted by hand.

QtCharts is not part of PySide6-Essentials, and two bars per model need no chart
library: a QPainter pass over :meth:`EvalChart.bars` is all there is. Colours come from
the palette (text, tracks, the highlight hue) so the chart reads in light and dark themes.
Costs are scaled to the dearest model: the bar compares models, the label gives the price.
The pass-rate bar carries its 95% Wilson interval as an error bar (a line with end caps
from the low to the high bound), and its caption gives the bounds.
Each model's name has a line of its own above its bars, so it gets the chart's whole width
(names like ``fake-model · local server`` were cut to "fake-…" beside the bars); a name too
long even for that is elided in the middle, and its tooltip and the accessible description
give it in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from promptstudio.evals.results import ModelSummary
from promptstudio.ui.evaluate.eval_summary_model import (
    cost_text,
    interval_text,
    pass_interval,
    percent,
)

MARGIN: Final = 10
BAR_GAP: Final = 3  # between a model's two bars
GROUP_GAP: Final = 12  # between models
LABEL_GAP: Final = 8  # around the bar area
EMPTY_TEXT: Final = "No results yet"
NO_COST: Final = "cost unknown"
CAP: Final = 3  # half the height of an error bar's end caps, in pixels


@dataclass(frozen=True)
class _Bar:
    label: str
    pass_fraction: float
    pass_text: str
    cost_fraction: float | None
    cost_text: str
    interval: tuple[float, float] | None = None  # the pass rate's 95% interval


class EvalChart(QWidget):
    """For each model: a pass-rate bar (0–100 %) over a cost bar (relative to the dearest)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bars: list[_Bar] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAccessibleName("Pass rate and cost per model")

    def set_summaries(self, summaries: list[ModelSummary]) -> None:
        costs = [s.total_cost for s in summaries if s.total_cost is not None]
        dearest = max(costs, default=0.0)
        self._bars = []
        for s in summaries:
            interval = pass_interval(s) if s.pass_rate is not None else None
            text = "no checks" if s.pass_rate is None else f"{percent(s.pass_rate)}%"
            if interval is not None:
                text += f" [{interval_text(interval)}]"
            self._bars.append(
                _Bar(
                    label=s.label,
                    pass_fraction=s.pass_rate or 0.0,
                    pass_text=text,
                    cost_fraction=None
                    if s.total_cost is None
                    else (s.total_cost / dearest if dearest > 0 else 0.0),
                    cost_text=NO_COST if s.total_cost is None else cost_text(s),
                    interval=None if interval is None else (interval.low, interval.high),
                )
            )
        self.setAccessibleDescription(
            "; ".join(f"{b.label}: pass rate {_spoken(b)}, cost {b.cost_text}" for b in self._bars)
            or EMPTY_TEXT
        )
        self.updateGeometry()
        self.update()

    def shown_labels(self) -> list[str]:
        """The model names as drawn at the current width: a long "model · server" gives up
        the server first, then the middle of the model's name."""
        metrics, width = self.fontMetrics(), max(1, self.width() - 2 * MARGIN)
        shown = []
        for bar in self._bars:
            model, dot, server = bar.label.partition(" · ")
            if metrics.horizontalAdvance(bar.label) <= width:
                shown.append(bar.label)
            elif dot and metrics.horizontalAdvance(f"{model} · …") <= width:
                room = width - metrics.horizontalAdvance(f"{model} · ")
                tail = metrics.elidedText(server, Qt.TextElideMode.ElideRight, room)
                shown.append(f"{model} · {tail}")
            else:
                shown.append(metrics.elidedText(model, Qt.TextElideMode.ElideMiddle, width))
        return shown

    def bar_at(self, y: float) -> int | None:
        """The index of the model whose name and bars are at height ``y``."""
        top = MARGIN + self.fontMetrics().height() + GROUP_GAP
        index = int((y - top) // self._group_height()) if y >= top else -1
        return index if 0 <= index < len(self._bars) else None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.bar_at(event.pos().y()) if self._bars else None
            if index is None:
                QToolTip.hideText()
            else:
                bar = self._bars[index]
                tip = f"{bar.label}\nPass rate: {bar.pass_text}\nCost: {bar.cost_text}"
                QToolTip.showText(event.globalPos(), tip, self)
            return True
        return super().event(event)

    def intervals(self) -> list[tuple[float, float] | None]:
        """Each model's pass-rate interval (low, high) as drawn; None when nothing was graded."""
        return [bar.interval for bar in self._bars]

    def bars(self) -> list[tuple[str, float, float | None]]:
        """(model label, pass rate 0..1 (0 when nothing was graded), cost 0..1 or None)."""
        return [(bar.label, bar.pass_fraction, bar.cost_fraction) for bar in self._bars]

    # ---- geometry ------------------------------------------------------------------------

    def _bar_height(self) -> int:
        return self.fontMetrics().height() + 2

    def _group_height(self) -> int:
        return self.fontMetrics().height() + 2 * self._bar_height() + BAR_GAP + GROUP_GAP

    def _content_height(self) -> int:
        legend = self.fontMetrics().height() + GROUP_GAP
        return 2 * MARGIN + legend + max(1, len(self._bars)) * self._group_height() - GROUP_GAP

    def sizeHint(self) -> QSize:
        return QSize(420, self._content_height())

    def minimumSizeHint(self) -> QSize:
        return QSize(240, self._content_height())

    # ---- painting ------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            if self._bars:
                self._paint_bars(painter)
            else:
                painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, EMPTY_TEXT)
        finally:
            painter.end()

    def _colours(self) -> tuple[QColor, QColor, QColor, QColor]:
        """Text, track, pass-rate bar and cost bar colours for the current palette."""
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        track = QColor(text)
        track.setAlphaF(0.10)
        pass_colour = QColor(palette.color(QPalette.ColorRole.Highlight))
        hue = max(pass_colour.hsvHue(), 0)  # -1 for a grey highlight
        saturation = max(pass_colour.hsvSaturation(), 120)
        cost_colour = QColor.fromHsv((hue + 170) % 360, saturation, pass_colour.value())
        return text, track, pass_colour, cost_colour

    def _paint_bars(self, painter: QPainter) -> None:
        metrics = self.fontMetrics()
        text, track, pass_colour, cost_colour = self._colours()
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText)
        value_width = max(
            metrics.horizontalAdvance(t) for b in self._bars for t in (b.pass_text, b.cost_text)
        )
        bars_left = MARGIN
        bars_width = max(1, self.width() - MARGIN - value_width - LABEL_GAP - bars_left)

        y = MARGIN + self._paint_legend(painter, bars_left, text, pass_colour, cost_colour)
        height = self._bar_height()
        for bar, label in zip(self._bars, self.shown_labels(), strict=True):
            painter.setPen(text)
            name = QRectF(MARGIN, y, self.width() - 2 * MARGIN, metrics.height())
            painter.drawText(
                name, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label
            )
            y += metrics.height()
            rows = (
                (bar.pass_fraction, bar.pass_text, pass_colour),
                (bar.cost_fraction, bar.cost_text, cost_colour),
            )
            for row, (fraction, caption, colour) in enumerate(rows):
                top = y + row * (height + BAR_GAP)
                if fraction is not None:  # no track for an unknown cost: it is not $0
                    painter.fillRect(QRectF(bars_left, top, bars_width, height), track)
                if fraction:
                    bar_width = max(2.0, fraction * bars_width)
                    painter.fillRect(QRectF(bars_left, top, bar_width, height), colour)
                if row == 0 and bar.interval is not None:
                    self._paint_error_bar(painter, bar.interval, bars_left, bars_width, top, text)
                caption_box = QRectF(bars_left + bars_width + LABEL_GAP, top, value_width, height)
                painter.setPen(text if fraction is not None else muted)
                painter.drawText(
                    caption_box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, caption
                )
            y += self._group_height() - metrics.height()

    def _paint_error_bar(
        self,
        painter: QPainter,
        interval: tuple[float, float],
        left: float,
        width: float,
        top: float,
        colour: QColor,
    ) -> None:
        """The interval as a line across the bar's middle with a cap at each end."""
        low, high = (left + bound * width for bound in interval)
        middle = top + self._bar_height() / 2
        pen = QPen(colour)
        pen.setWidthF(1.5)
        painter.setPen(pen)
        painter.drawLine(QPointF(low, middle), QPointF(high, middle))
        for x in (low, high):
            painter.drawLine(QPointF(x, middle - CAP), QPointF(x, middle + CAP))

    def _paint_legend(
        self, painter: QPainter, left: int, text: QColor, pass_colour: QColor, cost_colour: QColor
    ) -> int:
        """Draw "■ Pass rate  ■ Cost (relative)" above the bars; returns the height used."""
        metrics = self.fontMetrics()
        size = metrics.height() - 4
        entries = ((pass_colour, "Pass rate (I: 95% interval)"), (cost_colour, "Cost (relative)"))
        needed = sum(size + 4 + metrics.horizontalAdvance(c) + 2 + 16 for _, c in entries) - 16
        x = float(max(MARGIN, min(left, self.width() - MARGIN - needed)))  # narrow: shift left
        for colour, caption in entries:
            painter.fillRect(QRectF(x, MARGIN + 2, size, size), colour)
            x += size + 4
            painter.setPen(text)
            box = QRectF(x, MARGIN, metrics.horizontalAdvance(caption) + 2, metrics.height())
            painter.drawText(
                box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, caption
            )
            x += box.width() + 16
        return metrics.height() + GROUP_GAP


def _spoken(bar: _Bar) -> str:
    """ "80%, 95% interval 49–94%": the caption as a screen reader should say it."""
    return bar.pass_text.replace(" [", ", 95% interval ").rstrip("]")
