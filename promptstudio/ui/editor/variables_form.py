"""One input per template variable, rebuilt live as variables appear and disappear.

Values are kept per name for the whole session: delete ``{{ topic }}`` and type it back,
and its value is still there. A value that parses as JSON (a list, an object, a number)
is passed to the template as that value, so few-shot lists are typed as JSON.

A template can hold thousands of variables (a pasted document, generated text): the
form then shows the first :data:`MAX_FIELDS` and a filter to reach the others; every
value is kept whether or not its field is on screen.

A value that is a list of ``{role, content}`` turns is a thread (``templating.threads``):
its field edits it as turns (a role and a text each; add and remove). "Edit as
conversation turns" in the value's context menu (or Ctrl+Shift+T in the field) switches any
value to turns; the "Turns" button, shown only then, switches it back to text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from promptstudio.images import looks_like_image_source
from promptstudio.templating.threads import is_thread
from promptstudio.ui import a11y
from promptstudio.ui.editor.image_field import ImageDrops, ImageRow
from promptstudio.ui.editor.thread_editor import ThreadEditor
from promptstudio.values import format_value, parse_value

TURNS_KEYS = "Ctrl+Shift+T"  # a field's value as conversation turns, and back
MAX_FIELDS = 200  # an input per variable up to here; a filter reaches the rest


class VariableField(QWidget):
    edited = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.label = QLabel(name, self)
        self.label.setObjectName("variableLabel")
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName(f"variable:{name}")
        self.editor.setTabChangesFocus(True)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setFixedHeight(self.editor.fontMetrics().lineSpacing() * 3 + 12)
        self.label.setBuddy(self.editor)
        self.as_turns = QToolButton(self)
        self.as_turns.setObjectName("variableAsTurns")
        self.as_turns.setText("Turns")
        self.as_turns.setCheckable(True)
        self.as_turns.setAutoRaise(True)
        self.as_turns.setAccessibleName(f"Edit {name} as conversation turns")
        self.as_turns.setToolTip(
            "A thread: a list of turns that becomes messages where {{ " + name + " }} "
            "stands alone on its line. Off: edit the value as text (JSON)."
        )
        # Compact: the button shows only while the value is turns; the way there is the
        # value's context menu and Ctrl+Shift+T in the field.
        self.turns_action = QAction("Edit as conversation turns", self)
        self.turns_action.setCheckable(True)
        self.turns_action.setShortcut(QKeySequence(TURNS_KEYS))
        self.turns_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.turns_action.setToolTip(self.as_turns.toolTip())
        self.addAction(self.turns_action)
        self.turns_action.toggled.connect(self.as_turns.setChecked)
        self.as_turns.toggled.connect(self.turns_action.setChecked)
        self.editor.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.editor.customContextMenuRequested.connect(self._context_menu)
        self.editor.setAccessibleDescription(f"{TURNS_KEYS} edits the value as conversation turns")
        self.turns_editor = ThreadEditor(self)
        self.turns_editor.hide()
        title = QHBoxLayout()
        title.setContentsMargins(0, 0, 0, 0)
        title.addWidget(self.label, 1)
        title.addWidget(self.as_turns)
        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(2)
        layout.addLayout(title)
        layout.addWidget(self.editor)
        layout.addWidget(self.turns_editor)
        self.editor.textChanged.connect(self.edited)
        self.turns_editor.changed.connect(self.edited)
        self.as_turns.toggled.connect(self._switch)

        self.image: ImageRow | None = None
        # An image file dropped on the field (its text too) becomes its value.
        self.drops = ImageDrops(self)
        self.drops.dropped.connect(self.editor.setPlainText)
        self.installEventFilter(self.drops)
        self.editor.viewport().installEventFilter(self.drops)
        self.setAcceptDrops(True)

    def text(self) -> str:
        """The value as the form keeps it (a thread as its JSON)."""
        if self.as_turns.isChecked():
            return format_value(self.turns_editor.turns())
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        """Show ``text`` (as turns when it is a thread), quietly."""
        value = parse_value(text)
        turns = is_thread(value)
        for widget in (self.editor, self.turns_editor, self.as_turns, self.turns_action):
            widget.blockSignals(True)
        self.editor.setPlainText(text)
        if turns:
            assert isinstance(value, list)
            self.turns_editor.set_turns(value)
        self.as_turns.setChecked(turns)
        self.turns_action.setChecked(turns)
        for widget in (self.editor, self.turns_editor, self.as_turns, self.turns_action):
            widget.blockSignals(False)
        self._show_mode(turns)

    def _switch(self, turns: bool) -> None:
        if turns:
            text = self.editor.toPlainText()
            value = parse_value(text)
            as_thread = value if is_thread(value) else [{"role": "user", "content": text}]
            assert isinstance(as_thread, list)
            self.turns_editor.set_turns(as_thread)
        else:
            self.editor.blockSignals(True)
            self.editor.setPlainText(format_value(self.turns_editor.turns()))
            self.editor.blockSignals(False)
        self._show_mode(turns)
        self.edited.emit()

    def _show_mode(self, turns: bool) -> None:
        self.editor.setVisible(not turns)
        self.turns_editor.setVisible(turns)
        self.as_turns.setVisible(turns)

    def context_menu(self) -> QMenu:
        """What a right-click on the value pops up: the editor's own menu and "Edit as
        conversation turns"."""
        menu = self.editor.createStandardContextMenu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addSeparator()
        menu.addAction(self.turns_action)
        return menu

    def _context_menu(self, position: QPoint) -> None:
        self.context_menu().popup(self.editor.mapToGlobal(position))

    def set_image(self, on: bool) -> None:
        """Show (or hide) the picker and thumbnail of an image variable."""
        if on and self.image is None:
            self.image = ImageRow(self.name, self)
            self.image.chosen.connect(self.editor.setPlainText)
            self._layout.addWidget(self.image)
            QWidget.setTabOrder(self.editor, self.image.pick)  # Tab from the value: the picker
            self.editor.textChanged.connect(self.show_image)
            self.show_image()
        if self.image is not None:
            self.image.setVisible(on)

    def show_image(self) -> None:
        if self.image is not None:
            self.image.show_value(self.editor.toPlainText())


