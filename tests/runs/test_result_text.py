"""A target's text read on one thread while the streaming thread appends to it."""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from promptstudio.providers import Endpoint
from promptstudio.runs import RunTarget, TargetResult


def result() -> TargetResult:
    return TargetResult(RunTarget("a", Endpoint(base_url="http://127.0.0.1:9/v1"), "m"))


@pytest.mark.usefixtures("often_switching")
def test_reading_the_text_while_it_streams_sees_a_prefix_and_loses_nothing() -> None:
    live = result()
    deltas = [f"w{number} " for number in range(500_000)]
    final = "".join(deltas)
    written = threading.Event()

    def stream() -> None:
        for delta in deltas:
            live.add_text(delta)
        written.set()

    writer = threading.Thread(target=stream)
    writer.start()
    reads = 0
    while not written.is_set():
        text, count = live.text_so_far()
        assert text == "".join(deltas[:count])  # a whole prefix, and the count matches
        assert final.startswith(live.text)
        reads += 1
    writer.join()
    assert live.text == final
    assert live.output_chunks == len(deltas)
    assert reads > 1


def test_reading_a_long_answer_again_costs_only_what_arrived_since() -> None:
    live = result()
    for number in range(100_000):  # a 100k-token answer, ~490 kB
        live.add_text(f"t{number % 1000} ")
    assert len(live.text) > 400_000
    reads, joins = [], []
    for number in range(100):  # the board's flush: a few new tokens, then a read
        live.add_text(f"n{number} ")
        started = time.perf_counter()
        text = live.text
        reads.append(time.perf_counter() - started)
        assert text.endswith(f"n{number} ")
        started = time.perf_counter()
        "".join(live._parts)  # what a read without the kept text would cost
        joins.append(time.perf_counter() - started)
    # Medians, so a busy machine's hiccups do not decide: ~10 µs against ~0.6 ms here.
    assert statistics.median(reads) < statistics.median(joins) / 5
