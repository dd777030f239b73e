"""Accessibility helpers shared by the panes: names, the audit, region cycling, announcements.

Qt gives an assistive technology a widget's name from, in turn, its accessible name, a
button's text, or the text of a label whose buddy it is; its description from the accessible
description, else the tooltip. :func:`accessible_name` asks Qt for exactly that, so the audit
sees what a screen reader hears.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QAction,
    QContextMenuEvent,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPen,
    QShortcutEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLayout,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QTabBar,
    QTabWidget,
    QTextEdit,
    QWidget,
)

MIN_LIST_HEIGHT = 40  # a list that scrolls may be this short in a short window (200% scale)

INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QAbstractSpinBox,
    QComboBox,
    QTextEdit,
    QPlainTextEdit,
    QAbstractItemView,
    QAbstractSlider,
    QTabBar,
)


EXPLICIT = Qt.WidgetAttribute.WA_WState_ExplicitShowHide


def focus_order(root: QWidget) -> list[QWidget]:
    """The controls under ``root`` that take Tab, in the order its layouts show them
    (rows top to bottom, each left to right), scroll areas' contents included."""
    found: list[QWidget] = []

    def visit(widget: QWidget) -> None:
        if widget is not root and widget.isHidden() and widget.testAttribute(EXPLICIT):
            return  # hidden on purpose (a new widget is hidden until it is first shown)
        if widget is not root and takes_tab_focus(widget):
            found.append(widget)
        if isinstance(widget, QAbstractSpinBox | QComboBox | QAbstractItemView):
            return  # a composite: one stop
        inner = widget.widget() if isinstance(widget, QScrollArea) else None
        layout = widget.layout()
        if inner is not None:
            visit(inner)
        elif layout is not None:
            visit_layout(layout)

    def visit_layout(layout: QLayout) -> None:
        for index in range(layout.count()):
            item = layout.itemAt(index)
            child = item.widget() if item is not None else None
            nested = item.layout() if item is not None else None
            if child is not None:
                visit(child)
            elif nested is not None:
                visit_layout(nested)

    visit(root)
    return found


def chain(widgets: Sequence[QWidget]) -> None:
    """Tab goes through ``widgets`` in this order."""
    for first, second in itertools.pairwise(widgets):
        QWidget.setTabOrder(first, second)


def accessible_name(widget: QWidget) -> str:
    """The name an assistive technology hears for ``widget`` ("" for none)."""
    interface = QAccessible.queryAccessibleInterface(widget)
    heard = interface.text(QAccessible.Text.Name).strip() if interface is not None else ""
    return heard or widget.accessibleName().strip()  # a tab bar says its current tab's text


def accessible_description(widget: QWidget) -> str:
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Description).strip() if interface is not None else ""


def _inside_composite(widget: QWidget, root: QWidget) -> bool:
    """A part of a spin box or combo box (its line edit, its popup list): the composite
    itself carries the name."""
    parent = widget.parentWidget()
    while parent is not None and parent is not root.parentWidget():
        if isinstance(parent, QAbstractSpinBox | QComboBox):
            return True
        parent = parent.parentWidget()
    return False


def takes_tab_focus(widget: QWidget) -> bool:
    return bool(widget.focusPolicy() & Qt.FocusPolicy.TabFocus) and widget.focusProxy() is None


def unnamed_widgets(root: QWidget) -> list[QWidget]:
    """Focusable interactive widgets under ``root`` (itself included) that have no name."""
    found: list[QWidget] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not isinstance(widget, INTERACTIVE) or not takes_tab_focus(widget):
            continue
        if _inside_composite(widget, root):
            continue
        if isinstance(widget, QTabBar) and isinstance(widget.parentWidget(), QTabWidget):
            continue  # the tab widget's pages carry the tab texts; named below
        if not accessible_name(widget):
            found.append(widget)
    for tabs in [root, *root.findChildren(QTabWidget)]:
        if isinstance(tabs, QTabWidget) and not accessible_name(tabs):
            found.append(tabs)
    return found


def invisible_tab_stops(root: QWidget) -> list[QWidget]:
    """Scroll areas that take Tab focus but show no focus and do nothing with it."""
    return [area for area in root.findChildren(QScrollArea) if takes_tab_focus(area)]


def name_tabs(tabs: QTabWidget, text: str) -> None:
    """A tab widget and its tab bar share one name."""
    tabs.setAccessibleName(text)
    tabs.tabBar().setAccessibleName(text)


