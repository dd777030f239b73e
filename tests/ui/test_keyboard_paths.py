"""Issue 22: the window works from the keyboard: regions, Tab, menus, context menus, focus."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QInputDialog,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QTableView,
    QTextEdit,
    QWidget,
)

from promptstudio.storage import library
from promptstudio.ui import a11y
from promptstudio.ui.main_window import MainWindow
from tests.ui.conftest import new_prompt, type_text


def focused() -> QWidget | None:
    return QApplication.focusWidget()


def test_every_menu_has_unique_access_keys(window: MainWindow) -> None:
    bar = [a11y.mnemonic(menu.title()) for menu in window.registry.menus.values()]
    assert len(set(bar)) == len(bar) and all(bar)
    for title, menu in window.registry.menus.items():
        keys = [a11y.mnemonic(a.text()) for a in menu.actions() if not a.isSeparator()]
        assert all(keys), (title, [a.text() for a in menu.actions()])
        assert len(set(keys)) == len(keys), (title, sorted(keys))


def test_f6_cycles_the_regions_and_a_frame_shows_the_focus(window: MainWindow, qtbot) -> None:
    window.library.tree.setFocus()
    seen = []
    for _ in range(5):
        qtbot.keyClick(focused() or window, Qt.Key.Key_F6)
        qtbot.waitUntil(lambda: focused() is not None)
        seen.append(window.regions.regions[window.regions.current() or 0].name)
        widget = focused()
        assert widget is not None
        frames = window.findChildren(a11y.FocusFrame)
        assert any(f.parentWidget() is widget and f.isVisible() for f in frames), widget
    assert seen == ["Template", "Variables", "Run board", "Tabs below", "Library"]
    qtbot.keyClick(focused() or window, Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier)
    assert window.regions.current() == 4  # back to the tabs below


def test_tab_goes_as_the_eye_reads_through_the_variables(window: MainWindow, qtbot) -> None:
    new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("user:\n{{ first }} and {{ second }}")
    fields = [f"variable:{name}" for name in ("first", "second")]
    qtbot.waitUntil(
        lambda: all(
            (field := window.variables.findChild(QPlainTextEdit, name)) and field.isVisible()
            for name in fields
        )
    )
    window.editor.setFocus()
    qtbot.keyClick(window.editor, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    seen = []
    for _ in range(5):
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
        now = focused()
        assert now is not None
        seen.append(a11y.accessible_name(now))
    assert seen[seen.index("first") + 1 :].index("second") < 2, seen  # first, then second
    assert seen.index("first") < 2, seen  # right after the editor (its Turns button first)
    column = window.run_board.columns[0]  # the column's title line, left to right
    assert column.fold_button.nextInFocusChain() is column.run_button
    assert seen.index("Tool definitions (JSON)") > seen.index("second"), seen


def test_ctrl_m_lets_tab_leave_the_editor(window: MainWindow, qtbot) -> None:
    new_prompt(qtbot, window)
    editor = window.editor
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText().endswith("\t") and focused() is editor  # types a tab
    qtbot.keyClick(editor, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert window.tab_mode_label.isVisible()
    text = editor.toPlainText()
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == text and focused() is not editor
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert not window.tab_mode_label.isVisible()


def test_tab_leaves_the_version_table_keeping_two_versions(window: MainWindow, qtbot) -> None:
    new_prompt(qtbot, window)
    for text in ("one", "two"):
        type_text(qtbot, window.editor, text)
        with qtbot.waitSignal(window.workspace.versionsChanged, timeout=5000):
            window.registry["prompt.save"].trigger()
    table = window.history.table
    qtbot.waitUntil(lambda: table.model().rowCount() >= 2)
    window.registry["view.history"].trigger()
    assert focused() is table  # Ctrl+Shift+H: the focus in the version table
    model, selection = table.model(), table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    selection.clearSelection()
    selection.select(model.index(0, 0), flags)
    selection.select(model.index(1, 0), flags)
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert focused() is not table
    assert len(selection.selectedRows()) == 2


def test_no_table_traps_tab_and_answers_select_by_keyboard(window: MainWindow) -> None:
    views = [
        v
        for v in window.findChildren(QAbstractItemView)
        if not isinstance(v.parentWidget(), QWidget) or v.window() is window
    ]
    assert [v.objectName() for v in views if v.tabKeyNavigation()] == []
    read_only = [
        t
        for t in window.findChildren(QPlainTextEdit) + window.findChildren(QTextEdit)
        if t.isReadOnly()
    ]
    keyboard = Qt.TextInteractionFlag.TextSelectableByKeyboard
    missing = [t.objectName() for t in read_only if not t.textInteractionFlags() & keyboard]
    assert read_only and missing == []


def test_commands_put_the_focus_where_they_say(window: MainWindow, qtbot) -> None:
    window.editor.setFocus()
    qtbot.keyClick(window.editor, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert focused() is window.run_board.columns[0].output
    window.registry["run.add_column"].trigger()
    assert focused() is window.run_board.columns[-1].model


@pytest.mark.qt_log_ignore("This plugin does not support")  # a popup menu, offscreen
def test_shift_f10_opens_the_library_menu_and_the_file_menu_stars(
    window: MainWindow, qtbot
) -> None:
    tree = window.library.tree
    tree.setFocus()
    qtbot.waitUntil(lambda: tree.currentIndex().isValid())
    qtbot.keyClick(tree, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu) and [a.text() for a in menu.actions() if a.text()]
    menu.close()
    qtbot.keyClick(tree, Qt.Key.Key_Menu)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    popup = QApplication.activePopupWidget()
    assert popup is not None
    popup.close()

    prompt_id = window.workspace.prompt_id
    assert prompt_id is not None
    db = window.workspace.db
    starred = db.call(library.get_prompt, prompt_id).starred
    window.registry["prompt.star"].trigger()
    qtbot.waitUntil(lambda: db.call(library.get_prompt, prompt_id).starred is not starred)
    window.registry["prompt.tags"].trigger()
    qtbot.waitUntil(lambda: window.findChild(QInputDialog, "libraryInput") is not None)
    asked = window.findChild(QInputDialog, "libraryInput")
    assert asked is not None
    asked.reject()


def test_the_focused_table_wins_ctrl_z_and_f2(window: MainWindow, qtbot) -> None:
    new_prompt(qtbot, window)
    window.bottom_tabs.setCurrentWidget(window.evaluate)
    cases = window.evaluate.cases
    view = cases.view
    qtbot.waitUntil(view.isEnabled)  # the prompt's cases are loaded
    cases.add_case()
    qtbot.waitUntil(lambda: cases.model.rowCount() == 1)
    window_keys: list[str] = []
    for action_id in ("prompt.rename", "edit.undo"):
        window.registry[action_id].triggered.connect(
            lambda _checked=False, action_id=action_id: window_keys.append(action_id)
        )
    qtbot.waitUntil(lambda: view.state() == QAbstractItemView.State.EditingState)
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)  # the new case's first cell: leave it
    qtbot.waitUntil(lambda: focused() is view)
    qtbot.keyClick(view, Qt.Key.Key_F2)
    assert view.state() == QAbstractItemView.State.EditingState  # the cell, not the prompt
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: view.state() != QAbstractItemView.State.EditingState)
    view.setFocus()
    qtbot.waitUntil(lambda: focused() is view)
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: cases.model.rowCount() == 0)  # the case added is undone
    assert window_keys == []  # neither the window's rename nor its undo ran


def test_help_keyboard_and_accessibility_comes_from_the_registry(window: MainWindow) -> None:
    window.registry["view.next_region"].setShortcut(QKeySequence("F7"))  # read, not written in
    dialog = window.open_help("shortcuts")
    assert dialog is not None and dialog.windowTitle() == "Keyboard and accessibility"
    modes = dialog.findChild(QLabel, "keyboardModes")
    assert modes is not None and "F7" in modes.text() and "Ctrl+M" in modes.text()
    table = dialog.findChild(QTableView, "shortcutsTable")
    assert table is not None and not table.tabKeyNavigation()
    model = table.model()
    rows = {model.index(r, 1).data(): model.index(r, 3).data() for r in range(model.rowCount())}
    assert len(rows) == len(window.registry.all())
    assert rows["Tab moves focus"].startswith("Tab in the template editor moves")
    assert "Star or unstar prompt" in rows and "Next region" in rows
    dialog.close()
