"""A tiny Qt-free observer, so core models can announce their changes.

After napari's evented models (``napari.utils.events``): a model has one :class:`Emitter`
per field, and a subscriber gets a :class:`Change` naming the field with its new and old
value. The UI connects its widgets to them (Qt stays in ``ui``); tests and the CLI can
subscribe the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Change(Generic[T]):
    """One field of a model changed: which one, what it is now, what it was."""

    field: str
    value: T
    old: T


class Emitter(Generic[T]):
    """Calls its subscribers, in the order they connected, with each event emitted.

    A subscriber's exception propagates to whoever changed the model (a bug is not
    swallowed); subscribers connected or disconnected during an emit take effect from the
    next one.
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[[T], object]] = []
        self._blocked = 0

    def connect(self, callback: Callable[[T], object]) -> Callable[[T], object]:
        """Call ``callback(event)`` on every emit; returns it (usable as a decorator)."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[[T], object]) -> None:
        """Stop calling ``callback``; nothing happens if it was not connected."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, event: T) -> None:
        if self._blocked:
            return
        for callback in list(self._callbacks):
            callback(event)

    @contextmanager
    def blocked(self) -> Iterator[None]:
        """Emit nothing inside the ``with`` block."""
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1

    def __len__(self) -> int:
        """How many subscribers are connected."""
        return len(self._callbacks)