def name_column(column: QWidget, number: int | None = None) -> None:
    """Give a run column's controls names that say which column they belong to.

    ``number`` is the column's place on the board (1 first); without it the last one given
    is kept (a new model or server renames the controls, the place stays)."""
    if number is not None:
        column.setProperty("a11yNumber", number)
    place = column.property("a11yNumber") or 1
    config = column.config()  # type: ignore[attr-defined]
    profile = column.profile()  # type: ignore[attr-defined]
    where = profile.name if profile is not None else (config.base_url or "no server")
    context = f"column {place} ({config.model or 'no model'} at {where})"
    folded = bool(getattr(column, "folded", False))
    names = {
        "run_button": f"Run {context}",
        "stop_button": f"Stop {context}",
        "remove_button": f"Remove {context}",
        "menu_button": f"More for {context}",
        "fold_button": f"{'Show' if folded else 'Fold'} the settings of {context}",
        "output": f"Answer from {context}",
        "rendered": f"Answer from {context}, formatted",
        "endpoint": f"Server of column {place}",
        "model": f"Model of column {place}",
        "key": f"API key of column {place}",
    }
    for attribute, text in names.items():
        widget = getattr(column, attribute, None)
        if isinstance(widget, QWidget):
            widget.setAccessibleName(text)
        if isinstance(widget, QComboBox):  # on Linux a combo box's name is its value
            widget.setAccessibleDescription(f"{text}. {widget.toolTip()}")
    for editor in getattr(column, "param_widgets", {}).values():  # "Temperature, column 2"
        base = editor.property("a11yBase") or editor.accessibleName()
        editor.setProperty("a11yBase", base)
        editor.setAccessibleName(f"{base}, column {place}")
    column.setAccessibleName(context[0].upper() + context[1:])


# ---- regions (F6) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    name: str
    container: Callable[[], QWidget]  # the area focus is "in"
    focus: Callable[[], object]  # puts the focus on the region's first control


class RegionCycler(QObject):
    """F6 / Shift+F6: the focus moves to the next / previous region of the window."""

    def __init__(self, regions: Sequence[Region], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.regions = list(regions)

    def current(self) -> int | None:
        focused = QApplication.focusWidget()
        for index, region in enumerate(self.regions):
            container = region.container()
            if focused is not None and (focused is container or container.isAncestorOf(focused)):
                return index
        return None

    def cycle(self, step: int) -> str:
        """Focus the region ``step`` away from the current one; its name."""
        index = self.current()
        start = (-1 if step > 0 else 0) if index is None else index
        for offset in range(1, len(self.regions) + 1):
            region = self.regions[(start + step * offset) % len(self.regions)]
            if region.container().isVisible():
                region.focus()
                return region.name
        return ""


# ---- announcements --------------------------------------------------------------------------


class Announcer(QObject):
    """Says things to a screen reader on behalf of ``widget`` (the status bar): the status
    messages, a finished run, errors; the focus stays where it is."""

    announced = Signal(str)

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self._widget = widget

    def say(self, text: str, assertive: bool = False) -> None:
        if text:
            announce(self._widget, text, assertive=assertive)
            self.announced.emit(text)

    def error(self, error: BaseException) -> None:
        from promptstudio.ui.messages import describe

        title, text = describe(error)
        self.say(f"{title}: {text}", assertive=True)


def run_summary(columns: Sequence[QWidget]) -> str:
    """What a finished run says: each column's model and how its answer ended."""
    from promptstudio.ui.board.run_column import STATUS_TEXT

    parts = []
    for number, column in enumerate(columns, 1):
        config = column.config()  # type: ignore[attr-defined]
        result = column.result  # type: ignore[attr-defined]
        if result is None:
            continue  # not in this run
        problem = f": {result.error.message}" if result.error is not None else ""
        status = STATUS_TEXT[result.status].lower()
        parts.append(f"column {number} ({config.model or 'no model'}) {status}{problem}")
    return "Run finished: " + "; ".join(parts)


def announce(widget: QWidget, text: str, *, assertive: bool = False) -> None:
    """Have a screen reader say ``text`` without moving the focus (Qt ≥ 6.8's announcement
    event, sent on behalf of ``widget``)."""
    event = QAccessibleAnnouncementEvent(widget, text)
    if assertive:
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(event)


# ---- the focus frame ---------------------------------------------------------------------


class FocusFrame(QWidget):
    """A frame drawn inside the focused widget, in the theme's focus colour (≥ 3:1 on the
    window and the base in both themes), so focus shows on every control alike: the
    answer view and the editor, whose own styles draw no or a faint focus."""

    def __init__(self, target: QWidget) -> None:
        super().__init__(target)
        self.setObjectName("focusFrame")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setGeometry(target.rect())
        target.installEventFilter(self)
        self.raise_()
        self.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.ChildAdded):
            parent = self.parentWidget()
            if parent is not None:
                self.setGeometry(parent.rect())
                self.raise_()
        return False

    def paintEvent(self, _event: QPaintEvent) -> None:
        from promptstudio.ui.theme import focus_colour

        painter = QPainter(self)
        try:
            pen = QPen(focus_colour(self.palette()), FOCUS_WIDTH)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            half = FOCUS_WIDTH / 2
            painter.drawRect(QRectF(self.rect()).adjusted(half, half, -half, -half))
        finally:
            painter.end()


FOCUS_WIDTH = 2


