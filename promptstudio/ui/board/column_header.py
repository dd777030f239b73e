"""A run column's title line: fold, the title (drag it to move the column), the status, run,
stop, the ⋯ menu and remove.

:class:`ColumnHeader` is a row of the column's layout; its widgets are the column's
children and its buttons emit the column's signals, so the board hears one column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QMimeData, QPoint, Qt
from PySide6.QtGui import QAction, QDrag, QMouseEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from promptstudio.local.model import SMALL_MODEL_NOTE, is_local_profile
from promptstudio.providers import GenerationParams
from promptstudio.providers.param_rules import PARAM_RULES
from promptstudio.runs.columns import ColumnConfig
from promptstudio.ui import a11y
from promptstudio.ui.theme import symbol_icon

if TYPE_CHECKING:
    from promptstudio.ui.board.run_column import RunColumn

COLUMN_MIME = "application/x-promptstudio-column"
FOLD_SHORTCUT = "Ctrl+Shift+M"  # the board's action: fold or unfold every column's settings


class DragHandle(QLabel):
    """The column's title; drag it to move the column."""

    def __init__(self, column: RunColumn) -> None:
        super().__init__(column)
        self._column = column
        self._press: QPoint | None = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        moved = (event.position().toPoint() - self._press).manhattanLength()
        if moved < QApplication.startDragDistance():
            return
        self._press = None
        data = QMimeData()
        data.setData(COLUMN_MIME, QByteArray(self._column.column_id.encode()))
        drag = QDrag(self)
        drag.setMimeData(data)
        drag.setPixmap(self._column.grab().scaledToWidth(160))
        drag.exec(Qt.DropAction.MoveAction)


class SymbolButton(QToolButton):
    """A header button drawn with one of the theme's symbols, drawn again in a new palette."""

    def __init__(self, parent: QWidget, symbol: str, tip: str, slot: Callable[[], object]) -> None:
        super().__init__(parent)
        self.symbol = symbol
        self.setIcon(symbol_icon(symbol, parent.palette()))
        self.setToolTip(tip)
        self.setAccessibleName(tip)
        self.setAutoRaise(True)
        self.clicked.connect(lambda _checked=False: slot())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.setIcon(symbol_icon(self.symbol, self.palette()))
        super().changeEvent(event)


