"""Where the run worker's thread hands things to the GUI's: a feed drained on a timer.

Streams are parsed on the :class:`~promptstudio.runs.worker.RunWorker` thread and widgets
live on the GUI thread. The two meet in a :class:`Feed`: producers on any thread
:meth:`~Feed.put` items under a key (a run target, an evaluation column), and the one
consumer calls :meth:`~Feed.drain` on its own timer and gets everything put since the last
drain, grouped by key. A put costs an append; a drain swaps the buffer under the lock and
returns it, so the consumer does its work (the widgets) with no lock held and a producer
never waits for it.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, NamedTuple, TypeVar

from promptstudio.runs.engine import TargetResult

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Feed(Generic[K, T]):
    """Items put on any thread, taken in batches by one consumer.

    :meth:`drain` returns a dict from key to that key's items in the order they were put;
    the keys come in the order each was first put since the previous drain. Nothing put is
    lost or returned twice: an item put while a drain runs is in that drain or the next.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[K, list[T]] = {}

    def put(self, key: K, item: T) -> None:
        """Add ``item`` under ``key``; any thread, never blocks for long."""
        with self._lock:
            bucket = self._items.get(key)
            if bucket is None:
                self._items[key] = [item]
            else:
                bucket.append(item)

    def drain(self) -> dict[K, list[T]]:
        """Everything put since the last drain, by key; the feed is empty afterwards.

        O(1) under the lock; the caller owns the returned lists.
        """
        with self._lock:
            items, self._items = self._items, {}
        return items


class TargetUpdate(NamedTuple):
    """One ``on_update`` call of a run, as a feed keeps it (under the target's key).

    ``chunks`` is how many deltas the result held once this one was added (read on the
    streaming thread, so exact): a view that shows ``TargetResult.text_so_far()`` skips the
    updates whose deltas that text already holds.
    """

    result: TargetResult
    delta: str
    chunks: int


__all__ = ["Feed", "TargetUpdate"]
