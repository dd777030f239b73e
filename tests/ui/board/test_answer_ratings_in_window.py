"""👍 / 👎 under a run column's answer and on a pinned tab, stored with the answer."""

from __future__ import annotations

from PySide6.QtCore import Qt

from promptstudio.storage import library
from promptstudio.storage.ratings import BAD, GOOD, Rating, get_rating, pin_ratings
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM, Reply
from tests.ui.conftest import new_prompt


def test_rate_a_columns_answer_and_a_pin(window: MainWindow, qtbot, fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="forty-two"))
    prompt_id = new_prompt(qtbot, window)
    window.editor.setPlainText("What is six times seven?")
    board = window.run_board
    column = board.columns[0]
    column.set_target(fake_llm.base_url, "m")
    bar = window.ratings.bars[column.column_id]
    assert not bar.isEnabled()  # nothing stored to rate yet
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    qtbot.waitUntil(bar.isEnabled)
    assert bar.good.accessibleName() == "Rate this answer good (Alt+Up)"
    db = window.workspace.db
    version_id = db.call(library.latest_version_id, prompt_id)
    assert version_id is not None
    [run] = db.call(library.list_runs, version_id)
    [answer] = db.call(library.list_responses, run.id)
    qtbot.mouseClick(bar.good, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: db.call(get_rating, "response", answer.id) == Rating(GOOD))

    # The ⋯ menu offers the same verdicts.
    [bad] = [
        a for a in column.menu_button.menu().actions() if a.text().startswith("Rate the answer bad")
    ]
    bad.trigger()
    qtbot.waitUntil(lambda: db.call(get_rating, "response", answer.id) == Rating(BAD))
    assert bar.bad.isChecked() and not bar.good.isChecked()

    # A new run: the row waits for the new answer, which starts unrated.
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    qtbot.waitUntil(lambda: bar.isEnabled() and not bar.bad.isChecked())

    board.pin_answer(column.column_id)
    qtbot.waitUntil(lambda: board.pinned.count() == 1 and board.pin_ids()[0] is not None)
    pin_bar = window.ratings.pin_bar
    qtbot.waitUntil(pin_bar.isEnabled)
    pin_bar.note.setText("keep this one")
    qtbot.mouseClick(pin_bar.good, Qt.MouseButton.LeftButton)
    [pin_id] = board.pin_ids()
    assert pin_id is not None
    qtbot.waitUntil(
        lambda: db.call(pin_ratings, prompt_id) == {pin_id: Rating(GOOD, "keep this one")}
    )
