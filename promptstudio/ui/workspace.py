"""The prompt being edited: load, analyse, save, run and store.

The main window only assembles panes; this controller holds the flow between them and the
core. Every database call goes through the store's single owner thread (``acall``), and
every coroutine runs under the :class:`TaskOwner`, never as a bare ``asyncSlot``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, cast

from PySide6.QtCore import QObject, QTimer, Signal

from promptstudio import templating
from promptstudio.chat import Message
from promptstudio.credentials import KeyStore
from promptstudio.providers import Endpoint, GenerationParams
from promptstudio.runs import RunSession, RunTarget, TargetResult, TargetStatus
from promptstudio.settings.store import SettingsStore
from promptstudio.storage import Database, library
from promptstudio.storage.library import VersionKind, VersionRow
from promptstudio.ui.prompt_list import PromptListPane
from promptstudio.ui.run_pane import PRESETS, RunPane
from promptstudio.ui.tasks import TaskOwner
from promptstudio.ui.template_editor import TemplateEditor
from promptstudio.ui.variables_form import VariablesForm

log = logging.getLogger(__name__)
ANALYSIS_DELAY_MS = 150
TARGET_KEY = "main"


def settings_for(base_url: str, model: str, params: GenerationParams) -> dict[str, Any]:
    """What a version stores about how it is run: never a key."""
    return {"columns": [{"base_url": base_url, "model": model, "params": params.to_dict()}]}


class Workspace(QObject):
    titleChanged = Signal(str)
    statusMessage = Signal(str)
    analysed = Signal(object)  # TemplateError | None
    runStored = Signal(int)  # response id, once the answer is in the database
    libraryLoaded = Signal()
    promptOpened = Signal(int)  # prompt id, once its latest version is in the editor

    def __init__(
        self,
        db: Database,
        keys: KeyStore,
        settings: SettingsStore,
        prompts: PromptListPane,
        editor: TemplateEditor,
        variables: VariablesForm,
        run_pane: RunPane,
        tasks: TaskOwner,
    ) -> None:
        super().__init__(editor)
        self.db, self.keys, self.settings, self.tasks = db, keys, settings, tasks
        self.prompts, self.editor, self.variables, self.run_pane = (
            prompts,
            editor,
            variables,
            run_pane,
        )
        self.prompt_id: int | None = None
        self.prompt_name = ""
        self.error: templating.TemplateError | None = None
        self._saved: tuple[str, dict[str, object], dict[str, Any]] | None = None
        self._session: RunSession | None = None
        self._stored_session: RunSession | None = None
        self._run_id: int | None = None  # the stored run of the current session
        self._run_messages: list[Message] = []
        self._analysis = QTimer(self)
        self._analysis.setSingleShot(True)
        self._analysis.setInterval(ANALYSIS_DELAY_MS)
        self._analysis.timeout.connect(self.analyse)
        self._key_timer = QTimer(self)
        self._key_timer.setSingleShot(True)
        self._key_timer.setInterval(250)
        self._key_timer.timeout.connect(self.update_key_status)
        editor.textChanged.connect(self._analysis.start)
        editor.textChanged.connect(self._emit_title)
        variables.valuesChanged.connect(self._emit_title)
        run_pane.runRequested.connect(self.run)
        run_pane.stopRequested.connect(self.stop)
        run_pane.endpointChanged.connect(lambda _url: self._key_timer.start())
        prompts.promptSelected.connect(self.open_prompt)
        prompts.model.renameRequested.connect(self.rename_prompt)

    # ---- state ---------------------------------------------------------------------------

    def flush_analysis(self) -> None:
        """Bring the variables form up to date with the text before anything reads it."""
        if self._analysis.isActive():
            self.analyse()

    def snapshot(self) -> tuple[str, dict[str, object], dict[str, Any]]:
        pane = self.run_pane
        return (
            self.editor.toPlainText(),
            self.variables.values(),
            settings_for(pane.base_url(), pane.model.text().strip(), pane.params()),
        )

    @property
    def dirty(self) -> bool:
        return self.prompt_id is not None and self.snapshot() != self._saved

    @property
    def running(self) -> bool:
        return self._session is not None and self._session.running

    def _emit_title(self) -> None:
        mark = " •" if self.dirty else ""
        self.titleChanged.emit(f"{self.prompt_name}{mark}" if self.prompt_id else "")

    # ---- analysis (debounced, on the GUI thread: parsing is fast) ---------------------------

    def analyse(self) -> None:
        self._analysis.stop()
        source = self.editor.toPlainText()
        try:
            names = templating.input_names(source)
            error = None
        except templating.TemplateError as exc:
            names, error = None, exc
        if names is not None:
            self.variables.set_names(names)
            self.editor.highlighter.set_variables(frozenset(names))
        self.error = error
        if error is None:
            self.editor.set_error(None)
        else:
            self.editor.set_error(error.line, error.column)
        self.analysed.emit(error)

    # ---- library -------------------------------------------------------------------------

    async def load_library(self, select: int | None = None) -> None:
        rows = await self.db.acall(library.list_prompts)
        self.prompts.model.set_prompts(rows)
        target = select if select is not None else self.prompt_id
        if target is None and rows:
            target = rows[0].id
        if target is not None:
            self.prompts.select(target, notify=target != self.prompt_id)
        self.libraryLoaded.emit()

    def open_prompt(self, prompt_id: int) -> None:
        if prompt_id != self.prompt_id:
            self.tasks.start("open", self._open(prompt_id))

    async def _open(self, prompt_id: int) -> None:
        if self.dirty:
            await self._save(message="autosaved when switching prompts")
        prompt = await self.db.acall(library.get_prompt, prompt_id)
        version = await self.db.acall(library.latest_version, prompt_id)
        self.prompt_id, self.prompt_name = prompt.id, prompt.name
        self._show_version(version)
        self.statusMessage.emit(f"Opened “{prompt.name}”")
        self.promptOpened.emit(prompt.id)

    def _show_version(self, version: VersionRow | None) -> None:
        self.editor.setPlainText(version.template if version else "")
        self.analyse()
        self.variables.set_values(version.variables if version else {})
        columns = (version.settings.get("columns") or [{}]) if version else [{}]
        column = columns[0]
        self.run_pane.set_target(column.get("base_url", ""), column.get("model", ""))
        self.run_pane.set_params(GenerationParams.from_dict(column.get("params") or {}))
        self._saved = self.snapshot()
        self._emit_title()
        self.update_key_status()

    async def new_prompt(self) -> None:
        if self.dirty:
            await self._save(message="autosaved before a new prompt")
        existing = {row.name for row in await self.db.acall(library.list_prompts)}
        name = next(f"Untitled {n}" for n in range(1, 10_000) if f"Untitled {n}" not in existing)
        prompt = await self.db.acall(library.create_prompt, name)
        self.prompt_id, self.prompt_name = prompt.id, prompt.name
        self._show_version(None)
        await self.load_library(select=prompt.id)
        self.editor.setFocus()
        self.promptOpened.emit(prompt.id)

    def rename_prompt(self, prompt_id: int, name: str) -> None:
        async def rename() -> None:
            await self.db.acall(library.rename_prompt, prompt_id, name)
            if prompt_id == self.prompt_id:
                self.prompt_name = name
                self._emit_title()
            await self.load_library()

        self.tasks.start("rename", rename())

    async def trash_current(self) -> None:
        if self.prompt_id is None:
            return
        name = self.prompt_name
        await self.db.acall(library.trash_prompt, self.prompt_id)
        self.prompt_id, self._saved = None, None
        await self.load_library()
        if self.prompt_id is None:
            self._show_version(None)
            self.prompt_name = ""
            self._emit_title()
        self.statusMessage.emit(f"Moved “{name}” to the trash")

    async def save(self, message: str = "") -> None:
        if self.prompt_id is None:
            await self.new_prompt()
        version = await self._save(message=message)
        self.statusMessage.emit(f"Saved version {version.id}" + (f": {message}" if message else ""))

    async def _save(self, *, message: str = "", kind: VersionKind = "save") -> VersionRow:
        assert self.prompt_id is not None
        self.flush_analysis()
        template, values, settings = snapshot = self.snapshot()
        version = await self.db.acall(
            library.save_version, self.prompt_id, template, values, settings,
            message=message, kind=kind,
        )  # fmt: skip
        self._saved = snapshot
        self._emit_title()
        return version

    def save_on_exit(self) -> None:
        """Blocking: called from closeEvent, when the event loop may not run again."""
        if self._session is not None and self._session is not self._stored_session:
            self._session.cancel()
            self._store_response_sync(self._session)
        self.flush_analysis()
        if self.dirty and self.prompt_id is not None:
            template, values, settings = self.snapshot()
            self.db.call(
                library.save_version, self.prompt_id, template, values, settings,
                message="autosaved on close",
            )  # fmt: skip

    # ---- keys ------------------------------------------------------------------------------

    def update_key_status(self) -> None:
        base_url = self.run_pane.base_url()
        resolved = self.keys.resolve(base_url)
        texts = {
            "keychain": "Using the key stored in the OS keychain for this endpoint.",
            "session": "Using a key kept in memory for this session only.",
            "environment": f"Using ${resolved.env_var} from the environment.",
            "none": "No key: requests go without one (fine for local servers).",
        }
        text = texts[resolved.source]
        if not self.keys.backend_available():
            text += " No OS keychain is available, so a typed key is kept for this session only."
        self.run_pane.key_status.setText(text)

    # ---- runs ------------------------------------------------------------------------------

    def run(self) -> None:
        if self.running:
            self.statusMessage.emit("A run is in progress: Esc stops it.")
            return
        self.flush_analysis()
        pane = self.run_pane
        base_url, model = pane.base_url(), pane.model.text().strip()
        if not base_url or not model:
            pane.fail_before_start("Choose an endpoint and type a model name first.")
            (pane.model if base_url else pane.endpoint).setFocus()
            return
        try:
            messages = templating.render_messages(
                self.editor.toPlainText(), self.variables.values()
            )
        except templating.TemplateError as exc:
            self.editor.set_error(exc.line, exc.column)
            pane.fail_before_start(f"Template error at {exc.location()}: {exc.message}")
            return
        typed = pane.key.text().strip()
        if typed:
            where = self.keys.set(base_url, typed)
            pane.key.clear()
            self.statusMessage.emit(
                "Key stored in the OS keychain."
                if where == "keychain"
                else "No OS keychain: the key is kept in memory for this session only."
            )
            self.update_key_status()
        name = next((label for label, url in PRESETS if url == base_url), "")
        endpoint = self._endpoint(base_url, name)
        params = self._with_defaults(pane.params())
        target = RunTarget(key=TARGET_KEY, endpoint=endpoint, model=model, params=params)
        self._session = RunSession(messages, [target], on_update=pane.on_update)
        self._run_id, self._run_messages = None, messages
        pane.begin_run()
        self.tasks.start("run", self._run(self._session))

    def _endpoint(self, base_url: str, name: str) -> Endpoint:
        """The endpoint with its key (in memory only) and the timeouts from settings."""
        get = self.settings.get
        return Endpoint(
            base_url=base_url,
            api_key=self.keys.resolve(base_url).value,
            name=name,
            connect_timeout=float(cast(float, get("timeouts.connect"))),
            first_token_timeout=float(cast(float, get("timeouts.first_token"))),
            idle_timeout=float(cast(float, get("timeouts.idle"))),
            max_retries=int(cast(int, get("timeouts.max_retries"))),
        )

    def _with_defaults(self, params: GenerationParams) -> GenerationParams:
        """Fill what the run pane leaves unset from the settings' run defaults."""
        unset: dict[str, Any] = {
            name: self.settings.get(f"run.{name}")
            for name in ("temperature", "top_p", "max_tokens")
            if getattr(params, name) is None
        }
        return replace(params, **unset)

    def stop(self) -> None:
        if self._session is not None and self._session.running:
            self._session.cancel()

    async def _run(self, session: RunSession) -> None:
        result: TargetResult | None = None
        try:
            if self.prompt_id is None:
                await self.new_prompt()
            version = await self._save(kind="run")
            run_row = await self.db.acall(library.record_run, version.id, self.variables.values())
            self._run_id = run_row.id
            results = await session.run()
            result = results[TARGET_KEY]
            if self._stored_session is not session:
                self._stored_session = session
                response = await self.db.acall(
                    self._add_response, run_row.id, result, self._run_messages
                )
                self.runStored.emit(response.id)
        finally:
            self.run_pane.end_run(result)

    @staticmethod
    def _add_response(
        conn: Any, run_id: int, result: TargetResult, messages: list[Message]
    ) -> library.ResponseRow:
        usage = result.usage
        return library.add_response(
            conn,
            run_id,
            base_url=result.target.endpoint.base_url,
            model=result.target.model,
            params=result.target.params.to_dict(),
            messages=[m.to_dict() for m in messages],
            text=result.text,
            status=str(result.status),
            error=result.error.message if result.error else None,
            finish_reason=result.finish_reason,
            ttft_ms=result.ttft_ms,
            total_ms=result.total_ms,
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            usage_estimated=bool(usage and usage.estimated),
        )

    def _store_response_sync(self, session: RunSession) -> None:
        """Keep a run's partial answer when the window closes mid-stream."""
        result = session.results.get(TARGET_KEY)
        if self._run_id is None or result is None:
            return
        if result.status not in (TargetStatus.DONE, TargetStatus.FAILED):
            result.status = TargetStatus.CANCELLED
        self._stored_session = session
        self.db.call(self._add_response, self._run_id, result, self._run_messages)
