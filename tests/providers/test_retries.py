"""Our retries, through the real SDKs (built with no retries of their own): what is retried,
how often, after what wait, announced before each wait, and counted in time to first token."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import anthropic
import openai
import pytest

import promptstudio
from promptstudio.providers import (
    BadRequest,
    ChatRequest,
    ConnectionFailed,
    Endpoint,
    Finished,
    GenerationParams,
    Overloaded,
    ProviderError,
    RateLimited,
    RequestSent,
    Retrying,
    ServerError,
    StreamEvent,
    TextDelta,
    TimedOut,
    create_provider,
)
from promptstudio.providers.anthropic_messages import make_anthropic_client
from promptstudio.providers.http_client import build_http_client
from promptstudio.providers.openai_chat import make_openai_client
from promptstudio.providers.retries import MAX_RETRY_WAIT
from tests.fake_llm import FakeLLM, Reply
from tests.providers.helpers import (
    MESSAGES,
    PATHS,
    PROTOCOLS,
    closed_port,
    collect,
    endpoint,
    endpoint_at,
    error_of,
    retries_of,
    sent,
    text_of,
)

OVERLOADED = {"chat": 503, "responses": 503, "messages": 529}  # each API's own status


def timed(ep: Endpoint) -> list[tuple[float, StreamEvent]]:
    """The stream's events, each with the ``time.perf_counter()`` it arrived at."""
    request = ChatRequest(MESSAGES, "fake-model", GenerationParams())

    async def main() -> list[tuple[float, StreamEvent]]:
        return [(time.perf_counter(), e) async for e in create_provider(ep).stream(request)]

    return asyncio.run(main())


def gaps(fake_llm: FakeLLM, protocol: str) -> list[float]:
    """Seconds between the attempts the server saw."""
    times = [r.received_at for r in sent(fake_llm, protocol)]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_429_with_retry_after_is_retried_once_announced_and_counted_in_ttft(
    fake_llm: FakeLLM, protocol: str
) -> None:
    fake_llm.script(Reply(status=429, headers={"retry-after": "1"}), times=1)
    events = timed(endpoint(fake_llm, protocol, max_retries=2))
    kinds = [e for _, e in events]
    assert retries_of(kinds) == [Retrying(1, 2, 1.0, "rate limited (429)")]
    assert text_of(kinds) == "Hello from the fake model." and isinstance(kinds[-1], Finished)
    assert len(sent(fake_llm, protocol)) == 2  # one retry: the SDK's own are off
    assert 0.95 < gaps(fake_llm, protocol)[0] < 1.4  # it waited what it announced
    # Announced before the wait, not after it.
    announced = next(t for t, e in events if isinstance(e, Retrying))
    first_text = next(t for t, e in events if isinstance(e, TextDelta))
    assert 0.9 < first_text - announced < 1.5
    # Time to first token runs from the first attempt, the wait included.
    (request_sent,) = [e for e in kinds if isinstance(e, RequestSent)]
    assert kinds.index(request_sent) < kinds.index(retries_of(kinds)[0])
    assert 1.0 <= first_text - request_sent.at < 2.0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_overloaded_is_retried_after_the_servers_wait(fake_llm: FakeLLM, protocol: str) -> None:
    status = OVERLOADED[protocol]
    fake_llm.script(Reply(status=status, headers={"retry-after-ms": "200"}), times=1)
    events = collect(endpoint(fake_llm, protocol, max_retries=1))
    assert retries_of(events) == [Retrying(1, 1, 0.2, f"overloaded ({status})")]
    assert isinstance(events[-1], Finished)
    assert len(sent(fake_llm, protocol)) == 2
    assert 0.18 < gaps(fake_llm, protocol)[0] < 0.5


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_backoff_without_retry_after_is_the_wait_announced(
    fake_llm: FakeLLM, protocol: str
) -> None:
    fake_llm.script(Reply(status=500), times=1)
    events = collect(endpoint(fake_llm, protocol, max_retries=1))
    (retry,) = retries_of(events)
    assert retry.reason == "server error (500)"
    assert 0.375 <= retry.wait_seconds <= 0.5  # 0.5 s less up to a quarter of jitter
    assert len(sent(fake_llm, protocol)) == 2
    assert abs(gaps(fake_llm, protocol)[0] - retry.wait_seconds) < 0.1
    assert isinstance(events[-1], Finished)


