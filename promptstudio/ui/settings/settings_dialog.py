"""The settings dialog, generated from ``promptstudio.settings.schema.SETTINGS``.

One page per group, one field per setting, the description under it. A value that does
not validate is refused with the reason under its field and nothing is saved until every
field is valid.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from promptstudio.settings.schema import SETTINGS, Setting, groups
from promptstudio.settings.store import SettingsError, SettingsStore
from promptstudio.ui import a11y
from promptstudio.ui.theme import set_status

Field = QLineEdit | QCheckBox | QComboBox | QPlainTextEdit


class SettingsDialog(QDialog):
    applied = Signal(dict)  # name -> new value, only what changed

    def __init__(
        self,
        store: SettingsStore,
        parent: QWidget | None = None,
        *,
        extra_pages: Sequence[tuple[str, QWidget]] = (),
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.store = store
        self.fields: dict[str, Field] = {}
        self.errors: dict[str, QLabel] = {}
        self.tabs = tabs = QTabWidget(self)
        a11y.name_tabs(tabs, "Settings pages")
        self._page_of: dict[str, int] = {}
        for group in groups():
            page = QWidget(tabs)
            form = QFormLayout(page)
            for setting in (s for s in SETTINGS if s.group == group):
                field = self._make_field(setting, page)
                hint = QLabel(setting.description, page)
                hint.setWordWrap(True)
                hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
                error = QLabel(page)
                error.setObjectName(f"error:{setting.name}")
                set_status(error, "error")
                error.setWordWrap(True)
                error.hide()
                column = QVBoxLayout()
                column.setSpacing(2)
                column.addWidget(field)
                column.addWidget(error)
                column.addWidget(hint)
                unit = f" ({setting.unit.strip()})" if setting.unit else ""
                label = QLabel(setting.label + unit, page)
                label.setBuddy(field)  # the field is named by its label
                form.addRow(label, column)
                self.fields[setting.name] = field
                self.errors[setting.name] = error
                self._page_of[setting.name] = tabs.count()
            tabs.addTab(page, group)
        for title, page in extra_pages:  # pages that are not plain settings (providers)
            page.setParent(tabs)
            tabs.addTab(page, title)
        if store.problem:
            tabs.setToolTip(store.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel,
            self,
        )
        buttons.accepted.connect(self._ok)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.apply)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)
        # Every tab's name in view: without scroll buttons the tabs set the least width.
        tabs.setUsesScrollButtons(False)
        self.resize(max(640, self.minimumSizeHint().width()), 460)

    def _make_field(self, setting: Setting, parent: QWidget) -> Field:
        value = self.store.get(setting.name)
        field: Field
        if setting.type == "bool":
            field = QCheckBox(parent)
            field.setChecked(bool(value))
        elif setting.type == "text":
            field = QPlainTextEdit(parent)
            field.setPlainText(_as_text(value))
            field.setPlaceholderText("empty: none")
            field.textChanged.connect(lambda name=setting.name: self.errors[name].hide())
        elif setting.type == "choice":
            field = QComboBox(parent)
            field.addItems(list(setting.choices))
            field.setCurrentText(str(value))
        else:
            field = QLineEdit(parent)
            field.setText(
                "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
            )
            if setting.optional:
                field.setPlaceholderText("default")
            field.textEdited.connect(lambda _text, name=setting.name: self.errors[name].hide())
        field.setObjectName(f"setting:{setting.name}")
        field.setToolTip(setting.description)
        return field

    def _value(self, name: str) -> object:
        field = self.fields[name]
        if isinstance(field, QCheckBox):
            return field.isChecked()
        if isinstance(field, QComboBox):
            return field.currentText()
        if isinstance(field, QPlainTextEdit):
            return field.toPlainText()
        return field.text()

    def apply(self) -> bool:
        """Validate every field; save all or nothing. True when everything was valid."""
        changes: dict[str, object] = {}
        invalid: list[str] = []
        for setting in SETTINGS:
            error = self.errors[setting.name]
            try:
                changes[setting.name] = setting.validate(self._value(setting.name))
                error.hide()
            except ValueError as exc:
                error.setText(str(exc))
                error.show()
                invalid.append(setting.name)
        if invalid:  # show the first bad field, wherever it is
            self.tabs.setCurrentIndex(self._page_of[invalid[0]])
            self.fields[invalid[0]].setFocus()
            return False
        try:
            changed = self.store.update(changes)
        except (SettingsError, OSError) as exc:  # e.g. a read-only data dir
            first = next(iter(self.errors.values()))
            first.setText(str(exc))
            first.show()
            return False
        if changed:
            self.applied.emit(changed)
        return True

    def _ok(self) -> None:
        if self.apply():
            self.accept()


def _as_text(value: object) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)
