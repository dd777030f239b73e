"""The feed between the run worker's thread and the GUI's: real threads, no sleeps."""

from __future__ import annotations

import threading

import pytest

from promptstudio.runs.feed import Feed

KEYS = ("a#0", "a#1", "b#0")


def test_a_drain_returns_what_was_put_by_key_in_order_and_then_nothing() -> None:
    feed: Feed[str, int] = Feed()
    for number, key in enumerate(["b", "a", "b", "c", "a"]):
        feed.put(key, number)
    assert list(feed.drain().items()) == [("b", [0, 2]), ("a", [1, 4]), ("c", [3])]
    assert feed.drain() == {}
    feed.put("a", 5)
    assert feed.drain() == {"a": [5]}


@pytest.mark.usefixtures("often_switching")
def test_nothing_put_on_other_threads_is_lost_doubled_or_reordered() -> None:
    feed: Feed[str, int] = Feed()
    per_producer = 20_000
    done = threading.Barrier(3)  # two producers and the test

    def produce(keys: tuple[str, ...]) -> None:
        for number in range(per_producer):
            feed.put(keys[number % len(keys)], number)
        done.wait()

    producers = [
        threading.Thread(target=produce, args=(KEYS[:2],)),
        threading.Thread(target=produce, args=(KEYS[2:],)),
    ]
    for producer in producers:
        producer.start()
    taken: dict[str, list[int]] = {key: [] for key in KEYS}
    drains = 0
    while sum(map(len, taken.values())) < 2 * per_producer:
        for key, items in feed.drain().items():  # while the producers put
            taken[key].extend(items)
        drains += 1
    done.wait()
    for producer in producers:
        producer.join()
    assert feed.drain() == {}
    assert taken["a#0"] == list(range(0, per_producer, 2))
    assert taken["a#1"] == list(range(1, per_producer, 2))
    assert taken["b#0"] == list(range(per_producer))
    assert drains > 1  # the drains really ran while items arrived


def test_a_producer_never_waits_while_the_consumer_works_on_a_batch() -> None:
    feed: Feed[str, str] = Feed()
    feed.put("a", "first")
    put_meanwhile = threading.Event()
    for _key, _items in feed.drain().items():  # the consumer is busy with this batch...

        def put_one_more() -> None:
            feed.put("a", "second")
            put_meanwhile.set()

        producer = threading.Thread(target=put_one_more)
        producer.start()
        assert put_meanwhile.wait(5)  # ...and a put on another thread goes through
        producer.join()
    assert feed.drain() == {"a": ["second"]}
