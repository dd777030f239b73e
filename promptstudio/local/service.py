"""The local server as the app and the CLI use it: the chosen model, started or adopted,
with the provider profile pointed at it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from urllib.parse import urlsplit

from promptstudio.local.model import (
    PROFILE_ID,
    LocalModel,
    chosen_model,
    publish_profile,
    server_options,
)
from promptstudio.local.server import (
    HEALTH_TIMEOUT,
    Listener,
    ManagedServer,
    ServerState,
    running_server,
    stop_server,
)
from promptstudio.providers.profiles import UnknownProfile
from promptstudio.settings.profiles import ProfileStore

log = logging.getLogger(__name__)


def start_local_server(
    data_dir: Path,
    profiles: ProfileStore,
    *,
    model: LocalModel | None = None,
    detached: bool = False,
    on_event: Listener | None = None,
    python: str = sys.executable,
    health_timeout: float = HEALTH_TIMEOUT,
) -> ManagedServer:
    """Start the server for ``model`` (default: the chosen one) and publish its profile.

    Blocks until the server answers (call it off the GUI thread). After a restart on
    another port the profile follows. Raises LocalServerError subclasses.
    """
    model = chosen_model(data_dir) if model is None else model
    options = server_options(data_dir, model, python)
    preferred = profile_port(profiles)  # the same port again keeps the columns' URL valid
    replaced = running_server(data_dir)  # (a stale one is stopped in there)
    if replaced is not None:  # detached, or another window's: one server, the new model
        log.info("replacing the local server running as pid %d", replaced.pid)
        stop_server(data_dir)

    def heard(event: str) -> None:
        if event == "restarted":
            publish_profile(profiles, server.port, model)
        if on_event is not None:
            on_event(event)

    server = ManagedServer(
        data_dir, options, on_event=heard, detached=detached, health_timeout=health_timeout
    )
    server.start(preferred)
    publish_profile(profiles, server.port, model)
    return server


def profile_port(profiles: ProfileStore) -> int | None:
    """The port the local profile points at now, if there is one."""
    try:
        return urlsplit(profiles.get(PROFILE_ID).base_url).port
    except (UnknownProfile, ValueError):
        return None


def adopt_running(data_dir: Path, profiles: ProfileStore) -> ServerState | None:
    """A server of ours already running (detached, or another window's): point the profile
    at it and return it; None when there is none. Stale servers are stopped first."""
    state = running_server(data_dir)
    if state is None:
        return None
    model = chosen_model(data_dir)
    publish_profile(profiles, state.port, model)
    return state
