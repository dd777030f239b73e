"""The Qt-free observer the core's models announce their changes with."""

from __future__ import annotations

import pytest

from promptstudio.events import Change, Emitter


def test_subscribers_are_called_in_order_with_the_event() -> None:
    emitter: Emitter[Change[int]] = Emitter()
    seen: list[tuple[str, Change[int]]] = []
    emitter.connect(lambda change: seen.append(("first", change)))
    emitter.connect(lambda change: seen.append(("second", change)))
    emitter.emit(Change("count", 2, 1))
    assert seen == [("first", Change("count", 2, 1)), ("second", Change("count", 2, 1))]
    assert len(emitter) == 2


def test_disconnect_and_blocked() -> None:
    emitter: Emitter[int] = Emitter()
    seen: list[int] = []
    callback = emitter.connect(seen.append)
    with emitter.blocked():
        emitter.emit(1)
    emitter.emit(2)
    emitter.disconnect(callback)
    emitter.disconnect(callback)  # twice: nothing happens
    emitter.emit(3)
    assert seen == [2]


def test_a_subscriber_connected_during_an_emit_hears_the_next_one() -> None:
    emitter: Emitter[int] = Emitter()
    late: list[int] = []
    emitter.connect(lambda _n: emitter.connect(late.append) if not len(late) else None)
    emitter.emit(1)
    assert late == []
    emitter.emit(2)
    assert late == [2]


def test_a_failing_subscriber_is_not_swallowed() -> None:
    emitter: Emitter[int] = Emitter()

    def broken(_n: int) -> None:
        raise ValueError("a bug")

    emitter.connect(broken)
    with pytest.raises(ValueError, match="a bug"):
        emitter.emit(1)
