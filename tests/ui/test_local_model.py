"""A local model one click away, in the window: offered on a first launch with nothing
found, in Settings › Providers and in the palette; set up with progress and cancel (a
stand-in for pip and for llama-cpp-python, tests/stand_in); started with the app when set
up before; stopped when the window closes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from promptstudio.local import setup
from promptstudio.local.model import GEMMA, PROFILE_ID, SMALL_MODEL_NOTE, local_profile
from promptstudio.local.server import pid_alive, read_state
from promptstudio.providers.probe import Candidate
from promptstudio.ui.board.first_launch import FirstLaunchPanel
from promptstudio.ui.local_setup_dialog import LocalSetupDialog
from promptstudio.ui.settings.providers_page import ProvidersPage
from tests.providers.helpers import closed_port
from tests.stand_in import PATH as STAND_IN
from tests.stand_in.llama_cpp.server.__main__ import ANSWER

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

FAKE_PIP = "print('Collecting llama-cpp-python', flush=True); import time; time.sleep(SLEEP)"


def fake_pip(sleep: float = 0) -> list[str]:
    return [sys.executable, "-c", FAKE_PIP.replace("SLEEP", str(sleep))]


@pytest.fixture(autouse=True)
def stand_in_for_children(monkeypatch) -> None:
    """The server and the model unpacking (child processes) find the stand-ins."""
    monkeypatch.setenv("PYTHONPATH", str(STAND_IN))
    monkeypatch.setattr(setup, "find_compiler", lambda: "c++")


def test_first_launch_with_nothing_found_sets_up_and_runs_the_local_model(
    window, qtbot, isolated_home: Path
) -> None:
    offer = window.offer_first_launch([Candidate("Nobody", closed_port())])
    assert offer is not None
    panel = window.run_board.findChild(FirstLaunchPanel)
    qtbot.waitUntil(lambda: panel.again_button.isEnabled(), timeout=5000)
    assert panel.local_button.isVisible()
    assert panel.local_button.accessibleName() == "Set up a local model…"
    panel.local_button.setFocus()
    qtbot.keyClick(panel.local_button, Qt.Key.Key_Space)  # the keyboard path
    dialog = window.local_model.dialog
    assert isinstance(dialog, LocalSetupDialog) and dialog.isVisible()
    assert dialog.gemma.isChecked() and dialog.start_button.isEnabled()
    dialog.command = fake_pip()
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.log.isVisible() and dialog.progress.isVisible()

    board = window.run_board  # set up, started, and the first column points at it
    qtbot.waitUntil(lambda: board.configs()[0].model == "gemma-3-270m", timeout=30_000)
    config = board.configs()[0]
    server = window.local_model.server
    assert server is not None and config.profile == PROFILE_ID
    assert config.base_url == server.base_url
    assert window.profiles.get(PROFILE_ID).name == "Local (Gemma 3 270M)"
    qtbot.waitUntil(lambda: window.run_board.findChild(FirstLaunchPanel) is None)
    column = board.columns[0]
    assert "small model, for trying" in column.title.text()
    assert SMALL_MODEL_NOTE in column.title.toolTip()

    window.editor.setPlainText("user:\nHello")  # the samples can run at once
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert column.output.toPlainText() == ANSWER
    assert "$0" in column.metrics.text()

    pid = server.process.pid
    window.close()  # quitting stops the server: no orphan
    assert not pid_alive(pid) and read_state(isolated_home) is None


def test_the_setup_says_what_is_missing_and_offers_nothing(window, qtbot, monkeypatch) -> None:
    monkeypatch.setattr(setup, "find_compiler", lambda: None)
    monkeypatch.setattr(setup, "_free_bytes", lambda place: 100_000_000)
    dialog = window.local_model.open_setup()
    assert dialog.missing.isVisible()
    assert "C/C++ compiler is needed" in dialog.missing.text()
    assert "Not enough free disk space" in dialog.missing.text()
    assert not dialog.start_button.isEnabled()
    dialog.reject()


def test_settings_providers_and_the_palette_offer_the_setup(window, qtbot) -> None:
    page = window.open_settings().findChild(ProvidersPage)
    assert page is not None and page.local_button.accessibleName() == "Set up a local model"
    qtbot.mouseClick(page.local_button, Qt.MouseButton.LeftButton)
    assert isinstance(window.local_model.dialog, LocalSetupDialog)
    window.local_model.dialog.reject()
    qtbot.waitUntil(lambda: window.local_model.dialog is None)
    window.dialogs.settings_dialog.reject()
    window.registry["app.local_model"].trigger()  # the palette lists the registry's actions
    assert window.local_model.dialog is not None and window.local_model.dialog.isVisible()
    window.local_model.dialog.reject()


def test_cancel_stops_the_installation(window, qtbot) -> None:
    dialog = window.local_model.open_setup()
    dialog.command = fake_pip(sleep=60)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Collecting" in dialog.log.toPlainText(), timeout=10_000)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "cancelled" in dialog.status.text(), timeout=10_000)
    assert dialog.isVisible() and dialog.start_button.isEnabled()  # can start again
    assert window.local_model.server is None
    dialog.reject()


def test_a_model_set_up_before_starts_with_the_app(window, qtbot, monkeypatch, isolated_home):
    monkeypatch.syspath_prepend(str(STAND_IN))  # llama_cpp "installed" in this Python
    window.profiles.add(local_profile(closed_port(), GEMMA))
    # "running" comes on the GUI thread once the profile and the columns follow the server
    # (the server itself is set on the worker a moment before)
    with qtbot.waitSignal(window.local_model.running, timeout=30_000):
        window.local_model.start_if_set_up()
    server = window.local_model.server
    assert server is not None
    assert window.profiles.get(PROFILE_ID).base_url == server.base_url  # followed the port
    column = window.run_board.columns[0]
    assert column.endpoint.findData(PROFILE_ID) >= 0
    pid = server.process.pid
    window.close()
    assert not pid_alive(pid)


def test_a_server_that_cannot_start_is_explained(window, qtbot, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setenv("STAND_IN_EXIT", "error loading model: out of memory")
    dialog = window.local_model.open_setup()
    dialog.command = fake_pip()
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)

    def box() -> QMessageBox | None:
        found = window.findChild(QMessageBox, "errorMessageBox")
        return found if found is not None and found.isVisible() else None

    qtbot.waitUntil(lambda: box() is not None, timeout=30_000)
    shown = box()
    assert shown is not None and shown.windowTitle() == "The local model"
    assert "exited at once" in shown.text() and "out of memory" in shown.text()
    assert "could not start" in window.statusBar().currentMessage()
    assert window.local_model.server is None
    shown.close()


def test_another_gguf_file_can_be_chosen_and_served(window, qtbot, tmp_path) -> None:
    from PySide6.QtWidgets import QFileDialog

    mine = tmp_path / "my-model.gguf"
    mine.write_bytes(b"GGUF stand-in")
    offer = window.offer_first_launch([Candidate("Nobody", closed_port())])
    assert offer is not None
    dialog = window.local_model.open_setup()
    qtbot.mouseClick(dialog.choose, Qt.MouseButton.LeftButton)
    picker = dialog.findChild(QFileDialog)
    assert picker is not None and picker.isVisible()
    picker.fileSelected.emit(str(mine))  # what choosing the file in the picker sends
    picker.reject()
    assert dialog.own.isChecked() and dialog.file_label.text() == str(mine)
    dialog.command = fake_pip()
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    board = window.run_board
    qtbot.waitUntil(lambda: board.configs()[0].model == "my-model", timeout=30_000)
    assert window.profiles.get(PROFILE_ID).name == "Local (my-model)"
    window.editor.setPlainText("user:\nHello")
    with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
        window.registry["run.run"].trigger()
    assert board.columns[0].output.toPlainText() == ANSWER


def test_a_first_launch_offers_the_local_model_set_up_before(window, qtbot, monkeypatch):
    monkeypatch.syspath_prepend(str(STAND_IN))  # llama_cpp "installed" in this Python
    window.profiles.add(local_profile(closed_port(), GEMMA))  # set up before (e.g. the CLI)
    window.local_model.start_if_set_up()  # as the app does, before the first-launch look
    offer = window.offer_first_launch([Candidate("Nobody", closed_port())])
    assert offer is not None
    panel = window.run_board.findChild(FirstLaunchPanel)
    qtbot.waitUntil(lambda: bool(panel.buttons), timeout=30_000)
    assert [b.text() for b in panel.buttons] == ["Use Local (Gemma 3 270M) (gemma-3-270m)"]
    assert not panel.local_button.isVisible()  # set up already: nothing to set up
    qtbot.mouseClick(panel.buttons[0], Qt.MouseButton.LeftButton)
    config = window.run_board.configs()[0]
    assert (config.profile, config.model) == (PROFILE_ID, "gemma-3-270m")


def test_the_local_model_can_stay_off_at_launch(window, qtbot, monkeypatch) -> None:
    """Settings › Local model › Start with PromptStudio (``local.start_with_app`` in
    settings.json, on by default): off, a model set up before is not started with the app,
    the status bar says how to start it, and the setup dialog still starts it on request."""
    from PySide6.QtWidgets import QCheckBox

    monkeypatch.syspath_prepend(str(STAND_IN))  # llama_cpp "installed" in this Python
    window.profiles.add(local_profile(closed_port(), GEMMA))
    assert window.settings.get("local.start_with_app") is True
    dialog = window.open_settings()
    field = dialog.fields["local.start_with_app"]
    assert isinstance(field, QCheckBox) and field.isChecked()
    page = dialog.tabs.indexOf(field.parentWidget())
    assert dialog.tabs.tabText(page) == "Local model"
    dialog.tabs.setCurrentIndex(page)
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_Space)  # the keyboard path
    dialog.apply()
    dialog.reject()
    assert '"local.start_with_app": false' in window.settings.path.read_text()

    window.local_model.start_if_set_up()  # as the app does at launch
    assert window.local_model.starting is None and window.local_model.server is None
    assert "not started" in window.statusBar().currentMessage()
    setup_dialog = window.local_model.open_setup()  # File › Set up a local model…
    assert setup_dialog.start_button.text() == "&Start the model"
    setup_dialog.reject()
