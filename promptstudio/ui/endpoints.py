"""Where the columns send: their keys, the key status they show, prices, model lists and
the SDKs warmed up ahead of a run.

Every lookup goes through ``runs.columns`` (the path the CLI and the evaluation take too):
a column's key account (:func:`column_key`), its endpoint and its run target.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from promptstudio.credentials import KeyStore
from promptstudio.providers import Endpoint, ModelCache, ProviderError, ProviderProfile, prepare
from promptstudio.providers.pricing import PriceTable, parse_price_overrides
from promptstudio.runs import RunTarget, ServerLimits
from promptstudio.runs.columns import (
    ColumnConfig,
    ColumnError,
    RunDefaults,
    column_endpoint,
    column_key,
    column_profile,
    run_target,
)
from promptstudio.runs.worker import RunWorker
from promptstudio.session import Session
from promptstudio.settings.store import SettingsStore
from promptstudio.ui.board.run_board import RunBoard
from promptstudio.ui.status import StatusNotifier
from promptstudio.ui.tasks import TaskOwner

if TYPE_CHECKING:  # the evaluation's checks are imported when an evaluation starts
    from promptstudio.evals.cache import AnswerCache
    from promptstudio.evals.checks_model import CheckTools

KEY_STATUS_DELAY_MS = 250  # a typed base URL is looked up once the typing pauses


class Endpoints(QObject):
    def __init__(
        self,
        session: Session,
        board: RunBoard,
        keys: KeyStore,
        settings: SettingsStore,
        worker: RunWorker,
        tasks: TaskOwner,
        notifier: StatusNotifier,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session, self.board, self.keys, self.settings = session, board, keys, settings
        self.worker, self.tasks, self.notifier = worker, tasks, notifier
        # Every run takes its turn at a server here (one request at a time to a local one).
        self.limits = ServerLimits()
        self.models = ModelCache()
        self._prices: PriceTable | None = None
        self._new_columns: set[str] = set()  # added to the board, not yet in the session
        self._key_timer = QTimer(self)
        self._key_timer.setSingleShot(True)
        self._key_timer.setInterval(KEY_STATUS_DELAY_MS)
        self._key_timer.timeout.connect(lambda: self.update_key_status())
        board.endpointChanged.connect(lambda _id: self._key_timer.start())
        board.endpointChanged.connect(lambda _id: self.preload_sdks())
        board.columnAdded.connect(self._new_columns.add)
        board.modelsRequested.connect(self.fetch_models)
        session.events.columns.connect(lambda _change: self._show_new_columns())
        board.configChanged.connect(self._show_new_columns)  # also when the same settings

    @property
    def profiles(self) -> Sequence[ProviderProfile]:
        """The providers the columns can name (the presets and the user's own)."""
        return self.board.profiles

    # ---- keys ------------------------------------------------------------------------------

    def _show_new_columns(self) -> None:
        """A new column shows where its key comes from as soon as the session has it."""
        for column_id in list(self._new_columns):
            if self.session.column(column_id) is not None:
                self._new_columns.discard(column_id)
                self.update_key_status(column_id)

    def update_key_status(self, column_id: str | None = None) -> None:
        columns = self.session.columns
        if column_id is not None:
            columns = tuple(c for c in columns if c.id == column_id)
        problem = self.keys.keychain_problem()
        for config in columns:
            account, key_env = self._key_of(config)
            resolved = self.keys.resolve(account, key_env=key_env)
            short, long = {
                "keychain": ("keychain", "Using the key stored in the OS keychain."),
                "session": ("this session", "Using a key kept in memory for this session only."),
                "environment": (f"${resolved.env_var}", f"Using the key from ${resolved.env_var}."),
                "none": ("no key", "No key: requests go without one (fine for local servers)."),
            }[resolved.source]
            if resolved.source == "none" and key_env:
                long = f"No key: ${key_env} is not set in PromptStudio's environment."
            if problem:
                long += f" {problem}: a typed key is kept for this session only."
            self.board.column(config.id).show_key_status(short, long)

    def _key_of(self, config: ColumnConfig) -> tuple[str, str]:
        try:
            return column_key(config, self.profiles)
        except ColumnError:  # a provider that no longer exists, and no URL: no key
            return "", ""

    def take_typed_key(self, column_id: str) -> None:
        """A key typed into a column goes to the keychain (or this session) at once."""
        config = self.session.column(column_id)
        typed = self.board.column(column_id).take_typed_key()
        if not typed or config is None:
            return
        account = self._key_of(config)[0]
        where = self.keys.set(account, typed)
        self.notifier.say(
            "Key stored in the OS keychain."
            if where == "keychain"
            else f"{self.keys.keychain_problem() or 'No OS keychain is available'}: the key "
            "is kept in memory for this session only."
        )
        for other in self.session.columns:
            if self._key_of(other)[0] == account:
                self.update_key_status(other.id)

    # ---- requests ----------------------------------------------------------------------------

    def run_defaults(self) -> RunDefaults:
        """The settings' run defaults and timeouts, as they are now."""
        return RunDefaults.from_settings(self.settings.get)

    def run_target(self, config: ColumnConfig) -> RunTarget:
        """The request the column makes now (a key typed into it stored first): the one
        path shared with the CLI and the evaluation, ``runs.columns.run_target``."""
        self.take_typed_key(config.id)
        return run_target(config, self.profiles, self.keys, self.run_defaults())

    def check_tools(self, cache: AnswerCache) -> CheckTools:
        """Embeddings and code checks for an evaluation, as the settings say now."""
        from promptstudio.evals.check_tools import check_tools

        return check_tools(
            self.settings.get,
            profiles=self.profiles,
            keys=self.keys,
            cache=cache,
            run_code=self.settings.get("checks.run_code") is True,
        )

    @property
    def prices(self) -> PriceTable:
        """The price table, read on first use (it is data in resources/)."""
        if self._prices is None:
            overrides = parse_price_overrides(str(self.settings.get("prices.overrides") or ""))
            self._prices = PriceTable.load(overrides)
        return self._prices

    def forget_prices(self) -> None:
        """Read the prices again (the user changed the overrides)."""
        self._prices = None

    def preload_sdks(self) -> None:
        """Import and warm up the SDKs the columns speak, on the run worker's threads.

        ``import anthropic`` alone takes ~1 s: done here, ahead of the first run, it delays
        neither that run nor the window (the run engine would otherwise do it then).
        """
        if not self.worker.running:
            return
        wanted = []
        for config in self.session.columns:
            try:
                profile = column_profile(config, self.profiles)
            except ColumnError:
                continue
            endpoint = profile.to_endpoint(None) if profile else Endpoint(config.base_url)
            wanted.append((endpoint, config.model))

        async def preload() -> None:
            for endpoint, model in wanted:
                await prepare(endpoint, model)

        self.worker.submit(preload())

    def fetch_models(self, column_id: str) -> None:
        """Ask the column's server for its models (on the run worker) and offer them."""
        column, config = self.board.column(column_id), self.session.column(column_id)
        if config is None:
            return
        try:
            endpoint = column_endpoint(config, self.profiles, self.keys, self.run_defaults())
        except ColumnError as exc:
            column.models_failed(exc.message)
            return

        async def fetch() -> None:
            try:
                future = self.worker.submit(self.models.get(endpoint, refresh=True))
                models = await asyncio.wrap_future(future)
            except ProviderError as exc:
                column.models_failed(exc.message)
                return
            finally:
                column.models_stopped()  # also when cancelled
            column.set_models(models)
            self.notifier.say(f"{len(models)} models at {endpoint.label}")

        column.models_fetching()
        self.tasks.start(f"models:{column_id}", fetch())
