"""The local model server PromptStudio starts and stops itself: llama-cpp-python's server.

:class:`ManagedServer` starts ``python -m llama_cpp.server`` (in the app's own Python) as a
child on 127.0.0.1 on a free port, waits until ``GET /v1/models`` answers, restarts it once
if it dies, and stops it (its whole process group) when asked. Every start writes
``local-server.json`` in the data dir (pid, port, the exact command line, the pid of the
process that owns it, whether it was detached); :func:`clean_up_stale` reads it on the next
start, and a server whose owner is gone (the app crashed) is stopped, but only after its
command line was checked to be the one we started (a pid can be reused). A server started
detached (``promptstudio local start --detach``) is left running and used as it is.

Qt-free: the GUI calls it on a worker thread, the CLI directly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from promptstudio.errors import PromptStudioError

log = logging.getLogger(__name__)

SERVER_MODULE = "llama_cpp.server"
STATE_FILE = "local-server.json"
LOG_FILE = "local-server.log"
HOST = "127.0.0.1"
HEALTH_TIMEOUT = 90.0  # loading a model from a cold disk takes a while
STOP_TIMEOUT = 5.0
_PORT_TRIES = 3  # another program may take a free port between our look and the bind
_POLL = 0.1


class LocalServerError(PromptStudioError):
    """The local model server cannot be started, reached or stopped."""


class ServerWontStart(LocalServerError):
    """The server exited or did not answer in time; ``log_tail`` is what it said last."""

    def __init__(self, message: str, *, log_tail: str = "") -> None:
        super().__init__(message + (f"\nIts last words:\n{log_tail}" if log_tail else ""))
        self.log_tail = log_tail


@dataclass(frozen=True)
class ServerOptions:
    """What to serve and how: the model file, its chat format and the name it is listed as.

    ``chat_format`` is ``gemma`` for Gemma (without it the server falls back to a Llama 2
    format Gemma does not know); None lets the server read it from the GGUF file.
    """

    model: Path
    alias: str
    chat_format: str | None = None
    python: str = sys.executable
    extra_args: tuple[str, ...] = ()

    def argv(self, port: int) -> list[str]:
        argv = [
            self.python, "-m", SERVER_MODULE,
            "--model", str(self.model),
            "--model_alias", self.alias,
            "--host", HOST,
            "--port", str(port),
            # Several columns queue instead of cutting each other's answers off.
            "--interrupt_requests", "False",
        ]  # fmt: skip
        if self.chat_format:
            argv += ["--chat_format", self.chat_format]
        return argv + list(self.extra_args)


@dataclass
class ServerState:
    """What ``local-server.json`` holds about the server running now."""

    pid: int
    port: int
    argv: list[str]
    owner: int  # the pid of the process that started it
    detached: bool = False  # left running on purpose (``local start --detach``)
    model: str = ""
    alias: str = ""
    started: float = field(default_factory=time.time)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"


def state_path(data_dir: Path) -> Path:
    return Path(data_dir) / STATE_FILE


def log_file(data_dir: Path) -> Path:
    return Path(data_dir) / "logs" / LOG_FILE


def read_state(data_dir: Path) -> ServerState | None:
    """The state file's content, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(state_path(data_dir).read_text(encoding="utf-8"))
        return ServerState(
            pid=int(data["pid"]), port=int(data["port"]),
            argv=[str(a) for a in data["argv"]], owner=int(data["owner"]),
            detached=bool(data.get("detached", False)), model=str(data.get("model", "")),
            alias=str(data.get("alias", "")), started=float(data.get("started", 0.0)),
        )  # fmt: skip
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring an unreadable %s: %s", STATE_FILE, exc)
        return None


def write_state(data_dir: Path, state: ServerState) -> None:
    path = state_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
    os.replace(tmp, path)


def forget_state(data_dir: Path, pid: int | None = None) -> None:
    """Remove the state file (only if it still names ``pid``, when given)."""
    state = read_state(data_dir)
    if pid is not None and state is not None and state.pid != pid:
        return
    with contextlib.suppress(FileNotFoundError):
        state_path(data_dir).unlink()


