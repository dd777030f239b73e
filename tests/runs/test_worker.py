"""The run worker: sessions stream on their own thread and loop, and can be cancelled."""

from __future__ import annotations

import asyncio
import threading

from promptstudio.chat import Message
from promptstudio.providers import Endpoint
from promptstudio.runs import RunSession, RunTarget, TargetStatus
from promptstudio.runs.worker import RunWorker
from tests.fake_llm import FakeLLM, Reply


def test_a_session_runs_on_the_worker_thread(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="from the worker"))
    threads: set[str] = set()
    worker = RunWorker()
    try:
        target = RunTarget("a", Endpoint(base_url=fake_llm.base_url, max_retries=0), "m")
        session = RunSession(
            [Message("user", "hi")], [target],
            on_update=lambda _k, _r, _d: threads.add(threading.current_thread().name),
        )  # fmt: skip

        async def main() -> str:
            results = await asyncio.wrap_future(worker.submit(session.run()))
            return results["a"].text

        assert asyncio.run(main()) == "from the worker"
        assert threads == {"promptstudio-runs"}
    finally:
        worker.stop()
    assert not worker.running


def test_cancel_through_the_worker_keeps_partial_text(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text=" ".join(["w"] * 500), tokens_per_second=50))
    worker = RunWorker()
    try:
        target = RunTarget("a", Endpoint(base_url=fake_llm.base_url, max_retries=0), "m")
        seen = threading.Event()

        def on_update(_key: str, result: object, delta: str) -> None:
            if delta:
                seen.set()

        session = RunSession([Message("user", "hi")], [target], on_update=on_update)
        future = worker.submit(session.run())
        assert seen.wait(10)
        worker.call(session.cancel)
        result = future.result(10)["a"]
        assert result.status == TargetStatus.CANCELLED
        assert 0 < len(result.text.split()) < 500
    finally:
        worker.stop()


def test_stop_cancels_what_is_still_running(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="late", first_token_delay=30))
    worker = RunWorker()
    target = RunTarget("a", Endpoint(base_url=fake_llm.base_url, max_retries=0), "m")
    session = RunSession([Message("user", "hi")], [target])
    future = worker.submit(session.run())
    worker.stop(timeout=10)
    assert not worker.running
    assert future.cancelled() or future.done()
    worker.stop()  # idempotent


def test_call_and_wait_returns_the_value() -> None:
    worker = RunWorker()
    try:
        assert worker.call_and_wait(lambda: threading.current_thread().name) == "promptstudio-runs"
    finally:
        worker.stop()
