"""Issue 22: the main task with key events only: a new prompt, its template and a value, a
column set up, a run on the fake server, the answer read (selected and copied), a save, the
diff of two versions in History, and an export."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QWidget

from promptstudio.storage import library
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM, Reply

Key = Qt.Key
CTRL, SHIFT, ALT = (
    Qt.KeyboardModifier.ControlModifier,
    Qt.KeyboardModifier.ShiftModifier,
    Qt.KeyboardModifier.AltModifier,
)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def press(qtbot, key: Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(focused(), key, modifiers)


def type_keys(qtbot, text: str) -> None:
    for number, line in enumerate(text.split("\n")):
        if number:
            press(qtbot, Key.Key_Return)
        if line:
            qtbot.keyClicks(focused(), line)


@pytest.mark.qt_log_ignore("This plugin does not support")  # the file dialog, offscreen
def test_the_main_task_from_the_keyboard(
    window: MainWindow, qtbot, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    window.workspace.limits.local = None
    fake_llm.script(Reply(text="Le fromage."), model="m1")
    qtbot.keyClick(window, Key.Key_0, CTRL)  # the prompt list
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.library.tree)

    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000) as opened:
        press(qtbot, Key.Key_N, CTRL)  # a new prompt; the cursor lands in the editor
    prompt_id = int(opened.args[0])
    qtbot.waitUntil(lambda: focused() is window.editor)
    type_keys(qtbot, "user:\nTranslate {{ word }} to French.")
    qtbot.waitUntil(lambda: window.variables.names() == ["word"])

    press(qtbot, Key.Key_2, CTRL)  # the variables: the first field
    qtbot.waitUntil(lambda: focused() is not window.editor)
    type_keys(qtbot, "cheese")

    press(qtbot, Key.Key_3, CTRL)  # the run board: the first column's answer
    column = window.run_board.columns[0]
    assert focused() is column.output
    press(qtbot, Key.Key_S, ALT)  # &Server
    assert column.endpoint.isAncestorOf(focused()) or focused() is column.endpoint
    press(qtbot, Key.Key_A, CTRL)
    type_keys(qtbot, fake_llm.base_url)
    press(qtbot, Key.Key_Tab)  # to the model
    assert focused() is column.model
    type_keys(qtbot, "m1")

    with qtbot.waitSignal(window.workspace.runFinished, timeout=15_000):
        press(qtbot, Key.Key_Return, CTRL)
    sent = fake_llm.chat_requests()[-1].json["messages"][-1]["content"]
    assert sent == "Translate cheese to French."

    press(qtbot, Key.Key_3, CTRL)  # read the answer: select it all and copy it
    assert focused() is column.output
    qtbot.waitUntil(lambda: column.output.toPlainText() == "Le fromage.")
    press(qtbot, Key.Key_A, CTRL)
    press(qtbot, Key.Key_C, CTRL)
    assert QApplication.clipboard().text() == "Le fromage."

    press(qtbot, Key.Key_1, CTRL)  # change the template and save: a second version
    press(qtbot, Key.Key_End, CTRL)
    type_keys(qtbot, " Be brief.")
    with qtbot.waitSignal(window.workspace.versionsChanged, timeout=5000):
        press(qtbot, Key.Key_S, CTRL)
    versions = window.workspace.db.call(library.list_versions, prompt_id)
    assert len(versions) == 2

    press(qtbot, Key.Key_H, CTRL | SHIFT)  # History: the version table has the focus
    table = window.history.table
    assert focused() is table
    qtbot.waitUntil(
        lambda: table.model().rowCount() == 2 and not window.tasks.is_running("history.refresh")
    )
    assert table.currentIndex().row() == 0  # the newest, selected
    press(qtbot, Key.Key_Down)
    press(qtbot, Key.Key_Up)
    press(qtbot, Key.Key_Down, SHIFT)  # two versions selected: their diff
    assert len(table.selectionModel().selectedRows()) == 2
    diff = window.history.diff
    qtbot.waitUntil(lambda: "Be brief." in diff.right.toPlainText() + diff.left.toPlainText())

    press(qtbot, Key.Key_E, CTRL)  # export: the dialog, then Save… and a file name
    qtbot.waitUntil(
        lambda: (
            window.exchange.export_dialog is not None and window.exchange.export_dialog.isVisible()
        )
    )
    dialog = window.exchange.export_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: "Be brief." in dialog.preview.toPlainText())
    qtbot.waitUntil(lambda: dialog.isAncestorOf(focused()))
    press(qtbot, Key.Key_S, ALT)  # &Save…
    qtbot.waitUntil(lambda: dialog.findChild(QFileDialog, "exportFileDialog") is not None)
    files = dialog.findChild(QFileDialog, "exportFileDialog")
    assert files is not None
    name = files.findChild(QLineEdit, "fileNameEdit")
    assert name is not None
    qtbot.waitUntil(lambda: focused() is name)
    press(qtbot, Key.Key_A, CTRL)
    target = tmp_path / "translate.prompty"
    type_keys(qtbot, str(target))
    with qtbot.waitSignal(dialog.exported, timeout=5000):
        press(qtbot, Key.Key_Return)
    assert "Be brief." in target.read_text(encoding="utf-8")