class FocusFrames(QObject):
    """Puts a :class:`FocusFrame` on whatever widget has the focus, in ``window`` and its
    dialogs (menus and popups draw their own current item)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self.frame: FocusFrame | None = None
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.focusChanged.connect(self._moved)

    def _moved(self, _old: QWidget | None, new: QWidget | None) -> None:
        if self.frame is not None and shiboken6.isValid(self.frame):
            self.frame.deleteLater()
        self.frame = None
        if new is None or not shiboken6.isValid(self._window):
            return
        top = new.window()
        if top is not self._window and top.parentWidget() is None:
            return  # another window's (a test's own widget)
        if top.windowType() in (Qt.WindowType.Popup, Qt.WindowType.ToolTip):
            return
        self.frame = FocusFrame(new)


def install_keyboard_rules(window: QWidget) -> None:
    """The key rules and the focus frame, for ``window`` and its dialogs."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    rules = KeyboardRules(window)
    app.installEventFilter(rules)
    FocusFrames(window)


# ---- keys ------------------------------------------------------------------------------------


def mnemonic(text: str) -> str:
    """The access key of a menu text ("Se&ttings…" -> "t"), "" for none."""
    index = text.replace("&&", "").find("&")
    stripped = text.replace("&&", "")
    return stripped[index + 1].lower() if 0 <= index < len(stripped) - 1 else ""


def keyboard_selectable(*views: QPlainTextEdit | QTextEdit) -> None:
    """A read-only text: its text can be selected and copied with the keyboard too."""
    for view in views:
        view.setTextInteractionFlags(
            view.textInteractionFlags()
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.TextSelectableByMouse
        )


def leave_on_tab(*views: QAbstractItemView) -> None:
    """Tab leaves a table (arrows move in it): no trap, and its selection stays."""
    for view in views:
        view.setTabKeyNavigation(False)


def _context_menu_point(widget: QWidget) -> tuple[QWidget, QPoint]:
    """Where a context menu asked for by key opens: at the current item or the cursor."""
    if isinstance(widget, QAbstractItemView):
        rect = widget.visualRect(widget.currentIndex())
        inside = widget.viewport().rect()
        return widget.viewport(), rect.center() if rect.intersects(inside) else inside.center()
    if isinstance(widget, QPlainTextEdit | QTextEdit):
        return widget.viewport(), widget.cursorRect().center()
    return widget, widget.rect().center()


class KeyboardRules(QObject):
    """Application-wide key rules (installed once on the application):

    - Shift+F10 and the Menu key open the focused widget's context menu, at its current
      item or text cursor;
    - the focused widget wins over the window: when a shortcut fires whose keys the focused
      widget has an action of its own for (the cases table's Ctrl+Z), or F2 in a table whose
      cell can be edited, the widget's action runs (or the cell is edited) instead of the
      window's (Qt would call the keys ambiguous, or rename the prompt).
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Shortcut and isinstance(event, QShortcutEvent):
            return self._shortcut(watched, event)
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            return False
        focused = QApplication.focusWidget()
        if focused is None or watched is not focused or not isinstance(event, QKeyEvent):
            return False
        key, modifiers = event.key(), event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        shift_f10 = key == Qt.Key.Key_F10 and modifiers == Qt.KeyboardModifier.ShiftModifier
        if not (shift_f10 or (key == Qt.Key.Key_Menu and not modifiers)):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # the key comes as a KeyPress, not as a window shortcut
            return True
        target, point = _context_menu_point(focused)
        menu_event = QContextMenuEvent(
            QContextMenuEvent.Reason.Keyboard, point, target.mapToGlobal(point)
        )
        QApplication.sendEvent(target, menu_event)
        return True

    def _shortcut(self, watched: QObject, event: QShortcutEvent) -> bool:
        focused = QApplication.focusWidget()
        if focused is None or not isinstance(watched, QAction):
            return False
        own = self._own_action(focused, event.key())
        if own is not None:
            if watched is own and not event.isAmbiguous():
                return False  # its own shortcut, alone: Qt runs it
            own.trigger()  # instead of the window's, or of Qt's "ambiguous" warning
            return True
        if self._edits_cell(focused, event.key()):
            assert isinstance(focused, QAbstractItemView)
            focused.edit(focused.currentIndex())
            return True
        return False

    @staticmethod
    def _own_action(widget: QWidget, keys: QKeySequence) -> QAction | None:
        for action in widget.actions():
            context = action.shortcutContext()
            if context not in (
                Qt.ShortcutContext.WidgetShortcut,
                Qt.ShortcutContext.WidgetWithChildrenShortcut,
            ):
                continue
            if action.isEnabled() and any(s == keys for s in action.shortcuts()):
                return action
        return None

    @staticmethod
    def _edits_cell(widget: QWidget, keys: QKeySequence) -> bool:
        if keys != QKeySequence(Qt.Key.Key_F2) or not isinstance(widget, QAbstractItemView):
            return False
        current = widget.currentIndex()
        if not current.isValid() or not current.flags() & Qt.ItemFlag.ItemIsEditable:
            return False
        return bool(widget.editTriggers() & QAbstractItemView.EditTrigger.EditKeyPressed)
