"""How many requests go to one server at once; the others wait their turn ("queued").

A server on this machine (Ollama, LM Studio, the llama.cpp server) answers one request at
a time, and llama-cpp-python's server even cuts the stream it is serving when a new request
arrives (``--interrupt_requests``, on by default). So requests to a local server queue by
default; a hosted API takes any number (runs) or a few (evaluations, see
``evals.runner``). A provider profile can say otherwise (``Endpoint.max_concurrent``).

One :class:`ServerLimits` is shared by every run that should queue together (the GUI keeps
one for all its runs). Its semaphores are created and used on one event loop.
"""

from __future__ import annotations

import asyncio

from promptstudio.providers import Endpoint, is_local, server_key

LOCAL_LIMIT = 1

__all__ = ["LOCAL_LIMIT", "ServerLimits", "is_local", "server_key"]


class ServerLimits:
    """A turn to send to each server: at most ``limit_for(endpoint)`` requests at once.

    ``local`` and ``remote`` are the defaults for servers on this machine and elsewhere
    (None: no limit); an endpoint's own ``max_concurrent`` wins over both. With ``share``,
    the turns are that object's: an evaluation (its own defaults) and the app's runs then
    wait for each other at a server where their limits agree (a local server's 1).
    """

    def __init__(
        self,
        local: int | None = LOCAL_LIMIT,
        remote: int | None = None,
        *,
        share: ServerLimits | None = None,
    ) -> None:
        self.local = local
        self.remote = remote
        self._turns: dict[tuple[str, int], asyncio.Semaphore] = (
            share._turns if share is not None else {}
        )

    def limit_for(self, endpoint: Endpoint) -> int | None:
        if endpoint.max_concurrent is not None:
            return max(1, endpoint.max_concurrent)
        limit = self.local if is_local(endpoint) else self.remote
        return None if limit is None else max(1, limit)

    def turn(self, endpoint: Endpoint) -> asyncio.Semaphore | None:
        """The semaphore to hold while talking to the server; None when it has no limit.

        Keyed by server and limit, so a limit changed in a profile applies from the next
        request on (requests already sent keep their old turn).
        """
        limit = self.limit_for(endpoint)
        if limit is None:
            return None
        key = (server_key(endpoint), limit)
        if key not in self._turns:
            self._turns[key] = asyncio.Semaphore(limit)
        return self._turns[key]
