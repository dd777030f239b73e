"""Import and export from the window: menus, the export dialog, and files dropped on it.

Files are read and checked off the GUI thread; if any of them cannot be imported, the
message lists each problem (file and line) and nothing is stored. Otherwise every
document goes into the library in one transaction and the first one opens.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from promptstudio.storage import library
from promptstudio.ui.file_dialogs import place
from promptstudio.ui.tasks import TaskOwner
from promptstudio.ui.workspace import Workspace

if TYPE_CHECKING:  # the formats (PyYAML, Pygments...) are imported on first use
    from promptstudio.exchange import PromptDocument
    from promptstudio.ui.export_dialog import ExportDialog


def import_filter() -> str:
    from promptstudio.exchange.formats import IMPORT_SUFFIXES

    return "Prompts (" + " ".join(f"*{suffix}" for suffix in IMPORT_SUFFIXES) + ");;All files (*)"


class ExchangeFlow(QObject):
    """Owns File › Import…, File › Export… and dropping files onto the window."""

    imported = Signal(list)  # prompt ids, once stored and the library shows them

    def __init__(self, window: QMainWindow, workspace: Workspace, tasks: TaskOwner) -> None:
        super().__init__(window)
        self.window, self.workspace, self.tasks = window, workspace, tasks
        self.export_dialog: ExportDialog | None = None
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        # The editor takes text drops itself; files dropped there are imports too.
        workspace.editor.viewport().installEventFilter(self)

    # ---- import --------------------------------------------------------------------------

    def choose_files(self) -> QFileDialog:
        dialog = place(QFileDialog(self.window, "Import prompts"), "prompts")
        dialog.setObjectName("importFileDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilter(import_filter())
        dialog.filesSelected.connect(lambda files: self.import_paths([Path(f) for f in files]))
        dialog.open()
        return dialog

    def choose_folder(self) -> QFileDialog:
        dialog = place(QFileDialog(self.window, "Import a folder of prompts"), "prompts")
        dialog.setObjectName("importFolderDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda folder: self.import_paths([Path(folder)]))
        dialog.open()
        return dialog

    def import_paths(self, paths: list[Path], *, allow_outside_refs: bool = False) -> None:
        self.tasks.start("import", self._import(paths, allow_outside_refs))

    async def _import(self, paths: list[Path], allow_outside_refs: bool = False) -> None:
        from promptstudio.exchange import OutsideReferenceError
        from promptstudio.exchange.library_io import import_documents, read_import_files

        status = self.workspace.statusMessage
        status.emit(f"Reading {len(paths)} item{'s' if len(paths) != 1 else ''}…")
        try:  # other errors: shown by the task owner, nothing kept
            found = await asyncio.to_thread(
                read_import_files, paths, allow_outside_refs=allow_outside_refs
            )
        except OutsideReferenceError as exc:
            status.emit("Nothing imported: files outside the config's folder")
            self.ask_outside_refs(paths, exc.references)
            return
        docs = [doc for _, doc in found]
        stored = await self.workspace.db.acall(
            import_documents, docs, source=paths[0].name if len(paths) == 1 else ""
        )
        ids = [item.prompt.id for item in stored]
        await self.workspace.load_library(select=ids[0])
        names = ", ".join(f"“{item.prompt.name}”" for item in stored[:3])
        more = f" and {len(stored) - 3} more" if len(stored) > 3 else ""
        status.emit(f"Imported {names}{more}")
        noted = [(item.prompt.name, doc.notes) for item, doc in zip(stored, docs, strict=True)]
        if any(notes for _, notes in noted):
            self.show_notes(noted)
        self.imported.emit(ids)

    def show_notes(self, noted: list[tuple[str, list[str]]]) -> QMessageBox:
        """Say what an import kept but cannot use, or left out (non-modal)."""
        text = "\n\n".join(
            f"“{name}”:\n" + "\n".join(f"  • {note}" for note in notes)
            for name, notes in noted
            if notes
        )
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Imported, with notes",
            f"Imported. Some of it PromptStudio keeps but cannot use, or left out:\n\n{text}",
            QMessageBox.StandardButton.Ok,
            self.window,
        )
        box.setObjectName("importNotesBox")
        box.setAccessibleName("Imported, with notes")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def ask_outside_refs(self, paths: list[Path], references: tuple[str, ...]) -> QMessageBox:
        """Ask before reading files a config names outside its folder; import again if yes."""
        listed = "\n".join(f"  {reference}" for reference in references)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Read files outside the folder?",
            "The import refers to files outside its own folder, which were not read:\n"
            f"{listed}\n\nRead them and import anyway? Only for files you trust: what they "
            "hold becomes part of the prompt and is sent to its servers when you run it.",
            QMessageBox.StandardButton.Cancel,
            self.window,
        )
        box.setObjectName("outsideRefsBox")
        box.setAccessibleName("Read files outside the folder?")
        read = box.addButton("&Read them and import", QMessageBox.ButtonRole.AcceptRole)
        read.setObjectName("readOutsideRefs")
        read.setAccessibleName("Read them and import")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # Enter does not read them
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        read.clicked.connect(lambda: self.import_paths(paths, allow_outside_refs=True))
        box.open()
        return box

    # ---- export --------------------------------------------------------------------------

    def open_export(self, version_id: int | None = None) -> None:
        """Export the prompt as it is in the editor, or one of its stored versions."""
        self.tasks.start("export", self._open_export(version_id))

    async def _open_export(self, version_id: int | None) -> ExportDialog:
        from promptstudio.exchange.library_io import document_for, library_documents
        from promptstudio.ui.export_dialog import ExportDialog

        prompt_id = self.workspace.prompt_id
        if version_id is None:
            doc = await self.current_document()
            values = self.workspace.variables.values()
        else:
            version = await self.workspace.db.acall(library.get_version, version_id)
            prompt_id = version.prompt_id
            doc = await self.workspace.db.acall(document_for, version.prompt_id, version_id)
            values = dict(doc.variables)
        profiles = self.workspace.profiles.profiles(include_hidden=True)
        doc.profiles = profiles  # a column on a custom profile exports as its real kind
        if self.export_dialog is not None:
            self.export_dialog.close()
            self.export_dialog.deleteLater()
        db = self.workspace.db

        async def every_prompt(with_history: bool) -> list[PromptDocument]:
            docs = [d for _, d in await db.acall(library_documents, with_history=with_history)]
            for each in docs:
                each.profiles = profiles
            return docs

        async def history() -> list[dict[str, Any]]:
            if prompt_id is None:
                return []
            stored = await db.acall(document_for, prompt_id, with_history=True)
            return stored.versions or []

        dialog = ExportDialog(doc, values, every_prompt, self.tasks, self.window, history=history)
        if version_id is not None:
            dialog.setWindowTitle(f"Export version {version.number} of “{doc.name}”")
        dialog.exported.connect(
            lambda where: self.workspace.statusMessage.emit(f"Exported to {where}")
        )
        self.export_dialog = dialog
        dialog.open()
        return dialog

    async def current_document(self) -> PromptDocument:
        """The open prompt as it stands in the editor (unsaved edits included)."""
        from promptstudio.exchange import PromptDocument
        from promptstudio.exchange.document import columns_from_dicts, stored_tools

        ws = self.workspace
        ws.flush_analysis()
        template, values, settings = ws.snapshot()
        columns = columns_from_dicts(settings.get("columns") or [])
        if ws.prompt_id is None:
            return PromptDocument(name="Untitled", template=template, variables=dict(values),
                                  columns=columns, tools=stored_tools(settings))  # fmt: skip
        prompt = await ws.db.acall(library.get_prompt, ws.prompt_id)
        latest = await ws.db.acall(library.latest_version, ws.prompt_id)
        cases = await ws.db.acall(library.list_cases, ws.prompt_id)
        checks = await ws.db.acall(library.get_eval_settings, ws.prompt_id)
        return PromptDocument(
            name=prompt.name,
            description=latest.message if latest is not None else "",
            folder=prompt.folder,
            tags=list(prompt.tags),
            template=template,
            variables=dict(values),
            columns=columns,
            cases=[case.to_exchange() for case in cases],
            every_case_checks=list(checks.asserts),
            judge_column=checks.judge_column,
            tools=stored_tools(settings),
        )

    # ---- drag and drop -------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragEnterEvent | QDropEvent)
            if _local_files(event):
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            files = _local_files(event)
            if files:
                event.acceptProposedAction()
                self.import_paths(files)
                return True
        return super().eventFilter(watched, event)


def _local_files(event: QDropEvent) -> list[Path]:
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
