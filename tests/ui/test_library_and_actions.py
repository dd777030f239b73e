"""Saving, switching prompts, the command palette, and keys kept out of files."""

from __future__ import annotations

import keyring
from PySide6.QtCore import Qt

from promptstudio.storage import library
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt


def test_ctrl_s_saves_a_version_and_switching_autosaves(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    first = new_prompt(qtbot, window)
    window.editor.setPlainText("Version one {{ x }}")
    assert window.workspace.dirty
    assert window.windowTitle().endswith("•")
    with qtbot.waitSignal(
        window.tasks.finished, timeout=3000, check_params_cb=lambda name: name == "save"
    ):
        window.registry["prompt.save"].trigger()
    assert not window.workspace.dirty
    versions = window.workspace.db.call(library.list_versions, first)
    assert versions[0].template == "Version one {{ x }}"

    window.editor.setPlainText("Version two, unsaved")
    second = new_prompt(qtbot, window)  # switching away keeps the unsaved text as a version
    assert second != first
    assert (
        window.workspace.db.call(library.latest_version, first).template == "Version two, unsaved"
    )

    with qtbot.waitSignal(window.workspace.promptOpened, timeout=3000):
        window.prompt_list.select(first)
    assert window.editor.toPlainText() == "Version two, unsaved"


def test_command_palette_lists_filters_and_runs_actions(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    before = window.prompt_list.model.rowCount()
    palette = window.open_palette()
    assert any("Run" in text for text in palette.visible_commands())
    qtbot.keyClicks(palette.filter, "new prom")
    assert palette.visible_commands() == [palette.visible_commands()[0]]
    assert palette.visible_commands()[0].startswith("New prompt")
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=3000):
        qtbot.keyClick(palette.filter, Qt.Key.Key_Return)
    assert window.prompt_list.model.rowCount() == before + 1


def test_every_action_has_a_unique_shortcut(window) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, str] = {}
    for action in window.registry.all():
        assert action.shortcuts(), f"{action.objectName()} has no shortcut"
        for shortcut in action.shortcuts():
            key = shortcut.toString()
            assert key not in seen, f"{key} is used by {seen[key]} and {action.objectName()}"
            seen[key] = action.objectName()
    assert {"Ctrl+Return", "Esc", "Ctrl+Shift+P", "Ctrl+F", "Ctrl+S"} <= set(seen)


def test_typed_key_goes_to_the_keychain_never_to_files(  # type: ignore[no-untyped-def]
    window, qtbot, fake_llm, isolated_home
) -> None:
    sentinel = "sk-test-SENTINEL-0123456789abcdef0123456789"
    fake_llm.require_key = sentinel
    fake_llm.script(Reply(text="authorised"))
    new_prompt(qtbot, window)
    window.editor.setPlainText("Hello")
    window.run_board.columns[0].set_target(fake_llm.base_url, "m")
    window.run_board.columns[0].key.setText(sentinel)
    with qtbot.waitSignal(window.workspace.runStored, timeout=10_000):
        window.registry["run.run"].trigger()
    assert window.run_board.columns[0].output.toPlainText() == "authorised"
    assert window.run_board.columns[0].key.text() == ""  # the field does not keep it
    assert keyring.get_password("promptstudio", fake_llm.base_url) == sentinel
    assert "keychain" in window.run_board.columns[0].key_status.text()
    window.close()
    window.workspace.db.close()
    hits = [
        path for path in isolated_home.rglob("*")
        if path.is_file() and sentinel.encode() in path.read_bytes()
    ]  # fmt: skip
    assert hits == []
