"""The app's local model: set up on request, started with the app, stopped when it quits.

:class:`LocalModelFlow` owns the one :class:`~promptstudio.local.server.ManagedServer` of
the window. With the app it starts the server when the local model was set up before (or
uses one already running: a ``local start --detach``), off the GUI thread, unless the
setting ``local.start_with_app`` is off; "Set up a local
model" (first launch, Settings › Providers, the palette) opens the setup dialog and starts
the server after it. The provider profile "Local (Gemma 3 270M)" then points at it and
:attr:`ready` offers it as a server the first launch can put in a column. :meth:`stop` ends
the server the app started (the app calls it when it quits).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from promptstudio.errors import PromptStudioError
from promptstudio.local.model import PROFILE_ID, chosen_model
from promptstudio.local.server import LocalServerError, ManagedServer
from promptstudio.local.service import adopt_running, start_local_server
from promptstudio.local.setup import is_installed
from promptstudio.providers.probe import LocalServer
from promptstudio.providers.profiles import UnknownProfile
from promptstudio.settings.profiles import ProfileStore
from promptstudio.settings.store import SettingsStore
from promptstudio.ui.local_setup_dialog import LocalSetupDialog
from promptstudio.ui.messages import show_error
from promptstudio.ui.status import StatusNotifier

log = logging.getLogger(__name__)


class LocalModelFlow(QObject):
    profilesChanged = Signal()  # the local profile was added or now points elsewhere
    running = Signal(object)  # LocalServer: the server answers (started or adopted)
    ready = Signal(object)  # LocalServer: the same, after a setup from the dialog
    failed = Signal(str)
    _started = Signal(object, bool)  # LocalServer, announce (from the starting thread)
    _refused = Signal(object, bool)  # the error, announce (from the starting thread)
    _event = Signal(str)  # from the server's watcher thread

    def __init__(
        self,
        window: QWidget,
        data_dir: Path,
        profiles: ProfileStore,
        notifier: StatusNotifier,
        settings: SettingsStore | None = None,
    ) -> None:
        super().__init__(window)
        self.settings = settings
        self.window, self.data_dir, self.profiles, self.notifier = (
            window,
            data_dir,
            profiles,
            notifier,
        )
        self.server: ManagedServer | None = None
        self.dialog: LocalSetupDialog | None = None
        self.starting: threading.Thread | None = None
        self.closing = False
        self._started.connect(self._on_started)
        self._event.connect(self._on_event)
        self._refused.connect(self._on_refused)
        self.failed.connect(lambda message: self.notifier.say(message, 15_000))

    def set_up_before(self) -> bool:
        try:
            self.profiles.get(PROFILE_ID)
        except UnknownProfile:
            return False
        return is_installed()

    def start_if_set_up(self) -> None:
        """With the app: serve the local model if it was set up before, unless the setting
        ``local.start_with_app`` is off (then File › Set up a local model… starts it)."""
        if not self.set_up_before():
            return
        if self.settings is not None and not self.settings.get("local.start_with_app"):
            self.notifier.say(
                "The local model was not started (Settings › Local model); "
                "File › Set up a local model… starts it",
                8000,
            )
            return
        self.start(announce=False)

    def open_setup(self) -> LocalSetupDialog:
        if self.dialog is None:
            self.dialog = LocalSetupDialog(self.data_dir, self.window)
            self.dialog.ready.connect(lambda: self.start(announce=True))
            self.dialog.finished.connect(self._forget_dialog)
        self.dialog.open()
        return self.dialog

    def _forget_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
            self.dialog = None

    def start(self, *, announce: bool) -> None:
        """Start (or adopt) the server off the GUI thread; a running one is restarted
        with the chosen model."""
        if self.starting is not None and self.starting.is_alive():
            return
        self.notifier.say(f"Starting the local model ({chosen_model(self.data_dir).name})…")
        self.starting = threading.Thread(
            target=self._start, args=(announce,), name="local-start", daemon=True
        )
        self.starting.start()

    def _start(self, announce: bool) -> None:
        try:
            old, self.server = self.server, None
            if old is not None:
                old.stop()
            if not announce:  # with the app: one already running is used as it is
                running = adopt_running(self.data_dir, self.profiles)
                if running is not None:
                    found = LocalServer(
                        self._name(), running.base_url, (running.alias,), PROFILE_ID
                    )
                    self._started.emit(found, announce)
                    return
            server = start_local_server(self.data_dir, self.profiles, on_event=self._event.emit)
        except PromptStudioError as exc:
            self._refused.emit(exc, announce)
            return
        except Exception as exc:  # never a traceback: say it and log it
            log.exception("the local model could not start")
            self._refused.emit(LocalServerError(f"{type(exc).__name__}: {exc}"), announce)
            return
        if self.closing:  # the app quit while the server was starting
            server.stop()
            return
        self.server = server
        models = tuple(server.models) or (chosen_model(self.data_dir).alias,)
        self._started.emit(LocalServer(self._name(), server.base_url, models, PROFILE_ID), announce)

    def _name(self) -> str:
        return self.profiles.get(PROFILE_ID).name

    def _on_started(self, server: LocalServer, announce: bool) -> None:
        self.profilesChanged.emit()
        self.notifier.say(f"{server.name} is ready at {server.base_url}", 8000)
        self.running.emit(server)
        if announce:
            self.ready.emit(server)

    def _on_refused(self, error: PromptStudioError, announce: bool) -> None:
        first = error.message.splitlines()[0] if error.message else ""
        self.failed.emit(f"The local model could not start: {first}")
        if announce:  # the user asked for it just now: the whole story, in a message
            show_error(self.window, error)

    def _on_event(self, event: str) -> None:
        if event == "restarted":
            self.profilesChanged.emit()
            self.notifier.say("The local model stopped unexpectedly and was restarted", 10_000)
        elif event == "died":
            self.failed.emit(
                "The local model stopped and could not be restarted; see "
                "logs/local-server.log in the data folder"
            )

    def stop(self) -> None:
        """Stop the server this window started (a detached one is left running)."""
        self.closing = True
        if self.starting is not None:
            self.starting.join(timeout=5)
        server, self.server = self.server, None
        if server is not None:
            server.stop()