def test_the_backoff_doubles(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=502), times=2)
    events = collect(endpoint(fake_llm, "chat", max_retries=2))
    waits = [r.wait_seconds for r in retries_of(events)]
    assert 0.375 <= waits[0] <= 0.5 and 0.75 <= waits[1] <= 1.0
    (first, second) = gaps(fake_llm, "chat")
    assert abs(first - waits[0]) < 0.1 and abs(second - waits[1]) < 0.1
    assert isinstance(events[-1], Finished)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_retries_are_bounded_by_max_retries(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(status=OVERLOADED[protocol], headers={"retry-after-ms": "20"}))
    events = collect(endpoint(fake_llm, protocol, max_retries=2))
    assert [(r.attempt, r.max_retries) for r in retries_of(events)] == [(1, 2), (2, 2)]
    assert isinstance(error_of(events), Overloaded)
    assert len(sent(fake_llm, protocol)) == 3


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_request_the_server_rejects_is_not_retried(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(status=400, error_message="temperature must be <= 2"))
    events = collect(endpoint(fake_llm, protocol, max_retries=2))
    assert isinstance(error_of(events), BadRequest)
    assert retries_of(events) == []
    assert len(sent(fake_llm, protocol)) == 1


@pytest.mark.parametrize(
    ("status", "retried", "error_type"),
    [
        (408, True, TimedOut),
        (409, True, ProviderError),
        (429, True, RateLimited),
        (500, True, ServerError),
        (502, True, ServerError),
        (503, True, Overloaded),
        (504, True, ServerError),
        (529, True, Overloaded),
        (401, False, ProviderError),
        (403, False, ProviderError),
        (404, False, ProviderError),
        (413, False, BadRequest),
        (422, False, BadRequest),
    ],
)
def test_which_statuses_are_retried(
    fake_llm: FakeLLM, status: int, retried: bool, error_type: type[ProviderError]
) -> None:
    fake_llm.script(Reply(status=status, headers={"retry-after-ms": "10"}))
    events = collect(endpoint(fake_llm, "chat", max_retries=1))
    assert isinstance(error_of(events), error_type)
    assert len(retries_of(events)) == (1 if retried else 0)
    assert len(sent(fake_llm, "chat")) == (2 if retried else 1)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_long_retry_after_is_not_waited_for(fake_llm: FakeLLM, protocol: str) -> None:
    """A wait over the cap is not made; the error says when to try again."""
    fake_llm.script(Reply(status=429, headers={"retry-after": "3600"}))
    started = time.monotonic()
    events = collect(endpoint(fake_llm, protocol, max_retries=2))
    assert time.monotonic() - started < 2
    error = error_of(events)
    assert isinstance(error, RateLimited) and error.retry_after == 3600
    assert str(error).endswith("Try again in 3600 s.")
    assert retries_of(events) == []
    assert len(sent(fake_llm, protocol)) == 1


def test_the_cap_is_a_minute(fake_llm: FakeLLM) -> None:
    over = MAX_RETRY_WAIT + 1
    fake_llm.script(Reply(status=503, headers={"retry-after": f"{over:g}"}))
    events = collect(endpoint(fake_llm, "chat", max_retries=2, first_token_timeout=600))
    assert MAX_RETRY_WAIT == 60
    assert retries_of(events) == [] and len(sent(fake_llm, "chat")) == 1
    assert str(error_of(events)).endswith(f"Try again in {over:g} s.")


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


