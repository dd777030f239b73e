"""The window fits a 1280×800 screen: a small minimum, columns that scroll, settings that fold."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QScrollArea, QWidget

from promptstudio.credentials import KeyStore
from promptstudio.ui.app import open_library
from promptstudio.ui.board.run_column import FOLD_SHORTCUT, MIN_COLUMN_WIDTH, ColumnConfig
from promptstudio.ui.board.scrolling_row import ScrollingRow
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import Reply


def _columns(window, count: int) -> list:
    board = window.run_board
    while len(board.columns) < count:
        board.add_column()
    return board.columns


def test_the_minimum_size_fits_a_small_screen(window, qtbot) -> None:
    assert window.workspace.prompt_id is not None  # a sample is open
    columns = _columns(window, 3)
    columns[0].set_config(ColumnConfig(
        base_url="https://a-rather-long-host-name.example.com/openai/deployments/v1",
        model="a-model-with-a-long-name-2026-11-01",
    ))  # fmt: skip
    for index in range(window.bottom_tabs.count()):  # every tab counts, shown or not
        window.bottom_tabs.setCurrentIndex(index)
        qtbot.wait(1)
        hint, minimum = window.minimumSizeHint(), window.minimumSize()
        assert hint.width() <= 1024 and hint.height() <= 700, hint
        assert minimum.width() <= 1024 and minimum.height() <= 700, minimum


def _visible_in_viewport(widget: QWidget, viewport: QWidget) -> bool:
    top_left = widget.mapTo(viewport, widget.rect().topLeft())
    return viewport.rect().contains(QRect(top_left, widget.size()))


def test_at_1280x800_every_column_control_can_be_reached(window, qtbot) -> None:
    window.resize(1280, 800)
    columns = _columns(window, 5)  # more than fit: the board scrolls sideways
    qtbot.waitUntil(lambda: window.width() == 1280)
    board = window.run_board
    scroll = board.findChild(QScrollArea, "columnsArea")
    viewport = scroll.viewport()
    right = viewport.mapTo(window, viewport.rect().topRight()).x()
    assert right < window.width()  # the board itself is on screen
    qtbot.waitUntil(lambda: scroll.horizontalScrollBar().maximum() > 0)
    for column in columns:
        assert column.width() >= MIN_COLUMN_WIDTH
        for button in (column.run_button, column.stop_button, column.menu_button,
                       column.remove_button, column.models_button, column.copy_button):  # fmt: skip
            scroll.ensureWidgetVisible(button)
            qtbot.wait(1)
            assert _visible_in_viewport(button, viewport), (column.column_id, button.toolTip())


def test_the_evaluate_toolbars_scroll_instead_of_widening_the_window(window, qtbot) -> None:
    rows = window.evaluate.findChildren(ScrollingRow)
    assert len(rows) == 2
    for row in rows:
        assert row.minimumSizeHint().width() < 400 < row.widget().minimumSizeHint().width()
    window.resize(1280, 800)  # there they fit: no scroll bar takes the table's room
    window.bottom_tabs.setCurrentWidget(window.evaluate)
    qtbot.waitUntil(lambda: all(row.isVisible() for row in rows))
    qtbot.waitUntil(lambda: window.evaluate.width() > 1000)
    for row in rows:
        assert row.horizontalScrollBar().maximum() == 0
        assert row.height() == row.widget().minimumSizeHint().height()


def test_a_column_folds_to_one_line_and_stays_folded_after_a_restart(
    window, qtbot, isolated_home
) -> None:
    columns = _columns(window, 3)
    first = columns[0]
    first.set_config(ColumnConfig(base_url="http://127.0.0.1:9/v1", model="m1"))
    first.temperature.setValue(0.7)
    first.max_tokens.setValue(256)
    tall = first.output.height()
    assert first.fold_button.accessibleName().startswith("Fold the settings of column 1")
    first.fold_button.click()
    assert first.folded and first.settings_panel.isHidden()
    assert first.fold_button.accessibleName().startswith("Show the settings of column 1")
    assert "T 0.7" in first.title.text() and "max 256" in first.title.text()
    qtbot.waitUntil(lambda: first.output.height() > tall + 60)  # the answer got the room

    action = window.registry["run.fold_columns"]
    assert action.shortcut().toString() == FOLD_SHORTCUT
    action.trigger()  # some folded: fold them all
    assert all(c.folded for c in columns)
    action.trigger()  # all folded: unfold them all
    assert not any(c.folded for c in columns)
    first.set_folded(True)
    columns[2].set_folded(True)
    folded = [first.column_id, columns[2].column_id]
    window.close()

    db = open_library(isolated_home)
    again = MainWindow(db, KeyStore(), isolated_home)
    qtbot.addWidget(again)
    assert [c.folded for c in again.run_board.columns] == [True, False, True]
    assert again.run_board.folded() == folded
    assert again.run_board.columns[0].settings_panel.isHidden()
    again.close()
    db.close()


def test_a_fold_survives_switching_to_a_prompt_with_other_columns(window) -> None:
    board = window.run_board
    board.columns[0].set_folded(True)
    board.set_configs([ColumnConfig(model="x"), ColumnConfig(model="y")])  # another prompt's
    assert [c.folded for c in board.columns] == [True, False]
    duplicate = board.duplicate_column(board.columns[0].column_id)
    assert duplicate is not None and duplicate.folded


def test_at_1280x800_continue_and_the_rating_show_under_a_long_answer(
    window, qtbot, fake_llm
) -> None:
    window.resize(1280, 800)
    fake_llm.script(Reply(text="Hello " * 300))
    columns = _columns(window, 3)
    for column in columns:
        column.set_target(fake_llm.base_url, "m")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    viewport = window.run_board.findChild(QScrollArea, "columnsArea").viewport()
    qtbot.waitUntil(lambda: all(c.turn_bar.continue_button.isEnabled() for c in columns))
    for column in columns:
        rating = column.findChild(QWidget, "answerRatingBar")
        for row in (column.turn_bar, rating):  # under the answer: not cut off at the bottom
            qtbot.waitUntil(lambda row=row: _bottom_in(row, viewport) <= viewport.height())
        assert column.answer.height() >= 90  # a few lines of the answer stay readable


def _bottom_in(widget: QWidget, viewport: QWidget) -> int:
    return widget.mapTo(viewport, widget.rect().bottomLeft()).y()


def test_a_long_record_of_tool_calls_scrolls_in_its_column(window, qtbot) -> None:
    from promptstudio.chat import ToolCall
    from promptstudio.ui.board.tool_calls_view import calls_html

    window.resize(1280, 800)
    column = _columns(window, 1)[0]
    calls = [ToolCall(f"c{n}", "get_order_status", f'{{"order_id": "A{n}"}}') for n in range(30)]
    column.tool_calls.show_calls(calls_html(calls, (), finished=True), "")
    view = column.tool_calls
    qtbot.waitUntil(lambda: view.verticalScrollBar().maximum() > 0)  # it scrolls…
    viewport = window.run_board.findChild(QScrollArea, "columnsArea").viewport()
    qtbot.waitUntil(lambda: _bottom_in(column.turn_bar, viewport) <= viewport.height())
    assert column.answer.height() >= 90  # …instead of pushing the answer out
    assert window.editor.height() >= 150  # or squeezing the editor above
    assert "get_order_status" in view.plain_text() and view.accessibleName() == "Tool calls"