class VariablesForm(QWidget):
    valuesChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("variablesForm")
        self._texts: dict[str, str] = {}
        self._fields: dict[str, VariableField] = {}
        self._names: list[str] = []
        self._image_names: set[str] = set()
        title = QLabel("<b>Variables</b>", self)
        self._empty = QLabel("No variables yet. Type {{ name }} in the template to add one.", self)
        self._empty.setWordWrap(True)
        self._empty.setObjectName("variablesEmpty")
        self.filter = QLineEdit(self)
        self.filter.setObjectName("variablesFilter")
        self.filter.setAccessibleName("Filter variables")
        self.filter.setPlaceholderText("Filter variables by name")
        self.filter.setClearButtonEnabled(True)
        self.filter.setVisible(False)
        self.filter.textChanged.connect(lambda _text: self._show_fields())
        self.more = QLabel(self)
        self.more.setObjectName("variablesMore")
        self.more.setWordWrap(True)
        self.more.setVisible(False)
        inner = QWidget(self)
        self._rows = QVBoxLayout(inner)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the fields take Tab, not the area
        scroll.setMinimumHeight(a11y.MIN_LIST_HEIGHT)  # a short window (200% scale): it scrolls
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(title)
        layout.addWidget(self._empty)
        layout.addWidget(self.filter)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.more)

    def names(self) -> list[str]:
        return list(self._names)

    def field(self, name: str) -> VariableField:
        return self._fields[name]

    def focus_first(self) -> bool:
        """Put the cursor in the first field on screen; False when there is none."""
        shown = self.shown_names()
        if shown:
            self._fields[shown[0]].editor.setFocus()
        return bool(shown)

    def set_names(self, names: Sequence[str]) -> None:
        names = list(dict.fromkeys(names))
        if names == self._names:
            return
        self._names = names
        self._show_fields()
        self.valuesChanged.emit()  # the values are those of the names: other keys now

    def set_image_names(self, names: Sequence[str]) -> None:
        """The variables used as an image source (``![alt]({{ name }})``): they get a picker."""
        self._image_names = set(names)
        for name, field in self._fields.items():
            field.set_image(self.is_image(name))

    def is_image(self, name: str) -> bool:
        """An image variable: used as an image source, or its value names an image."""
        return name in self._image_names or looks_like_image_source(self._texts.get(name, ""))

    def shown_names(self) -> list[str]:
        """The names that have a field on screen (the filter's matches, up to the cap)."""
        wanted = self.filter.text().strip().casefold()
        matching = [n for n in self._names if wanted in n.casefold()] if wanted else self._names
        return matching[:MAX_FIELDS]

    def _show_fields(self) -> None:
        shown = self.shown_names()
        keep = set(shown)
        self.setUpdatesEnabled(False)
        try:
            for name in [name for name in self._fields if name not in keep]:
                gone = self._fields.pop(name)
                self._rows.removeWidget(gone)
                gone.deleteLater()
            for index, name in enumerate(shown):
                field = self._fields.get(name)
                if field is None:
                    field = VariableField(name, self)
                    field.set_text(self._texts.get(name, ""))
                    field.edited.connect(lambda n=name: self._on_edited(n))
                    field.set_image(self.is_image(name))
                    self._fields[name] = field
                elif self._rows.indexOf(field) == index:
                    continue
                else:
                    self._rows.removeWidget(field)
                self._rows.insertWidget(index, field)
        finally:
            self.setUpdatesEnabled(True)
        many = len(self._names) > MAX_FIELDS
        self.filter.setVisible(many or bool(self.filter.text()))
        hidden = len(self._names) - len(shown)
        self.more.setVisible(hidden > 0)
        self.more.setText(
            f"{hidden:,} more variable{'s' if hidden != 1 else ''} not shown; "
            "filter by name to edit one. Every value is kept."
        )
        self._empty.setVisible(not self._names)

    def _on_edited(self, name: str) -> None:
        self._texts[name] = self._fields[name].text()
        if self._fields[name].image is None and self.is_image(name):
            self._fields[name].set_image(True)
        self.valuesChanged.emit()

    def values(self) -> dict[str, object]:
        """The current variables' values, typed (JSON where the text is JSON)."""
        return {name: parse_value(self._texts.get(name, "")) for name in self._names}

    def set_values(self, values: Mapping[str, object]) -> None:
        """Replace the remembered values (e.g. from a stored version) and show them."""
        self._texts = {name: format_value(value) for name, value in values.items()}
        for name, field in self._fields.items():
            field.set_text(self._texts.get(name, ""))
            field.set_image(self.is_image(name))
            field.show_image()
        self.valuesChanged.emit()

    def set_value(self, name: str, value: object) -> None:
        self._texts[name] = format_value(value)
        if name in self._fields:
            self._fields[name].set_text(self._texts[name])
            self._on_edited(name)
