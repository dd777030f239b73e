"""RunSession streams many targets at once against the fake server, real SDK in between."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from promptstudio.chat import Message
from promptstudio.providers import (
    AuthenticationFailed,
    ChatRequest,
    Endpoint,
    ModelPrice,
    Overloaded,
    PriceTable,
    Provider,
    ProviderError,
    ServerError,
    StreamEvent,
    TextDelta,
    Usage,
    create_provider,
)
from promptstudio.runs import RetryInfo, RunSession, RunTarget, TargetResult, TargetStatus
from tests.fake_llm import FakeLLM, Reply

MESSAGES = (Message("user", "Say hello to me"),)
SLOW_TEXT = "tick " * 200


# The fake server answers any number of requests at once (a local server queues by default).
PARALLEL = 8


def target(server: FakeLLM, key: str, model: str | None = None, **endpoint: object) -> RunTarget:
    options: dict[str, object] = {
        "name": key, "max_retries": 0, "first_token_timeout": 5.0, "max_concurrent": PARALLEL,
    }  # fmt: skip
    options.update(endpoint)
    ep = Endpoint(base_url=server.base_url, **options)  # type: ignore[arg-type]
    return RunTarget(key=key, endpoint=ep, model=model or key)


class Recorder:
    """An on_update callback that remembers every call, cheaply."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, TargetStatus, str]] = []

    def __call__(self, key: str, result: TargetResult, delta: str) -> None:
        self.calls.append((key, result.status, delta))

    def statuses(self, key: str) -> list[TargetStatus]:
        seen: list[TargetStatus] = []
        for k, status, _ in self.calls:
            if k == key and (not seen or seen[-1] != status):
                seen.append(status)
        return seen


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_one_target_fills_timings_usage_and_statuses(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(first_token_delay=0.2, tokens_per_second=50))
    recorder = Recorder()
    session = RunSession(MESSAGES, [target(fake_llm, "a")], on_update=recorder)
    assert session.results["a"].status is TargetStatus.QUEUED

    results = asyncio.run(session.run())

    result = results["a"]
    assert result.status is TargetStatus.DONE
    assert result.text == "Hello from the fake model."
    assert result.finish_reason == "stop"
    assert result.usage == Usage(4, 5, cached_input_tokens=0, reasoning_tokens=0)
    assert result.output_chunks == 5
    assert result.ttft_ms is not None and result.ttft_ms >= 200
    assert result.total_ms is not None and result.total_ms > result.ttft_ms
    assert result.tokens_per_second is not None and 0 < result.tokens_per_second < 100
    assert result.error is None
    assert recorder.statuses("a") == [
        TargetStatus.WAITING,
        TargetStatus.STREAMING,
        TargetStatus.DONE,
    ]
    assert "".join(delta for _, _, delta in recorder.calls) == result.text
    assert not session.running


def test_targets_stream_concurrently(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="first answer", first_token_delay=0.5), model="m1")
    fake_llm.script(Reply(text="second answer", first_token_delay=0.5), model="m2")
    requests_at_first_token: list[int] = []

    def on_update(key: str, result: TargetResult, delta: str) -> None:
        if delta and not requests_at_first_token:
            requests_at_first_token.append(len(fake_llm.chat_requests()))

    session = RunSession(
        MESSAGES, [target(fake_llm, "a", "m1"), target(fake_llm, "b", "m2")], on_update
    )
    results = asyncio.run(session.run())

    # Both requests reached the server before either answer began: they overlapped.
    assert requests_at_first_token == [2]
    assert list(results) == ["a", "b"]
    assert results["a"].text == "first answer" and results["b"].text == "second answer"
    assert all(r.status is TargetStatus.DONE for r in results.values())


def test_one_failing_target_does_not_stop_the_other(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=500, error_message="boom"), model="broken")
    session = RunSession(MESSAGES, [target(fake_llm, "bad", "broken"), target(fake_llm, "good")])
    results = asyncio.run(session.run())

    assert results["bad"].status is TargetStatus.FAILED
    assert isinstance(results["bad"].error, ServerError)
    assert str(results["bad"].error) == "The server at bad had an internal error (500): boom"
    assert results["bad"].total_ms is not None
    assert results["good"].status is TargetStatus.DONE
    assert results["good"].text == "Hello from the fake model."


def test_cancel_one_keeps_its_partial_text(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text=SLOW_TEXT, tokens_per_second=50), model="slow")
    fake_llm.script(Reply(text="quick", first_token_delay=0.3), model="quick")
    recorder = Recorder()
    session = RunSession(
        MESSAGES, [target(fake_llm, "slow"), target(fake_llm, "quick")], on_update=recorder
    )

    async def main() -> None:
        run = asyncio.create_task(session.run())
        await wait_for(lambda: session.results["slow"].output_chunks >= 3)
        assert session.running
        session.cancel("slow")
        assert session.results["slow"].status is TargetStatus.CANCELLED
        await run

    asyncio.run(main())
    slow, quick = session.results["slow"], session.results["quick"]
    assert slow.status is TargetStatus.CANCELLED
    assert slow.text.startswith("tick tick tick ") and slow.text != SLOW_TEXT
    assert slow.total_ms is not None and slow.ttft_ms is not None
    assert recorder.statuses("slow")[-1] is TargetStatus.CANCELLED
    assert quick.status is TargetStatus.DONE and quick.text == "quick"


