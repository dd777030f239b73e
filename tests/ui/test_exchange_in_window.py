"""Import and export from the window: menus, the export dialog, and dropped files."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from promptstudio.exchange import from_json, to_json, to_prompty
from promptstudio.storage import library
from promptstudio.ui.export_dialog import LIBRARY
from tests.exchange.samples import sample_document
from tests.ui.conftest import new_prompt


def _import(qtbot, window, *paths: Path) -> list[int]:
    with qtbot.waitSignal(window.exchange.imported, timeout=10_000) as done:
        window.exchange.import_paths(list(paths))
    return list(done.args[0])


def test_imported_files_land_in_the_library_and_the_first_opens(window, qtbot, tmp_path) -> None:
    doc = sample_document()
    first = tmp_path / "summariser.json"
    first.write_text(to_json(doc), encoding="utf-8")
    second = tmp_path / "plain.txt"
    second.write_text("user:\nHello {{ who }}\n", encoding="utf-8")
    ids = _import(qtbot, window, first, second)
    assert len(ids) == 2
    qtbot.waitUntil(lambda: window.workspace.prompt_id == ids[0], timeout=5000)
    assert window.editor.toPlainText() == doc.template
    assert window.variables.values()["tone"] == "friendly"
    assert [c.model for c in window.run_board.configs()] == [c.model for c in doc.columns]
    db = window.workspace.db
    prompt = db.call(library.get_prompt, ids[0])
    assert (prompt.name, prompt.folder, list(prompt.tags)) == (
        doc.name,
        doc.folder,
        sorted(doc.tags),
    )
    assert [c.to_exchange() for c in db.call(library.list_cases, ids[0])] == doc.cases
    assert db.call(library.latest_version, ids[1]).template == "user:\nHello {{ who }}\n"
    assert "Imported" in window.statusBar().currentMessage()


def test_one_bad_file_imports_nothing_and_says_where(window, qtbot, tmp_path) -> None:
    good = tmp_path / "good.prompty"
    good.write_text("---\nname: Good\n---\nuser:\nfine\n")
    bad = tmp_path / "bad.prompty"
    bad.write_text("---\nname: Bad\nmodel: [oops\n---\nuser:\nx\n")
    before = window.workspace.db.call(library.count_prompts)
    with qtbot.waitSignal(window.tasks.failed, timeout=10_000):
        window.exchange.import_paths([good, bad])
    box = window.findChild(QMessageBox, "errorMessageBox")
    assert box is not None
    assert "bad.prompty, line 3" in box.text()
    assert "nothing was imported" in box.text()
    assert window.workspace.db.call(library.count_prompts) == before
    box.close()


def _drop(target, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(target, drop)


def test_files_dropped_on_the_window_or_the_editor_are_imported(window, qtbot, tmp_path) -> None:
    path = tmp_path / "dropped.prompty"
    path.write_text(to_prompty(sample_document()))
    text_before = window.editor.toPlainText()
    with qtbot.waitSignal(window.exchange.imported, timeout=10_000) as done:
        _drop(window.editor.viewport(), [path])
    [prompt_id] = done.args[0]
    assert window.workspace.db.call(library.get_prompt, prompt_id).name == "Summariser"
    # The editor did not paste the file's path or text into the template it had.
    assert window.editor.toPlainText() in (text_before, sample_document().template)
    with qtbot.waitSignal(window.exchange.imported, timeout=10_000) as done:
        _drop(window, [path])
    assert window.workspace.db.call(library.get_prompt, done.args[0][0]).name == "Summariser (2)"


def _export_dialog(qtbot, window):
    window.registry["file.export"].trigger()
    qtbot.waitUntil(
        lambda: (
            window.exchange.export_dialog is not None and window.exchange.export_dialog.isVisible()
        ),
        timeout=5000,
    )
    return window.exchange.export_dialog


def test_export_shows_the_file_with_unsaved_edits_and_saves_it(window, qtbot, tmp_path) -> None:
    new_prompt(qtbot, window)
    window.editor.setPlainText("system:\nBe {{ mood }}.\nuser:\nHi\n")
    window.run_board.columns[0].set_target("http://localhost:11434/v1", "llama3.2")
    dialog = _export_dialog(qtbot, window)
    dialog.choose("json")
    qtbot.waitUntil(lambda: dialog.preview.toPlainText().startswith("{"), timeout=5000)
    shown = from_json(dialog.preview.toPlainText())
    assert shown.template == "system:\nBe {{ mood }}.\nuser:\nHi\n"
    assert "mood" in shown.variables
    assert shown.columns[0].model == "llama3.2"

    dialog.choose("promptfoo")
    qtbot.waitUntil(lambda: "providers:" in dialog.preview.toPlainText(), timeout=5000)
    config = yaml.safe_load(dialog.text)
    assert config["providers"][0]["id"] == "ollama:chat:llama3.2"

    dialog.choose("python-openai", column=0)
    qtbot.waitUntil(lambda: "from openai import OpenAI" in dialog.text, timeout=5000)
    assert dialog.column.isEnabled()
    dialog.copy()
    assert QApplication.clipboard().text() == dialog.text

    target = tmp_path / "out" / "snippet.py"
    with qtbot.waitSignal(dialog.exported, timeout=5000):
        dialog.save_to(target)
    assert target.read_text(encoding="utf-8") == dialog.text
    assert not dialog.isVisible()


def test_a_template_error_is_shown_in_the_dialog_not_exported(window, qtbot) -> None:
    new_prompt(qtbot, window)
    window.editor.setPlainText("user:\n{% for x in %}\n")
    dialog = _export_dialog(qtbot, window)
    dialog.choose("curl")
    qtbot.waitUntil(lambda: "line" in dialog.problem.text().lower(), timeout=5000)
    assert not dialog.save_button.isEnabled()
    dialog.choose("prompty")  # the raw template still exports
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=5000)
    dialog.close()


def test_the_library_exports_to_a_folder(window, qtbot, tmp_path) -> None:
    dialog = _export_dialog(qtbot, window)
    dialog.choose("curl", scope=LIBRARY)
    assert not dialog.save_button.isEnabled()  # code is per column, not per prompt
    dialog.choose("json", scope=LIBRARY)
    assert dialog.save_button.isEnabled()
    with qtbot.waitSignal(dialog.exported, timeout=10_000):
        dialog.save_to(tmp_path / "lib")
    files = sorted((tmp_path / "lib").rglob("*.json"))
    names = {json.loads(f.read_text())["name"] for f in files}
    assert names == set(window.workspace.known.values())
    assert "exported" in window.statusBar().currentMessage().lower()


def test_a_stored_version_exports_from_the_history(window, qtbot) -> None:
    new_prompt(qtbot, window)
    window.editor.setPlainText("user:\nfirst words")
    with qtbot.waitSignal(window.workspace.versionsChanged, timeout=5000):
        window.registry["prompt.save"].trigger()
    window.editor.setPlainText("user:\nsecond words")
    with qtbot.waitSignal(window.workspace.versionsChanged, timeout=5000):
        window.registry["prompt.save"].trigger()
    history = window.history
    window.panes.show_history()
    qtbot.waitUntil(lambda: history.model.rowCount() == 2, timeout=5000)
    history.table.selectRow(1)  # the older version (newest first)
    qtbot.waitUntil(lambda: history.export_action.isEnabled(), timeout=5000)
    history.export_action.trigger()
    qtbot.waitUntil(
        lambda: (
            window.exchange.export_dialog is not None and window.exchange.export_dialog.isVisible()
        ),
        timeout=5000,
    )
    dialog = window.exchange.export_dialog
    assert dialog.windowTitle().startswith("Export version 1")
    dialog.choose("template")
    qtbot.waitUntil(lambda: dialog.text == "user:\nfirst words", timeout=5000)
    dialog.close()


def test_a_config_reading_outside_its_folder_asks_first(window, qtbot, tmp_path) -> None:
    (tmp_path / "id_fake").write_text("SECRET-KEY-MATERIAL\n", encoding="utf-8")
    (tmp_path / "cfg").mkdir()
    config = tmp_path / "cfg" / "promptfooconfig.yaml"
    config.write_text("description: Leaky\nprompts: [file://../id_fake]\n", encoding="utf-8")
    before = window.workspace.db.call(library.count_prompts)
    window.exchange.import_paths([config])
    qtbot.waitUntil(
        lambda: window.findChild(QMessageBox, "outsideRefsBox") is not None, timeout=10_000
    )
    box = window.findChild(QMessageBox, "outsideRefsBox")
    assert "file://../id_fake" in box.text() and "SECRET" not in box.text()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    assert window.workspace.db.call(library.count_prompts) == before
    box.button(QMessageBox.StandardButton.Cancel).click()  # Esc does the same
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "outsideRefsBox") is None)
    assert window.workspace.db.call(library.count_prompts) == before

    window.exchange.import_paths([config])
    qtbot.waitUntil(
        lambda: window.findChild(QMessageBox, "outsideRefsBox") is not None, timeout=10_000
    )
    box = window.findChild(QMessageBox, "outsideRefsBox")
    read = box.findChild(QPushButton, "readOutsideRefs")
    assert read.accessibleName() == "Read them and import"
    with qtbot.waitSignal(window.exchange.imported, timeout=10_000) as done:
        read.click()
    [prompt_id] = done.args[0]
    stored = window.workspace.db.call(library.latest_version, prompt_id)
    assert stored.template.startswith("SECRET")


def test_an_import_lists_what_it_could_not_keep(window, qtbot, tmp_path) -> None:
    source = Path(__file__).parents[1] / "exchange" / "prompty_corpus" / "structured.prompty"
    path = tmp_path / "structured.prompty"
    path.write_bytes(source.read_bytes())
    _import(qtbot, window, path)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "importNotesBox") is not None)
    box = window.findChild(QMessageBox, "importNotesBox")
    assert box.accessibleName() == "Imported, with notes"
    assert "“Extract a contact”" in box.text()
    assert "metadata not kept: authors" in box.text()
    box.close()
    plain = tmp_path / "plain.txt"
    plain.write_text("user:\nHello\n", encoding="utf-8")
    _import(qtbot, window, plain)
    assert window.findChild(QMessageBox, "importNotesBox") is None  # nothing to say


def test_what_an_import_leaves_out_is_said_in_the_window(window, qtbot, tmp_path) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(
        "description: Notes\nprompts: [hi]\nproviders: [bedrock:some-model]\n"
        "tests: [{assert: [{type: python, value: 'True'}]}]\n",
        encoding="utf-8",
    )
    _import(qtbot, window, config)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "importNotesBox") is not None)
    box = window.findChild(QMessageBox, "importNotesBox")
    assert box.accessibleName() == "Imported, with notes"
    assert "bedrock:some-model" in box.text() and "'python' in test 1" in box.text()
    box.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "importNotesBox") is None)
