"""The ``httpx2`` client each SDK client rides on: the SDK's defaults, one TLS context.

Building a TLS context loads the CA store (~50 ms), so every client shares one, built once
off the event loop. A stream may ask to be told when each request leaves the client (an
``httpx2`` request hook): time to first token is counted from the first attempt's.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable

import httpx2

RequestHook = Callable[[httpx2.Request], Awaitable[None]]

_ssl_context: ssl.SSLContext | None = None


async def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: building one loads the CA store (~50 ms).

    Built once, in a worker thread, so no stream pays for it and the UI loop never blocks.
    """
    if _ssl_context is None:
        return await asyncio.to_thread(ssl_context)
    return _ssl_context


def ssl_context() -> ssl.SSLContext:
    """The shared TLS context, built here if need be (blocking: call it off the loop)."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = httpx2.create_ssl_context()
    return _ssl_context


async def build_http_client(
    client_class: Callable[..., httpx2.AsyncClient], on_request: RequestHook | None = None
) -> httpx2.AsyncClient:
    """An SDK's default ``httpx2`` client class with the shared TLS context.

    ``on_request`` is awaited as each request is about to be sent.
    """
    context = await shared_ssl_context()
    if on_request is None:
        return client_class(verify=context)
    return client_class(verify=context, event_hooks={"request": [on_request]})