def test_cancel_all_closes_every_stream(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text=SLOW_TEXT, tokens_per_second=50))
    session = RunSession(MESSAGES, [target(fake_llm, "a"), target(fake_llm, "b")])

    async def main() -> None:
        run = asyncio.create_task(session.run())
        await wait_for(lambda: all(r.output_chunks >= 2 for r in session.results.values()))
        session.cancel()
        started = time.monotonic()
        await run
        assert time.monotonic() - started < 1

    asyncio.run(main())
    for result in session.results.values():
        assert result.status is TargetStatus.CANCELLED
        assert result.text.startswith("tick tick ") and result.total_ms is not None
    deadline = time.monotonic() + 2
    while fake_llm.open_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake_llm.open_connections == 0


def test_cancelling_run_cancels_and_awaits_every_target(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text=SLOW_TEXT, tokens_per_second=50))
    session = RunSession(MESSAGES, [target(fake_llm, "a"), target(fake_llm, "b")])

    async def main() -> None:
        run = asyncio.create_task(session.run())
        await wait_for(lambda: all(r.output_chunks >= 1 for r in session.results.values()))
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        assert asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(main())
    assert not session.running
    assert all(r.status is TargetStatus.CANCELLED for r in session.results.values())
    assert all(r.text for r in session.results.values())


def test_cancel_before_run_sends_nothing(fake_llm: FakeLLM) -> None:
    session = RunSession(MESSAGES, [target(fake_llm, "a"), target(fake_llm, "b")])
    session.cancel("a")
    results = asyncio.run(session.run())
    assert results["a"].status is TargetStatus.CANCELLED
    assert results["b"].status is TargetStatus.DONE
    assert [r.json["model"] for r in fake_llm.chat_requests()] == ["b"]


