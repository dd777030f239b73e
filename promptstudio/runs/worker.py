"""A thread with its own asyncio loop where model streams are received and parsed.

Parsing a stream costs CPU on every chunk (the SDKs build an object per event: ~180 µs
here), so eight fast streams would keep a GUI thread busy. The GUI submits sessions here
and only ever drains buffers on its own timer. Callbacks of sessions run on this thread:
they must be cheap and thread-safe (putting into a :class:`~promptstudio.runs.feed.Feed`
is).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class RunWorker:
    def __init__(self, name: str = "promptstudio-runs") -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        try:
            self._loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._loop.is_closed()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the worker; await it elsewhere with ``asyncio.wrap_future``."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def call(self, fn: Callable[..., object], *args: object) -> None:
        """Call ``fn(*args)`` on the worker thread soon (e.g. ``session.cancel``)."""
        self._loop.call_soon_threadsafe(fn, *args)

    def call_and_wait(self, fn: Callable[..., T], *args: object, timeout: float = 2.0) -> T:
        """Call ``fn`` on the worker and wait for its result (for shutdown paths)."""

        async def call() -> T:
            return fn(*args)

        return self.submit(call()).result(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel what is running, close the loop and join the thread. Idempotent."""
        if self._loop.is_closed() or not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the run worker did not stop within %.0f s", timeout)
