"""File dialogs open in the last folder used for their kind of file, else Documents or
home, never the program's working directory (issue 14, point 27)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog

from promptstudio.ui import file_dialogs
from promptstudio.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def fresh_memory() -> Iterator[None]:
    file_dialogs.use_state(None)
    file_dialogs._memory.clear()
    yield
    file_dialogs.use_state(None)
    file_dialogs._memory.clear()


def folder_of(dialog: QFileDialog) -> Path:
    return Path(dialog.directory().absolutePath())


def test_dialogs_start_in_documents_or_home_then_where_the_user_went(
    window: MainWindow, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the working directory is never where a dialog opens
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    defaults = {Path(documents), Path.home()} if Path(documents).is_dir() else {Path.home()}
    dialog = window.exchange.choose_files()
    assert folder_of(dialog) in defaults and folder_of(dialog) != tmp_path
    chosen = tmp_path / "my prompts"
    chosen.mkdir()
    (chosen / "hello.txt").write_text("user:\nHello", encoding="utf-8")
    dialog.filesSelected.emit([str(chosen / "hello.txt")])  # what choosing a file sends
    dialog.close()
    again = window.exchange.choose_files()
    assert folder_of(again) == chosen
    again.close()
    cases = window.evaluate.cases.choose_import()  # another kind: its own folder
    assert folder_of(cases) in defaults
    cases.close()
    window.state.sync()  # kept in the UI state, for the next start
    stored = QSettings(window.state.fileName(), QSettings.Format.IniFormat)
    assert stored.value("folders/prompts") == str(chosen)
    assert file_dialogs.start_folder("prompts") == str(chosen)


def test_a_folder_that_is_gone_falls_back(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    file_dialogs.remember("results", str(gone / "results.csv"))
    assert file_dialogs.start_folder("results") == str(gone)
    gone.rmdir()
    assert file_dialogs.start_folder("results") != str(gone)
