"""Accessibility helpers shared by the panes: names, the audit, region cycling, announcements.

Qt gives an assistive technology a widget's name from, in turn, its accessible name, a
button's text, or the text of a label whose buddy it is; its description from the accessible
description, else the tooltip. :func:`accessible_name` asks Qt for exactly that, so the audit
sees what a screen reader hears.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QTabBar,
    QTabWidget,
    QTextEdit,
    QWidget,
)

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
    found = []
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
    return [
        area
        for area in root.findChildren(QScrollArea)
        if takes_tab_focus(area) and isinstance(area, QAbstractScrollArea)
    ]


def no_tab_stop(*areas: QScrollArea) -> None:
    """A scroll area that only holds other controls: no Tab stop of its own."""
    for area in areas:
        area.setFocusPolicy(Qt.FocusPolicy.NoFocus)


def name(widget: QWidget, text: str, description: str = "") -> None:
    """Name ``widget``; the description, when given, says more than the name."""
    widget.setAccessibleName(text)
    if description:
        widget.setAccessibleDescription(description)


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


def announce(widget: QWidget, text: str, *, assertive: bool = False) -> None:
    """Have a screen reader say ``text`` without moving the focus (Qt ≥ 6.8's announcement
    event, sent on behalf of ``widget``)."""
    event = QAccessibleAnnouncementEvent(widget, text)
    if assertive:
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(event)


# ---- colours ---------------------------------------------------------------------------------


def status_colour(kind: str, palette: QPalette | None = None) -> QColor:
    """The colour of an ``ok`` or ``error`` status text in the current theme, chosen so it
    reads at ≥ 4.5:1 on the window colour (see :func:`promptstudio.ui.theme.status_colours`)."""
    from promptstudio.ui.theme import status_colours

    return QColor(status_colours(palette or QApplication.palette())[kind])
