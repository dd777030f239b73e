"""Image variables in the form (picker, thumbnail, drops) and images in the preview."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QTextDocument
from PySide6.QtWidgets import QApplication, QLabel, QTextBrowser
from pytestqt.qtbot import QtBot

from promptstudio.storage import library
from promptstudio.ui.editor.variables_form import VariablesForm
from tests.fake_llm import Reply
from tests.images import GIF, data_url, png
from tests.ui.conftest import new_prompt


def image_form(qtbot: QtBot) -> VariablesForm:
    form = VariablesForm()
    qtbot.addWidget(form)
    form.show()
    form.set_names(["photo", "question"])
    form.set_image_names(["photo"])
    return form


def test_an_image_variable_gets_a_picker_and_a_thumbnail(qtbot: QtBot, tmp_path: Path) -> None:
    form = image_form(qtbot)
    photo, question = form.field("photo"), form.field("question")
    assert photo.image is not None and question.image is None
    qtbot.waitUntil(photo.image.isVisible)
    assert photo.image.pick.accessibleName() == "Choose an image for photo"
    assert photo.image.thumbnail.accessibleName() == "Image of photo"
    path = tmp_path / "cat.png"
    path.write_bytes(png(40, 20))
    # Keyboard path: Tab from the value reaches the button; Space opens the picker.
    form.activateWindow()
    photo.editor.setFocus()
    qtbot.waitUntil(photo.editor.hasFocus)
    qtbot.keyClick(photo.editor, Qt.Key.Key_Tab)
    qtbot.waitUntil(photo.image.pick.hasFocus)
    qtbot.keyClick(photo.image.pick, Qt.Key.Key_Space)
    dialog = photo.image.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.selectFile(str(path))
    dialog.accept()
    assert form.values()["photo"] == str(path)
    pixmap = photo.image.thumbnail.pixmap()
    assert not pixmap.isNull() and pixmap.width() == 96
    assert "PNG" in photo.image.status.text() and "sha256" in photo.image.status.text()


def test_a_bad_image_says_why(qtbot: QtBot, tmp_path: Path) -> None:
    form = image_form(qtbot)
    (tmp_path / "notes.png").write_text("hello")
    form.field("photo").editor.setPlainText(str(tmp_path / "notes.png"))
    image = form.field("photo").image
    assert image is not None and "is not a PNG, JPEG, GIF or WebP image" in image.status.text()


def drop(target: object, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    actions = Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(5, 5), actions, mime, buttons, keys)
    QApplication.sendEvent(target, enter)  # type: ignore[arg-type]
    assert enter.isAccepted()
    QApplication.sendEvent(target, QDropEvent(QPointF(5, 5), actions, mime, buttons, keys))  # type: ignore[arg-type]


def test_dropping_an_image_file_makes_it_the_value(qtbot: QtBot, tmp_path: Path) -> None:
    form = image_form(qtbot)
    path = tmp_path / "dog.gif"
    path.write_bytes(GIF)
    drop(form.field("photo").editor.viewport(), path)
    assert form.values()["photo"] == str(path)
    # Dropped on a text variable, an image file makes it an image variable too.
    drop(form.field("question"), path)
    question = form.field("question")
    assert form.values()["question"] == str(path)
    assert question.image is not None
    qtbot.waitUntil(question.image.isVisible)


def test_a_value_that_is_an_image_gets_the_picker(qtbot: QtBot) -> None:
    form = image_form(qtbot)
    form.set_value("question", data_url(png()))
    assert form.field("question").image is not None


def test_the_preview_shows_the_images_that_will_be_sent(window, qtbot, tmp_path: Path) -> None:
    new_prompt(qtbot, window)
    path = tmp_path / "chart.png"
    path.write_bytes(png(30, 10))
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("What does ![chart]({{ photo }}) show?")
    assert window.variables.field("photo").image is not None
    window.variables.set_value("photo", str(path))
    window.run_board.columns[0].model.setText("m")
    dialog = window.workspace.preview()
    assert dialog is not None
    view = dialog.tabs.currentWidget().findChild(QTextBrowser, "previewMessages")
    assert "image chart (PNG, " in view.toPlainText()
    html = view.toHtml()
    assert "<img" in html
    [source] = [line.split('src="')[1].split('"')[0] for line in html.split("<img")[1:]]
    shown = view.document().resource(QTextDocument.ResourceType.ImageResource, QUrl(source))
    assert shown.width() == 30 and shown.height() == 10
    summary = dialog.tabs.currentWidget().findChild(QLabel, "previewSummary").text()
    assert "(estimated)" in summary
    dialog.close()


def test_a_run_stores_the_images_and_a_column_says_its_model_refused_them(
    window, qtbot, fake_llm, tmp_path: Path
) -> None:
    fake_llm.text_only_models = {"text-only"}
    fake_llm.script(Reply(text="A red square."))
    window.settings.update({"timeouts.max_retries": 0})
    window.workspace.limits.local = None
    new_prompt(qtbot, window)
    path = tmp_path / "red.png"
    path.write_bytes(png(8, 8))
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("What is ![it]({{ photo }})?")
    window.variables.set_value("photo", str(path))
    seeing = window.run_board.columns[0]
    seeing.set_target(fake_llm.base_url, "fake-model")
    blind = window.run_board.add_column()
    blind.set_target(fake_llm.base_url, "text-only")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert seeing.answer_text() == "A red square."
    assert blind.status.text() == "Failed"
    assert "The model text-only at" in blind.error.text()
    assert "refused the images" in blind.error.text()
    db = window.workspace.db
    prompt_id = window.workspace.session.prompt_id
    version = db.call(library.latest_version, prompt_id)
    [stored] = db.call(library.version_images, version.id)
    assert (stored.name, stored.source, stored.size) == ("it", str(path), len(png(8, 8)))


def test_a_saved_image_prompt_keeps_its_images_and_a_run_reuses_the_version(
    window, qtbot, fake_llm, tmp_path: Path
) -> None:
    fake_llm.script(Reply(text="ok"))
    new_prompt(qtbot, window)
    path = tmp_path / "red.png"
    path.write_bytes(png(8, 8))
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("What is ![it]({{ photo }})?")
    window.variables.set_value("photo", str(path))
    window.run_board.columns[0].set_target(fake_llm.base_url, "fake-model")
    with qtbot.waitSignal(window.workspace.versionsChanged, timeout=5000):
        window.registry["prompt.save"].trigger()
    db = window.workspace.db
    prompt_id = window.workspace.session.prompt_id
    saved = db.call(library.latest_version, prompt_id)
    assert [i.size for i in db.call(library.version_images, saved.id)] == [len(png(8, 8))]
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert db.call(library.latest_version, prompt_id).id == saved.id  # no copy for the run


def test_a_missing_image_file_stops_the_run_before_sending(
    window, qtbot, fake_llm, tmp_path: Path
) -> None:
    new_prompt(qtbot, window)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("Look:\n![it]({{ photo }})")
    window.variables.set_value("photo", str(tmp_path / "gone.png"))
    column = window.run_board.columns[0]
    column.set_target(fake_llm.base_url, "fake-model")
    window.registry["run.run"].trigger()
    qtbot.waitUntil(lambda: column.status.text() == "Not sent", timeout=5000)
    assert f"Image at 2:1: The image file {tmp_path / 'gone.png'} does not exist." in (
        column.error.text()
    )
    assert window.editor.error_position is not None and not fake_llm.requests


def test_a_restored_version_sends_the_stored_image_when_its_file_is_gone(
    window, qtbot, fake_llm, tmp_path: Path
) -> None:
    fake_llm.script(Reply(text="ok"))
    prompt_id = new_prompt(qtbot, window)
    path = tmp_path / "red.png"
    path.write_bytes(png(8, 8))
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("What is ![it]({{ photo }})?")
    window.variables.set_value("photo", str(path))
    window.run_board.columns[0].set_target(fake_llm.base_url, "fake-model")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    db = window.workspace.db
    ran = db.call(library.latest_version, prompt_id)
    with qtbot.waitSignal(window.workspace.analysed, timeout=3000):
        window.editor.setPlainText("Something else")
    path.unlink()  # the file moved away since the run
    navigation = window.workspace.navigation
    with qtbot.waitSignal(navigation.versionsChanged, timeout=5000):
        window.history.restoreRequested.emit(ran.id)
    said: list[str] = []
    window.notifier.statusMessage.connect(said.append)
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    last = fake_llm.chat_requests()[-1].json["messages"][0]["content"]
    assert {"type": "image_url", "image_url": {"url": data_url(png(8, 8))}} in last
    assert f"The image file is gone ({path}): sent the copy stored with the version." in said
    # The version the re-run belongs to keeps the image too.
    latest = db.call(library.latest_version, prompt_id)
    assert [i.size for i in db.call(library.version_images, latest.id)] == [len(png(8, 8))]