def test_the_server_can_ask_for_a_retry(fake_llm: FakeLLM) -> None:
    headers = {"x-should-retry": "true", "retry-after-ms": "10"}
    fake_llm.script(Reply(status=400, headers=headers), times=1)
    events = collect(endpoint(fake_llm, "chat", max_retries=2))
    assert retries_of(events) == [Retrying(1, 2, 0.01, "the server asked to retry (400)")]
    assert isinstance(events[-1], Finished)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_refused_connection_is_retried_until_the_server_is_up(protocol: str) -> None:
    port = closed_port()
    server = FakeLLM()
    request = ChatRequest(MESSAGES, "fake-model", GenerationParams())
    provider = create_provider(endpoint_at(port, protocol, max_retries=2))

    async def main() -> list[StreamEvent]:
        events: list[StreamEvent] = []
        async for event in provider.stream(request):
            events.append(event)
            if isinstance(event, Retrying):
                server.start(port)  # before the announced wait runs out
        return events

    try:
        events = asyncio.run(main())
    finally:
        server.stop()
    (retry,) = retries_of(events)
    assert (retry.attempt, retry.max_retries, retry.reason) == (1, 2, "could not connect")
    assert 0.375 <= retry.wait_seconds <= 0.5
    assert text_of(events) == "Hello from the fake model." and isinstance(events[-1], Finished)
    assert len(server.requests_to(PATHS[protocol])) == 1
    assert any(isinstance(e, RequestSent) for e in events)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_server_that_stays_down_fails_after_the_retries(protocol: str) -> None:
    events = collect(endpoint_at(closed_port(), protocol, max_retries=1))
    (retry,) = retries_of(events)
    assert (retry.attempt, retry.reason) == (1, "could not connect")
    assert 0.375 <= retry.wait_seconds <= 0.5
    assert isinstance(error_of(events), ConnectionFailed)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    "reply",
    [
        Reply(cut_after_chunks=2),
        Reply(stall_after_chunks=2, stall_seconds=5),
        Reply(error_event_after_chunks=2, error_type="overloaded_error"),
        Reply(error_event_after_chunks=0, error_type="overloaded_error"),
    ],
    ids=["cut", "stall", "error-event", "error-event-first"],
)
def test_nothing_is_retried_once_the_stream_has_begun(
    fake_llm: FakeLLM, protocol: str, reply: Reply
) -> None:
    fake_llm.script(reply)
    events = collect(endpoint(fake_llm, protocol, max_retries=2, idle_timeout=0.3))
    assert isinstance(error_of(events), ProviderError)
    assert text_of(events) == ("" if reply.error_event_after_chunks == 0 else "Hello from ")
    assert retries_of(events) == []
    assert len(sent(fake_llm, protocol)) == 1


def test_no_retry_events_without_retries(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=429, headers={"retry-after": "1"}))
    events = collect(endpoint(fake_llm, "chat", max_retries=0))
    assert retries_of(events) == []
    assert isinstance(error_of(events), RateLimited)
    assert len(sent(fake_llm, "chat")) == 1


def test_the_sdks_own_retries_are_off(fake_llm: FakeLLM) -> None:
    """Ours are the only retries: the SDK clients are built with none (public attribute)."""

    async def main() -> list[int]:
        ep = endpoint(fake_llm, "chat", max_retries=3)
        chat = make_openai_client(ep, await build_http_client(openai.DefaultAsyncHttpxClient))
        ep = endpoint(fake_llm, "messages", max_retries=3)
        http = await build_http_client(anthropic.DefaultAsyncHttpxClient)
        messages = make_anthropic_client(ep, http)
        try:
            return [chat.max_retries, messages.max_retries]
        finally:
            await chat.close()
            await messages.close()

    assert asyncio.run(main()) == [0, 0]


def test_no_sdk_internals_are_relied_on() -> None:
    """The SDKs' private headers may change in any release: nothing of ours reads them."""
    package = Path(promptstudio.__file__).parent
    readers = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "stainless" in path.read_text(encoding="utf-8").lower()
    ]
    assert readers == []
