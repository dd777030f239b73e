"""Menus, the command palette, Help and the History's first selection (issue 14, point 27)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QLabel, QPlainTextEdit, QTableView, QTextBrowser

from promptstudio import __version__
from promptstudio.logs import log_path
from promptstudio.ui.main_window import MainWindow
from tests.fake_llm import FakeLLM, Reply
from tests.ui.conftest import new_prompt


class UrlCatcher(QObject):
    """Stands in for the desktop's file handler: nothing is launched from a test."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toLocalFile())


@pytest.fixture
def opened() -> Iterator[list[str]]:
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")  # type: ignore[arg-type]  # stub: bytes; runtime: str
    yield catcher.opened
    QDesktopServices.unsetUrlHandler("file")


def menu_ids(window: MainWindow, title: str) -> list[str]:
    return [a.objectName() for a in window.registry.menus[title].actions() if a.objectName()]


def test_quick_open_sits_near_the_top_of_the_file_menu(window: MainWindow) -> None:
    ids = menu_ids(window, "&File")
    assert ids.index("prompt.quick_open") == ids.index("prompt.new") + 1
    assert ids[-1] == "app.quit"


def test_the_palette_says_when_nothing_matches_and_switches_the_theme(
    window: MainWindow, qtbot
) -> None:
    palette = window.open_palette()
    qtbot.keyClicks(palette.filter, "zzqx")
    assert palette.visible_commands() == []
    assert palette.no_matches.isVisible() and "zzqx" in palette.no_matches.text()
    palette.filter.clear()
    assert not palette.no_matches.isVisible()
    qtbot.keyClicks(palette.filter, "theme")
    assert [c.split("    ")[0] for c in palette.visible_commands()] == [
        "Theme: light", "Theme: dark", "Theme: system",
    ]  # fmt: skip
    qtbot.keyClick(palette.filter, Qt.Key.Key_Down)  # to "Theme: dark"
    qtbot.keyClick(palette.filter, Qt.Key.Key_Return)
    assert window.settings.get("appearance.theme") == "dark"
    assert QApplication.palette().window().color().lightness() < 128
    window.registry["view.theme_light"].trigger()
    assert window.settings.get("appearance.theme") == "light"
    assert QApplication.palette().window().color().lightness() >= 128
    window.registry["view.theme_system"].trigger()


def test_help_lists_shortcuts_docs_folders_and_a_report(
    window: MainWindow, qtbot, opened: list[str]
) -> None:
    assert menu_ids(window, "&Help") == [
        "help.shortcuts", "help.docs", "help.data_folder", "help.log", "help.report",
        "help.about",
    ]  # fmt: skip
    shortcuts = window.open_help("shortcuts")
    assert shortcuts is not None and shortcuts.isVisible()
    table = shortcuts.findChild(QTableView, "shortcutsTable")
    assert table is not None
    model = table.model()
    rows = {model.index(r, 1).data(): model.index(r, 2).data() for r in range(model.rowCount())}
    assert len(rows) == len(window.registry.all())
    assert rows["Run all columns"].startswith("Ctrl+Return") and rows["Theme: dark"]
    shortcuts.close()

    docs = window.open_help("docs")
    assert docs is not None
    browser = docs.findChild(QTextBrowser, "documentationText")
    assert browser is not None
    text = browser.toPlainText()
    assert "PromptStudio" in text and len(text) > 500  # the README, rendered
    docs.close()

    window.registry["help.data_folder"].trigger()
    assert opened == [str(window.data_dir)]
    log_file = log_path(window.data_dir)
    if not log_file.is_file():
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_file.write_text("", encoding="utf-8")
    window.registry["help.log"].trigger()
    assert opened[-1] == str(log_file)

    report = window.open_help("report")
    assert report is not None
    field = report.findChild(QPlainTextEdit, "reportDetails")
    assert field is not None
    details = field.toPlainText()
    assert f"PromptStudio {__version__}" in details and str(log_file) in details
    assert "Python " in details and "Qt " in details
    assert any("Nothing is sent" in label.text() for label in report.findChildren(QLabel))
    report.close()


def test_history_opens_on_the_newest_version_after_runs(
    window: MainWindow, qtbot, fake_llm: FakeLLM
) -> None:
    fake_llm.respond(lambda _model, _body: Reply(text="ok"))
    new_prompt(qtbot, window)
    window.run_board.columns[0].set_target(fake_llm.base_url, "m")
    for number in range(3):
        window.editor.setPlainText(f"Say {number}")
        with qtbot.waitSignal(window.workspace.runFinished, timeout=10_000):
            window.registry["run.run"].trigger()
    window.registry["view.history"].trigger()
    history = window.history
    qtbot.waitUntil(lambda: [v.number for v in history.selected_versions()] == [3], timeout=5000)
