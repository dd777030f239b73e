"""The local server's process manager, with a stand-in ``llama_cpp.server`` (real processes)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptstudio.local.server import (
    ManagedServer,
    ServerOptions,
    ServerState,
    ServerWontStart,
    clean_up_stale,
    command_line,
    is_our_server,
    models_at,
    pid_alive,
    read_state,
    running_server,
    stop_server,
    write_state,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF stand-in")
    return path


@pytest.fixture
def options(model: Path) -> ServerOptions:
    return ServerOptions(model, "gemma-3-270m", "gemma")


@pytest.fixture
def servers(isolated_home: Path) -> Iterator[list[ManagedServer]]:
    made: list[ManagedServer] = []
    yield made
    for server in made:
        server.stop()


def managed(home: Path, options: ServerOptions, made: list[ManagedServer], **kw) -> ManagedServer:
    server = ManagedServer(home, options, health_timeout=20, **kw)
    made.append(server)
    return server


def test_start_serves_the_model_with_the_right_options(isolated_home, options, model, servers):
    server = managed(isolated_home, options, servers)
    port = server.start()
    assert models_at(port) == ["gemma-3-270m"]
    assert server.models == ["gemma-3-270m"]
    args = json.loads(Path(f"{model}.args.json").read_text())
    assert args["host"] == "127.0.0.1" and args["port"] == port
    assert args["chat_format"] == "gemma"
    assert args["interrupt_requests"] == "False"
    state = read_state(isolated_home)
    assert state is not None and state.pid == server.process.pid and state.port == port
    assert state.owner == os.getpid() and is_our_server(state)


def test_stop_ends_the_process_and_forgets_it(isolated_home, options, servers):
    server = managed(isolated_home, options, servers)
    port = server.start()
    pid = server.process.pid
    server.stop()
    assert not pid_alive(pid)
    assert models_at(port, timeout=0.5) is None
    assert read_state(isolated_home) is None
    server.stop()  # twice is fine


def test_a_killed_server_is_restarted_once_then_reported_dead(isolated_home, options, servers):
    events: list[str] = []
    server = managed(isolated_home, options, servers, on_event=events.append)
    server.start()
    first = server.process.pid
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: "restarted" in events)
    second = server.process.pid
    assert second != first and models_at(server.port) == ["gemma-3-270m"]
    assert read_state(isolated_home).pid == second
    os.kill(second, signal.SIGKILL)
    wait_for(lambda: "died" in events)
    assert events == ["started", "restarted", "died"]
    assert not server.running and read_state(isolated_home) is None


def test_a_server_that_exits_at_once_says_why(isolated_home, options, servers, monkeypatch):
    monkeypatch.setenv("STAND_IN_EXIT", "error loading model: unknown architecture")
    server = managed(isolated_home, options, servers)
    with pytest.raises(ServerWontStart) as caught:
        server.start()
    assert "exited at once" in caught.value.message
    assert "unknown architecture" in caught.value.message
    assert read_state(isolated_home) is None


def test_a_taken_port_is_passed_over(isolated_home, options, servers):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        server = managed(isolated_home, options, servers)
        port = server.start(busy)
        assert port != busy and models_at(port) == ["gemma-3-270m"]


def test_a_port_taken_between_look_and_bind_is_retried(
    isolated_home, options, servers, monkeypatch
):
    """Another program takes the free port before the server binds it: another port."""
    from promptstudio.local import server as module

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = iter([busy])
        real = module.free_port
        monkeypatch.setattr(module, "free_port", lambda: next(ports, None) or real())
        server = managed(isolated_home, options, servers)
        port = server.start()
    assert port != busy and models_at(port) == ["gemma-3-270m"]


def crashed_app_server(home: Path, options: ServerOptions, *, detached: bool = False) -> int:
    """A server started by an app process that was then killed (SIGKILL: no clean-up)."""
    code = (
        "import sys, os, signal; from pathlib import Path;"
        "from promptstudio.local.server import ManagedServer, ServerOptions;"
        f"s = ManagedServer(Path({str(home)!r}), ServerOptions(Path({str(options.model)!r}), "
        f"'gemma-3-270m', 'gemma'), health_timeout=20, detached={detached});"
        "s.start(); print(s.process.pid, flush=True); os.kill(os.getpid(), signal.SIGKILL)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    return int(done.stdout.strip())


def test_an_orphan_of_a_crashed_app_is_found_and_stopped(isolated_home, options):
    pid = crashed_app_server(isolated_home, options)
    assert pid_alive(pid)  # the orphan runs on
    state = read_state(isolated_home)
    assert state is not None and state.pid == pid
    assert clean_up_stale(isolated_home) is not None
    assert not pid_alive(pid)
    assert read_state(isolated_home) is None


def test_starting_again_stops_the_orphan_first(isolated_home, options, servers):
    orphan = crashed_app_server(isolated_home, options)
    server = managed(isolated_home, options, servers)
    server.start()
    assert not pid_alive(orphan) and server.process.pid != orphan


def test_a_detached_server_is_left_running_and_found(isolated_home, options):
    pid = crashed_app_server(isolated_home, options, detached=True)
    try:
        assert clean_up_stale(isolated_home) is None
        found = running_server(isolated_home)
        assert found is not None and found.pid == pid and pid_alive(pid)
    finally:
        assert stop_server(isolated_home) is not None
    assert not pid_alive(pid)


def test_a_reused_pid_is_never_killed(isolated_home):
    """The state names a live process that is not our server: it is only forgotten."""
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_state(isolated_home, ServerState(
            pid=other.pid, port=1, owner=999_999_999,
            argv=[sys.executable, "-m", "llama_cpp.server", "--port", "1"],
        ))  # fmt: skip
        wait_for(lambda: (command_line(other.pid) or [""])[-1] == "import time; time.sleep(60)")
        assert clean_up_stale(isolated_home) is None
        assert other.poll() is None  # still alive
        assert read_state(isolated_home) is None
    finally:
        other.kill()
        other.wait()
