"""The SDKs' own retries: announced before each wait, bounded, never doubled by ours."""

from __future__ import annotations

import asyncio
import time

import pytest

from promptstudio.providers import (
    ChatRequest,
    ConnectionFailed,
    Endpoint,
    Finished,
    GenerationParams,
    Overloaded,
    RateLimited,
    Retrying,
    StreamEvent,
    TextDelta,
    create_provider,
)
from tests.fake_llm import FakeLLM, Reply
from tests.providers.helpers import (
    MESSAGES,
    PROTOCOLS,
    closed_port,
    collect,
    endpoint,
    error_of,
    retries_of,
    sent,
    text_of,
)


def timed(ep: Endpoint) -> list[tuple[float, StreamEvent]]:
    request = ChatRequest(MESSAGES, "fake-model", GenerationParams())

    async def main() -> list[tuple[float, StreamEvent]]:
        return [(time.monotonic(), e) async for e in create_provider(ep).stream(request)]

    return asyncio.run(main())


def test_429_with_retry_after_is_retried_once_and_announced(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=429, headers={"retry-after": "1"}), times=1)
    events = timed(endpoint(fake_llm, "chat", max_retries=2))
    kinds = [e for _, e in events]
    assert retries_of(kinds) == [Retrying(1, 2, 1.0, "rate limited (429)")]
    assert text_of(kinds) == "Hello from the fake model." and isinstance(kinds[-1], Finished)
    requests = sent(fake_llm, "chat")
    assert len(requests) == 2  # one retry, not more: no retry loop of ours on top
    assert [r.headers["x-stainless-retry-count"] for r in requests] == ["0", "1"]
    # Announced before the wait, not after it.
    announced = next(t for t, e in events if isinstance(e, Retrying))
    first_text = next(t for t, e in events if isinstance(e, TextDelta))
    assert 0.9 < first_text - announced < 1.5
    assert 0.95 < requests[1].received_at - requests[0].received_at < 1.4


@pytest.mark.parametrize("protocol", ["responses", "messages"])
def test_other_protocols_announce_retries_too(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(status=529, headers={"retry-after-ms": "200"}), times=1)
    events = collect(endpoint(fake_llm, protocol, max_retries=1))
    assert retries_of(events) == [Retrying(1, 1, 0.2, "overloaded (529)")]
    assert isinstance(events[-1], Finished)
    assert len(sent(fake_llm, protocol)) == 2


@pytest.mark.parametrize("protocol", ["chat", "messages"])  # one per SDK: each waits ~0.5 s
def test_backoff_without_retry_after_is_the_wait_announced(
    fake_llm: FakeLLM, protocol: str
) -> None:
    fake_llm.script(Reply(status=500), times=1)
    events = collect(endpoint(fake_llm, protocol, max_retries=1))
    (retry,) = retries_of(events)
    assert retry.reason == "server error (500)"
    assert 0.375 <= retry.wait_seconds <= 0.5  # the SDKs' first backoff, with jitter
    first, second = sent(fake_llm, protocol)
    # The SDK waited what we announced (we wrote it into retry-after-ms for it).
    assert abs((second.received_at - first.received_at) - retry.wait_seconds) < 0.1
    assert isinstance(events[-1], Finished)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_retries_are_bounded_by_max_retries(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(status=503, headers={"retry-after-ms": "20"}))
    events = collect(endpoint(fake_llm, protocol, max_retries=2))
    assert [(r.attempt, r.max_retries) for r in retries_of(events)] == [(1, 2), (2, 2)]
    assert isinstance(error_of(events), Overloaded)
    assert len(sent(fake_llm, protocol)) == 3


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_long_retry_after_is_not_waited_for(fake_llm: FakeLLM, protocol: str) -> None:
    """anthropic's SDK would sleep an hour; we stop it and say when to try again."""
    fake_llm.script(Reply(status=429, headers={"retry-after": "3600"}))
    started = time.monotonic()
    events = collect(endpoint(fake_llm, protocol, max_retries=2))
    assert time.monotonic() - started < 2
    error = error_of(events)
    assert isinstance(error, RateLimited) and error.retry_after == 3600
    assert str(error).endswith("Try again in 3600 s.")
    assert retries_of(events) == []
    assert len(sent(fake_llm, protocol)) == 1


def test_a_retry_past_the_first_token_deadline_is_not_waited_for(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=429, headers={"retry-after": "3"}))
    events = collect(endpoint(fake_llm, "messages", max_retries=2, first_token_timeout=1.0))
    assert isinstance(error_of(events), RateLimited)
    assert len(sent(fake_llm, "messages")) == 1


def test_the_server_can_forbid_a_retry(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=500, headers={"x-should-retry": "false"}))
    events = collect(endpoint(fake_llm, "chat", max_retries=2))
    assert retries_of(events) == []
    assert len(sent(fake_llm, "chat")) == 1


@pytest.mark.parametrize("protocol", ["chat", "messages"])
def test_connection_failures_are_announced(protocol: str) -> None:
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    ep = Endpoint(
        base_url=base if protocol == "messages" else f"{base}/v1",
        kind="anthropic" if protocol == "messages" else "openai-compatible",
        name="Local",
        max_retries=1,
    )
    events = collect(ep)
    assert retries_of(events) == [Retrying(1, 1, 0.5, "could not connect")]
    assert isinstance(error_of(events), ConnectionFailed)


def test_no_retry_events_without_retries(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=429, headers={"retry-after": "1"}))
    events = collect(endpoint(fake_llm, "chat", max_retries=0))
    assert retries_of(events) == []
    assert isinstance(error_of(events), RateLimited)
