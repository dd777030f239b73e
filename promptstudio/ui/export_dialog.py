"""Export: pick a format, see the exact file, then copy it or save it (or the whole library).

Non-modal (``open()``), as every dialog here. The preview is the text that will be
written, so what you copy is what you see. A library export writes one file per prompt
into a folder, off the GUI thread, with progress and a Cancel button.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from promptstudio.errors import PromptStudioError
from promptstudio.exchange import ExchangeError, PromptDocument
from promptstudio.exchange.formats import EXPORT_FORMATS, export_text, suggested_file_name
from promptstudio.exchange.library_io import write_library, write_text_atomically
from promptstudio.ui import a11y
from promptstudio.ui.editor.code_highlighter import LANGUAGES, CodeHighlighter
from promptstudio.ui.file_dialogs import place
from promptstudio.ui.tasks import TaskOwner
from promptstudio.ui.theme import set_status

THIS_PROMPT, LIBRARY = "prompt", "library"
PREVIEW_LIMIT = 200_000  # characters shown; the file always gets everything


class ExportDialog(QDialog):
    """Export the prompt as it stands in the editor, or every prompt in the library."""

    exported = Signal(str)  # where: a file or a folder

    def __init__(
        self,
        doc: PromptDocument,
        values: Mapping[str, object],
        library_docs: Callable[[bool], Awaitable[list[PromptDocument]]],
        tasks: TaskOwner,
        parent: QWidget | None = None,
        *,
        history: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        self.doc, self.values, self.tasks = doc, dict(values), tasks
        self._library_docs, self._history = library_docs, history
        self._cancel = threading.Event()
        self.scope = QComboBox(self)
        self.scope.setObjectName("exportScope")
        self.scope.addItem(f"This prompt: {doc.name}", THIS_PROMPT)
        self.scope.addItem("The whole library, one file per prompt", LIBRARY)
        self.format = QComboBox(self)
        self.format.setObjectName("exportFormat")
        for key, fmt in EXPORT_FORMATS.items():
            self.format.addItem(f"{fmt.label} ({fmt.suffix})", key)
        self.column = QComboBox(self)
        self.column.setObjectName("exportColumn")
        for index, column in enumerate(doc.columns):
            self.column.addItem(f"{index + 1}: {column.model or '(no model)'}", index)
        if not doc.columns:
            self.column.addItem("(no run columns: OpenAI defaults)", 0)
        self.with_history = QCheckBox("Include every stored version", self)
        self.with_history.setObjectName("exportHistory")
        self.preview = QPlainTextEdit(self)
        self.preview.setObjectName("exportPreview")
        self.preview.setAccessibleName("Preview of the export")
        self.preview.setReadOnly(True)
        a11y.keyboard_selectable(self.preview)
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.highlighter = CodeHighlighter(self.preview)
        self.problem = QLabel(self)
        self.problem.setObjectName("exportProblem")
        self.problem.setWordWrap(True)
        set_status(self.problem, "error")
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)

        form = QFormLayout()
        form.addRow("&Export:", self.scope)
        form.addRow("&Format:", self.format)
        form.addRow("&Column:", self.column)
        form.addRow("", self.with_history)
        buttons = QDialogButtonBox(self)
        self.copy_button = QPushButton("&Copy", self)
        self.copy_button.setObjectName("exportCopy")
        self.save_button = QPushButton("&Save…", self)
        self.save_button.setObjectName("exportSave")
        self.save_button.setDefault(True)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.copy)
        self.save_button.clicked.connect(self.choose_target)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.progress)
        layout.addWidget(buttons)
        QShortcut(QKeySequence("Ctrl+Shift+C"), self, self.copy)

        self.text = ""
        for combo in (self.scope, self.format, self.column):
            combo.currentIndexChanged.connect(self.refresh)
        self.with_history.toggled.connect(self.refresh)
        self.resize(760, 560)
        self.refresh()

    # ---- state ---------------------------------------------------------------------------

    @property
    def key(self) -> str:
        return str(self.format.currentData())

    @property
    def whole_library(self) -> bool:
        return self.scope.currentData() == LIBRARY

    def choose(self, key: str, *, scope: str = THIS_PROMPT, column: int = 0) -> None:
        """Select a format, scope and column (what a user does with the combo boxes)."""
        self.scope.setCurrentIndex(self.scope.findData(scope))
        self.format.setCurrentIndex(self.format.findData(key))
        self.column.setCurrentIndex(max(0, self.column.findData(column)))

    def refresh(self) -> None:
        """Show the file for the current choices (or what a library export would write)."""
        fmt = EXPORT_FORMATS[self.key]
        library = self.whole_library
        self.column.setEnabled(fmt.per_column and not library)
        self.with_history.setEnabled(self.key == "json")
        self.problem.clear()
        if library:
            usable = fmt.whole_library
            self.copy_button.setEnabled(False)
            self.save_button.setEnabled(usable)
            self.save_button.setText("Export to &folder…")
            self.text = ""
            self._show(
                f"Every prompt outside the trash becomes one {fmt.label} file, in folders "
                "mirroring the library's. Names stay the same from one export to the next."
                if usable
                else f"{fmt.label} is code for one run column; export it for one prompt.",
                None,
            )
            return
        self.save_button.setText("&Save…")
        self.tasks.start("export-preview", self._render())

    async def _render(self) -> None:
        doc = self.doc
        if self.key == "json" and self.with_history.isChecked() and self._history is not None:
            doc = dataclasses.replace(doc, versions=await self._history())
        try:
            self.text = export_text(doc, self.key, self.values, int(self.column.currentData()))
        except PromptStudioError as exc:
            self.text = ""
            self.problem.setText(exc.message)
        shown = self.text[:PREVIEW_LIMIT]
        if len(self.text) > PREVIEW_LIMIT:
            shown += f"\n… ({len(self.text) - PREVIEW_LIMIT:,} more characters in the file)"
        self._show(shown, LANGUAGES.get(EXPORT_FORMATS[self.key].suffix))
        self.copy_button.setEnabled(bool(self.text))
        self.save_button.setEnabled(bool(self.text))

    def _show(self, text: str, language: str | None) -> None:
        """Show ``text`` coloured as ``language`` (a Pygments name; None for plain text)."""
        self.preview.clear()  # so the old text is not coloured again in the new language
        self.highlighter.set_language(language)
        self.preview.setPlainText(text)

    # ---- actions -------------------------------------------------------------------------

    def copy(self) -> None:
        if self.text:
            QGuiApplication.clipboard().setText(self.text)
            set_status(self.problem, None)
            self.problem.setText("Copied to the clipboard.")

    def choose_target(self) -> QFileDialog:
        """Ask where to write (non-modal); a library export asks for a folder."""
        dialog = place(QFileDialog(self), "prompts")
        dialog.setObjectName("exportFileDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if self.whole_library:
            dialog.setWindowTitle("Export the library to a folder")
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            fmt = EXPORT_FORMATS[self.key]
            dialog.setWindowTitle(f"Export as {fmt.label}")
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setNameFilter(fmt.file_filter)
            dialog.setDefaultSuffix(fmt.suffix.lstrip("."))
            dialog.selectFile(suggested_file_name(self.doc, self.key))
        dialog.fileSelected.connect(lambda path: self.save_to(Path(path)))
        dialog.open()
        return dialog

    def save_to(self, path: Path) -> None:
        """Write the file (or, for the library, the folder) at ``path``."""
        set_status(self.problem, "error")
        self.problem.clear()
        if self.whole_library:
            self.tasks.start("export-library", self._export_library(path))
            return
        try:
            write_text_atomically(path, self.text)
        except ExchangeError as exc:
            self.problem.setText(exc.message)
            return
        self.exported.emit(str(path))
        self.accept()

    async def _export_library(self, folder: Path) -> None:
        docs = await self._library_docs(self.key == "json" and self.with_history.isChecked())
        self._cancel.clear()
        self.progress.setRange(0, max(1, len(docs)))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.save_button.setEnabled(False)
        self.close_button.setText("Cancel")
        loop = asyncio.get_running_loop()

        def progress(done: int, _total: int) -> None:
            loop.call_soon_threadsafe(self.progress.setValue, done)

        try:
            written = await asyncio.to_thread(
                write_library, docs, folder, self.key, progress=progress,
                cancelled=self._cancel.is_set,
            )  # fmt: skip
        except ExchangeError as exc:
            self.problem.setText(exc.message)
            return
        finally:
            self.progress.setVisible(False)
            self.save_button.setEnabled(True)
            self.close_button.setText("Close")
        if self._cancel.is_set():
            self.problem.setText(f"Cancelled after {len(written)} of {len(docs)} files.")
            return
        self.exported.emit(str(folder))
        self.accept()

    def reject(self) -> None:
        """Close, or first stop a library export that is writing."""
        if self.progress.isVisible():
            self._cancel.set()
            return
        super().reject()
