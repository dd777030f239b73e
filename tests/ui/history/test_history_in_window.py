"""History in the main window: it follows the prompt, and restores without losing edits."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from promptstudio.storage import library
from promptstudio.ui.history.history_model import Column
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt


def _save(window, qtbot) -> None:
    """Save and wait until the history shows the new version (not just any refresh)."""
    before = window.workspace.db.call(library.count_versions, window.workspace.prompt_id)
    with qtbot.waitSignal(window.tasks.finished, timeout=5000,
                          check_params_cb=lambda name: name == "save"):  # fmt: skip
        window.registry["prompt.save"].trigger()
    model = window.history.model
    qtbot.waitUntil(lambda: model.rowCount() == before + 1, timeout=5000)


def test_history_follows_saves_and_runs(window, qtbot, fake_llm) -> None:
    new_prompt(qtbot, window)
    window.run_board.columns[0].set_target(fake_llm.base_url, "m")  # part of each version
    window.registry["view.history"].trigger()
    assert window.bottom_tabs.currentWidget() is window.history
    window.editor.setPlainText("first draft")
    _save(window, qtbot)
    window.editor.setPlainText("second draft")
    _save(window, qtbot)
    fake_llm.script(Reply(text="ok"))
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    model = window.history.model
    # The history refreshes after the run is stored; wait for that, not for any refresh.
    qtbot.waitUntil(lambda: model.rowCount() and model.index(0, 5).data() == "1", timeout=5000)
    assert model.rowCount() == 2  # the run reused the saved "second draft" version
    assert model.index(0, 0).data() == "v2"


def _click_version(window, qtbot, number: int) -> None:
    """Show History and click the row of version ``number``, as a person would."""
    window.registry["view.history"].trigger()
    model, table = window.history.model, window.history.table
    qtbot.waitUntil(lambda: model.rowCount() >= number, timeout=5000)
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == f"v{number}")
    rect = table.visualRect(model.index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _restore_button(window) -> QToolButton:
    history = window.history
    return next(
        button
        for button in history.findChildren(QToolButton)
        if button.defaultAction() is history.restore_action
    )


def test_restore_keeps_unsaved_edits_as_a_version_first(window, qtbot) -> None:
    """The one restore path: History's button asks, the workspace restores (issue 15)."""
    prompt_id = new_prompt(qtbot, window)
    window.editor.setPlainText("good old text")
    _save(window, qtbot)
    window.editor.setPlainText("worse new text")
    _save(window, qtbot)
    window.editor.setPlainText("unsaved experiment")
    first = window.workspace.db.call(library.get_version_by_number, prompt_id, 1)
    _click_version(window, qtbot, 1)
    assert [v.id for v in window.history.selected_versions()] == [first.id]
    with qtbot.waitSignal(window.tasks.finished, timeout=5000,
                          check_params_cb=lambda name: name == "restore"):  # fmt: skip
        qtbot.mouseClick(_restore_button(window), Qt.MouseButton.LeftButton)
    versions = window.workspace.db.call(library.list_versions, prompt_id)
    assert [v.template for v in versions] == [
        "good old text", "unsaved experiment", "worse new text", "good old text",
    ]  # fmt: skip
    assert versions[0].kind == "restore"
    assert window.editor.toPlainText() == "good old text"
    assert not window.workspace.dirty
    model = window.history.model  # the history shows the restored version…
    qtbot.waitUntil(lambda: model.rowCount() == 4, timeout=5000)
    assert [model.index(0, c).data() for c in (Column.VERSION, Column.MESSAGE, Column.KIND)] == [
        "v4",
        "Restored from version 1",
        "restore",
    ]
    assert [v.id for v in window.history.selected_versions()] == [first.id]  # …and kept the pick


def test_open_an_old_version_in_the_editor_as_unsaved_edits(window, qtbot) -> None:
    prompt_id = new_prompt(qtbot, window)
    window.editor.setPlainText("version one")
    _save(window, qtbot)
    window.editor.setPlainText("version two")
    _save(window, qtbot)
    first = window.workspace.db.call(library.get_version_by_number, prompt_id, 1)
    with qtbot.waitSignal(window.tasks.finished, timeout=5000,
                          check_params_cb=lambda name: name == "open-version"):  # fmt: skip
        window.history.openVersionRequested.emit(first.id)
    assert window.editor.toPlainText() == "version one"
    assert window.workspace.dirty
    assert window.workspace.db.call(library.count_versions, prompt_id) == 2