def test_a_failing_callback_fails_only_its_target(
    fake_llm: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    def on_update(key: str, result: TargetResult, delta: str) -> None:
        if key == "a" and delta:
            raise ValueError("pane is gone")

    session = RunSession(MESSAGES, [target(fake_llm, "a"), target(fake_llm, "b")], on_update)
    results = asyncio.run(session.run())

    assert results["a"].status is TargetStatus.FAILED
    assert isinstance(results["a"].error, ProviderError)
    assert "pane is gone" in str(results["a"].error)
    assert results["b"].status is TargetStatus.DONE
    assert "on_update failed for target a" in caplog.text


class ExplodingProvider:
    """A provider with a bug: it raises instead of yielding a StreamError."""

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        yield TextDelta("partial ")
        raise RuntimeError("bug in provider")


def test_an_unexpected_provider_exception_fails_only_its_target(
    fake_llm: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    def factory(ep: Endpoint) -> Provider:
        return ExplodingProvider() if ep.name == "buggy" else create_provider(ep)

    targets = [target(fake_llm, "buggy"), target(fake_llm, "fine")]
    results = asyncio.run(RunSession(MESSAGES, targets, provider_factory=factory).run())

    assert results["buggy"].status is TargetStatus.FAILED
    assert results["buggy"].text == "partial "
    assert str(results["buggy"].error) == "Unexpected error: bug in provider"
    assert "target buggy" in caplog.text and "RuntimeError" in caplog.text
    assert results["fine"].status is TargetStatus.DONE


def test_unsupported_endpoint_kind_fails_the_target(fake_llm: FakeLLM) -> None:
    gopher = target(fake_llm, "gopher", kind="gopher")
    results = asyncio.run(RunSession(MESSAGES, [gopher]).run())
    assert results["gopher"].status is TargetStatus.FAILED
    assert str(results["gopher"].error) == "Unknown provider kind 'gopher' for gopher."


def test_a_session_runs_once_and_needs_unique_keys(fake_llm: FakeLLM) -> None:
    with pytest.raises(ValueError, match="unique"):
        RunSession(MESSAGES, [target(fake_llm, "a"), target(fake_llm, "a")])
    session = RunSession(MESSAGES, [target(fake_llm, "a")])
    asyncio.run(session.run())
    with pytest.raises(RuntimeError):
        asyncio.run(session.run())


# ---- three protocols, retries, cost and prompt closing ----------------------------------


def protocol_target(server: FakeLLM, key: str, protocol: str, **endpoint: object) -> RunTarget:
    options: dict[str, object] = {
        "name": key, "max_retries": 0, "first_token_timeout": 5.0, "max_concurrent": PARALLEL,
    }  # fmt: skip
    if protocol == "chat":
        options.update(base_url=server.base_url, kind="openai-compatible")
    elif protocol == "responses":
        options.update(base_url=server.base_url, kind="openai", api="responses")
    else:
        options.update(base_url=server.anthropic_base_url, kind="anthropic")
    options.update(endpoint)
    return RunTarget(key=key, endpoint=Endpoint(**options), model=key)  # type: ignore[arg-type]


def test_one_fault_leaves_the_other_protocols_alone(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="from gpt", tokens_per_second=100), model="gpt")
    fake_llm.script(Reply(text="from o3", tokens_per_second=100), model="o3")
    fake_llm.script(Reply(text="from claude", tokens_per_second=100), model="claude")
    fake_llm.script(
        Reply(
            text="half an answer here", error_event_after_chunks=2, error_type="overloaded_error"
        ),
        model="claude-bad",
    )
    fake_llm.script(Reply(status=401), model="gpt-bad")
    targets = [
        protocol_target(fake_llm, "gpt", "chat"),
        protocol_target(fake_llm, "o3", "responses"),
        protocol_target(fake_llm, "claude", "messages"),
        protocol_target(fake_llm, "claude-bad", "messages"),
        protocol_target(fake_llm, "gpt-bad", "chat", api_key="sk-wrong-key-123456"),
    ]
    results = asyncio.run(RunSession(MESSAGES, targets).run())

    for key, text in (("gpt", "from gpt"), ("o3", "from o3"), ("claude", "from claude")):
        assert results[key].status is TargetStatus.DONE, results[key].error
        assert results[key].text == text
        usage = results[key].usage
        assert usage is not None and not usage.estimated
    bad = results["claude-bad"]
    assert bad.status is TargetStatus.FAILED and bad.text == "half an "
    assert isinstance(bad.error, Overloaded)
    assert isinstance(results["gpt-bad"].error, AuthenticationFailed)
    assert "sk-wrong-key-123456" not in str(results["gpt-bad"].error)


def test_retry_info_while_the_sdk_waits(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=429, headers={"retry-after-ms": "300"}), times=1)
    seen: list[tuple[TargetStatus, RetryInfo | None, str]] = []

    def on_update(key: str, result: TargetResult, delta: str) -> None:
        seen.append((result.status, result.retry, delta))

    session = RunSession(MESSAGES, [target(fake_llm, "a", max_retries=1)], on_update=on_update)
    started = time.monotonic()
    result = asyncio.run(session.run())["a"]

    retries = [(status, retry) for status, retry, _ in seen if retry is not None]
    assert len(retries) == 1
    status, retry = retries[0]
    assert status is TargetStatus.WAITING
    assert (retry.attempt, retry.max_retries, retry.wait_seconds) == (1, 1, 0.3)
    assert retry.reason == "rate limited (429)"
    assert started < retry.resume_at - 0.3 < started + 0.3
    first_text = next(i for i, (_, _, delta) in enumerate(seen) if delta)
    assert all(r is None for _, r, _ in seen[first_text:])  # cleared when text arrives
    assert result.status is TargetStatus.DONE and result.retry is None
    assert len(fake_llm.chat_requests()) == 2


def test_cost_from_the_price_table(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(input_tokens=1000, cached_tokens=200), model="priced")
    table = PriceTable({"priced": ModelPrice(input=1.0, output=2.0, cached_input=0.5)})
    targets = [target(fake_llm, "priced"), target(fake_llm, "unpriced")]
    results = asyncio.run(RunSession(MESSAGES, targets, price_table=table).run())
    # 800 at $1 + 200 at $0.50 + 5 output at $2, per million
    assert results["priced"].cost == pytest.approx((800 + 100 + 10) / 1e6)
    assert results["unpriced"].cost is None
    plain = asyncio.run(RunSession(MESSAGES, [target(fake_llm, "priced")]).run())
    assert plain["priced"].cost is None  # no table, no cost


@pytest.mark.parametrize("protocol", ["chat", "responses", "messages"])
def test_cancel_closes_the_connection_within_100_ms(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(text=SLOW_TEXT, tokens_per_second=20))
    session = RunSession(MESSAGES, [protocol_target(fake_llm, "slow", protocol)])

    async def main() -> float:
        run = asyncio.create_task(session.run())
        await wait_for(lambda: session.results["slow"].output_chunks >= 2)
        assert fake_llm.open_connections == 1
        cancelled_at = time.monotonic()
        session.cancel("slow")
        await run
        return cancelled_at

    cancelled_at = asyncio.run(main())
    deadline = time.monotonic() + 2
    while not fake_llm.hangups and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(fake_llm.hangups) == 1
    assert fake_llm.hangups[0] - cancelled_at < 0.1
    assert session.results["slow"].status is TargetStatus.CANCELLED
    assert session.results["slow"].text.startswith("tick tick ")
