"""Saving, switching prompts, the command palette, and keys kept out of files."""

from __future__ import annotations

import keyring
from PySide6.QtCore import Qt

from promptstudio.credentials import KeyStore
from promptstudio.storage import library
from promptstudio.ui.app import open_library
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import Reply
from tests.ui.conftest import new_prompt, type_text


def test_ctrl_s_saves_a_version_and_switching_autosaves(window, qtbot) -> None:
    first = new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):  # the title is debounced
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
    second = new_prompt(qtbot, window)  # switching away keeps the unsaved text as a draft
    assert second != first
    assert window.workspace.db.call(library.latest_version, first).template == "Version one {{ x }}"
    assert window.workspace.db.call(library.load_draft, first).template == "Version two, unsaved"

    with qtbot.waitSignal(window.workspace.promptOpened, timeout=3000):
        window.workspace.open_prompt(first)
    assert window.editor.toPlainText() == "Version two, unsaved"
    assert window.workspace.dirty  # restored, still unsaved
    assert "Restored unsaved changes" in window.statusBar().currentMessage()


def test_unsaved_edits_survive_a_kill(window, qtbot, isolated_home) -> None:
    prompt_id = new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.draftSaved, timeout=5000):
        type_text(qtbot, window.editor, "typed just before the crash {{ topic }}")
    # The process dies: no closeEvent, no save. Only what the draft wrote is on disk.
    window.workspace.db.close()
    window.state.setValue("library/lastPrompt", prompt_id)
    window.state.sync()

    db = open_library(isolated_home)
    reborn = MainWindow(db, KeyStore(), isolated_home)
    qtbot.addWidget(reborn)
    with qtbot.waitSignal(reborn.workspace.promptOpened, timeout=5000):
        reborn.start()
    assert reborn.workspace.prompt_id == prompt_id
    assert reborn.editor.toPlainText() == "typed just before the crash {{ topic }}"
    assert reborn.variables.names() == ["topic"]
    reborn.close()
    db.close()


def test_command_palette_lists_filters_and_runs_actions(window, qtbot) -> None:
    before = len(window.workspace.known)
    palette = window.open_palette()
    assert any("Run" in text for text in palette.visible_commands())
    qtbot.keyClicks(palette.filter, "new prom")
    assert palette.visible_commands() == [palette.visible_commands()[0]]
    assert palette.visible_commands()[0].startswith("New prompt")
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=3000):
        qtbot.keyClick(palette.filter, Qt.Key.Key_Return)
    assert len(window.workspace.known) == before + 1


def test_every_action_has_a_unique_shortcut(window) -> None:
    seen: dict[str, str] = {}
    for action in window.registry.all():
        assert action.shortcuts(), f"{action.objectName()} has no shortcut"
        for shortcut in action.shortcuts():
            key = shortcut.toString()
            assert key not in seen, f"{key} is used by {seen[key]} and {action.objectName()}"
            seen[key] = action.objectName()
    assert {"Ctrl+Return", "Esc", "Ctrl+Shift+P", "Ctrl+F", "Ctrl+S"} <= set(seen)


def test_typed_key_goes_to_the_keychain_never_to_files(
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


def test_a_damaged_library_is_repaired_and_the_user_is_told(qtbot, qloop, isolated_home) -> None:
    from PySide6.QtWidgets import QMessageBox

    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "library.sqlite3").write_bytes(b"this is not a database" * 100)
    db = open_library(isolated_home)
    main = MainWindow(db, KeyStore(), isolated_home)
    qtbot.addWidget(main)
    with qtbot.waitSignal(main.workspace.promptOpened, timeout=5000):
        main.start()
    notice = main.findChild(QMessageBox, "recoveryNotice")
    assert notice is not None and notice.isVisible()
    assert "was damaged" in notice.text() and "kept as" in notice.text()
    assert len(main.workspace.known) == 4  # a fresh library with the samples
    assert any(p.name.startswith("library.sqlite3.corrupt") for p in isolated_home.iterdir())
    main.close()
    db.close()


def test_a_daily_backup_is_taken_in_the_background(window, qtbot, isolated_home) -> None:
    qtbot.waitUntil(lambda: not window.tasks.is_running("backup"), timeout=10_000)
    backups = list((isolated_home / "backups").glob("library-*.sqlite3"))
    assert len(backups) == 1


def test_recent_prompts_and_the_column_layout_persist(window, qtbot, isolated_home) -> None:
    first = new_prompt(qtbot, window)
    second = new_prompt(qtbot, window)
    assert window.recent.prompts()[:2] == [second, first]
    window.recent_menu.aboutToShow.emit()
    labels = [a.text() for a in window.recent_menu.actions()]
    assert labels[0].endswith("Untitled 2") and labels[1].endswith("Untitled 1")
    with qtbot.waitSignal(window.workspace.promptOpened, timeout=3000) as opened:
        window.recent_menu.actions()[1].trigger()
    assert opened.args[0] == first
    window.run_board.columns[0].model.setText("kept-model")
    window.run_board.add_column().model.setText("second-model")
    window.close()

    db = open_library(isolated_home)
    again = MainWindow(db, KeyStore(), isolated_home)
    qtbot.addWidget(again)
    assert [c.model.text() for c in again.run_board.columns] == ["kept-model", "second-model"]
    assert again.recent.prompts()[:2] == [first, second]
    again.close()
    db.close()