class ColumnHeader(QHBoxLayout):
    """The title line of ``column``: what it shows is read from the column (its settings,
    its fold); what its buttons ask for is the column's signals."""

    def __init__(self, column: RunColumn) -> None:
        super().__init__()
        self._column = column
        self.title = DragHandle(column)
        self.title.setObjectName("columnTitle")
        self.title.setMinimumWidth(40)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.status = QLabel("Ready", column)
        self.status.setObjectName("runStatus")
        emit = column.column_id
        self.run_button = SymbolButton(
            column, "run", "Run this column", lambda: column.runRequested.emit(emit)
        )
        self.stop_button = SymbolButton(
            column, "stop", "Stop this column", lambda: column.stopRequested.emit(emit)
        )
        self.stop_button.setEnabled(False)
        self.menu_button = QToolButton(column)
        self.menu_button.setText("⋯")
        self.menu_button.setToolTip("More for this column")
        self.menu_button.setAccessibleName("More for this column")
        self.menu_button.setAutoRaise(True)
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_button.setMenu(self._menu(column))
        self.remove_button = SymbolButton(
            column, "close", "Remove this column", lambda: column.removeRequested.emit(emit)
        )
        self.fold_button = QToolButton(column)
        self.fold_button.setObjectName("foldSettings")
        self.fold_button.setCheckable(True)
        self.fold_button.setAutoRaise(True)
        self.fold_button.toggled.connect(column.set_folded)
        self.addWidget(self.fold_button)
        self.addWidget(self.title, 1)
        self.addWidget(self.status)
        buttons = [self.run_button, self.stop_button, self.menu_button, self.remove_button]
        for button in buttons:
            self.addWidget(button)
        a11y.chain([self.fold_button, *buttons])

    def _menu(self, column: RunColumn) -> QMenu:
        """The ⋯ menu: duplicate, move, maximise, preview, compare, pin."""
        emit = column.column_id
        menu = QMenu(self.menu_button)
        menu.addAction("Duplicate", lambda: column.duplicateRequested.emit(emit))
        self.move_left = menu.addAction("Move left", lambda: column.moveRequested.emit(emit, -1))
        self.move_right = menu.addAction("Move right", lambda: column.moveRequested.emit(emit, 1))
        menu.addAction("Maximise / restore", lambda: column.maximiseRequested.emit(emit))
        menu.addAction("Preview the messages…", lambda: column.previewRequested.emit(emit))
        menu.addSeparator()
        self.compare_menu = menu.addMenu("Compare the answer with")
        self.compare_menu.aboutToShow.connect(lambda: column.compareRequested.emit(emit))
        menu.addAction("Pin the answer", lambda: column.pinRequested.emit(emit))
        return menu

    def add_menu_actions(self, actions: Sequence[QAction]) -> None:
        """More entries at the end of the ⋯ menu, after a separator."""
        menu = self.menu_button.menu()
        assert menu is not None
        menu.addSeparator()
        menu.addActions(list(actions))

    def show_title(self) -> None:
        """The model, the server and (folded) the settings that are set."""
        column = self._column
        config = column.config()
        model = config.model or "no model"
        profile = column.profile()
        endpoint = profile.name if profile is not None else config.base_url
        samples = f" · × {config.samples}" if config.samples > 1 else ""
        shown = target_extras(config) if column.folded else samples
        small = is_local_profile(profile)  # the managed local model: say what it is for
        shown += " · <i>small model, for trying</i>" if small else ""
        note = f"\n{SMALL_MODEL_NOTE}" if small else ""
        self.title.setText(f"<b>{model}</b> · {endpoint}{shown}")
        self.title.setToolTip(f"{target_summary(config)}{note}\nDrag to move this column.")
        a11y.name_column(column)

    def show_fold(self, folded: bool) -> None:
        self.fold_button.setArrowType(Qt.ArrowType.RightArrow if folded else Qt.ArrowType.DownArrow)
        name = "Show this column's settings" if folded else "Fold this column's settings"
        a11y.name_column(self._column)
        self.fold_button.setToolTip(f"{name} (every column: {FOLD_SHORTCUT})")

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    @property
    def running(self) -> bool:
        return self.stop_button.isEnabled()

    def set_place(self, index: int, count: int) -> None:
        """The column is number ``index`` (from 0) of ``count``: what can move or go."""
        self.remove_button.setEnabled(count > 1)
        self.move_left.setEnabled(index > 0)
        self.move_right.setEnabled(index < count - 1)

    def offer_comparisons(self, choices: Sequence[tuple[str, Callable[[], object]]]) -> None:
        """The answers to compare with, each a label and what choosing it does."""
        menu = self.compare_menu
        menu.clear()
        for label, compare in choices:
            menu.addAction(label, compare)
        if menu.isEmpty():
            menu.addAction("No other answer yet").setEnabled(False)


def target_summary(config: ColumnConfig) -> str:
    """The model and server of a column, with its samples and the settings that are set
    (the first line of its title's tooltip, and of a pinned answer's)."""
    return f"{config.model or 'no model'} at {config.base_url}{target_extras(config)}"


def target_extras(config: ColumnConfig) -> str:
    samples = [f"× {config.samples}"] if config.samples > 1 else []
    return "".join(f" · {part}" for part in [*samples, *params_summary(config.params)])


def params_summary(params: GenerationParams) -> list[str]:
    """The settings that are set, briefly and in the table's order (a folded title): each as
    its rule's ``short`` name and value ("T 0.7", "max 256", "2 stop", "JSON schema")."""
    parts = []
    for name in PARAM_RULES:
        value, rule = getattr(params, name), PARAM_RULES[name]
        if value is None or value is False or value == ():
            continue
        if rule.kind in ("number", "integer", "choice"):
            parts.append(
                f"{rule.short} {value:g}" if rule.kind == "number" else f"{rule.short} {value}"
            )
        elif rule.kind == "texts":
            parts.append(f"{len(value)} {rule.short}")
        else:
            parts.append(rule.short)
    return parts
