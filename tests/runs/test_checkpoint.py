"""Partial answers are kept in the library while they stream (issue 14, point 5)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptstudio.chat import Message
from promptstudio.providers import Endpoint
from promptstudio.runs import RunSession, RunTarget, TargetResult, TargetStatus
from promptstudio.runs.checkpoint import ResponseCheckpoints
from promptstudio.storage import Database, library
from tests.fake_llm import FakeLLM, Reply

MESSAGES = [Message("user", "Count for me")]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def _run_row(db: Database) -> int:
    prompt = db.call(library.create_prompt, "p")
    version = db.call(library.save_version, prompt.id, "Count for me", {}, {})
    return db.call(library.record_run, version.id, {}).id


def _stream(result: TargetResult, text: str) -> None:
    result.status = TargetStatus.STREAMING
    result.add_text(text)


def _rows(db: Database, run_id: int) -> list[tuple[str, str]]:
    return [(r.text, r.status) for r in db.call(library.list_responses, run_id)]


def test_at_most_one_write_a_second_and_the_final_answer_replaces_it(db: Database) -> None:
    run_id = _run_row(db)
    clock = Clock()
    checkpoints = ResponseCheckpoints(db, MESSAGES, clock=clock)
    checkpoints.start(run_id)
    on_update = checkpoints.watching()
    result = TargetResult(RunTarget("c1", Endpoint(base_url="http://127.0.0.1:9/v1"), "m"))
    _stream(result, "one ")
    on_update("c1", result, "one ")  # the first text is kept at once
    db.call(lambda conn: None)  # queued after the checkpoint: it has run
    assert _rows(db, run_id) == [("one ", "streaming")]
    for word in ("two ", "three "):  # within the second: no write
        clock.now += 0.3
        _stream(result, word)
        on_update("c1", result, word)
    db.call(lambda conn: None)
    assert _rows(db, run_id) == [("one ", "streaming")]
    clock.now += 0.5
    _stream(result, "four")
    on_update("c1", result, "four")
    db.call(lambda conn: None)
    assert _rows(db, run_id) == [("one two three four", "streaming")]

    result.status = TargetStatus.DONE
    result.finish_reason = "stop"
    final = db.call(checkpoints.finish_response, result)
    clock.now += 5
    on_update("c1", result, "late")  # a late checkpoint never overwrites the final answer
    db.call(lambda conn: None)
    assert _rows(db, run_id) == [("one two three four", "done")]
    assert final.model == "m" and final.messages == [m.to_dict() for m in MESSAGES]


def test_streaming_answers_are_interrupted_at_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    with Database(path) as db:
        run_id = _run_row(db)
        checkpoints = ResponseCheckpoints(db, MESSAGES)
        checkpoints.start(run_id)
        result = TargetResult(RunTarget("c1", Endpoint(base_url="http://127.0.0.1:9/v1"), "m"))
        _stream(result, "what had arrived")
        checkpoints.on_update("c1", result, "what had arrived")
        db.call(lambda conn: None)
        # The process dies here: the final answer is never stored.
    with Database(path) as db:
        assert db.interrupted == 1
        assert _rows(db, run_id) == [("what had arrived", library.INTERRUPTED)]
        assert db.call(library.search, "had arrived")  # findable like any answer
    with Database(path) as db:
        assert db.interrupted == 0


def test_a_real_stream_is_checkpointed_and_stored_once(db: Database, fake_llm: FakeLLM) -> None:
    run_id = _run_row(db)
    fake_llm.script(Reply(text="tick " * 30, tokens_per_second=100))
    checkpoints = ResponseCheckpoints(db, MESSAGES, interval_s=0.05)
    checkpoints.start(run_id)
    seen: list[str] = []
    target = RunTarget("c1", Endpoint(base_url=fake_llm.base_url, max_retries=0), "m")
    session = RunSession(MESSAGES, [target], on_update=checkpoints.watching(
        lambda key, result, delta: seen.append(delta)))  # fmt: skip
    results = asyncio.run(session.run())
    assert "".join(seen) == "tick " * 30  # the wrapped callback still sees every delta
    db.call(checkpoints.finish_response, results["c1"])
    assert _rows(db, run_id) == [("tick " * 30, "done")]


def test_slow_writes_of_long_answers_are_spaced_out(db: Database) -> None:
    """A write that takes 0.25 s (a long answer's search index rewritten) may take a tenth
    of the database thread: the next one waits 2.5 s instead of 1 s."""
    run_id = _run_row(db)
    clock, timer = Clock(), Clock()

    def slow_timer() -> float:
        timer.now += 0.25  # read before and after each write: 0.25 s per write
        return timer.now

    checkpoints = ResponseCheckpoints(db, MESSAGES, clock=clock, timer=slow_timer)
    checkpoints.start(run_id)
    result = TargetResult(RunTarget("c1", Endpoint(base_url="http://127.0.0.1:9/v1"), "m"))
    writes = []
    for step in range(8):  # a delta every 0.5 s
        _stream(result, f"{step} ")
        checkpoints.on_update("c1", result, f"{step} ")
        db.call(lambda conn: None)
        writes.append(_rows(db, run_id)[0][0])
        clock.now += 0.5
    # Written at 0 s and 1 s (no write measured yet), then 2.5 s later, not every second.
    assert writes == ["0 "] * 2 + ["0 1 2 "] * 5 + ["0 1 2 3 4 5 6 7 "]


def test_streaming_answers_hold_the_search_index_merges(db: Database) -> None:
    """Merge rounds of the background connection wait while answers stream (they raised
    the run board's stall, docs/PERFORMANCE.md): a run's start and each write renew it."""
    assert not db.merges_held
    checkpoints = ResponseCheckpoints(db, MESSAGES)
    checkpoints.start(_run_row(db))
    assert db.merges_held
    db.hold_merges(0)  # as if the hold had run out: the next write renews it
    assert not db.merges_held
    result = TargetResult(RunTarget("c1", Endpoint(base_url="http://127.0.0.1:9/v1"), "m"))
    _stream(result, "one ")
    checkpoints.watching()("c1", result, "one ")
    assert db.merges_held
