"""History's version graph: one row per version, newest first, drawn in lanes.

A list model over :class:`~promptstudio.evals.version_graph.GraphRow` and a delegate that
paints each row: the lanes (a line per branch, a dot for the version), then the version's
number and kind, its labels as chips, and its latest pass rate. Up and Down move between
versions, Return (or a double-click) picks one: ``versionChosen``. Each row's text (what a
screen reader reads) says the same as the drawing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from promptstudio.evals.stats import PassRate
from promptstudio.evals.version_graph import GraphRow, VersionGraph
from promptstudio.storage.rows import LabelGate
from promptstudio.ui.evaluate.eval_grid_model import verdict_colour

ROW_ROLE: Final = Qt.ItemDataRole.UserRole + 1
LANE_WIDTH: Final = 16
DOT_RADIUS: Final = 5
MAX_LANES: Final = 24  # wider graphs squeeze their outer lanes together
# Lane colours readable on a light and on a dark base (mid lightness, distinct hues).
LANE_COLOURS: Final = ("#4285f4", "#e8710a", "#1e8e3e", "#a142f4", "#12a4af", "#d93025")
Index = QModelIndex | QPersistentModelIndex


def rate_text(rate: PassRate | None) -> str:
    """``80% (8/10)``; empty when the version was never evaluated."""
    if rate is None or rate.rate is None:
        return ""
    return f"{rate.rate:.0%} ({rate.passed}/{rate.total})"


def label_text(name: str, gates: Mapping[str, LabelGate]) -> str:
    """A label's chip: ``production ≥90%`` when it has a gate."""
    gate = gates.get(name)
    return name if gate is None else f"{name} ≥{gate.pass_rate:.0%}"


def row_description(row: GraphRow, gates: Mapping[str, LabelGate] | None = None) -> str:
    """What the row says in words (the screen reader's text and the tooltip's first line)."""
    version, gates = row.version, gates or {}
    parts = [f"v{version.number}", version.kind]
    if version.labels:
        parts.append("labels " + ", ".join(
            name if name not in gates else f"{name} (gated: {gates[name].describe()})"
            for name in version.labels
        ))  # fmt: skip
    rate = rate_text(row.rate)
    parts.append(f"pass rate {rate}" if rate else "not evaluated")
    if row.branched_from is not None:
        parts.append(f"branched from v{row.branched_from}")
    if version.message:
        parts.append(version.message)
    return " · ".join(parts)


