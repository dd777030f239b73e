"""Settings > Providers: add, edit and remove provider profiles; their keys; a connection test.

Presets cannot be removed, only hidden or edited (which stores an override that "Reset"
drops). Keys go to the OS keychain under the profile's key account, never to a file; the
field is masked and cleared after saving. A profile may instead name an environment
variable holding its key ("Key variable"; only its name is stored). "Test connection" lists
the server's models.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from promptstudio.credentials import KeyStore
from promptstudio.errors import PromptStudioError
from promptstudio.providers import ProviderError, ProviderProfile, list_models
from promptstudio.providers.profiles import MAX_CONCURRENT, InvalidProfile
from promptstudio.settings.profiles import ProfileStore
from promptstudio.ui.tasks import TaskOwner
from promptstudio.ui.theme import set_status

ID_ROLE = Qt.ItemDataRole.UserRole + 1
KINDS = ("openai-compatible", "openai", "anthropic")
APIS = ("auto", "chat", "responses")


class ProvidersPage(QWidget):
    profilesChanged = Signal()
    localSetupRequested = Signal()

    def __init__(
        self, store: ProfileStore, keys: KeyStore, tasks: TaskOwner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("providersPage")
        self.store, self.keys, self.tasks = store, keys, tasks
        self.model = QStandardItemModel(self)
        self.list = QListView(self)
        self.list.setModel(self.model)
        self.list.setAccessibleName("Providers")
        self.list.setMinimumWidth(180)
        self.add_button = QPushButton("Add", self)
        self.remove_button = QPushButton("Remove", self)
        self.reset_button = QPushButton("Reset", self)
        self.name = QLineEdit(self)
        self.kind = QComboBox(self)
        self.kind.addItems(KINDS)
        self.base_url = QLineEdit(self)
        self.base_url.setPlaceholderText("https://host/v1")
        self.api = QComboBox(self)
        self.api.addItems(APIS)
        self.needs_key = QCheckBox("Needs an API key", self)
        self.max_concurrent = QSpinBox(self)
        self.max_concurrent.setObjectName("profileMaxConcurrent")
        self.max_concurrent.setRange(0, MAX_CONCURRENT)
        self.max_concurrent.setSpecialValueText("Default")  # 0: 1 if local, else no limit
        self.max_concurrent.setAccessibleName("Requests at once")
        self.max_concurrent.setToolTip(
            "How many requests this server gets at once; the others wait, shown as Queued. "
            "Default: 1 for a server on this machine (llama.cpp's server cuts an earlier "
            "request when a new one arrives), no limit for a hosted API (4 while evaluating)."
        )
        self.key_env = QLineEdit(self)
        self.key_env.setObjectName("profileKeyEnv")
        self.key_env.setAccessibleName("Key variable")
        self.key_env.setPlaceholderText("optional: e.g. MY_PROXY_KEY (its name, not the key)")
        self.key_env.setToolTip(
            "The name of an environment variable that holds this profile's key. It is read "
            "when a request goes to this profile's base URL, and only then; the name is "
            "stored, never the value."
        )
        self.headers = QPlainTextEdit(self)
        self.headers.setPlaceholderText("Extra headers, one per line: Name: value")
        self.headers.setMaximumHeight(60)
        self.error = QLabel(self)
        self.error.setObjectName("profileError")
        set_status(self.error, "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.save_button = QPushButton("Save provider", self)
        self.key = QLineEdit(self)
        self.key.setObjectName("profileKey")
        self.key.setAccessibleName("API key of this provider")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("paste a key; it goes to the OS keychain")
        self.save_key = QPushButton("Save key", self)
        self.delete_key = QPushButton("Delete key", self)
        self.key_status = QLabel(self)
        self.key_status.setObjectName("profileKeyStatus")
        self.key_status.setWordWrap(True)
        self.test_button = QPushButton("Test connection", self)
        self.test_result = QLabel(self)
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)

        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.reset_button):
            row.addWidget(button)
        left.addLayout(row)
        self.local_button = QPushButton("Set up a local model…", self)
        self.local_button.setObjectName("providersLocalSetup")
        self.local_button.setAccessibleName("Set up a local model")
        self.local_button.setToolTip("Install and run Gemma 3 270M here: no key, no cost")
        self.local_button.clicked.connect(self.localSetupRequested)
        left.addWidget(self.local_button)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Kind", self.kind)
        form.addRow("Base URL", self.base_url)
        form.addRow("API", self.api)
        form.addRow("", self.needs_key)
        form.addRow("Requests at once", self.max_concurrent)
        form.addRow("Key variable", self.key_env)
        form.addRow("Headers", self.headers)
        form.addRow("", self.error)
        form.addRow("", self.save_button)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.save_key)
        key_row.addWidget(self.delete_key)
        form.addRow("API key", key_row)
        form.addRow("", self.key_status)
        form.addRow("", self.test_button)
        form.addRow("", self.test_result)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(form, 1)

        self.list.selectionModel().currentChanged.connect(lambda *_: self._show_current())
        self.add_button.clicked.connect(self.add_profile)
        self.remove_button.clicked.connect(self.remove_current)
        self.reset_button.clicked.connect(self.reset_current)
        self.save_button.clicked.connect(self.save_current)
        self.save_key.clicked.connect(self.store_key)
        self.delete_key.clicked.connect(self.forget_key)
        self.test_button.clicked.connect(self.test_connection)
        self.reload()

    # ---- the list ------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        current = select or self.current_id()
        self.model.clear()
        for profile in self.store.profiles(include_hidden=True):
            notes = []
            if self.store.is_preset(profile.id):
                notes.append("edited" if self.store.is_overridden(profile.id) else "preset")
            if self.store.is_hidden(profile.id):
                notes.append("hidden")
            item = QStandardItem(profile.name + (f"  ({', '.join(notes)})" if notes else ""))
            item.setData(profile.id, ID_ROLE)
            item.setEditable(False)
            self.model.appendRow(item)
        row = next(
            (r for r in range(self.model.rowCount())
             if self.model.item(r).data(ID_ROLE) == current), 0,
        )  # fmt: skip
        if self.model.rowCount():
            self.list.setCurrentIndex(self.model.index(row, 0))
        self._show_current()

    def current_id(self) -> str | None:
        index = self.list.currentIndex()
        return str(index.data(ID_ROLE)) if index.isValid() else None

    def current(self) -> ProviderProfile | None:
        profile_id = self.current_id()
        return self.store.get(profile_id) if profile_id else None

    def _show_current(self) -> None:
        profile = self.current()
        self.error.hide()
        self.test_result.clear()
        if profile is None:
            return
        self.name.setText(profile.name)
        self.kind.setCurrentText(profile.kind)
        self.base_url.setText(profile.base_url)
        self.api.setCurrentText(profile.api)
        self.needs_key.setChecked(profile.needs_key)
        self.max_concurrent.setValue(profile.max_concurrent or 0)
        self.key_env.setText(profile.key_env)
        self.headers.setPlainText("\n".join(f"{k}: {v}" for k, v in profile.extra_headers.items()))
        preset = self.store.is_preset(profile.id)
        self.remove_button.setText(
            ("Show" if self.store.is_hidden(profile.id) else "Hide") if preset else "Remove"
        )
        self.reset_button.setEnabled(preset and self.store.is_overridden(profile.id))
        self._show_key_status(profile)

    def _show_key_status(self, profile: ProviderProfile) -> None:
        resolved = self.keys.resolve(profile.key_account, key_env=profile.key_env)
        text = {
            "keychain": "A key is stored in the OS keychain.",
            "session": "A key is kept in memory for this session only (no OS keychain).",
            "environment": f"Using the key from ${resolved.env_var}.",
            "none": "No key stored." if profile.needs_key else "No key needed.",
        }[resolved.source]
        if resolved.source == "none" and profile.key_env:
            text = f"No key: ${profile.key_env} is not set in PromptStudio's environment."
        problem = self.keys.keychain_problem()
        if problem:
            text += f" {problem}: a key typed here lasts for this session."
        self.key_status.setText(text)
        self.delete_key.setEnabled(resolved.source in ("keychain", "session"))

    # ---- editing ---------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for number, line in enumerate(self.headers.toPlainText().splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise InvalidProfile(f"Header line {number} needs the form Name: value.",
                                     field="extra_headers")  # fmt: skip
            headers[name.strip()] = value.strip()
        return headers

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def save_current(self) -> bool:
        """Validate the form and store it; a bad field is named and nothing is saved."""
        profile = self.current()
        if profile is None:
            return False
        try:
            changed = profile.with_changes(
                name=self.name.text(), kind=self.kind.currentText(),
                base_url=self.base_url.text(), api=self.api.currentText(),
                needs_key=self.needs_key.isChecked(), extra_headers=self._headers(),
                max_concurrent=self.max_concurrent.value() or None,
                key_env=self.key_env.text(),
            )  # fmt: skip
            self.store.update(changed)
        except PromptStudioError as exc:
            self._fail(exc.message)
            return False
        self.reload(select=changed.id)
        self.profilesChanged.emit()
        return True

    def add_profile(self) -> ProviderProfile | None:
        taken = {p.id for p in self.store.profiles(include_hidden=True)}
        number = next(n for n in range(1, 1000) if f"custom-{n}" not in taken)
        try:
            profile = ProviderProfile(
                id=f"custom-{number}", kind="openai-compatible", name=f"My server {number}",
                base_url="http://localhost:8080/v1", needs_key=False,
            )  # fmt: skip
            self.store.add(profile)
        except PromptStudioError as exc:
            self._fail(exc.message)
            return None
        self.reload(select=profile.id)
        self.name.setFocus()
        self.name.selectAll()
        self.profilesChanged.emit()
        return profile

    def remove_current(self) -> None:
        profile = self.current()
        if profile is None:
            return
        try:
            if self.store.is_preset(profile.id):
                self.store.hide(profile.id, not self.store.is_hidden(profile.id))
            else:
                self.store.remove(profile.id)
        except PromptStudioError as exc:
            self._fail(exc.message)
            return
        self.reload()
        self.profilesChanged.emit()

    def reset_current(self) -> None:
        profile = self.current()
        if profile is not None and self.store.is_overridden(profile.id):
            self.store.reset(profile.id)
            self.reload(select=profile.id)
            self.profilesChanged.emit()

    # ---- keys ------------------------------------------------------------------------------

    def store_key(self) -> None:
        profile = self.current()
        typed = self.key.text().strip()
        if profile is None or not typed:
            return
        try:
            self.keys.set(profile.key_account, typed)
        except PromptStudioError as exc:
            self._fail(exc.message)
            return
        finally:
            self.key.clear()
        self._show_key_status(profile)

    def forget_key(self) -> None:
        profile = self.current()
        if profile is None:
            return
        try:
            self.keys.delete(profile.key_account)
        except PromptStudioError as exc:
            self._fail(exc.message)
            return
        self._show_key_status(profile)

    def test_connection(self) -> None:
        profile = self.current()
        if profile is None:
            return
        if self.key.text().strip():
            self.store_key()
        key = self.keys.resolve(profile.key_account, key_env=profile.key_env).value
        endpoint = profile.to_endpoint(key)
        self.test_result.setText(f"Connecting to {profile.base_url}…")
        self.test_button.setEnabled(False)

        async def test() -> None:
            try:
                models = await list_models(endpoint, profile.kind, timeout=10)
            except ProviderError as exc:
                self.test_result.setText(f"✗ {exc.message}")
                return
            finally:
                self.test_button.setEnabled(True)
            shown = ", ".join(models[:8]) + (", …" if len(models) > 8 else "")
            self.test_result.setText(f"✓ Connected: {len(models)} models ({shown})")

        self.tasks.start("test-connection", test())
