"""The local server as the app and the CLI start it: Gemma unpacked, the profile published
and kept pointing at the server, one server at a time."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from promptstudio.local.model import GEMMA, PROFILE_ID, gemma_path
from promptstudio.local.server import ManagedServer, pid_alive, read_state
from promptstudio.local.service import adopt_running, start_local_server
from promptstudio.settings.profiles import ProfileStore
from tests.local.test_server import wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


def pid_of(server: ManagedServer) -> int:
    assert server.process is not None
    return server.process.pid


def state_pid(home: Path) -> int:
    state = read_state(home)
    assert state is not None
    return state.pid


def test_gemma_is_unpacked_and_the_profile_points_at_the_server(isolated_home: Path) -> None:
    profiles = ProfileStore(isolated_home)
    server = start_local_server(isolated_home, profiles, model=GEMMA)
    try:
        assert gemma_path(isolated_home).is_file()
        profile = profiles.get(PROFILE_ID)
        assert profile.base_url == server.base_url and not profile.needs_key
        assert profile.name == "Local (Gemma 3 270M)" and profile.max_concurrent == 1
        assert ProfileStore(isolated_home).get(PROFILE_ID) == profile  # saved
        port = server.port
    finally:
        server.stop()
    again = start_local_server(isolated_home, profiles)
    try:
        assert again.port == port  # the same port when free: saved columns stay valid
    finally:
        again.stop()


def test_a_restart_on_another_port_moves_the_profile(isolated_home: Path, monkeypatch) -> None:
    from promptstudio.local import server as module

    profiles = ProfileStore(isolated_home)
    events: list[str] = []
    server = start_local_server(isolated_home, profiles, on_event=events.append)
    try:
        old = server.port
        monkeypatch.setattr(module, "port_free", lambda port: port != old)  # taken meanwhile
        os.kill(pid_of(server), signal.SIGKILL)
        wait_for(lambda: "restarted" in events)
        assert server.port != old
        assert profiles.get(PROFILE_ID).base_url == server.base_url
    finally:
        server.stop()


def test_starting_replaces_a_detached_server(isolated_home: Path) -> None:
    profiles = ProfileStore(isolated_home)
    detached = start_local_server(isolated_home, profiles, detached=True)
    first = pid_of(detached)
    adopted = adopt_running(isolated_home, profiles)
    assert adopted is not None and adopted.pid == first
    server = start_local_server(isolated_home, profiles)
    try:
        assert not pid_alive(first)
        assert state_pid(isolated_home) == pid_of(server)
    finally:
        server.stop()
