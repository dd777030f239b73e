"""The prompt being edited: load, analyse, save, run and store.

The main window only assembles panes; this controller holds the flow between them and the
core. Every database call goes through the store's single owner thread (``acall``), and
every coroutine runs under the :class:`TaskOwner`, never as a bare ``asyncSlot``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from promptstudio import templating
from promptstudio.chat import Message
from promptstudio.credentials import KeyStore
from promptstudio.providers import Endpoint, ModelCache, ProviderError, prepare
from promptstudio.providers.pricing import PriceTable, parse_price_overrides
from promptstudio.runs import RunSession, RunTarget, ServerLimits, TargetStatus
from promptstudio.runs.checkpoint import ResponseCheckpoints
from promptstudio.runs.columns import ColumnError, RunDefaults, column_endpoint, run_target
from promptstudio.runs.worker import RunWorker
from promptstudio.settings.profiles import ProfileStore
from promptstudio.settings.store import SettingsStore
from promptstudio.storage import Database, LibraryWriteError, library
from promptstudio.storage.library import VersionKind, VersionRow
from promptstudio.ui.board.preview_dialog import ColumnPreview, PreviewDialog
from promptstudio.ui.board.run_board import RunBoard, split_key, target_key
from promptstudio.ui.board.run_column import ColumnConfig, RunColumn
from promptstudio.ui.editor.template_editor import TemplateEditor
from promptstudio.ui.editor.variables_form import VariablesForm
from promptstudio.ui.library.library_pane import LibraryPane
from promptstudio.ui.tasks import TaskOwner

log = logging.getLogger(__name__)
ANALYSIS_DELAY_MS = 150
# Longer templates are analysed off the GUI thread, so typing never waits for Jinja.
INLINE_ANALYSIS_CHARS = 100_000
DRAFT_DELAY_MS = 1500


class Workspace(QObject):
    titleChanged = Signal(str)
    statusMessage = Signal(str)
    analysed = Signal(object)  # TemplateError | None
    runStored = Signal(int)  # response id, once an answer is in the database
    runFinished = Signal(int)  # run id, once every answer of a run is stored
    libraryLoaded = Signal()
    promptOpened = Signal(int)  # prompt id, once its latest version is in the editor
    draftSaved = Signal(int)  # prompt id, once unsaved edits are safe in the database
    versionsChanged = Signal(int)  # prompt id: a version was saved, run or restored

    def __init__(
        self,
        db: Database,
        keys: KeyStore,
        settings: SettingsStore,
        prompts: LibraryPane,
        editor: TemplateEditor,
        variables: VariablesForm,
        board: RunBoard,
        tasks: TaskOwner,
        worker: RunWorker,
        profiles: ProfileStore,
    ) -> None:
        super().__init__(editor)
        self.db, self.keys, self.settings, self.tasks = db, keys, settings, tasks
        self.worker = worker  # streams are received and parsed there, off the GUI thread
        # Every run takes its turn at a server here (one request at a time to a local one).
        self.limits = ServerLimits()
        self.profiles = profiles
        self.models = ModelCache()
        self._prices: PriceTable | None = None
        self.prompts, self.editor, self.variables, self.board = prompts, editor, variables, board
        self.prompt_id: int | None = None
        self.replace_question: QMessageBox | None = None  # "replace unsaved edits?"
        self.prompt_name = ""
        self.error: templating.TemplateError | None = None
        self._saved: tuple[str, dict[str, object], dict[str, Any]] | None = None
        # What the library brings back for this prompt (its latest version or its draft):
        # a draft is written whenever the editor differs from it, dirty or not.
        self._stored: tuple[str, dict[str, object], dict[str, Any]] | None = None
        self._draft_failure: str | None = None  # the last autosave failure, shown once
        self._runs: list[RunRecord] = []
        self._run_number = 0
        self._analysis = QTimer(self)
        self._analysis.setSingleShot(True)
        self._analysis.setInterval(ANALYSIS_DELAY_MS)
        self._analysis.timeout.connect(self.analyse)
        self._analysis_run = 0
        self._analysed_text: str | None = None
        self._resnapshot: int | None = None  # the analysis run that re-takes the snapshot
        self._key_timer = QTimer(self)
        self._key_timer.setSingleShot(True)
        self._key_timer.setInterval(250)
        self._key_timer.timeout.connect(lambda: self.update_key_status())
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self._save_draft_soon)
        for edited in (editor.textChanged, variables.valuesChanged, board.configChanged):
            edited.connect(self._draft_timer.start)
        editor.textChanged.connect(self._analysis.start)
        variables.valuesChanged.connect(self._emit_title)
        board.runAllRequested.connect(lambda: self.run())
        board.stopAllRequested.connect(lambda: self.stop())
        board.runColumnRequested.connect(self.run)
        board.stopColumnRequested.connect(self.stop)
        board.endpointChanged.connect(lambda _id: self._key_timer.start())
        board.endpointChanged.connect(lambda _id: self.preload_sdks())
        # Once the window shows the library, the SDKs load on the run worker.
        self.libraryLoaded.connect(lambda: QTimer.singleShot(0, self, self.preload_sdks))
        board.previewRequested.connect(self.preview)
        board.modelsRequested.connect(self.fetch_models)
        board.columnAdded.connect(self.update_key_status)
        board.configChanged.connect(self._emit_title)
        self.known: dict[int, str] = {}  # prompt names, for menus (kept by load_library)
        prompts.promptSelected.connect(self.open_prompt)
        prompts.promptCreated.connect(self.open_prompt)
        prompts.versionRequested.connect(
            lambda _prompt_id, version_id: self.tasks.start(
                "open-version", self.open_version(version_id, ask=True)
            )
        )
        prompts.promptRenamed.connect(self._on_renamed)
        prompts.promptTrashed.connect(self._on_trashed)
        prompts.statusMessage.connect(self.statusMessage)

    # ---- state ---------------------------------------------------------------------------

    def flush_analysis(self, *, wait: bool = True) -> None:
        """Bring the variables form up to date with the text before anything reads it.

        A big template is analysed on a worker thread (Jinja takes seconds on a megabyte);
        ``wait`` (a run, a save, an export) analyses it here instead if the result is not
        in yet, while a draft save (``wait=False``) goes on with the names it has.
        """
        if self._analysis.isActive():
            self.analyse(in_background=not wait)
        elif wait and self._analysed_text != self.editor.toPlainText():
            self.analyse(in_background=False)

    def snapshot(self) -> tuple[str, dict[str, object], dict[str, Any]]:
        return (
            self.editor.toPlainText(),
            self.variables.values(),
            {"columns": [config.to_dict() for config in self.board.configs()]},
        )

    @property
    def dirty(self) -> bool:
        return self.prompt_id is not None and self.snapshot() != self._saved

    @property
    def running(self) -> bool:
        return bool(self._runs)

    def _emit_title(self) -> None:
        mark = " •" if self.dirty else ""
        self.titleChanged.emit(f"{self.prompt_name}{mark}" if self.prompt_id else "")

    # ---- analysis (debounced, on the GUI thread: parsing is fast) ---------------------------

    def analyse(self, *, in_background: bool = True) -> None:
        self._analysis.stop()
        source = self.editor.toPlainText()
        self._analysis_run += 1
        if in_background and len(source) > INLINE_ANALYSIS_CHARS:
            self.tasks.start("analysis", self._analyse_in_thread(source, self._analysis_run))
            return
        self._show_analysis(source, *_analysed(source))

    async def _analyse_in_thread(self, source: str, run: int) -> None:
        result = await asyncio.to_thread(_analysed, source)
        if run == self._analysis_run:  # else the text changed again: a newer run follows
            self._show_analysis(source, *result)

    def _show_analysis(
        self, source: str, names: list[str] | None, error: templating.TemplateError | None
    ) -> None:
        self._analysed_text = source
        if names is not None:
            self.variables.set_names(names)
            self.editor.highlighter.set_variables(frozenset(names))
        saved, run = self._saved, self._resnapshot
        self._resnapshot = None
        if saved is not None and run == self._analysis_run and source == saved[0]:
            now = self.snapshot()
            if now[2] == saved[2]:  # nothing was edited while the names were read
                if self._stored == saved:
                    self._stored = now
                self._saved = now
        self.error = error
        if error is None:
            self.editor.set_error(None)
        else:
            self.editor.set_error(error.line, error.column)
        self._emit_title()  # here, debounced: "unsaved" needs a snapshot, too much per key
        self.analysed.emit(error)

    # ---- library -------------------------------------------------------------------------

    async def load_library(self, select: int | None = None) -> None:
        """Read the library, show it, and open ``select`` (else the open or first prompt)."""
        rows = await self.db.acall(library.list_prompts)
        self.known = {row.id: row.name for row in rows}
        self.prompts.refresh()
        target = next(
            (p for p in (select, self.prompt_id) if p is not None and p in self.known),
            rows[0].id if rows else None,
        )
        if target is not None and target != self.prompt_id:
            await self._open(target)
        if target is not None:
            self.prompts.select_prompt(target)
        self.libraryLoaded.emit()

    def _on_renamed(self, prompt_id: int, name: str) -> None:
        self.known[prompt_id] = name
        if prompt_id == self.prompt_id:
            self.prompt_name = name
            self._emit_title()

    def _on_trashed(self, prompt_id: int) -> None:
        self.known.pop(prompt_id, None)
        if prompt_id == self.prompt_id:
            self.tasks.start("trashed", self._leave_trashed())

    async def _leave_trashed(self) -> None:
        """The open prompt went to the trash: keep its unsaved edits, open another."""
        await self._flush_draft()
        self.prompt_id, self._saved = None, None
        await self.load_library()
        if self.prompt_id is None:
            self._show_version(None)
            self.prompt_name = ""
            self._emit_title()

    def open_prompt(self, prompt_id: int) -> None:
        if prompt_id != self.prompt_id:
            self.tasks.start("open", self._open(prompt_id))

    async def _open(self, prompt_id: int) -> None:
        await self._flush_draft()
        prompt = await self.db.acall(library.get_prompt, prompt_id)
        version = await self.db.acall(library.latest_version, prompt_id)
        draft = await self.db.acall(library.load_draft, prompt_id)
        self.prompt_id, self.prompt_name = prompt.id, prompt.name
        self._show_version(version)
        if draft is not None:
            self._show_content(draft.template, draft.variables, draft.settings)
            self._stored = self.snapshot()
            when = draft.updated_at[:16].replace("T", " ")
            self.statusMessage.emit(f"Restored unsaved changes to “{prompt.name}” ({when} UTC)")
        else:
            self.statusMessage.emit(f"Opened “{prompt.name}”")
        self._draft_timer.stop()
        self._emit_title()
        self.promptOpened.emit(prompt.id)

    def _show_version(self, version: VersionRow | None) -> None:
        if version is None:
            self._show_content("", {}, {})
        else:
            self._show_content(version.template, version.variables, version.settings)
        self._saved = self._stored = self.snapshot()
        # A long text's names arrive later (worker thread); the snapshot is taken again
        # then, so an untouched prompt does not look edited.
        self._resnapshot = self._analysis_run if self.tasks.is_running("analysis") else None
        self._emit_title()
        self.update_key_status()

    def _show_content(
        self, template: str, variables: dict[str, Any], settings: dict[str, Any]
    ) -> None:
        self.editor.setPlainText(template)
        self.analyse()
        self.variables.set_values(variables)
        columns = settings.get("columns") or []
        # Fresh columns (the board's own layout if the version has none): answers and their
        # summary belong to the prompt that was run.
        configs = [ColumnConfig.from_dict(c) for c in columns]
        self.board.set_configs(configs if columns else self.board.configs())

    # ---- drafts: unsaved edits survive a switch, a close and a crash ------------------------

    @property
    def _unstored(self) -> bool:
        """The editor differs from what the library would bring back (even when saved)."""
        return self.prompt_id is not None and self.snapshot() != self._stored

    def _save_draft_soon(self) -> None:
        if self._unstored:
            self.tasks.start("draft", self._flush_draft())

    async def _flush_draft(self) -> None:
        self._draft_timer.stop()
        if not self._unstored or self.prompt_id is None:
            return
        self.flush_analysis(wait=False)  # a value is only ever typed for a known name
        prompt_id = self.prompt_id
        template, values, settings = snapshot = self.snapshot()
        try:
            await self.db.acall(library.save_draft, prompt_id, template, values, settings)
        except LibraryWriteError as exc:  # said once, not at every pause in typing
            if exc.message == self._draft_failure:
                log.warning("draft not saved: %s", exc.message)
                return
            self._draft_failure = exc.message
            raise
        self._draft_failure = None
        if prompt_id == self.prompt_id:
            self._stored = snapshot
        self.draftSaved.emit(prompt_id)

    async def new_prompt(self) -> None:
        await self._flush_draft()
        existing = {row.name for row in await self.db.acall(library.list_prompts)}
        name = next(f"Untitled {n}" for n in range(1, 10_000) if f"Untitled {n}" not in existing)
        prompt = await self.db.acall(library.create_prompt, name)
        self.prompt_id, self.prompt_name = prompt.id, prompt.name
        self.known[prompt.id] = prompt.name
        self._show_version(None)
        self.prompts.refresh()
        self.prompts.select_prompt(prompt.id)
        self.editor.setFocus()
        self.promptOpened.emit(prompt.id)

    async def restore(self, version_id: int) -> VersionRow:
        """Make an old version the newest one (a new version; history is never rewritten).

        Unsaved edits are kept first as a version of their own, so nothing is lost."""
        assert self.prompt_id is not None
        old = await self.db.acall(library.get_version, version_id)
        if self.dirty:
            await self._save(message=f"Before restoring version {old.number}")
        restored = await self.db.acall(library.restore_version, version_id)
        self._show_version(restored)
        self._emit_title()
        self.statusMessage.emit(f"Restored version {old.number} as version {restored.number}")
        self.versionsChanged.emit(self.prompt_id)
        return restored

    async def open_version(self, version_id: int, *, ask: bool = False) -> None:
        """Put an old version in the editor as unsaved edits (save to keep them).

        With ``ask`` (a search hit), unsaved edits are not replaced without a yes; the
        question is non-modal, and a yes keeps the edits as a version first.
        """
        version = await self.db.acall(library.get_version, version_id)
        if version.prompt_id != self.prompt_id:
            await self._open(version.prompt_id)
            self.prompts.select_prompt(version.prompt_id)
        if ask and self.dirty:
            self.replace_question = self._ask_to_replace(version)
            return
        self._put_in_editor(version)

    def _put_in_editor(self, version: VersionRow) -> None:
        self._show_content(version.template, version.variables, version.settings)
        self._emit_title()
        self.statusMessage.emit(f"Version {version.number} is in the editor; Ctrl+S keeps it")

    def _ask_to_replace(self, version: VersionRow) -> QMessageBox:
        buttons = QMessageBox.StandardButton
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Open this version",
            f"The editor has unsaved edits. Open version {version.number} in their place?\n\n"
            "Your edits are kept as a version of their own first.",
            buttons.Open | buttons.Cancel,
            self.editor.window(),
        )
        box.setObjectName("replaceEditsQuestion")
        box.setDefaultButton(buttons.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(
            lambda clicked: (
                self.tasks.start("open-version", self._replace(version))
                if clicked is box.button(buttons.Open)
                else None
            )
        )
        box.open()
        return box

    async def _replace(self, version: VersionRow) -> None:
        if version.prompt_id != self.prompt_id:
            return  # another prompt was opened while the question was up
        if self.dirty:
            await self._save(message=f"Before opening version {version.number}")
            self.versionsChanged.emit(version.prompt_id)
        self._put_in_editor(version)

    async def trash_current(self) -> None:
        if self.prompt_id is None:
            return
        prompt_id, name = self.prompt_id, self.prompt_name
        await self.db.acall(library.trash_prompt, prompt_id)
        self.statusMessage.emit(f"Moved “{name}” to the trash")
        self._on_trashed(prompt_id)

    async def save(self, message: str = "") -> None:
        """Ctrl+S: a new version, named by its number in the prompt ("v4"), as in History."""
        if self.prompt_id is None:
            await self.new_prompt()
        assert self.prompt_id is not None
        latest = await self.db.acall(library.latest_version_id, self.prompt_id)
        version = await self._save(message=message)
        if version.id == latest and not message:
            self.statusMessage.emit(f"No changes since v{version.number}")
            return
        self.versionsChanged.emit(version.prompt_id)
        self.statusMessage.emit(f"Saved v{version.number}" + (f": {message}" if message else ""))

    async def _save(self, *, message: str = "", kind: VersionKind = "save") -> VersionRow:
        assert self.prompt_id is not None
        self.flush_analysis()
        template, values, settings = snapshot = self.snapshot()
        version = await self.db.acall(
            library.save_version, self.prompt_id, template, values, settings,
            message=message, kind=kind, from_editor=True,
        )  # fmt: skip
        self._saved = self._stored = snapshot
        self._emit_title()
        return version

    def save_on_exit(self) -> None:
        """Blocking: called from closeEvent, when the event loop may not run again."""
        for record in list(self._runs):
            self._store_partial_sync(record)
        self._analysis.stop()  # the draft keeps the text; values exist only for known names
        self._draft_timer.stop()
        if self._unstored and self.prompt_id is not None:
            template, values, settings = self.snapshot()
            self.db.call(library.save_draft, self.prompt_id, template, values, settings)

    # ---- keys ------------------------------------------------------------------------------

    def update_key_status(self, column_id: str | None = None) -> None:
        columns = self.board.columns if column_id is None else [self.board.column(column_id)]
        problem = self.keys.keychain_problem()
        for column in columns:
            resolved = self.keys.resolve(key_account(column), key_env=key_env(column))
            short, long = {
                "keychain": ("keychain", "Using the key stored in the OS keychain."),
                "session": ("this session", "Using a key kept in memory for this session only."),
                "environment": (f"${resolved.env_var}", f"Using the key from ${resolved.env_var}."),
                "none": ("no key", "No key: requests go without one (fine for local servers)."),
            }[resolved.source]
            if resolved.source == "none" and key_env(column):
                long = f"No key: ${key_env(column)} is not set in PromptStudio's environment."
            if problem:
                long += f" {problem}: a typed key is kept for this session only."
            column.key_status.setText(short)
            column.key_status.setToolTip(long)
            column.key.setToolTip(long)

    def take_typed_key(self, column: RunColumn) -> None:
        """A key typed into a column goes to the keychain (or this session) at once."""
        typed = column.key.text().strip()
        if not typed:
            return
        where = self.keys.set(key_account(column), typed)
        column.key.clear()
        self.statusMessage.emit(
            "Key stored in the OS keychain."
            if where == "keychain"
            else f"{self.keys.keychain_problem() or 'No OS keychain is available'}: the key "
            "is kept in memory for this session only."
        )
        for other in self.board.columns:
            if key_account(other) == key_account(column):
                self.update_key_status(other.column_id)

    # ---- runs ------------------------------------------------------------------------------

    def run(self, column_id: str | None = None) -> None:
        """Run one column, or every column that is not already running."""
        self.flush_analysis()
        board = self.board
        wanted = [board.column(column_id)] if column_id else list(board.columns)
        columns = [c for c in wanted if c.column_id not in self._running_columns()]
        if not columns:
            self.statusMessage.emit("Already running: Esc stops it.")
            return
        messages = self._render(columns)
        if messages is None:
            return
        targets: list[RunTarget] = []
        for column in columns:
            config = column.config()
            if not config.base_url or not config.model:
                column.fail_before_start("Choose an endpoint and type a model name first.")
                continue
            self.take_typed_key(column)
            target = self.run_target(column)
            keys = [target_key(column.column_id, n) for n in range(config.samples)]
            targets += [replace(target, key=key) for key in keys]
        if not targets:
            return
        checkpoints = ResponseCheckpoints(self.db, messages)  # a crash keeps what had arrived
        session = RunSession(
            messages, targets, on_update=checkpoints.watching(board.on_update),
            price_table=self.prices, limits=self.limits,
        )  # fmt: skip
        record = RunRecord(session, messages, checkpoints)
        self._runs.append(record)
        board.begin(record.column_ids)
        self._run_number += 1
        self.tasks.start(f"run:{self._run_number}", self._run(record))

    def _render(self, columns: Sequence[RunColumn] = ()) -> list[Message] | None:
        """The messages to send, or None after showing the template error where it is."""
        try:
            return templating.render_messages(self.editor.toPlainText(), self.variables.values())
        except templating.TemplateError as exc:
            if isinstance(exc, templating.NothingToSend):  # no spot in the editor to mark
                problem = "Nothing to send: the template renders to no messages."
            else:
                self.editor.set_error(exc.line, exc.column)
                problem = f"Template error at {exc.location()}: {exc.message}"
            self.statusMessage.emit(problem)
            for column in columns:
                column.fail_before_start(problem)
            return None

    def preview(self, column_id: str | None = None) -> PreviewDialog | None:
        """Show the exact messages the columns would send now (non-modal)."""
        self.flush_analysis()
        messages = self._render()
        if messages is None:
            return None
        columns = [ColumnPreview(c.config(), c.api(), self.prices) for c in self.board.columns]
        dialog = PreviewDialog(messages, columns, self.editor.window(), focus=column_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def stop(self, column_id: str | None = None) -> None:
        for record in self._runs:
            if column_id is None:
                self.worker.call(record.session.cancel)
                continue
            for key in record.session.results:
                if split_key(key)[0] == column_id:
                    self.worker.call(record.session.cancel, key)

    def _running_columns(self) -> set[str]:
        return {c for record in self._runs for c in record.column_ids}

    def run_target(self, column: RunColumn) -> RunTarget:
        """The request the column makes now: the one path shared with the CLI and the
        evaluation (``runs.columns.run_target``), with the settings' run defaults."""
        return run_target(column.config(), column.profiles, self.keys, self.run_defaults())

    def run_defaults(self) -> RunDefaults:
        """The settings' run defaults and timeouts, as they are now."""
        return RunDefaults.from_settings(self.settings.get)

    def preload_sdks(self) -> None:
        """Import and warm up the SDKs the columns speak, on the run worker's threads.

        ``import anthropic`` alone takes ~1 s: done here, ahead of the first run, it delays
        neither that run nor the window (the run engine would otherwise do it then).
        """
        if not self.worker.running:
            return
        wanted = []
        for column in self.board.columns:
            profile = column.profile()
            endpoint = profile.to_endpoint(None) if profile else Endpoint(column.base_url())
            wanted.append((endpoint, column.config().model))

        async def preload() -> None:
            for endpoint, model in wanted:
                await prepare(endpoint, model)

        self.worker.submit(preload())

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

    def fetch_models(self, column_id: str) -> None:
        """Ask the column's server for its models (on the run worker) and offer them."""
        column = self.board.column(column_id)
        try:
            endpoint = column_endpoint(
                column.config(), column.profiles, self.keys, self.run_defaults()
            )
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
                column.models_button.setEnabled(True)  # also when cancelled
            column.set_models(models)
            self.statusMessage.emit(f"{len(models)} models at {endpoint.label}")

        column.models_fetching()
        self.tasks.start(f"models:{column_id}", fetch())

    async def save_for_run(self) -> VersionRow:
        """The version a run or an evaluation belongs to: what is in the editor now."""
        if self.prompt_id is None:
            await self.new_prompt()
        return await self._save(kind="run")

    async def _run(self, record: RunRecord) -> None:
        """Snapshot the version and the run first, then stream, then store the answers."""
        try:
            version = await self.save_for_run()
            run_row = await self.db.acall(library.record_run, version.id, self.variables.values())
            record.run_id = run_row.id
            record.checkpoints.start(run_row.id)
            results = await asyncio.wrap_future(self.worker.submit(record.session.run()))
            if not record.stored:
                record.stored = True
                for result in results.values():
                    response = await self.db.acall(record.checkpoints.finish_response, result)
                    self.runStored.emit(response.id)
                self.runFinished.emit(run_row.id)
                self.versionsChanged.emit(version.prompt_id)
        finally:
            self._runs.remove(record)
            self.board.end(record.column_ids)

    def _store_partial_sync(self, record: RunRecord) -> None:
        """Keep a run's partial answers when the window closes mid-stream."""
        if self.worker.running:
            self.worker.call_and_wait(record.session.cancel)
        if record.run_id is None or record.stored:
            return
        record.stored = True
        for result in record.session.results.values():
            if not result.status.finished:
                result.status = TargetStatus.CANCELLED
            self.db.call(record.checkpoints.finish_response, result)


def key_account(column: RunColumn) -> str:
    """Where the column's key is kept: its provider's account, else its base URL."""
    profile = column.profile()
    return profile.key_account if profile is not None else column.base_url()


def key_env(column: RunColumn) -> str:
    """The environment variable the column's profile names for its key ("" for none)."""
    profile = column.profile()
    return profile.key_env if profile is not None else ""


@dataclass(eq=False)
class RunRecord:
    """One press of Run: its session, what was sent, and where it is stored."""

    session: RunSession
    messages: list[Message]
    checkpoints: ResponseCheckpoints
    run_id: int | None = None
    stored: bool = False

    @property
    def column_ids(self) -> list[str]:
        return list(dict.fromkeys(split_key(key)[0] for key in self.session.results))


def _analysed(source: str) -> tuple[list[str] | None, templating.TemplateError | None]:
    """The template's input names, or the error that stops it being read."""
    try:
        return templating.input_names(source), None
    except templating.TemplateError as exc:
        return None, exc
