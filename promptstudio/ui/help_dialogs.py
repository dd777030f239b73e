"""The Help menu's windows: keyboard shortcuts, the documentation, and what to put in a
bug report. Nothing here goes on the network: a report is text the user copies.

Folders and files are opened with the desktop's own handler (:class:`QDesktopServices`).
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from promptstudio import APP_NAME, __version__
from promptstudio.ui import a11y

# The README and docs/ of a source checkout (where ``pip install -e .`` runs from).
SOURCE_ROOT: Final = Path(__file__).resolve().parents[2]
NOT_FOUND: Final = (
    "The documentation is the README.md of PromptStudio's source, with more in its docs/ "
    "folder. This installation does not include them."
)


def readme_path() -> Path | None:
    path = SOURCE_ROOT / "README.md"
    return path if path.is_file() else None


def open_path(path: Path) -> bool:
    """Open a folder or file with the desktop's handler; False if there is none."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def report_text(data_dir: Path, log_file: Path) -> str:
    """What a bug report needs: versions, platform and where the log is (no key, no text)."""
    return "\n".join(
        [
            f"{APP_NAME} {__version__}",
            f"Python {platform.python_version()} ({sys.implementation.name})",
            f"PySide6 {PySide6.__version__}, Qt {qVersion()}",
            f"Platform: {platform.platform()}",
            f"Qt platform plugin: {QGuiApplication.platformName()}",
            f"Data folder: {data_dir}",
            f"Log file: {log_file}",
        ]
    )


def _dialog(parent: QWidget | None, name: str, title: str) -> tuple[QDialog, QVBoxLayout]:
    dialog = QDialog(parent)
    dialog.setObjectName(name)
    dialog.setWindowTitle(title)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return dialog, QVBoxLayout(dialog)


def _close_buttons(dialog: QDialog, layout: QVBoxLayout) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    return buttons


def _open_button(buttons: QDialogButtonBox, text: str, path: Path) -> None:
    """A button opening ``path`` with the desktop's handler (greyed if it is not there)."""
    button = buttons.addButton(text, QDialogButtonBox.ButtonRole.ActionRole)
    button.setEnabled(path.exists())
    button.clicked.connect(lambda: open_path(path))


def _shown(dialog: QDialog, width: int, height: int) -> QDialog:
    dialog.resize(width, height)
    dialog.open()  # non-modal: never exec() under the event loop
    return dialog


MODES = """<p><b>Keyboard modes and moves</b></p><ul>
<li><b>{next}</b> / <b>{previous}</b>: the next / previous region (library, template,
variables, run board, the tabs below); the focused control is framed.</li>
<li><b>{tab_mode}</b>: Tab in the template editor moves to the next control instead of
typing a tab; the status bar shows “Tab moves focus” while it is on.</li>
<li><b>Shift+F10</b> or the <b>Menu</b> key: the focused control's context menu.</li>
<li>Tables: the arrows move in them, Tab leaves them. Answers: Shift+arrows select,
Ctrl+C copies.</li>
<li>A finished run or evaluation, a save and an error are announced to a screen reader
without moving the focus.</li></ul>"""


def shortcuts_dialog(menus: Sequence[tuple[str, Sequence[QAction]]], parent: QWidget) -> QDialog:
    """Help › Keyboard and accessibility: the modes, then every action of the registry, menu
    by menu, with its keys and what it does."""
    dialog, layout = _dialog(parent, "shortcutsDialog", "Keyboard and accessibility")
    native = QKeySequence.SequenceFormat.NativeText
    keys_of = {a.objectName(): a.shortcut().toString(native) for _m, acts in menus for a in acts}
    modes = QLabel(
        MODES.format(
            next=keys_of.get("view.next_region", "F6"),
            previous=keys_of.get("view.previous_region", "Shift+F6"),
            tab_mode=keys_of.get("edit.tab_moves_focus", "Ctrl+M"),
        ),
        dialog,
    )
    modes.setObjectName("keyboardModes")
    modes.setWordWrap(True)
    layout.addWidget(modes)
    model = QStandardItemModel(0, 4, dialog)
    model.setHorizontalHeaderLabels(["Menu", "Command", "Keys", "What it does"])
    for menu, actions in menus:
        for action in actions:
            keys = ", ".join(key.toString(native) for key in action.shortcuts())
            texts = (menu, action.text(), keys, action.statusTip())
            row = [QStandardItem(text.replace("&", "")) for text in texts]
            for item in row:
                item.setEditable(False)
            model.appendRow(row)
    table = QTableView(dialog)
    table.setObjectName("shortcutsTable")
    table.setAccessibleName("Keyboard shortcuts")
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
    for column in (0, 1, 2):
        table.resizeColumnToContents(column)
    a11y.leave_on_tab(table)
    layout.addWidget(table, 1)
    _close_buttons(dialog, layout)
    return _shown(dialog, 820, 600)


def documentation_dialog(parent: QWidget) -> QDialog:
    """The README, rendered (offline); a note where it is not installed."""
    dialog, layout = _dialog(parent, "documentationDialog", f"{APP_NAME} documentation")
    browser = QTextBrowser(dialog)
    browser.setObjectName("documentationText")
    browser.setAccessibleName("Documentation")
    browser.setOpenExternalLinks(False)
    path = readme_path()
    if path is None:
        browser.setPlainText(NOT_FOUND)
    else:
        browser.setSearchPaths([str(path.parent)])
        browser.setMarkdown(path.read_text(encoding="utf-8", errors="replace"))
    layout.addWidget(browser, 1)
    buttons = _close_buttons(dialog, layout)
    if path is not None:
        _open_button(buttons, "Open the docs &folder", path.parent / "docs")
    return _shown(dialog, 760, 640)


def report_dialog(data_dir: Path, log_file: Path, parent: QWidget) -> QDialog:
    """What to write in a bug report, ready to copy; nothing is sent anywhere."""
    dialog, layout = _dialog(parent, "reportDialog", "Report a problem")
    intro = QLabel(
        "To report a problem, describe what you did and what you saw, and include the text "
        "below. The log file may help too: it holds no API keys. Nothing is sent from here.",
        dialog,
    )
    intro.setWordWrap(True)
    details = QPlainTextEdit(report_text(data_dir, log_file), dialog)
    details.setObjectName("reportDetails")
    details.setAccessibleName("Details for the report")
    details.setReadOnly(True)
    a11y.keyboard_selectable(details)
    layout.addWidget(intro)
    layout.addWidget(details, 1)
    buttons = _close_buttons(dialog, layout)
    copy = QPushButton("&Copy", dialog)
    copy.setObjectName("reportCopy")
    copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(details.toPlainText()))
    buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
    _open_button(buttons, "Open the &log file", log_file)
    return _shown(dialog, 560, 340)
