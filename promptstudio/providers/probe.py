"""What a first launch can offer: model servers running on this computer, keys in the env.

:func:`probe_local_servers` asks the usual local servers (Ollama, LM Studio, the llama.cpp
server, vLLM) for ``GET /v1/models`` on loopback, all at once, each within a short
timeout, so the whole look costs about that timeout even when nothing answers.
:func:`keys_in_environment` names the hosted providers whose key variable is set (the
value is never read out of the environment here). Nothing here is sent anywhere else, and
no key is sent to the local servers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from promptstudio.credentials.env import env_var_for
from promptstudio.providers.profiles import PRESETS, ProviderProfile

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 0.3  # seconds for one server to answer in full; loopback answers in ~ms
_MAX_BODY = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Candidate:
    """A place a local server usually listens: its name, port and preset (if any)."""

    name: str
    port: int
    profile_id: str = ""


# The presets' own ports (see providers.profiles.PRESETS).
USUAL_SERVERS: tuple[Candidate, ...] = (
    Candidate("Ollama", 11434, "ollama"),
    Candidate("LM Studio", 1234, "lm-studio"),
    Candidate("llama.cpp server", 8080, "llama-cpp"),
    Candidate("vLLM", 8000, "vllm"),
)


@dataclass(frozen=True, slots=True)
class LocalServer:
    """A server that answered: where to reach it and the models it offers."""

    name: str
    base_url: str
    models: tuple[str, ...]
    profile_id: str = ""  # the preset to use, when the server is on its usual port
    needs_key: bool = False  # it answered 401/403: it runs, but wants a key


@dataclass(frozen=True, slots=True)
class KeyInEnvironment:
    """A hosted provider whose key variable is set."""

    profile_id: str
    name: str
    env_var: str


async def probe_local_servers(
    candidates: Sequence[Candidate] = USUAL_SERVERS,
    *,
    host: str = "127.0.0.1",
    timeout: float = PROBE_TIMEOUT,
) -> list[LocalServer]:
    """The candidates that answer ``GET /v1/models`` on ``host``, in the given order."""
    if not candidates:
        return []
    import httpx2

    limit = httpx2.Timeout(timeout)
    # Plain HTTP to loopback only: no TLS context to build (~0.1 s), no proxy from the env.
    client = httpx2.AsyncClient(timeout=limit, trust_env=False, verify=False)
    async with client:
        answers = await asyncio.gather(
            *(_ask(client, host, candidate, timeout) for candidate in candidates)
        )
    return [server for server in answers if server is not None]


async def _ask(
    client: object, host: str, candidate: Candidate, timeout: float
) -> LocalServer | None:
    import httpx2

    assert isinstance(client, httpx2.AsyncClient)
    base_url = f"http://{host}:{candidate.port}/v1"
    try:
        async with asyncio.timeout(timeout):
            response = await client.get(f"{base_url}/models")
            body = await response.aread()
    except (TimeoutError, httpx2.HTTPError, OSError) as exc:
        log.debug("no server at %s: %s", base_url, type(exc).__name__)
        return None
    profile = _preset(candidate.profile_id)
    where = profile.base_url if profile is not None else base_url
    if response.status_code in (401, 403):
        return LocalServer(candidate.name, where, (), candidate.profile_id, needs_key=True)
    models = _model_ids(body) if response.status_code == 200 else None
    if models is None:
        log.debug("%s answered %s, not a model list", base_url, response.status_code)
        return None
    return LocalServer(candidate.name, where, models, candidate.profile_id)


def _model_ids(body: bytes) -> tuple[str, ...] | None:
    """The ids in an OpenAI-style model list, or None when ``body`` is not one."""
    if len(body) > _MAX_BODY:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    ids = [e.get("id") for e in entries if isinstance(e, dict)]
    return tuple(sorted({i for i in ids if isinstance(i, str) and i.strip()}))


def _preset(profile_id: str) -> ProviderProfile | None:
    return next((p for p in PRESETS if p.id == profile_id), None) if profile_id else None


def keys_in_environment(
    profiles: Sequence[ProviderProfile] = PRESETS, environ: Mapping[str, str] | None = None
) -> list[KeyInEnvironment]:
    """The profiles whose key variable (their own, or their host's usual one) is set."""
    env = os.environ if environ is None else environ
    found = []
    for profile in profiles:
        var = profile.key_env or env_var_for(profile.base_url)
        if var and env.get(var, "").strip():
            found.append(KeyInEnvironment(profile.id, profile.name, var))
    return found
