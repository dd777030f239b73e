"""A real main window over a real library file, driven by pytest-qt offscreen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from promptstudio.credentials import KeyStore
from promptstudio.paths import data_dir
from promptstudio.ui.app import open_library
from promptstudio.ui.main_window import MainWindow
from promptstudio.ui.tasks import TaskOwner


@pytest.fixture(autouse=True)
def _empty_clipboard(qapp) -> Iterator[None]:
    """The clipboard is emptied after each test: the offscreen platform crashes the
    interpreter at exit (SIGSEGV after every test passed) when it still holds a copy."""
    yield
    QGuiApplication.clipboard().clear()


@pytest.fixture
def window(qtbot, qloop, isolated_home: Path) -> Iterator[MainWindow]:
    db = open_library(data_dir(isolated_home))
    main = MainWindow(db, KeyStore(), data_dir(isolated_home))
    qtbot.addWidget(main)
    main.show()
    with qtbot.waitSignal(main.workspace.promptOpened, timeout=5000):
        main.start()
    yield main
    main.close()
    db.close()


def serve_at_once(main: MainWindow) -> None:
    """Let the columns' requests overlap: a server on this machine gets one at a time by
    default, and the fake server answers any number at once."""
    main.workspace.limits.local = None


def type_text(qtbot, widget: QPlainTextEdit, text: str) -> None:
    """Type like a person: character by character, Return for new lines."""
    widget.setFocus()
    for number, line in enumerate(text.split("\n")):
        if number:
            qtbot.keyClick(widget, Qt.Key.Key_Return)
        if line:
            qtbot.keyClicks(widget, line)


def new_prompt(qtbot, main: MainWindow) -> int:
    with qtbot.waitSignal(main.workspace.promptOpened, timeout=5000) as opened:
        main.registry["prompt.new"].trigger()
    return int(opened.args[0])


W = TypeVar("W", bound=QWidget)


@contextmanager
def owned_widget(qtbot, make: Callable[[TaskOwner], W]) -> Iterator[W]:
    """A widget with its own TaskOwner: any task failure fails the test; at the end the
    owner shuts down (late timers start nothing) and the widget is deleted while this
    test's event loop is still set."""
    tasks = TaskOwner()
    failures: list[BaseException] = []
    tasks.failed.connect(failures.append)
    widget = make(tasks)
    qtbot.addWidget(widget)
    yield widget
    widget.close()
    tasks.shutdown()
    widget.deleteLater()
    qtbot.wait(1)
    assert not failures
