"""A real main window over a real library file, driven by pytest-qt offscreen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit

from promptstudio.credentials import KeyStore
from promptstudio.paths import data_dir
from promptstudio.ui.app import open_library
from promptstudio.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, qloop, isolated_home: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    db = open_library(data_dir(isolated_home))
    main = MainWindow(db, KeyStore(), data_dir(isolated_home))
    qtbot.addWidget(main)
    main.show()
    with qtbot.waitSignal(main.workspace.promptOpened, timeout=5000):
        main.start()
    yield main
    main.close()
    db.close()


def type_text(qtbot, widget: QPlainTextEdit, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type like a person: character by character, Return for new lines."""
    widget.setFocus()
    for number, line in enumerate(text.split("\n")):
        if number:
            qtbot.keyClick(widget, Qt.Key.Key_Return)
        if line:
            qtbot.keyClicks(widget, line)


def new_prompt(qtbot, main: MainWindow) -> int:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(main.workspace.promptOpened, timeout=5000) as opened:
        main.registry["prompt.new"].trigger()
    return int(opened.args[0])
