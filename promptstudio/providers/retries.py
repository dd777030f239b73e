"""Our retries: which failed attempts are tried again, after what wait, announced first.

The SDK clients are built with ``max_retries=0``; :meth:`SdkStreamProvider.stream` retries
the opening of a stream itself, deciding on the typed error ``failures.map_sdk_error`` made
of the failure. The policy is the one the SDKs had:

* retried: 408, 409, 429 (rate limited), 503/529 (overloaded) and every other status of
  500 or more, and attempts that got no response (could not connect, timed out). A server
  may say otherwise with ``x-should-retry: true`` or ``false``;
* not retried: any other 4xx, and anything once the stream has begun (an error event in a
  200 stream, a stall between chunks, a cut): text may already have been shown;
* the wait: the server's (``retry-after-ms`` or ``retry-after``), else 0.5 s doubling up
  to 8 s, less up to a quarter of random jitter. A wait over :data:`MAX_RETRY_WAIT` or past
  the first-token deadline is not waited for: the typed error says when to try again;
* at most ``Endpoint.max_retries`` retries, each announced as a :class:`Retrying` with its
  exact wait before the wait starts.
"""

from __future__ import annotations

import asyncio
import logging
import random

from promptstudio.providers.base import Retrying
from promptstudio.providers.errors import ConnectionFailed, ProviderError, TimedOut
from promptstudio.providers.failures import (
    describe_exception,
    response_headers,
    retry_after_seconds,
)

log = logging.getLogger(__name__)

MAX_RETRY_WAIT = 60.0
"""Longest server-directed wait (seconds) we sleep before a retry."""

INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
JITTER = 0.25  # a backoff is shortened by up to this fraction, so clients spread out


class RetryPolicy:
    """The retries of one request: counts them and says whether and when to try again."""

    def __init__(self, max_retries: int, deadline: float | None = None) -> None:
        self.max_retries = max_retries
        self.deadline = deadline  # loop.time() by which the answer must have started
        self.taken = 0

    def after(self, error: ProviderError, exc: BaseException) -> Retrying | None:
        """The retry to make after a failed attempt, or None to give up with ``error``.

        ``exc`` is the SDK's exception ``error`` was made from; only its response's headers
        are read (``x-should-retry``, ``retry-after``).
        """
        if self.taken >= self.max_retries:
            return None
        headers = response_headers(exc)
        if not _worth_retrying(error, headers.get("x-should-retry")):
            return None
        wait = retry_after_seconds(headers)
        if wait is None or wait <= 0:
            wait = round(backoff(self.taken) * (1 - JITTER * random.random()), 3)
        limit = self._wait_limit()
        if wait > limit:
            log.debug("not retrying: a %.1f s wait is over the %.1f s limit", wait, limit)
            return None
        self.taken += 1
        reason = _reason(error, exc)
        log.info("retry %d of %d in %.2f s: %s", self.taken, self.max_retries, wait, reason)
        return Retrying(self.taken, self.max_retries, wait, reason)

    def _wait_limit(self) -> float:
        if self.deadline is None:
            return MAX_RETRY_WAIT
        left = self.deadline - asyncio.get_running_loop().time()
        return max(0.0, min(MAX_RETRY_WAIT, left))


def backoff(retries_taken: int) -> float:
    """The wait before jitter when the server named none: 0.5 s doubling, at most 8 s."""
    return float(min(INITIAL_BACKOFF * 2.0 ** min(retries_taken, 32), MAX_BACKOFF))


def _worth_retrying(error: ProviderError, server_says: str | None) -> bool:
    if server_says in ("true", "false"):
        return server_says == "true"
    status = error.status
    if status is not None:
        return status in (408, 409, 429) or status >= 500
    return isinstance(error, ConnectionFailed | TimedOut)  # no response at all


def _reason(error: ProviderError, exc: BaseException) -> str:
    status = error.status
    if status is None:
        return describe_exception(exc)
    if status == 429:
        return "rate limited (429)"
    if status in (503, 529):
        return f"overloaded ({status})"
    if status == 408:
        return "request timeout (408)"
    if status == 409:
        return "conflict (409)"
    if status >= 500:
        return f"server error ({status})"
    return f"the server asked to retry ({status})"
