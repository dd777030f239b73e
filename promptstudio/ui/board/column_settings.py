"""A run column's settings panel: server, model, key, API and the generation settings.

The generation settings are built in one loop over the core's parameter table
(``providers.param_rules.PARAM_RULES``): the ``main`` ones on one row, the rest under
"More". The panel reads and writes a :class:`~promptstudio.runs.columns.ColumnConfig`;
the column folds it away to a title line.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, TypeVar

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from promptstudio.providers import GenerationParams, ProviderProfile, supported_params
from promptstudio.providers.apis import API_TITLES
from promptstudio.providers.param_rules import PARAM_RULES
from promptstudio.runs.columns import ColumnConfig, column_api
from promptstudio.ui.board.param_editors import (
    FlagEdit,
    NumberEdit,
    ParamEditor,
    SchemaEdit,
    param_editor,
)

API_NAMES = {"chat": "Chat Completions", "responses": "Responses", "messages": "Anthropic Messages"}
API_ITEMS = (("auto", "Auto"), ("chat", "Chat Completions"), ("responses", "Responses"))
EditorKind = TypeVar("EditorKind", bound=QWidget)
MORE_PER_ROW = 2  # settings side by side under "More"


def profile_label(profile: ProviderProfile) -> str:
    return f"{profile.name} — {profile.base_url}"


class ColumnSettings(QWidget):
    """What folding hides: where the column sends, what it asks for, and how."""

    changed = Signal()  # anything in the column's configuration
    endpointChanged = Signal()
    modelsRequested = Signal()
    refused = Signal(str)  # a typed value that was not taken, and why

    def __init__(self, profiles: Sequence[ProviderProfile], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("columnSettings")
        self.profiles: list[ProviderProfile] = list(profiles)
        self.endpoint = QComboBox(self)
        self.endpoint.setObjectName("endpoint")
        self.endpoint.setEditable(True)
        self.endpoint.setAccessibleName("Server")
        self.endpoint.setToolTip(
            "A provider from Settings > Providers, or the base URL of any OpenAI-compatible "
            "server (including /v1)"
        )
        self.endpoint.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # Sized by a few characters, not by the longest "name — URL": that one alone made
        # every column 640 px wide and the window wider than a 1280 px screen.
        self.endpoint.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.endpoint.setMinimumContentsLength(12)
        self._fill_profiles()
        self.model = QLineEdit(self)
        self.model.setObjectName("model")
        self.model.setPlaceholderText("model name, e.g. llama3.2 or gpt-4o-mini")
        self.model_list = QStringListModel(self)
        completer = QCompleter(self.model_list, self.model)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.model.setCompleter(completer)
        self.models_button = QToolButton(self)
        self.models_button.setText("↻")
        self.models_button.setObjectName("fetchModels")
        self.models_button.setToolTip("Fetch the server's model list")
        self.models_button.setAccessibleName("Fetch the server's model list")
        self.models_button.clicked.connect(self.modelsRequested)
        self.models_status = QLabel(self)  # "fetching…", "12 models" or "no list"
        self.models_status.setObjectName("modelsStatus")
        self.models_status.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.key = QLineEdit(self)
        self.key.setObjectName("apiKey")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("optional; goes to the OS keychain")
        self.key_status = QLabel(self)
        self.key_status.setObjectName("keyStatus")
        self.key_status.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.api_choice = QComboBox(self)
        self.api_choice.setObjectName("apiChoice")
        for api, text in API_ITEMS:
            self.api_choice.addItem(text, api)
        self.api_choice.setAccessibleName("API")

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("&Server", self.endpoint)
        models = _row(self.model, self.models_button, self.models_status)
        form.addRow(self._buddy("&Model", self.model), models)
        form.addRow(self._buddy("API &key", self.key), _row(self.key, self.key_status))
        self.more_button = QToolButton(self)
        self.more_button.setText("More")
        self.more_button.setCheckable(True)
        self.more_button.setAccessibleName("More settings")
        self.more = QWidget(self)
        self.editors: dict[str, ParamEditor] = {}
        self._build_params(form)
        self.more_button.setToolTip(
            ", ".join(["API", *(n for n, r in PARAM_RULES.items() if not r.main)])
        )
        self.more.hide()
        self.more_button.toggled.connect(self.more.setVisible)
        self.endpoint.currentTextChanged.connect(self._on_endpoint)
        self.model.textChanged.connect(self._on_changed)
        self.api_choice.currentIndexChanged.connect(self._on_changed)

    def _buddy(self, text: str, widget: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(widget)
        return label

    def _build_params(self, form: QFormLayout) -> None:
        """One editor per setting of the table: the main ones on a row with "More", the
        others in a grid under it, on/off and JSON-schema ones on their own last line."""
        main = QHBoxLayout()
        grid = QGridLayout(self.more)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self._buddy("API", self.api_choice), 0, 0)
        grid.addWidget(self.api_choice, 0, 1, 1, 2 * MORE_PER_ROW - 1)
        switches = QHBoxLayout()
        cells = 0
        for name, rule in PARAM_RULES.items():
            editor = param_editor(name, rule, self)
            self.editors[name] = editor
            editor.paramChanged.connect(self._on_changed)
            if isinstance(editor, NumberEdit | SchemaEdit):
                editor.refused.connect(self.refused)
            if isinstance(editor, FlagEdit | SchemaEdit):
                switches.addWidget(editor)
            elif rule.main:
                main.addWidget(self._buddy(rule.label, editor))
                main.addWidget(editor)
            else:
                row, column = 1 + cells // MORE_PER_ROW, (cells % MORE_PER_ROW) * 2
                grid.addWidget(self._buddy(rule.label, editor), row, column)
                grid.addWidget(editor, row, column + 1)
                cells += 1
        switches.addStretch(1)
        grid.addLayout(switches, 2 + (cells - 1) // MORE_PER_ROW, 0, 1, 2 * MORE_PER_ROW)
        main.addWidget(self.more_button)
        main.addStretch(1)
        form.addRow(main)
        form.addRow(self.more)
        # Tab goes as the eye reads: the main row, "More", then what it shows.
        main_names = [name for name, rule in PARAM_RULES.items() if rule.main]
        order: list[QWidget] = [self.key, *(self.editors[name] for name in main_names)]
        order += [self.more_button, self.api_choice]
        order += [editor for name, editor in self.editors.items() if name not in main_names]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)

    # ---- the configuration -------------------------------------------------------------

    def editor(self, name: str, kind: type[EditorKind]) -> EditorKind:
        """The editor of the setting ``name``, which the table makes a ``kind``."""
        editor = self.editors[name]
        if not isinstance(editor, kind):
            raise TypeError(f"{name} is edited by a {type(editor).__name__}")
        return editor

    def params(self) -> GenerationParams:
        values: dict[str, Any] = {name: e.param_value() for name, e in self.editors.items()}
        return GenerationParams(**values)

    def config(self, column_id: str, samples: int = 1) -> ColumnConfig:
        profile = self.profile()
        return ColumnConfig(
            base_url=self.base_url(),
            model=self.model.text().strip(),
            params=self.params(),
            id=column_id,
            profile=profile.id if profile is not None else "",
            api=str(self.api_choice.currentData()),
            samples=samples,
        )

    def set_config(self, config: ColumnConfig) -> None:
        """Show ``config`` (its id and samples are the column's)."""
        endpoint = self.endpoint.currentText()
        self.blockSignals(True)  # one ``changed`` at the end, not one per setting
        self.select_endpoint(config.profile, config.base_url)
        self.model.setText(config.model)
        self.api_choice.setCurrentIndex(max(0, self.api_choice.findData(config.api)))
        for name, editor in self.editors.items():
            editor.set_param_value(getattr(config.params, name))
        self.blockSignals(False)
        extras = set(config.params.set_names()) - {n for n, r in PARAM_RULES.items() if r.main}
        if extras or config.api != "auto":
            self.more_button.setChecked(True)
        self._on_changed()
        if self.endpoint.currentText() != endpoint:
            self.endpointChanged.emit()

    # ---- providers ---------------------------------------------------------------------

    def _fill_profiles(self) -> None:
        self.endpoint.blockSignals(True)
        text = self.endpoint.currentText()
        self.endpoint.clear()
        for profile in self.profiles:
            self.endpoint.addItem(profile_label(profile), profile.id)
            self.endpoint.setItemData(
                self.endpoint.count() - 1, profile.base_url, Qt.ItemDataRole.ToolTipRole
            )
        self.endpoint.setCurrentText(text)
        self.endpoint.blockSignals(False)

    def set_profiles(self, profiles: Sequence[ProviderProfile]) -> None:
        """New or edited providers (from settings); keep what this column points at."""
        profile, base_url = self.profile(), self.base_url()
        self.profiles[:] = profiles  # in place: the column shares the list
        self._fill_profiles()
        self.select_endpoint(profile.id if profile else "", base_url)

    def profile(self) -> ProviderProfile | None:
        """The chosen provider, or None when a base URL was typed."""
        text = self.endpoint.currentText().strip()
        return next((p for p in self.profiles if profile_label(p) == text), None)

    def base_url(self) -> str:
        profile = self.profile()
        return profile.base_url if profile is not None else self.endpoint.currentText().strip()

    def select_endpoint(self, profile_id: str, base_url: str) -> None:
        chosen = next((p for p in self.profiles if p.id == profile_id), None)
        if chosen is None:  # a typed URL that one of the providers serves counts as it
            url = base_url.rstrip("/")
            chosen = next((p for p in self.profiles if p.base_url == url), None)
        self.endpoint.setCurrentText(profile_label(chosen) if chosen else base_url)

    def api(self) -> str:
        """The API this column will speak: chat, responses or messages."""
        return column_api(self.config(""), self.profiles)

    # ---- the model list ----------------------------------------------------------------

    def models_fetching(self) -> None:
        self.models_button.setEnabled(False)
        self._show_models_status("fetching…", "Fetching the server's model list…")

    def models_failed(self, message: str) -> None:
        self.models_button.setEnabled(True)
        self._show_models_status("no list", f"Could not list the models: {message}")

    def _show_models_status(self, short: str, long: str) -> None:
        self.models_status.setText(short)
        self.models_status.setToolTip(long)
        self.models_status.setAccessibleName(long)
        self.models_button.setAccessibleDescription(long)

    def set_models(self, models: Sequence[str]) -> None:
        self.models_button.setEnabled(True)
        self.model_list.setStringList(list(models))
        self.models_button.setToolTip(f"{len(models)} models; fetch the list again")
        count = f"{len(models)} model{'s' if len(models) != 1 else ''}"
        self._show_models_status(count, f"{count} at this server; type to pick one")
        if models and self.model.hasFocus():
            self.model.completer().complete()

    # ---- changes -----------------------------------------------------------------------

    def _on_endpoint(self, _text: str) -> None:
        self._on_changed()
        self.endpointChanged.emit()

    def _on_changed(self, *_args: object) -> None:
        if self.signalsBlocked():
            return
        self._show_api()
        self.changed.emit()

    def _show_api(self) -> None:
        """Name the API "Auto" resolves to, and grey out what the API cannot carry (it would
        be refused on sending)."""
        profile = self.profile()
        kind = profile.kind if profile is not None else "openai-compatible"
        fixed = kind == "anthropic"  # Messages only: no other choice can be made (or sent)
        if fixed and self.api_choice.currentData() != "auto":
            self.api_choice.blockSignals(True)
            self.api_choice.setCurrentIndex(0)
            self.api_choice.blockSignals(False)
        api = self.api()
        title = API_NAMES.get(api, api)
        self.api_choice.setItemText(0, f"Auto: {title}")
        self.api_choice.setEnabled(not fixed)
        self.api_choice.setToolTip(
            "Anthropic providers speak the Messages API only."
            if fixed
            else f"The API requests go over; Auto: the provider's choice ({API_TITLES[api]})."
        )
        supported = supported_params(api, kind)
        for name, editor in self.editors.items():
            editor.setEnabled(name in supported)
            tip = PARAM_RULES[name].tip
            editor.setToolTip(tip if name in supported else f"Not available with the {title} API")


def _row(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    for index, widget in enumerate(widgets):
        row.addWidget(widget, 1 if index == 0 else 0)
    return row