class VersionGraphModel(QAbstractListModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graph: VersionGraph | None = None

    def set_graph(self, graph: VersionGraph | None) -> None:
        self.beginResetModel()
        self.graph = graph
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.graph is None else len(self.graph.rows)

    def graph_row(self, row: int) -> GraphRow:
        assert self.graph is not None
        return self.graph.rows[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or self.graph is None:
            return None
        row = self.graph.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return row_description(row, self.graph.gates)
        if role == Qt.ItemDataRole.ToolTipRole:
            when = row.version.created_at[:16].replace("T", " ")
            return f"{row_description(row, self.graph.gates)}\nsaved {when} UTC"
        if role == ROW_ROLE:
            return row
        return None


class GraphDelegate(QStyledItemDelegate):
    """Paints a row: lanes and dot, then ``v7  improved  [production]  80% (8/10)  message``."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        height = option.fontMetrics.height() + 12  # type: ignore[attr-defined]
        return QSize(400, max(height, 2 * DOT_RADIUS + 14))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        row = index.data(ROW_ROLE)
        if not isinstance(row, GraphRow):
            return
        rect: QRect = option.rect  # type: ignore[attr-defined]
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        state = option.state  # type: ignore[attr-defined]
        selected = bool(state & QStyle.StateFlag.State_Selected)
        widget = option.widget  # type: ignore[attr-defined]
        style = widget.style() if widget is not None else None
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if style is not None:  # the selection and focus, as the platform draws them
            blank = QStyleOptionViewItem(option)
            self.initStyleOption(blank, index)
            blank.text = ""  # type: ignore[attr-defined]
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, blank, painter, widget)
        text_colour = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        self._paint_lanes(painter, rect, row, text_colour if selected else None)
        graph = getattr(index.model(), "graph", None)
        if not isinstance(graph, VersionGraph):
            graph = VersionGraph(row.version.prompt_id, (row,), False)
        x = int(self.lane_x(rect, graph.width - 1) + LANE_WIDTH)  # every row's text lines up
        self._paint_text(painter, rect, x, row, graph.gates, text_colour, palette, selected)
        painter.restore()

    # ---- the lanes -------------------------------------------------------------------

    @staticmethod
    def lane_x(rect: QRect, lane: int) -> float:
        shown = min(lane, MAX_LANES - 1) + min(max(lane - MAX_LANES + 1, 0), 1) * 0.5
        return rect.left() + 10 + shown * LANE_WIDTH

    def _paint_lanes(
        self, painter: QPainter, rect: QRect, row: GraphRow, ring: QColor | None
    ) -> None:
        top, bottom = float(rect.top()), float(rect.bottom() + 1)
        centre = QPointF(self.lane_x(rect, row.lane), rect.center().y() + 0.5)
        for lane in sorted(set(row.above) | set(row.below)):
            pen = QPen(QColor(LANE_COLOURS[lane % len(LANE_COLOURS)]), 2)
            painter.setPen(pen)
            x = self.lane_x(rect, lane)
            if lane == row.lane:
                if lane in row.above:
                    painter.drawLine(QPointF(x, top), centre)
                if lane in row.below:
                    painter.drawLine(centre, QPointF(x, bottom))
            elif lane in row.joins:  # a branch meeting its parent: a curve into the dot
                path = QPainterPath(QPointF(x, top))
                path.cubicTo(QPointF(x, centre.y()), QPointF(x, centre.y()), centre)
                painter.drawPath(path)
            else:
                painter.drawLine(QPointF(x, top), QPointF(x, bottom))
        colour = QColor(LANE_COLOURS[row.lane % len(LANE_COLOURS)])
        painter.setPen(QPen(ring or colour.darker(130), 1.5))  # a ring on the selection
        painter.setBrush(colour)
        painter.drawEllipse(centre, DOT_RADIUS, DOT_RADIUS)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    # ---- the text --------------------------------------------------------------------

    def _paint_text(
        self,
        painter: QPainter,
        rect: QRect,
        x: int,
        row: GraphRow,
        gates: Mapping[str, LabelGate],
        colour: QColor,
        palette: QPalette,
        selected: bool,
    ) -> None:
        font = QFont(painter.font())
        bold = QFont(font)
        bold.setBold(True)
        version = row.version
        x = self._word(painter, rect, x, f"v{version.number}", colour, bold)
        dim = colour if selected else palette.color(QPalette.ColorRole.PlaceholderText)
        x = self._word(painter, rect, x, version.kind, dim, font)
        border = colour if selected else palette.color(QPalette.ColorRole.Link)
        for label in version.labels:
            x = self._chip(painter, rect, x, label_text(label, gates), colour, border)
        rate = rate_text(row.rate)
        if rate and row.rate is not None and row.rate.rate is not None:
            kind = "pass" if row.rate.rate >= 0.8 else "flip" if row.rate.rate >= 0.5 else "fail"
            x = self._chip(
                painter,
                rect,
                x,
                rate,
                verdict_colour(kind),
                verdict_colour(kind),
                fill=verdict_colour(kind, background=True),
            )
        if version.message:
            painter.setFont(font)
            painter.setPen(colour)
            room = QRect(x, rect.top(), max(0, rect.right() - x - 6), rect.height())
            elided = painter.fontMetrics().elidedText(
                version.message, Qt.TextElideMode.ElideRight, room.width()
            )
            painter.drawText(room, Qt.AlignmentFlag.AlignVCenter, elided)

    @staticmethod
    def _word(
        painter: QPainter, rect: QRect, x: int, text: str, colour: QColor, font: QFont
    ) -> int:
        painter.setFont(font)
        painter.setPen(colour)
        width = painter.fontMetrics().horizontalAdvance(text)
        painter.drawText(QRect(x, rect.top(), width + 2, rect.height()),
                         Qt.AlignmentFlag.AlignVCenter, text)  # fmt: skip
        return x + width + 10

    @staticmethod
    def _chip(
        painter: QPainter,
        rect: QRect,
        x: int,
        text: str,
        colour: QColor,
        border: QColor,
        *,
        fill: QColor | None = None,
    ) -> int:
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 12
        height = metrics.height() + 2
        box = QRectF(x, rect.center().y() - height / 2 + 0.5, width, height)
        painter.setPen(QPen(border, 1.2))
        painter.setBrush(fill if fill is not None else Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(box, height / 2, height / 2)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(colour)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        return x + width + 8


class VersionGraphView(QListView):
    """The graph, keyboard first: Up/Down move, Right/Left follow the line to the parent or
    the newest child, Return or a double-click picks."""

    versionChosen = Signal(int)  # version id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("versionGraph")
        self.setAccessibleName("Version graph")
        self.setAccessibleDescription(
            "Versions newest first, each under its parent, with labels and the latest pass "
            "rate. Up and Down move through the versions, Right goes to a version's parent "
            "and Left to its newest child, Return selects the version in History."
        )
        self.graph_model = VersionGraphModel(self)
        self.setModel(self.graph_model)
        self.setItemDelegate(GraphDelegate(self))
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.activated.connect(self._chosen)

    def set_graph(self, graph: VersionGraph | None, current_id: int | None = None) -> None:
        self.graph_model.set_graph(graph)
        self.show_version(current_id)

    def show_version(self, version_id: int | None) -> None:
        """Make the version the current row (not "chosen": no signal)."""
        graph = self.graph_model.graph
        row = -1 if graph is None or version_id is None else graph.row_of(version_id)
        if row < 0 and self.graph_model.rowCount():
            row = 0
        if row >= 0:
            index = self.graph_model.index(row)
            self.setCurrentIndex(index)
            self.scrollTo(index)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Right: along the line to the parent; Left: back to the newest child."""
        key, graph, current = event.key(), self.graph_model.graph, self.currentIndex()
        if key not in (Qt.Key.Key_Left, Qt.Key.Key_Right) or graph is None or not current.isValid():
            super().keyPressEvent(event)
            return
        version = graph.rows[current.row()].version
        if key == Qt.Key.Key_Right:
            row = -1 if version.parent_id is None else graph.row_of(version.parent_id)
        else:
            children = (n for n, r in enumerate(graph.rows) if r.version.parent_id == version.id)
            row = next(children, -1)
        if row >= 0:
            self.setCurrentIndex(self.graph_model.index(row))
        event.accept()

    def current_version_id(self) -> int | None:
        index = self.currentIndex()
        return self.graph_model.graph_row(index.row()).version.id if index.isValid() else None

    def _chosen(self, index: QModelIndex) -> None:
        if index.isValid():
            self.versionChosen.emit(self.graph_model.graph_row(index.row()).version.id)