# ---- processes ---------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - no Windows here
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def command_line(pid: int) -> list[str] | None:
    """The process's command line, or None when it cannot be read here."""
    proc = Path(f"/proc/{pid}/cmdline")
    if proc.parent.parent.is_dir() and Path("/proc/self").exists():
        try:
            raw = proc.read_bytes()
        except OSError:
            return None
        return [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    if sys.platform == "win32":  # pragma: no cover - no check there: never kill blindly
        return None
    try:  # macOS and the BSDs
        done = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.split() if done.returncode == 0 and done.stdout.strip() else None


def is_our_server(state: ServerState) -> bool:
    """The state's pid is alive and runs exactly the command we started (not a reused pid)."""
    if not pid_alive(state.pid):
        return False
    seen = command_line(state.pid)
    if seen is None:
        return False
    return seen == state.argv or " ".join(seen) == " ".join(state.argv)


def terminate_group(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """Stop ``pid`` and its process group: politely, then by force."""
    if sys.platform == "win32":  # pragma: no cover
        subprocess.run(["taskkill", "/PID", str(pid), "/T", "/F"], capture_output=True)
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(pid)
            if not pid_alive(pid):
                return
            time.sleep(0.05)
    log.warning("the local server (pid %d) did not stop", pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def clean_up_stale(data_dir: Path) -> ServerState | None:
    """Stop a server left by a previous run that crashed; returns the one stopped, if any.

    A server whose owner still runs (another window, a ``local start`` in a terminal) or
    that was detached on purpose is left alone. A state file whose process is gone, or is
    no longer our command, is just removed.
    """
    state = read_state(data_dir)
    if state is None:
        return None
    if not is_our_server(state):
        log.info("forgetting the local server state of pid %d: it is gone", state.pid)
        forget_state(data_dir, state.pid)
        return None
    if state.detached or (state.owner != os.getpid() and pid_alive(state.owner)):
        return None
    log.warning("stopping a local server left by a previous run (pid %d)", state.pid)
    terminate_group(state.pid)
    forget_state(data_dir, state.pid)
    return state


def running_server(data_dir: Path) -> ServerState | None:
    """The server of ours that runs now (after stale ones were cleaned up), if any."""
    clean_up_stale(data_dir)
    state = read_state(data_dir)
    return state if state is not None and is_our_server(state) else None


def stop_server(data_dir: Path) -> ServerState | None:
    """Stop the server the state file names, whoever started it; returns it, or None."""
    state = read_state(data_dir)
    if state is None:
        return None
    if is_our_server(state):
        terminate_group(state.pid)
    forget_state(data_dir, state.pid)
    return state


def port_free(port: int) -> bool:
    """Nobody listens on ``port`` (one left in TIME_WAIT counts as free: servers bind
    with SO_REUSEADDR, as uvicorn does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if sys.platform != "win32":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def models_at(port: int, timeout: float = 2.0) -> list[str] | None:
    """The model ids the server on ``port`` lists, or None when it does not answer."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    try:
        with opener.open(f"http://{HOST}:{port}/v1/models", timeout=timeout) as response:
            data = json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    try:
        return [str(item["id"]) for item in data["data"]]
    except (KeyError, TypeError):
        return None


# ---- the managed server --------------------------------------------------------------------

Listener = Callable[[str], None]


class ManagedServer:
    """One llama.cpp server, started by us, watched, restarted once, stopped on request.

    ``on_event`` hears what happens ("started", "restarted", "died") from the watching
    thread; ``port`` may change after a restart when the old one was taken meanwhile.
    """

    def __init__(
        self,
        data_dir: Path,
        options: ServerOptions,
        *,
        on_event: Listener | None = None,
        health_timeout: float = HEALTH_TIMEOUT,
        detached: bool = False,
        restarts: int = 1,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.options = options
        self.on_event = on_event
        self.health_timeout = health_timeout
        self.detached = detached
        self.restarts_left = restarts
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.models: list[str] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, port: int | None = None) -> int:
        """Start and wait until it answers; returns the port. Raises ServerWontStart."""
        clean_up_stale(self.data_dir)
        self._stopping.clear()
        with self._lock:
            self._launch(port)
        if not self.detached:
            self._watcher = threading.Thread(target=self._watch, name="local-server", daemon=True)
            self._watcher.start()
        self._emit("started")
        return self.port

    def _launch(self, preferred: int | None) -> None:
        problem: ServerWontStart | None = None
        for attempt in range(_PORT_TRIES):
            wanted = preferred if attempt == 0 and preferred else None
            port = wanted if wanted and port_free(wanted) else free_port()
            try:
                self._spawn(port)
                self._wait_healthy()
                return
            except ServerWontStart as exc:
                problem = exc
                self._kill_child()
                if not _port_taken(exc.log_tail):
                    break
                log.info("port %d was taken meanwhile; trying another", port)
        assert problem is not None
        raise problem

    def _spawn(self, port: int) -> None:
        argv = self.options.argv(port)
        logs = log_file(self.data_dir)
        logs.parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, object] = {}
        if sys.platform == "win32":  # pragma: no cover
            options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            options["start_new_session"] = True  # its own group: stopped with its children
        with open(logs, "ab") as out:
            out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n".encode())
            self._log_start = out.tell()
            self.process = subprocess.Popen(  # our own interpreter and module
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=self.data_dir, **options,  # type: ignore[call-overload]
            )  # fmt: skip
        self.port = port
        write_state(
            self.data_dir,
            ServerState(
                pid=self.process.pid, port=port, argv=argv, owner=os.getpid(),
                detached=self.detached, model=str(self.options.model), alias=self.options.alias,
            ),
        )  # fmt: skip
        log.info("local server started: pid %d on port %d", self.process.pid, port)

    def _wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.health_timeout
        while time.monotonic() < deadline:
            if self._stopping.is_set():
                raise ServerWontStart("The local model server was stopped while starting.")
            code = self.process.poll()
            if code is not None:
                raise ServerWontStart(
                    f"The local model server exited at once (code {code}).",
                    log_tail=self._log_tail(),
                )
            models = models_at(self.port, timeout=1.0)
            if models is not None:
                self.models = models
                return
            time.sleep(_POLL)
        raise ServerWontStart(
            f"The local model server did not answer within {self.health_timeout:.0f} s.",
            log_tail=self._log_tail(),
        )

    def _log_tail(self, lines: int = 12) -> str:
        try:
            with open(log_file(self.data_dir), "rb") as handle:
                handle.seek(getattr(self, "_log_start", 0))
                text = handle.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def _watch(self) -> None:
        """Restart the server once if it dies; say so when it dies for good."""
        while not self._stopping.is_set():
            process = self.process
            if process is None:
                return
            process.wait()
            if self._stopping.is_set():
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                log.warning("the local server (pid %d) died: %s", process.pid, process.returncode)
                if self.restarts_left <= 0:
                    self.process = None
                    forget_state(self.data_dir, process.pid)
                    self._emit("died")
                    return
                self.restarts_left -= 1
                try:
                    self._launch(self.port)
                except ServerWontStart as exc:
                    log.warning("the local server could not be restarted: %s", exc)
                    self.process = None
                    forget_state(self.data_dir, process.pid)
                    self._emit("died")
                    return
            self._emit("restarted")

    def stop(self) -> None:
        """Stop the server (and its process group) and forget its state. Idempotent."""
        self._stopping.set()
        with self._lock:
            self._kill_child()
        watcher = self._watcher
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join(timeout=STOP_TIMEOUT)

    def _kill_child(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            terminate_group(process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT)
        forget_state(self.data_dir, process.pid)

    def _emit(self, event: str) -> None:
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # a listener's bug must not kill the watcher
                log.exception("local server listener failed on %r", event)


def _port_taken(text: str) -> bool:
    lowered = text.lower()
    return "address already in use" in lowered or "errno 98" in lowered or "10048" in lowered


def describe(state: ServerState | None) -> Sequence[str]:
    """Lines for ``local status``."""
    if state is None:
        return ["The local model server is not running."]
    how = "detached" if state.detached else f"owned by pid {state.owner}"
    return [
        f"The local model server runs at {state.base_url} (pid {state.pid}, {how}).",
        f"Model: {state.alias or '?'} ({state.model})",
    ]
