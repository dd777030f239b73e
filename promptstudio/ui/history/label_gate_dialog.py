"""The dialog that puts a gate on a label, or takes it away.

A gate ("production" moves only to a version whose latest evaluation passes 90% of the
prompt's current cases on gpt-4o-mini) is checked whenever the label moves
(:mod:`promptstudio.evals.gates`); this dialog only edits it. Non-modal: ``open()``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from promptstudio.storage.rows import LabelGate, LabelRow

DEFAULT_RATE = 90  # percent: a first gate's suggestion


class LabelGateDialog(QDialog):
    """Pick a label; require a pass rate (or its interval's lower bound) on some models."""

    gateChosen = Signal(str, object)  # label name, LabelGate | None (no gate)

    def __init__(
        self,
        labels: Sequence[LabelRow],
        models: Sequence[str],
        parent: QWidget | None = None,
        *,
        current: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("labelGateDialog")
        self.setWindowTitle("Label gate")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._labels = {label.name: label for label in labels}
        intro = QLabel(
            "A gated label moves only to a version whose latest evaluation ran every one "
            "of the prompt's current cases and meets the gate.",
            self,
        )
        intro.setWordWrap(True)
        self.label_combo = QComboBox(self)
        self.label_combo.setAccessibleName("Label")
        self.label_combo.addItems(list(self._labels))
        self.enabled_box = QCheckBox("&Require a pass rate", self)
        self.enabled_box.setAccessibleName("Require a pass rate")
        self.rate_spin = QSpinBox(self)
        self.rate_spin.setRange(0, 100)
        self.rate_spin.setSuffix("%")
        self.rate_spin.setAccessibleName("Minimum pass rate")
        self.lower_box = QCheckBox("Compare the &lower bound of its 95% interval", self)
        self.lower_box.setAccessibleName("Compare the lower bound of the 95% interval")
        self.models_edit = QLineEdit(self)
        self.models_edit.setAccessibleName("Models")
        self.models_edit.setPlaceholderText("every model of the evaluation")
        self.models_edit.setToolTip(
            "Model names separated by commas"
            + (f"; this prompt was answered by {', '.join(models)}" if models else "")
        )
        form = QFormLayout()
        form.addRow("&Label:", self.label_combo)
        form.addRow("", self.enabled_box)
        form.addRow("&Pass rate at least:", self.rate_spin)
        form.addRow("", self.lower_box)
        form.addRow("&Models:", self.models_edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        if not labels:
            intro.setText("This prompt has no labels yet: set one first (Ctrl+L).")
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.label_combo.currentTextChanged.connect(self._show_label)
        self.enabled_box.toggled.connect(self._update_fields)
        if current in self._labels:
            self.label_combo.setCurrentText(current)
        self._show_label(self.label_combo.currentText())

    def _show_label(self, name: str) -> None:
        label = self._labels.get(name)
        gate = label.gate if label is not None else None
        self.enabled_box.setChecked(gate is not None)
        self.rate_spin.setValue(round(gate.pass_rate * 100) if gate else DEFAULT_RATE)
        self.lower_box.setChecked(bool(gate and gate.lower_bound))
        self.models_edit.setText(", ".join(gate.models) if gate else "")
        self._update_fields()

    def _update_fields(self) -> None:
        on = self.enabled_box.isChecked()
        for widget in (self.rate_spin, self.lower_box, self.models_edit):
            widget.setEnabled(on)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self._labels))
        self.enabled_box.setEnabled(bool(self._labels))

    def gate(self) -> LabelGate | None:
        """The gate as filled in (None: no gate)."""
        if not self.enabled_box.isChecked():
            return None
        models = tuple(m.strip() for m in self.models_edit.text().split(",") if m.strip())
        return LabelGate(self.rate_spin.value() / 100, self.lower_box.isChecked(), models)

    def accept(self) -> None:
        name = self.label_combo.currentText()
        if name in self._labels:
            self.gateChosen.emit(name, self.gate())
        super().accept()
