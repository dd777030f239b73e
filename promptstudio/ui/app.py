"""Start the GUI: QApplication, the qasync event loop, the main window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from promptstudio import APP_NAME
from promptstudio.errors import PromptStudioError

if TYPE_CHECKING:
    from promptstudio.storage import Database

log = logging.getLogger(__name__)


def open_library(data_dir: Path) -> Database:
    """Open (or create) the library; the first launch gets the sample prompts."""
    from promptstudio.paths import database_path
    from promptstudio.samples import install_samples
    from promptstudio.storage import Database

    db = Database(database_path(data_dir))
    try:
        added = db.call(install_samples)
    except BaseException:
        db.close()
        raise
    if added:
        log.info("first launch: installed %d sample prompts", added)
    return db


ICON_NAME = "promptstudio"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # as packaging/render_icons.py writes them
SVG_ICON_SIZE = 1024


def icons_dir() -> Path:
    """The folder of the app icon: the installed package (wheel or bundle) or the checkout."""
    from importlib import resources

    try:
        folder = resources.files("promptstudio.resources") / "icons"
    except ModuleNotFoundError:
        # A source tree that was never installed (see promptstudio.samples.samples_dir).
        return Path(__file__).resolve().parents[2] / "resources" / "icons"
    return Path(str(folder))


def app_icon() -> QIcon:
    """The icon as every rendered PNG size plus the SVG; Qt picks the closest per use.

    Given a size, ``addFile`` only records the path (nothing is decoded until that size is
    drawn: ~0.4 ms here). The SVG is entered at 1024 px, above the largest PNG, and is
    rendered sharp at that size on demand; without a size Qt would rasterise it at once.
    Missing files (a broken install) leave the icon empty: the window manager's default.
    """
    folder = icons_dir()
    icon = QIcon()
    for size in ICON_SIZES:
        png = folder / f"{ICON_NAME}-{size}.png"
        if png.is_file():
            icon.addFile(str(png), QSize(size, size))
    svg = folder / f"{ICON_NAME}.svg"
    if svg.is_file():
        icon.addFile(str(svg), QSize(SVG_ICON_SIZE, SVG_ICON_SIZE))
    if icon.isNull():
        log.warning("no app icon found in %s", folder)
    return icon


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
    from promptstudio.ui.main_window import MainWindow

    prefer_the_gui_thread()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName("promptstudio")
    app.setWindowIcon(app_icon())
    # The window is painted first, empty, at its place; then the library is opened and
    # the panes (with Jinja, the SDKs, jsonschema...) are imported and built into it.
    window = MainWindow(None, None, data_dir)
    window.show()
    app.processEvents()
    import threading

    from promptstudio.credentials.keystore import warm_up

    # keyring's import and backend choice (~0.1 s) overlap the panes' construction; the
    # columns' key status needs it when the prompt opens. Not before the first paint:
    # the thread would take the GIL from it.
    threading.Thread(target=warm_up, name="promptstudio-keyring", daemon=True).start()
    import asyncio

    import qasync

    from promptstudio.credentials import KeyStore

    try:
        db = open_library(data_dir)
    except PromptStudioError as exc:
        QMessageBox.critical(window, APP_NAME, f"PromptStudio cannot open its library.\n\n{exc}")
        window.close()
        return 1
    window.build(db, KeyStore())
    install_exception_hook(window)

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    window.start()
    window.local_model.start_if_set_up()  # stopped when the window closes
    window.offer_first_launch()
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
