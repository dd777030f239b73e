"""Make the SDKs' own retries visible and bounded, without a retry loop of ours.

Both SDKs retry 408, 409, 429, ≥500 and connection failures up to ``max_retries`` times,
waiting what ``retry-after-ms``/``retry-after`` says, else 0.5 s doubling (at most 8 s)
minus up to 25 % jitter. They log the wait but have no public callback, so we watch the
HTTP traffic of the ``httpx2`` client we hand them (``http_client=``):

* a response hook sees each failed attempt before the SDK does. If the SDK is going to
  retry, we announce a :class:`Retrying` with the exact wait: the server's own, or, when it
  gave none, a jittered backoff of ours that we write into ``retry-after-ms`` so the SDK
  waits exactly that. A wait beyond :data:`MAX_RETRY_WAIT` or past the first-token deadline
  is not waited for: ``x-should-retry: false`` makes the SDK give up now, and the typed
  error says when to try again (the openai SDK itself never waits over 120 s; anthropic's
  has no limit);
* the transport sees connection failures (no response to hook), announced with the SDK's
  nominal backoff, an upper bound of its jittered wait;
* the request hook catches any retry we did not see coming (a proxied connection failure)
  and announces it late, with no wait left.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Callable

import httpx2

from promptstudio.providers.base import Retrying
from promptstudio.providers.failures import describe_exception, retry_after_seconds

log = logging.getLogger(__name__)

MAX_RETRY_WAIT = 60.0
"""Longest server-directed wait (seconds) we let the SDK sleep before a retry."""

_INITIAL_DELAY = 0.5
_MAX_DELAY = 8.0
_RETRY_COUNT_HEADER = "x-stainless-retry-count"

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


class RetryWatch:
    """Watches one SDK client's attempts; calls ``notify`` before each retry's wait."""

    def __init__(
        self,
        max_retries: int,
        notify: Callable[[Retrying], None] | None = None,
        *,
        deadline: float | None = None,
    ) -> None:
        self.max_retries = max_retries
        self.deadline = deadline  # loop.time() by which the answer must have started
        self.sent_at: float | None = None  # time.perf_counter() of the first attempt
        self._notify = notify
        self._announced: set[int] = set()  # retry numbers already announced

    # ---- httpx2 hooks ----------------------------------------------------------------

    async def on_request(self, request: httpx2.Request) -> None:
        if self.sent_at is None:
            self.sent_at = time.perf_counter()
        retry = _retry_count(request)
        if retry > 0 and retry not in self._announced:
            self._announce(retry, 0.0, "the previous attempt failed")

    async def on_response(self, response: httpx2.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        taken = _retry_count(response.request)
        if taken >= self.max_retries or not _sdk_retries(response):
            return
        wait = retry_after_seconds(response.headers)
        server_wait = wait is not None and wait > 0
        if not server_wait:
            wait = _backoff(taken) * (1 - 0.25 * random.random())
        assert wait is not None
        limit = self._wait_limit()
        if wait > limit:
            log.debug(
                "not retrying %s: a %.1f s wait is over the %.1f s limit", status, wait, limit
            )
            response.headers["x-should-retry"] = "false"
            return
        if not server_wait:
            response.headers["retry-after-ms"] = f"{wait * 1000:.0f}"
            wait = round(wait * 1000) / 1000
        self._announce(taken + 1, wait, _reason(status))

    def on_transport_error(self, request: httpx2.Request, exc: Exception) -> None:
        taken = _retry_count(request)
        if taken < self.max_retries:
            self._announce(taken + 1, _backoff(taken), describe_exception(exc))

    # ---- helpers ---------------------------------------------------------------------

    def _wait_limit(self) -> float:
        if self.deadline is None:
            return MAX_RETRY_WAIT
        left = self.deadline - asyncio.get_running_loop().time()
        return max(0.0, min(MAX_RETRY_WAIT, left))

    def _announce(self, attempt: int, wait: float, reason: str) -> None:
        self._announced.add(attempt)
        log.info("retry %d of %d in %.2f s: %s", attempt, self.max_retries, wait, reason)
        if self._notify is not None:
            self._notify(Retrying(attempt, self.max_retries, wait, reason))


class _WatchedTransport(httpx2.AsyncHTTPTransport):
    """The default transport, telling the watch about attempts that got no response."""

    def __init__(self, watch: RetryWatch, *, verify: ssl.SSLContext) -> None:
        super().__init__(verify=verify)
        self._watch = watch

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await super().handle_async_request(request)
        except httpx2.TransportError as exc:
            self._watch.on_transport_error(request, exc)
            raise


async def build_http_client(
    client_class: Callable[..., httpx2.AsyncClient], watch: RetryWatch | None
) -> httpx2.AsyncClient:
    """An SDK's default ``httpx2`` client class, with the shared TLS context and the watch."""
    context = await shared_ssl_context()
    if watch is None:
        return client_class(verify=context)
    return client_class(
        verify=context,
        transport=_WatchedTransport(watch, verify=context),
        event_hooks={"request": [watch.on_request], "response": [watch.on_response]},
    )


def _retry_count(request: httpx2.Request) -> int:
    try:
        return int(request.headers.get(_RETRY_COUNT_HEADER, "0"))
    except ValueError:
        return 0


def _sdk_retries(response: httpx2.Response) -> bool:
    """Whether the SDKs retry this response (their ``_should_retry``, minus the wait cap)."""
    should = response.headers.get("x-should-retry")
    if should in ("true", "false"):
        return should == "true"
    status = response.status_code
    return status in (408, 409, 429) or status >= 500


def _backoff(retries_taken: int) -> float:
    """The SDKs' backoff before jitter: 0.5 s doubling, at most 8 s."""
    return float(min(_INITIAL_DELAY * 2.0 ** min(retries_taken, 1000), _MAX_DELAY))


def _reason(status: int) -> str:
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
