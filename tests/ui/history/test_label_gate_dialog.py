"""History's "Label gate…" (Ctrl+Shift+G): a gate put on a label, shown again, taken away."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from promptstudio.storage import Database, library
from promptstudio.storage.rows import LabelGate
from promptstudio.ui.history.history_pane import HistoryPane
from promptstudio.ui.history.label_gate_dialog import LabelGateDialog
from tests.ui.conftest import owned_widget

TIMEOUT = 5000


@pytest.fixture
def pane(qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop) -> Iterator[HistoryPane]:
    with (
        Database(tmp_path / "library.sqlite3") as db,
        owned_widget(qtbot, lambda tasks: HistoryPane(db, tasks)) as widget,
    ):
        widget.resize(1000, 700)
        widget.show()
        yield widget


def _open_dialog(qtbot: QtBot, pane: HistoryPane) -> LabelGateDialog:
    pane.activateWindow()
    qtbot.waitUntil(pane.isActiveWindow, timeout=TIMEOUT)  # back from the last dialog
    pane.table.setFocus()
    qtbot.keyClick(pane.table, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    qtbot.waitUntil(lambda: _dialog(pane) is not None, timeout=TIMEOUT)
    dialog = _dialog(pane)
    assert dialog is not None
    return dialog


def _dialog(pane: HistoryPane) -> LabelGateDialog | None:
    found = [d for d in pane.findChildren(LabelGateDialog) if d.isVisible()]
    return found[0] if found else None


def test_a_gate_is_set_shown_and_removed(qtbot: QtBot, pane: HistoryPane) -> None:
    db = pane.db
    prompt = db.call(library.create_prompt, "Support")
    version = db.call(library.save_version, prompt.id, "Answer {{ q }}", {}, {})
    db.call(library.set_label, prompt.id, "production", version.id)
    db.call(library.set_label, prompt.id, "staging", version.id)
    with qtbot.waitSignal(pane.diffShown, timeout=TIMEOUT):
        pane.set_prompt(prompt.id)

    dialog = _open_dialog(qtbot, pane)
    names = [w.accessibleName() for w in (dialog.label_combo, dialog.enabled_box,
             dialog.rate_spin, dialog.lower_box, dialog.models_edit)]  # fmt: skip
    assert names == ["Label", "Require a pass rate", "Minimum pass rate",
                     "Compare the lower bound of the 95% interval", "Models"]  # fmt: skip
    assert dialog.label_combo.currentText() == "production" and not dialog.rate_spin.isEnabled()
    dialog.enabled_box.setChecked(True)
    dialog.rate_spin.setValue(85)
    dialog.lower_box.setChecked(True)
    dialog.models_edit.setText("gpt-4o-mini,  claude ")
    with qtbot.waitSignal(pane.tasks.finished, timeout=TIMEOUT,
                          check_params_cb=lambda name: name == "history.label"):  # fmt: skip
        dialog.accept()
    gate = LabelGate(0.85, lower_bound=True, models=("gpt-4o-mini", "claude"))
    label = db.call(library.get_label, prompt.id, "production")
    assert label is not None and label.gate == gate

    again = _open_dialog(qtbot, pane)  # the stored gate comes back in the fields
    assert (again.rate_spin.value(), again.lower_box.isChecked()) == (85, True)
    assert again.models_edit.text() == "gpt-4o-mini, claude"
    again.label_combo.setCurrentText("staging")
    assert not again.enabled_box.isChecked()  # staging has none
    again.label_combo.setCurrentText("production")
    again.enabled_box.setChecked(False)
    with qtbot.waitSignal(pane.tasks.finished, timeout=TIMEOUT,
                          check_params_cb=lambda name: name == "history.label"):  # fmt: skip
        again.accept()
    label = db.call(library.get_label, prompt.id, "production")
    assert label is not None and label.gate is None
