"""The window's own dialogs: Settings, the command palette, Quick open, Save version with
a message, Help and About. Each is opened with ``open()`` (never a modal ``exec()``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QInputDialog, QMessageBox, QWidget

from promptstudio import APP_NAME, __version__
from promptstudio.ui.actions import ActionRegistry

if TYPE_CHECKING:
    from promptstudio.settings.profiles import ProfileStore
    from promptstudio.settings.store import SettingsStore
    from promptstudio.ui.command_palette import CommandPalette
    from promptstudio.ui.library.quick_open import QuickOpen
    from promptstudio.ui.local_model_flow import LocalModelFlow
    from promptstudio.ui.settings.settings_dialog import SettingsDialog
    from promptstudio.ui.status import StatusNotifier
    from promptstudio.ui.tasks import TaskOwner
    from promptstudio.ui.workspace import Workspace


class WindowDialogs(QObject):
    """Opens them over ``window``; keeps the one Settings dialog, palette and Quick open."""

    settingsApplied = Signal(dict)
    """Settings changed in the dialog (the keys changed, with their values)."""
    profilesChanged = Signal()
    """A provider profile was added, changed or removed on the Providers page."""
    promptChosen = Signal(int)
    """Quick open opened this prompt (the library is to select it)."""

    def __init__(
        self,
        window: QWidget,
        workspace: Workspace,
        tasks: TaskOwner,
        registry: ActionRegistry,
        settings: SettingsStore,
        profiles: ProfileStore,
        local_model: LocalModelFlow,
        notifier: StatusNotifier,
        data_dir: Path,
    ) -> None:
        super().__init__(window)
        self._window, self._ws, self._tasks, self._registry = window, workspace, tasks, registry
        self._settings, self._profiles = settings, profiles
        self._local_model, self._notifier, self._data_dir = local_model, notifier, data_dir
        self.settings_dialog: SettingsDialog | None = None
        self.command_palette: CommandPalette | None = None
        self.quick_open: QuickOpen | None = None

    def open_settings(self) -> SettingsDialog:
        from promptstudio.ui.settings.providers_page import ProvidersPage
        from promptstudio.ui.settings.settings_dialog import SettingsDialog

        if self.settings_dialog is None:
            providers = ProvidersPage(self._profiles, self._ws.keys, self._tasks)
            providers.profilesChanged.connect(self.profilesChanged)
            providers.localSetupRequested.connect(self._local_model.open_setup)
            self.settings_dialog = SettingsDialog(
                self._settings, self._window, extra_pages=[("Providers", providers)]
            )
            self.settings_dialog.applied.connect(self.settingsApplied)
            self.settings_dialog.finished.connect(self._forget_settings_dialog)
        self.settings_dialog.open()
        return self.settings_dialog

    def _forget_settings_dialog(self) -> None:
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()
            self.settings_dialog = None

    def open_palette(self) -> CommandPalette:
        from promptstudio.ui.command_palette import CommandPalette

        if self.command_palette is not None:
            self.command_palette.close()
            self.command_palette.deleteLater()
        self.command_palette = CommandPalette(self._registry.all(), self._window)
        self.command_palette.open()
        return self.command_palette

    def open_quick_open(self) -> QuickOpen:
        from promptstudio.ui.library.quick_open import QuickOpen

        if self.quick_open is None:
            self.quick_open = QuickOpen(self._ws.db, self._tasks, self._window)
            self.quick_open.promptChosen.connect(self._ws.open_prompt)
            self.quick_open.promptChosen.connect(self.promptChosen)
        self.quick_open.open()
        return self.quick_open

    def save_with_message(self) -> None:
        dialog = QInputDialog(self._window)
        dialog.setObjectName("saveMessageDialog")
        dialog.setWindowTitle("Save version")
        dialog.setLabelText("Describe this version (optional):")
        navigation = self._ws.navigation
        dialog.textValueSelected.connect(
            lambda text: self._tasks.start("save", navigation.save(text.strip()))
        )
        dialog.open()

    def open_help(self, what: str) -> QDialog | None:
        """Help: the shortcuts, the docs, a bug report's details, the data folder or log."""
        from promptstudio.logs import log_path
        from promptstudio.ui import help_dialogs

        data_dir = self._data_dir
        log_file = log_path(data_dir)
        if what == "shortcuts":
            return help_dialogs.shortcuts_dialog(self._registry.by_menu(), self._window)
        if what == "docs":
            return help_dialogs.documentation_dialog(self._window)
        if what == "report":
            return help_dialogs.report_dialog(data_dir, log_file, self._window)
        target = data_dir if what == "data folder" else log_file
        if not target.exists():
            self._notifier.say(f"Nothing there yet: {target}")
        elif not help_dialogs.open_path(target):
            self._notifier.say(f"No program to open {target}")
        return None

    def about(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            f"About {APP_NAME}",
            f"{APP_NAME} {__version__}\nA desktop IDE for prompt engineering.",
            QMessageBox.StandardButton.Ok,
            self._window,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
