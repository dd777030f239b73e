"""The models a server offers, through the SDKs' ``models.list()``, with a small cache.

Failures are the same typed errors as a stream's (a bad key is ``AuthenticationFailed``,
nothing listening is ``ConnectionFailed`` with the local-server hint). Listing is not
retried: the UI asks again when the user does.

A 404 from a base URL that lacks ``/v1`` is most often the path, not the model: before
saying "model not found", :func:`explain_not_found` asks ``<base>/v1/models`` (quickly)
and, when that answers, says to add ``/v1``.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import urlsplit

from promptstudio.providers.base import Endpoint
from promptstudio.providers.errors import ModelNotFound, ProviderError, TimedOut

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
V1_CHECK_TIMEOUT = 2.0
"""How long a 404 waits for the model lists that explain it (best effort)."""
_SHOWN = 8


async def list_models(
    endpoint: Endpoint, kind: str | None = None, *, timeout: float | None = None
) -> list[str]:
    """Model ids at ``endpoint``, sorted; ``kind`` defaults to the endpoint's.

    Raises a typed ``ProviderError``; ``TimedOut`` when no full answer came in ``timeout``
    seconds (default :data:`DEFAULT_TIMEOUT`).
    """
    limit = timeout if timeout is not None else DEFAULT_TIMEOUT
    quick = _with_timeouts(endpoint, limit)
    anthropic = (kind or endpoint.kind) == "anthropic"
    fetch = _anthropic_ids if anthropic else _openai_ids
    try:
        async with asyncio.timeout(limit):
            ids = await fetch(quick)
    except TimeoutError:
        raise TimedOut(
            f"The model list from {endpoint.label} did not arrive within {limit:g} s."
        ) from None
    except ProviderError as exc:
        with_v1 = None if anthropic or exc.status != 404 else v1_base_url(endpoint)
        if with_v1 is not None and await _models_at(endpoint, with_v1) is not None:
            url = f"{endpoint.base_url}/models"
            raise ProviderError(_v1_advice(url, with_v1), status=404) from None
        raise
    log.debug("%d models at %s", len(ids), endpoint.label)
    return sorted(set(ids))


async def _openai_ids(endpoint: Endpoint) -> list[str]:
    import openai

    from promptstudio.providers.failures import map_sdk_error
    from promptstudio.providers.http_client import build_http_client
    from promptstudio.providers.openai_chat import OPENAI_ERRORS, make_openai_client

    http_client = await build_http_client(openai.DefaultAsyncHttpxClient)
    client = make_openai_client(endpoint, http_client)
    try:
        return [model.id async for model in client.models.list()]
    except openai.OpenAIError as exc:
        raise map_sdk_error(exc, endpoint, None, OPENAI_ERRORS, deltas=None) from None
    finally:
        await client.close()


async def _anthropic_ids(endpoint: Endpoint) -> list[str]:
    import anthropic

    from promptstudio.providers.anthropic_messages import ANTHROPIC_ERRORS, make_anthropic_client
    from promptstudio.providers.failures import map_sdk_error
    from promptstudio.providers.http_client import build_http_client

    http_client = await build_http_client(anthropic.DefaultAsyncHttpxClient)
    client = make_anthropic_client(endpoint, http_client)
    try:
        return [model.id async for model in client.models.list()]
    except anthropic.AnthropicError as exc:
        raise map_sdk_error(exc, endpoint, None, ANTHROPIC_ERRORS, deltas=None) from None
    finally:
        await client.close()


def _with_timeouts(endpoint: Endpoint, limit: float) -> Endpoint:
    """The endpoint with no retries and timeouts no longer than ``limit``."""
    from dataclasses import replace

    return replace(
        endpoint,
        max_retries=0,
        connect_timeout=min(endpoint.connect_timeout, limit),
        first_token_timeout=limit,
        idle_timeout=limit,
    )


def v1_base_url(endpoint: Endpoint) -> str | None:
    """``<base>/v1`` for an OpenAI-style base URL whose path does not end in /v1, else None."""
    if endpoint.kind == "anthropic":
        return None  # the anthropic SDK adds /v1 itself
    base = endpoint.base_url.strip().rstrip("/")
    if urlsplit(base).path.rstrip("/").endswith("/v1"):
        return None
    return f"{base}/v1"


async def _models_at(endpoint: Endpoint, base_url: str) -> list[str] | None:
    """The models at another base URL of the same server, or None when it does not answer."""
    try:
        return await list_models(replace(endpoint, base_url=base_url), timeout=V1_CHECK_TIMEOUT)
    except ProviderError as exc:
        log.debug("no model list at %s: %s", base_url, exc)
        return None


def _v1_advice(url: str, with_v1: str) -> str:
    return (
        f"The server answered 404 for {url}; it serves the API under {with_v1} — set the "
        "base URL to that."
    )


async def explain_not_found(
    error: ModelNotFound, endpoint: Endpoint, url: str | None = None
) -> ModelNotFound:
    """The 404 of a generation request, explained: a missing ``/v1`` in the base URL, or
    the models the server does have. ``url`` is the URL that answered 404."""
    with_v1 = v1_base_url(endpoint)
    if with_v1 is not None:
        offered = await _models_at(endpoint, with_v1)
        if offered is not None:
            message = _v1_advice(url or f"{endpoint.base_url}/…", with_v1)
            model = error.model or ""
            if model and model not in offered:
                hint = model_hint(model, offered)
                message += f" Model '{model}' is not among its models either." + (
                    f" {hint}" if hint else ""
                )
            return ModelNotFound(
                message, model=error.model, available=tuple(offered), url_suspect=True
            )
    if error.url_suspect:
        return error
    try:
        available = await list_models(endpoint, timeout=V1_CHECK_TIMEOUT)
    except ProviderError as exc:
        log.debug("no model list from %s for the 404: %s", endpoint.label, exc)
        return error
    hint = model_hint(error.model or "", available)
    if not hint:
        return error
    return ModelNotFound(f"{error.message} {hint}", model=error.model, available=tuple(available))


def model_hint(model: str, available: list[str]) -> str:
    """A sentence naming the models to use instead of ``model`` ("" when none)."""
    if not available:
        return ""
    close = difflib.get_close_matches(model, available, n=3, cutoff=0.6)
    if close:
        return f"Did you mean {_join(close, 'or')}?"
    shown = available[:_SHOWN]
    more = len(available) - len(shown)
    tail = f" and {more} more" if more else ""
    return f"Available: {', '.join(shown)}{tail}."


def _join(names: list[str], word: str) -> str:
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} {word} {names[-1]}"


Lister = Callable[[Endpoint], Awaitable[list[str]]]


class ModelCache:
    """Model lists by base URL, kept in memory for the session.

    Concurrent requests for the same server share one listing; failures are not cached.
    """

    def __init__(self, lister: Lister = list_models) -> None:
        self._lister = lister
        self._models: dict[str, list[str]] = {}
        self._pending: dict[str, asyncio.Future[list[str]]] = {}

    @staticmethod
    def key(endpoint: Endpoint) -> str:
        return endpoint.base_url.strip().rstrip("/")

    def cached(self, endpoint: Endpoint) -> list[str] | None:
        """The list we have, without asking the server."""
        models = self._models.get(self.key(endpoint))
        return list(models) if models is not None else None

    async def get(self, endpoint: Endpoint, *, refresh: bool = False) -> list[str]:
        """The server's models; asks it only the first time, or when ``refresh``."""
        key = self.key(endpoint)
        if not refresh and key in self._models:
            return list(self._models[key])
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._lister(endpoint))
            self._pending[key] = pending
            pending.add_done_callback(lambda done: self._settle(key, done))
        return list(await asyncio.shield(pending))

    def _settle(self, key: str, done: asyncio.Future[list[str]]) -> None:
        if self._pending.get(key) is done:
            del self._pending[key]
        if not done.cancelled() and done.exception() is None:
            self._models[key] = list(done.result())

    def forget(self, endpoint: Endpoint | None = None) -> None:
        """Drop one server's list (or all), so the next :meth:`get` asks again."""
        if endpoint is None:
            self._models.clear()
        else:
            self._models.pop(self.key(endpoint), None)
