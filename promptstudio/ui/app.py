"""Start the GUI: QApplication, the qasync event loop, the main window."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from promptstudio import APP_NAME
from promptstudio.errors import PromptStudioError
from promptstudio.storage import Database

log = logging.getLogger(__name__)


def open_library(data_dir: Path) -> Database:
    """Open (or create) the library; the first launch gets the sample prompts."""
    from promptstudio.paths import database_path
    from promptstudio.samples import install_samples

    db = Database(database_path(data_dir))
    try:
        added = db.call(install_samples)
    except BaseException:
        db.close()
        raise
    if added:
        log.info("first launch: installed %d sample prompts", added)
    return db


GIL_SWITCH_INTERVAL_S = 0.001


def prefer_the_gui_thread() -> None:
    """Hand the GIL over every 1 ms instead of 5 ms.

    Streams are parsed on the run worker thread; with the default interval the GUI thread
    can wait up to 5 ms at a time behind it, several times per frame when many columns
    stream. Measured in bench/bench_board.py.
    """
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


def install_exception_hook(window: QWidget) -> None:
    """One place for bugs: an exception escaping a Qt slot is logged and shown, not lost."""
    from promptstudio.ui.messages import show_error

    previous = sys.excepthook

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, error, tb)
            return
        log.error("uncaught exception", exc_info=(kind, error, tb))
        show_error(window, error)

    sys.excepthook = hook


def run_app(data_dir: Path, *, smoke: bool = False, screenshot: Path | None = None) -> int:
    """Open the main window and run until it closes; returns the exit code.

    ``smoke`` opens the window, waits for the library to load and exits 0 (packaging
    checks); ``screenshot`` does the same and saves the window as a PNG.
    """
    import qasync

    from promptstudio.credentials import KeyStore
    from promptstudio.ui.main_window import MainWindow

    prefer_the_gui_thread()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName("promptstudio")
    try:
        db = open_library(data_dir)
    except PromptStudioError as exc:
        QMessageBox.critical(None, APP_NAME, f"PromptStudio cannot open its library.\n\n{exc}")
        return 1
    window = MainWindow(db, KeyStore(), data_dir)
    install_exception_hook(window)
    window.show()

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    window.start()
    if smoke or screenshot is not None:

        def finish() -> None:
            if window.tasks.is_running("library") or window.tasks.is_running("open"):
                QTimer.singleShot(50, finish)
                return
            if screenshot is not None:
                window.grab().save(str(screenshot))
            window.close()
            app.quit()

        QTimer.singleShot(300, finish)
    try:
        with loop:
            loop.run_until_complete(closed.wait())
    finally:
        db.close()
    return 0
