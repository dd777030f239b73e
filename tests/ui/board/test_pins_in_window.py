"""A pinned answer belongs to its prompt: shown with it only, kept across a restart, and
given room beside the columns."""

from __future__ import annotations

from PySide6.QtWidgets import QPlainTextEdit

from promptstudio.credentials import KeyStore
from promptstudio.storage import library
from promptstudio.ui.app import open_library
from promptstudio.ui.board.run_column import MIN_COLUMN_WIDTH
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt


def _open(qtbot, window, prompt_id: int) -> None:
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=5000):
        window.workspace.open_prompt(prompt_id)


def test_a_pin_stays_with_its_prompt_and_survives_a_restart(
    window, qtbot, fake_llm, isolated_home
) -> None:
    fake_llm.script(Reply(text="the answer worth keeping"))
    window.resize(1280, 800)
    pinned_on = new_prompt(qtbot, window)
    window.editor.setPlainText("Go")
    board = window.run_board
    while len(board.columns) < 3:
        board.add_column()
    for column in board.columns:
        column.set_target(fake_llm.base_url, "m")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    qtbot.waitUntil(lambda: window.workspace.prompt_id == pinned_on)
    board.pin_answer(board.columns[0].column_id)
    qtbot.waitUntil(lambda: board.pinned.count() == 1)
    assert board.pinned.widget(0).toPlainText() == "the answer worth keeping"
    # the columns keep their room: the pins take a side pane, not the board
    qtbot.waitUntil(lambda: board.pinned.width() > 150)
    columns_area = board.columns[0].parentWidget().parentWidget()  # the scroll viewport
    assert columns_area.width() >= MIN_COLUMN_WIDTH * 2 > board.pinned.width()
    stored = window.workspace.db.call(library.list_pins, pinned_on)
    assert [p.text for p in stored] == ["the answer worth keeping"]

    other = new_prompt(qtbot, window)
    assert other != pinned_on
    qtbot.waitUntil(lambda: board.pinned.count() == 0)
    assert board.pinned.isHidden()  # another prompt: not its pin
    _open(qtbot, window, pinned_on)
    qtbot.waitUntil(lambda: board.pinned.count() == 1)
    assert board.pinned.tabText(0).startswith("m · ")
    window.workspace.db.call(library.pin_answer, other, "x", "", "other's pin")
    window.close()

    db = open_library(isolated_home)
    again = MainWindow(db, KeyStore(), isolated_home)
    qtbot.addWidget(again)
    again.show()
    with qtbot.waitSignal(again.workspace.promptOpened, timeout=5000):
        again.start()
    assert again.workspace.prompt_id == pinned_on  # the prompt open at the close
    pins = again.run_board.pinned
    qtbot.waitUntil(lambda: pins.count() == 1)
    pinned = pins.widget(0)
    assert isinstance(pinned, QPlainTextEdit) and pinned.toPlainText() == "the answer worth keeping"
    pins.tabCloseRequested.emit(0)  # closing a pin forgets it
    assert pins.count() == 0 and pins.isHidden()
    qtbot.waitUntil(lambda: db.call(library.list_pins, pinned_on) == [])
    again.close()
    db.close()
