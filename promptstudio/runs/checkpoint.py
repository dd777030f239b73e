"""Partial answers written into the library while they stream, so a killed run keeps them.

The GUI and the CLI use the same :class:`ResponseCheckpoints`: its ``on_update`` sits in
the run's update callback (on whichever thread streams) and, at most once per
:data:`CHECKPOINT_INTERVAL_S` per answer, queues a write of the text so far on the
database's owner thread (``Database.submit``; it never waits for it). The final answer
then replaces that row (:meth:`ResponseCheckpoints.finish_response`). A process killed
mid-stream leaves rows marked ``streaming``; the next open of the library calls them
``interrupted`` (``storage.runs.mark_interrupted``) and History shows them so.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from promptstudio.chat import Message
from promptstudio.runs.engine import TargetResult, UpdateCallback
from promptstudio.runs.stored import response_fields
from promptstudio.storage import Database, StorageError, library
from promptstudio.storage.library import ResponseRow

log = logging.getLogger(__name__)

# A second of streamed text at most is lost to a kill; a write a second per answer is
# nothing next to the stream (see docs/PERFORMANCE.md, the board stall benchmark).
CHECKPOINT_INTERVAL_S = 1.0
# The share of the database thread checkpoints may take. Each write re-indexes the whole
# answer for search (~5 ms at 25 kB, ~45 ms at 100 kB, ~300 ms at 1 MB here), so long
# answers are written less often than every second rather than crowd out the app's saves.
CHECKPOINT_SHARE = 0.1


class ResponseCheckpoints:
    """The answers of one run, kept in the library while they stream.

    Call :meth:`start` with the run's id once the run row exists (nothing is written
    before), wrap the run's update callback with :meth:`watching`, and store each final
    answer with ``db.call(checkpoints.finish_response, result)`` (or ``acall``). A failed
    checkpoint (a full disk, say) is logged once and kept in :attr:`failure`; the stream
    goes on, and the final store reports the problem as a typed error.
    """

    def __init__(
        self,
        db: Database,
        messages: Sequence[Message],
        *,
        interval_s: float = CHECKPOINT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._db = db
        self._messages = tuple(messages)
        self._interval = interval_s
        self._clock = clock
        self._timer = timer  # measures the writes
        self._run_id: int | None = None
        self.failure: BaseException | None = None
        # Streaming thread only: when each answer may be written next, and the write queued.
        self._due: dict[str, float] = {}
        self._queued: dict[str, Future[None]] = {}
        # Owner thread only: each answer's row, and the answers whose final text is stored.
        self._ids: dict[str, int] = {}
        self._finished: set[str] = set()
        # Written on the owner thread, read on the streaming thread: each answer's last
        # write took this long (seconds).
        self._costs: dict[str, float] = {}
        self._costs_lock = threading.Lock()

    def start(self, run_id: int) -> None:
        self._run_id = run_id
        self._db.hold_merges()  # and again at every write: merges wait for the streams

    def watching(self, callback: UpdateCallback | None = None) -> UpdateCallback:
        """``callback`` (the board's or the terminal's), then :meth:`on_update`."""

        def on_update(key: str, result: TargetResult, delta: str) -> None:
            if callback is not None:
                callback(key, result, delta)
            self.on_update(key, result, delta)

        return on_update

    def on_update(self, key: str, result: TargetResult, delta: str) -> None:
        """Cheap: a clock read and two lookups per delta; a write at most every interval
        (less often when writes are slow: see :data:`CHECKPOINT_SHARE`)."""
        if not delta or self._run_id is None or self._db.closed:
            return
        now = self._clock()
        if now < self._due.get(key, 0.0):
            return
        queued = self._queued.get(key)
        if queued is not None and not queued.done():
            return  # one write in flight per answer: the next one carries all the text
        with self._costs_lock:
            round_cost = sum(self._costs.values())  # one write of every answer
        self._due[key] = now + max(self._interval, round_cost / CHECKPOINT_SHARE)
        if key in self._ids:  # set on the owner thread before the previous write finished
            first: dict[str, Any] = {}
        else:
            first = response_fields(result, self._messages)
            for name in ("text", "status", "error", "finish_reason", "ttft_ms", "total_ms",
                         "output_tokens"):  # fmt: skip
                first.pop(name)
        usage = result.usage
        total_ms = result.total_ms
        if total_ms is None and result._started is not None:  # so far: where it was cut off
            total_ms = (time.perf_counter() - result._started) * 1000
        figures: dict[str, Any] = {
            "text": result.text,
            "ttft_ms": result.ttft_ms,
            "total_ms": total_ms,
            "output_tokens": usage.output_tokens if usage else None,
        }
        try:
            future = self._db.submit(self.checkpoint_response, key, figures, first)
        except StorageError:  # closed meanwhile: the final store says so
            return
        self._db.hold_merges()
        future.add_done_callback(self._checked)
        self._queued[key] = future

    def checkpoint_response(
        self,
        conn: sqlite3.Connection,
        key: str,
        figures: dict[str, Any],
        first: dict[str, Any],
    ) -> None:
        """On the owner thread: insert or update the answer's row, unless it is final."""
        if key in self._finished or self._run_id is None:
            return
        started = self._timer()
        self._ids[key] = library.checkpoint_response(
            conn, self._run_id, self._ids.get(key), **figures, **first
        )
        with self._costs_lock:
            self._costs[key] = self._timer() - started

    def _checked(self, future: Future[None]) -> None:
        error = future.exception()
        if error is None:
            return
        if self.failure is None:  # the final store reports it, if it fails too
            log.info("the partial answer could not be kept: %s", error)
        self.failure = error

    def finish_response(self, conn: sqlite3.Connection, result: TargetResult) -> ResponseRow:
        """On the owner thread: the final answer replaces the checkpointed row (queued
        after any checkpoint of it, so it always comes last)."""
        key = result.target.key
        assert self._run_id is not None, "start() first"
        self._finished.add(key)
        fields = response_fields(result, self._messages)
        return library.finish_response(conn, self._run_id, self._ids.get(key), **fields)
