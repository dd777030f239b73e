"""The editors of a run column's generation settings, one kind per rule of the core's table.

Each editor edits one :class:`~promptstudio.providers.GenerationParams` field and speaks
the field's own value: ``param_value()`` / ``set_param_value()``, with None (empty) meaning
"not set: the server's default". :func:`param_editor` picks the editor from the setting's
:class:`~promptstudio.providers.param_rules.ParamRule`, so a setting added to the table
gets an editor without more code. No value stands in for "default": an empty number editor
is None, and 0 is 0.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QInputDialog,
    QLineEdit,
    QStyle,
    QStyleOptionSpinBox,
    QToolButton,
    QWidget,
)

from promptstudio.providers.param_rules import ParamError, ParamRule

STOP_SEPARATOR = "|"


def accessible_name(name: str, rule: ParamRule) -> str:
    """The editor's name for a screen reader: its label and the setting's own name."""
    label = rule.label.rstrip("…")
    return name if label == name else f"{label} ({name})"


class NumberEdit(QAbstractSpinBox):
    """A number or an integer that may be unset: empty is None, the server's default.

    Up/Down step by the rule's ``step`` within its range; Up from empty starts at the range's
    first step, Down from the minimum empties it again. What is typed is checked against the
    rule (:meth:`ParamRule.checked`): characters no number has are refused as typed, a value
    out of range is refused when editing ends, with the rule's reason (:attr:`refused`)."""

    paramChanged = Signal()
    refused = Signal(str)  # why a typed value was not taken

    def __init__(self, name: str, rule: ParamRule, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name, self.rule = name, rule
        self._value: float | int | None = None
        sign = "-?" if rule.minimum < 0 else ""
        digits = rf"(?:[.,]\d{{0,{rule.decimals}}})?" if rule.kind == "number" else ""
        self._shape = re.compile(rf"{sign}\d*{digits}")
        self.lineEdit().setPlaceholderText(rule.placeholder)
        self.lineEdit().textEdited.connect(self._typed)
        self.editingFinished.connect(self._finished)

    # ---- the value -----------------------------------------------------------------------

    def value(self) -> float | int | None:
        return self._value

    def setValue(self, value: float | None) -> None:
        """Show ``value`` (None: empty); a number outside the rule's range is clamped."""
        new = self._fitted(value)
        self.lineEdit().setText(self._text(new))
        self._take(new)

    def clear(self) -> None:
        self.setValue(None)

    param_value = value

    def set_param_value(self, value: Any) -> None:
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        self.setValue(number)

    def _fitted(self, value: float | None) -> float | int | None:
        if value is None or not math.isfinite(value):
            return None
        value = min(max(value, self.rule.minimum), self.rule.maximum)
        if self.rule.kind == "integer":
            return round(value)
        return float(round(value, self.rule.decimals))

    def _text(self, value: float | None) -> str:
        if value is None:
            return ""
        if self.rule.kind == "integer":
            return str(int(value))
        return f"{value:.{self.rule.decimals}f}".rstrip("0").rstrip(".") or "0"

    def _take(self, value: float | None) -> None:
        if value != self._value or (value is None) != (self._value is None):
            self._value = value
            self.paramChanged.emit()

    # ---- typing --------------------------------------------------------------------------

    def _parse(self, text: str) -> tuple[QValidator.State, float | int | None]:
        """Whether ``text`` is a value the rule takes (and which), could become one, or not."""
        text = text.strip()
        if not text:
            return QValidator.State.Acceptable, None
        if not self._shape.fullmatch(text):
            return QValidator.State.Invalid, None
        try:
            number = int(text) if self.rule.kind == "integer" else float(text.replace(",", "."))
            return QValidator.State.Acceptable, self._fitted(self.rule.checked(number))
        except (ValueError, ParamError):  # "-", "." or out of range: not yet
            return QValidator.State.Intermediate, None

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        return self._parse(text)[0], text, pos

    def _typed(self, text: str) -> None:
        state, value = self._parse(text)
        if state == QValidator.State.Acceptable:
            self._take(value)

    def _finished(self) -> None:
        text = self.lineEdit().text().strip()
        if self._parse(text)[0] != QValidator.State.Acceptable:  # typed out of its range
            self.refused.emit(
                f"{self.name}: {text} is not allowed; it must be {self.rule.allowed()}"
            )
        self.lineEdit().setText(self._text(self._value))

    # ---- stepping ------------------------------------------------------------------------

    def stepBy(self, steps: int) -> None:
        rule, value = self.rule, self._value
        if value is None:
            if steps <= 0:
                return
            value = min(math.ceil(rule.minimum / rule.step) * rule.step, rule.maximum)
            steps -= 1
        new: float | None = value + steps * rule.step
        if new is not None and new < rule.minimum:
            new = None if value <= rule.minimum else rule.minimum
        self.setValue(new)
        self.lineEdit().selectAll()

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:
        if self.isReadOnly() or not self.isEnabled():
            return QAbstractSpinBox.StepEnabledFlag.StepNone
        if self._value is None:
            return QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        if self._value >= self.rule.maximum:
            return QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        return (
            QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
            | QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        )

    def sizeHint(self) -> QSize:
        """Room for the placeholder and a value of up to seven digits, and the arrows."""
        return self._fitting(self.rule.placeholder, self._text(self.rule.maximum)[:7])

    def minimumSizeHint(self) -> QSize:
        return self._fitting(self.rule.placeholder)

    def _fitting(self, *texts: str) -> QSize:
        self.ensurePolished()
        width = max(self.fontMetrics().horizontalAdvance(f"{text} ") for text in texts) + 2
        height = self.lineEdit().sizeHint().height()
        option = QStyleOptionSpinBox()
        self.initStyleOption(option)
        return self.style().sizeFromContents(
            QStyle.ContentsType.CT_SpinBox, option, QSize(width, height), self
        )


class ChoiceEdit(QComboBox):
    """One of the rule's words, or the placeholder ("default": not set). An open rule
    (tool choice) also takes a typed word: a tool's name."""

    paramChanged = Signal()

    def __init__(self, name: str, rule: ParamRule, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name, self.rule = name, rule
        self.addItem(rule.placeholder, None)
        for choice in rule.choices:
            self.addItem(choice, choice)
        if rule.open:
            self.setEditable(True)
            self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            line = self.lineEdit()
            assert line is not None  # editable
            line.setPlaceholderText(rule.placeholder)
            line.textEdited.connect(lambda _text: self.paramChanged.emit())
        self.currentIndexChanged.connect(lambda _index: self.paramChanged.emit())

    def param_value(self) -> str | None:
        if self.rule.open:
            typed = self.currentText().strip()
            return None if typed in ("", self.rule.placeholder) else typed
        data = self.currentData()
        return data if isinstance(data, str) else None

    def set_param_value(self, value: Any) -> None:
        index = self.findData(value) if isinstance(value, str) else 0
        if index < 0:  # a stored word we do not offer: kept, and refused on sending
            self.addItem(value, value)
            index = self.count() - 1
        self.setCurrentIndex(index)


class TextsEdit(QLineEdit):
    """Several texts in one line, separated by ``|`` (stop sequences); empty: none."""

    paramChanged = Signal()

    def __init__(self, name: str, rule: ParamRule, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name, self.rule = name, rule
        self.setPlaceholderText(rule.placeholder)
        self.textChanged.connect(lambda _text: self.paramChanged.emit())

    def param_value(self) -> tuple[str, ...]:
        parts = (part.strip() for part in self.text().split(STOP_SEPARATOR))
        return tuple(part for part in parts if part)

    def set_param_value(self, value: Any) -> None:
        texts = [value] if isinstance(value, str) else list(value or ())
        self.setText(f" {STOP_SEPARATOR} ".join(str(text) for text in texts))


class FlagEdit(QCheckBox):
    """On or off (off: not asked for)."""

    paramChanged = Signal()

    def __init__(self, name: str, rule: ParamRule, parent: QWidget | None = None) -> None:
        super().__init__(rule.label or name, parent)
        self.name, self.rule = name, rule
        self.toggled.connect(lambda _on: self.paramChanged.emit())

    def param_value(self) -> bool:
        return self.isChecked()

    def set_param_value(self, value: Any) -> None:
        self.setChecked(bool(value))


class SchemaEdit(QToolButton):
    """A JSON object (the answer's JSON schema), typed in a dialog; checked as a schema."""

    paramChanged = Signal()
    refused = Signal(str)

    def __init__(self, name: str, rule: ParamRule, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name, self.rule = name, rule
        self.schema: dict[str, Any] | None = None
        self.clicked.connect(self.edit)
        self._show()

    def param_value(self) -> dict[str, Any] | None:
        return self.schema

    def set_param_value(self, value: Any) -> None:
        self.schema = dict(value) if isinstance(value, dict) and value else None
        self._show()

    def _show(self) -> None:
        self.setText("Schema ✓" if self.schema else self.rule.label or "Schema…")

    def edit(self) -> QInputDialog:
        dialog = QInputDialog(self)
        dialog.setObjectName("schemaDialog")
        dialog.setWindowTitle("JSON schema")
        dialog.setLabelText("The answer must match this JSON schema (empty: none):")
        dialog.setOption(QInputDialog.InputDialogOption.UsePlainTextEditForTextInput)
        dialog.setTextValue(json.dumps(self.schema, indent=2) if self.schema else "")
        dialog.textValueSelected.connect(self.set_schema_text)
        dialog.open()
        return dialog

    def set_schema_text(self, text: str) -> bool:
        """Take a schema typed as JSON; a bad one is refused with the reason."""
        if not text.strip():
            self.schema = None
        else:
            import jsonschema  # a tenth of a second to import: when a schema is first used

            try:
                schema = json.loads(text)
                if not isinstance(schema, dict):
                    raise ValueError("a schema is a JSON object")
                jsonschema.validators.validator_for(schema).check_schema(schema)
            except (ValueError, jsonschema.SchemaError) as exc:
                message = exc.message if isinstance(exc, jsonschema.SchemaError) else str(exc)
                self.refused.emit(f"Not a usable JSON schema: {message}")
                return False
            self.schema = schema
        self._show()
        self.paramChanged.emit()
        return True


ParamEditor = NumberEdit | ChoiceEdit | TextsEdit | FlagEdit | SchemaEdit

_EDITORS: dict[str, type[ParamEditor]] = {
    "number": NumberEdit,
    "integer": NumberEdit,
    "choice": ChoiceEdit,
    "texts": TextsEdit,
    "flag": FlagEdit,
    "object": SchemaEdit,
}


def param_editor(name: str, rule: ParamRule, parent: QWidget | None = None) -> ParamEditor:
    """The editor for the setting ``name``, built from its rule: named for screen readers,
    with the rule's tip as tooltip and description."""
    editor = _EDITORS[rule.kind](name, rule, parent)
    editor.setObjectName(f"param:{name}")
    editor.setAccessibleName(accessible_name(name, rule))
    editor.setAccessibleDescription(rule.tip)
    editor.setToolTip(rule.tip)
    return editor
