"""Moving through the library: open a prompt or a version, save, restore, new, trash.

Everything opened is written into the :class:`~promptstudio.session.Session` (the widgets
follow it); what is saved is read from it. Restoring a version has one path,
:meth:`LibraryNavigation.restore`, whether History or anything else asks for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox

from promptstudio.chat import Image
from promptstudio.session import Content, Session, Source
from promptstudio.storage import Database, library
from promptstudio.storage.library import VersionKind, VersionRow
from promptstudio.storage.tree import create_untitled
from promptstudio.templating import sent_images
from promptstudio.ui.drafts import Drafts
from promptstudio.ui.editor.analysis import OPENED_INLINE_CHARS, TemplateAnalysis
from promptstudio.ui.editor.template_editor import TemplateEditor
from promptstudio.ui.library.library_pane import LibraryPane
from promptstudio.ui.status import StatusNotifier
from promptstudio.ui.tasks import TaskOwner


class LibraryNavigation(QObject):
    titleChanged = Signal(str)
    libraryLoaded = Signal()
    promptOpened = Signal(int)  # prompt id, once its latest version is in the editor
    versionsChanged = Signal(int)  # prompt id: a version was saved, run or restored

    def __init__(
        self,
        db: Database,
        session: Session,
        prompts: LibraryPane,
        editor: TemplateEditor,
        analysis: TemplateAnalysis,
        drafts: Drafts,
        tasks: TaskOwner,
        notifier: StatusNotifier,
    ) -> None:
        super().__init__(editor)
        self.db, self.session, self.prompts, self.editor = db, session, prompts, editor
        self.analysis, self.drafts, self.tasks, self.notifier = analysis, drafts, tasks, notifier
        self.known: dict[int, str] = {}  # prompt names, for menus (kept by load_library)
        self.prompt_name = ""
        self.replace_question: QMessageBox | None = None  # "replace unsaved edits?"
        self._rebase_run: int | None = None  # the analysis that reads an opened text's names
        prompts.promptSelected.connect(self.open_prompt)
        prompts.promptCreated.connect(self.open_prompt)
        prompts.versionRequested.connect(
            lambda _prompt_id, version_id: self.tasks.start(
                "open-version", self.open_version(version_id, ask=True)
            )
        )
        prompts.promptRenamed.connect(self._on_renamed)
        prompts.promptTrashed.connect(self._on_trashed)
        session.events.dirty.connect(lambda _change: self._emit_title())
        analysis.namesRead.connect(self._names_read)

    def _emit_title(self) -> None:
        mark = " •" if self.session.dirty else ""
        prompt_id = self.session.prompt_id
        self.titleChanged.emit(f"{self.prompt_name}{mark}" if prompt_id else "")

    # ---- the library -----------------------------------------------------------------------

    async def load_library(self, select: int | None = None) -> None:
        """Read the library, show it, and open ``select`` (else the open or first prompt)."""
        rows = await self.db.acall(library.list_prompts)
        self.known = {row.id: row.name for row in rows}
        self.prompts.refresh()
        target = next(
            (p for p in (select, self.session.prompt_id) if p is not None and p in self.known),
            rows[0].id if rows else None,
        )
        if target is not None and target != self.session.prompt_id:
            await self._open(target)
        if target is not None:
            self.prompts.select_prompt(target)
        self.libraryLoaded.emit()

    def _on_renamed(self, prompt_id: int, name: str) -> None:
        self.known[prompt_id] = name
        if prompt_id == self.session.prompt_id:
            self.prompt_name = name
            self._emit_title()

    def _on_trashed(self, prompt_id: int) -> None:
        self.known.pop(prompt_id, None)
        if prompt_id == self.session.prompt_id:
            self.tasks.start("trashed", self._leave_trashed())

    async def _leave_trashed(self) -> None:
        """The open prompt went to the trash: keep its unsaved edits, open another."""
        await self.drafts.flush()
        self.session.open(Source())
        await self.load_library()
        if self.session.prompt_id is None:
            self.prompt_name = ""
            self._load_version(None)

    async def trash_current(self) -> None:
        prompt_id = self.session.prompt_id
        if prompt_id is None:
            return
        await self.db.acall(library.trash_prompt, prompt_id)
        self.notifier.say(f"Moved “{self.prompt_name}” to the trash")
        self._on_trashed(prompt_id)

    # ---- opening -----------------------------------------------------------------------------

    def open_prompt(self, prompt_id: int) -> None:
        if prompt_id != self.session.prompt_id:
            self.tasks.start("open", self._open(prompt_id))

    async def _open(self, prompt_id: int) -> None:
        await self.drafts.flush()
        prompt = await self.db.acall(library.get_prompt, prompt_id)
        version = await self.db.acall(library.latest_version, prompt_id)
        draft = await self.db.acall(library.load_draft, prompt_id)
        self.prompt_name = prompt.name
        self.session.open(Source(prompt.id))
        await self._keep_images(version)
        self._load_version(version)
        if draft is not None:
            self._show(Content.stored(draft.template, draft.variables, draft.settings))
            self.drafts.stored = self.session.content()
            when = draft.updated_at[:16].replace("T", " ")
            self.notifier.say(f"Restored unsaved changes to “{prompt.name}” ({when} UTC)")
        else:
            self.notifier.say(f"Opened “{prompt.name}”")
        self.drafts.timer.stop()
        self._emit_title()
        self.promptOpened.emit(prompt.id)

    async def new_prompt(self) -> None:
        await self.drafts.flush()
        prompt = await self.db.acall(create_untitled, "")
        self.prompt_name = prompt.name
        self.known[prompt.id] = prompt.name
        self.session.open(Source(prompt.id))
        self._load_version(None)
        self.prompts.refresh()
        self.prompts.select_prompt(prompt.id)
        self.editor.setFocus()
        self.promptOpened.emit(prompt.id)

    def _load_version(self, version: VersionRow | None) -> None:
        """Open ``version`` (None: an empty prompt): its content is what "unsaved" and the
        draft compare with."""
        prompt_id = self.session.prompt_id
        if version is None:
            self._show(Content())
            source = Source(prompt_id)
        else:
            self._show(Content.stored(version.template, version.variables, version.settings))
            source = Source(prompt_id, version.id, version.number)
        self.session.mark_clean(source=source)
        self.drafts.stored = self.session.content()
        # A long text's names arrive later (worker thread); the baseline is taken again
        # then, so an untouched prompt does not look edited.
        self._rebase_run = self.analysis.run if self.analysis.in_background else None
        self._emit_title()

    def _show(self, content: Content) -> None:
        self.session.show(content)
        self.analysis.analyse(inline_up_to=OPENED_INLINE_CHARS)

    def _names_read(self, source: str, run: int) -> None:
        wanted, self._rebase_run = self._rebase_run, None
        baseline = self.session.baseline
        if baseline is None or run != wanted or source != baseline.template:
            return
        if self.session.rebase_values() and self.drafts.stored == baseline:
            self.drafts.stored = self.session.baseline

    # ---- versions ----------------------------------------------------------------------------

    async def open_version(self, version_id: int, *, ask: bool = False) -> None:
        """Put an old version in the editor as unsaved edits (save to keep them).

        With ``ask`` (a search hit), unsaved edits are not replaced without a yes; the
        question is non-modal, and a yes keeps the edits as a version first.
        """
        version = await self.db.acall(library.get_version, version_id)
        if version.prompt_id != self.session.prompt_id:
            await self._open(version.prompt_id)
            self.prompts.select_prompt(version.prompt_id)
        if ask and self.session.dirty:
            self.replace_question = self._ask_to_replace(version)
            return
        await self._keep_images(version)
        self._put_in_editor(version)

    async def _keep_images(self, version: VersionRow | None) -> None:
        """The images the library keeps of ``version``: a run sends them in place of a file
        that is gone since, and says so."""
        found = {} if version is None else await self.db.acall(library.stored_images, version.id)
        self.session.stored_images = found

    def _put_in_editor(self, version: VersionRow) -> None:
        self._show(Content.stored(version.template, version.variables, version.settings))
        self._emit_title()
        self.notifier.say(f"Version {version.number} is in the editor; Ctrl+S keeps it")

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
        if version.prompt_id != self.session.prompt_id:
            return  # another prompt was opened while the question was up
        if self.session.dirty:
            await self.save_version(message=f"Before opening version {version.number}")
            self.versionsChanged.emit(version.prompt_id)
        await self._keep_images(version)
        self._put_in_editor(version)

    async def restore(self, version_id: int) -> VersionRow:
        """Make an old version the newest one (a new version; history is never rewritten).

        The one restore path (History's restore request comes here). Unsaved edits are
        kept first as a version of their own, so nothing is lost."""
        prompt_id = self.session.prompt_id
        assert prompt_id is not None
        old = await self.db.acall(library.get_version, version_id)
        if self.session.dirty:
            await self.save_version(message=f"Before restoring version {old.number}")
        restored = await self.db.acall(library.restore_version, version_id)
        await self._keep_images(restored)
        self._load_version(restored)
        self.notifier.say(f"Restored version {old.number} as version {restored.number}")
        self.versionsChanged.emit(prompt_id)
        return restored

    # ---- saving ------------------------------------------------------------------------------

    async def save(self, message: str = "") -> None:
        """Ctrl+S: a new version, named by its number in the prompt ("v4"), as in History."""
        if self.session.prompt_id is None:
            await self.new_prompt()
        prompt_id = self.session.prompt_id
        assert prompt_id is not None
        latest = await self.db.acall(library.latest_version_id, prompt_id)
        version = await self.save_version(message=message)
        if version.id == latest and not message:
            self.notifier.say(f"No changes since v{version.number}")
            return
        self.versionsChanged.emit(version.prompt_id)
        self.notifier.say(f"Saved v{version.number}" + (f": {message}" if message else ""))

    async def save_for_run(self, images: Sequence[Image] | None = None) -> VersionRow:
        """The version a run or an evaluation belongs to: the session's content now, with
        the ``images`` its messages send (None: rendered here to find them)."""
        if self.session.prompt_id is None:
            await self.new_prompt()
        return await self.save_version(kind="run", images=images)

    def _sent_images(self) -> list[Image]:
        """The images the session's template sends now; none when it does not render."""
        session = self.session
        return sent_images(session.template, session.values, images=session.image_reader())

    async def save_version(
        self,
        *,
        message: str = "",
        kind: VersionKind = "save",
        images: Sequence[Image] | None = None,
    ) -> VersionRow:
        """Store the session's content as a version of its prompt (the latest one again
        when nothing changed, unless a message is given), with the images it sends
        (None: rendered here to find them)."""
        prompt_id = self.session.prompt_id
        assert prompt_id is not None
        self.analysis.flush()
        content = self.session.content()
        if images is None:
            images = self._sent_images()
        version = await self.db.acall(
            library.save_version, prompt_id, *content.key(),
            message=message, kind=kind, from_editor=True, images=images,
        )  # fmt: skip
        if self.session.prompt_id == prompt_id:  # not another prompt opened meanwhile
            source = Source(prompt_id, version.id, version.number)
            self.session.mark_clean(content, source)
            self.drafts.stored = content
        self._emit_title()
        return version
