"""OpenAIChatProvider against the fake server, through the real openai SDK over HTTP."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time

import httpx2
import openai
import pytest

from promptstudio.chat import Message
from promptstudio.providers import (
    AuthenticationFailed,
    BadRequest,
    ChatRequest,
    ConnectionFailed,
    Endpoint,
    Finished,
    GenerationParams,
    ModelNotFound,
    PermissionDenied,
    ProviderError,
    RateLimited,
    ServerError,
    StreamCut,
    StreamError,
    StreamEvent,
    TextDelta,
    TimedOut,
    Usage,
)
from promptstudio.providers.openai_chat import (
    NO_KEY_PLACEHOLDER,
    OpenAIChatProvider,
    _connect_message,
    _map_error,
    _retry_after,
)
from tests.fake_llm import FakeLLM, Reply

MESSAGES = (Message("system", "Be brief."), Message("user", "Say hello to me"))
KEY = "sk-test-very-secret-0123456789"


def endpoint(server: FakeLLM, **overrides: object) -> Endpoint:
    options: dict[str, object] = {"name": "Fake", "max_retries": 0, "first_token_timeout": 5.0}
    options.update(overrides)
    return Endpoint(base_url=server.base_url, **options)  # type: ignore[arg-type]


def collect(
    ep: Endpoint, model: str = "fake-model", params: GenerationParams | None = None
) -> list[StreamEvent]:
    request = ChatRequest(MESSAGES, model, params or GenerationParams())

    async def main() -> list[StreamEvent]:
        return [event async for event in OpenAIChatProvider(ep).stream(request)]

    return asyncio.run(main())


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def error_of(events: list[StreamEvent]) -> ProviderError:
    assert isinstance(events[-1], StreamError), events
    return events[-1].error


def usage_of(events: list[StreamEvent]) -> Usage:
    usages = [e for e in events if isinstance(e, Usage)]
    assert len(usages) == 1, events
    return usages[0]


# ---- success ---------------------------------------------------------------------------


def test_streams_deltas_then_server_usage_then_finished(fake_llm: FakeLLM) -> None:
    events = collect(endpoint(fake_llm))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert [d.text for d in deltas] == ["Hello ", "from ", "the ", "fake ", "model."]
    assert events[-2:] == [Usage(6, 5, estimated=False), Finished("stop")]
    body = fake_llm.chat_requests()[0].json
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [m.to_dict() for m in MESSAGES]


def test_usage_is_estimated_when_the_server_sends_none(fake_llm: FakeLLM) -> None:
    fake_llm.script(
        Reply(text="abcdefg", chunk="char", include_usage=False, finish_reason="length")
    )
    events = collect(endpoint(fake_llm))
    chars_in = sum(len(m.content) for m in MESSAGES)  # 24 -> 6
    assert usage_of(events) == Usage(-(-chars_in // 4), 7, estimated=True)
    assert events[-1] == Finished("length")


def test_params_go_out_with_the_right_max_tokens_name(fake_llm: FakeLLM) -> None:
    params = GenerationParams(temperature=0.2, top_p=0.9, max_tokens=50, stop=("END",), seed=7)
    collect(endpoint(fake_llm), params=params)
    collect(endpoint(fake_llm, kind="openai"), params=params)
    compatible, official = (r.json for r in fake_llm.chat_requests())
    assert compatible["max_tokens"] == 50 and "max_completion_tokens" not in compatible
    assert official["max_completion_tokens"] == 50 and "max_tokens" not in official
    for body in (compatible, official):
        assert (body["temperature"], body["top_p"], body["stop"], body["seed"]) == (
            0.2,
            0.9,
            ["END"],
            7,
        )


def test_extra_headers_are_sent(fake_llm: FakeLLM) -> None:
    collect(endpoint(fake_llm, extra_headers={"X-Team": "prompts"}))
    assert fake_llm.chat_requests()[0].headers["x-team"] == "prompts"


# ---- keys ------------------------------------------------------------------------------


def test_keyless_endpoint_works_and_never_sends_the_env_key(
    fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    events = collect(endpoint(fake_llm))
    assert events[-1] == Finished("stop")
    assert fake_llm.chat_requests()[0].headers["authorization"] == f"Bearer {NO_KEY_PLACEHOLDER}"


def test_key_is_sent_as_bearer(fake_llm: FakeLLM) -> None:
    fake_llm.require_key = KEY
    events = collect(endpoint(fake_llm, api_key=KEY))
    assert text_of(events) == "Hello from the fake model."
    assert fake_llm.chat_requests()[0].headers["authorization"] == f"Bearer {KEY}"


def test_rejected_key_never_appears_in_the_message(fake_llm: FakeLLM) -> None:
    fake_llm.require_key = "sk-the-right-one"
    ep = endpoint(fake_llm, api_key=KEY)
    error = error_of(collect(ep))  # the fake echoes the wrong key back in its body
    assert isinstance(error, AuthenticationFailed)
    assert str(error) == "The server at Fake rejected the API key (401)."
    assert (
        KEY not in repr(error) and KEY not in repr(ep) and KEY not in repr(OpenAIChatProvider(ep))
    )


def test_missing_key_says_one_is_needed(fake_llm: FakeLLM) -> None:
    fake_llm.require_key = KEY
    error = error_of(collect(endpoint(fake_llm)))
    assert isinstance(error, AuthenticationFailed)
    assert str(error) == "The server at Fake needs an API key (401)."


def test_server_messages_are_scrubbed_of_the_key(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=400, error_message=f"Bad header Bearer {KEY} here"))
    error = error_of(collect(endpoint(fake_llm, api_key=KEY)))
    assert isinstance(error, BadRequest)
    assert KEY not in str(error)
    assert str(error) == "The server at Fake rejected the request (400): Bad header Bearer *** here"


# ---- HTTP errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "error_type", "message"),
    [
        (Reply(status=401), AuthenticationFailed, "The server at Fake rejected the API key (401)."),
        (
            Reply(status=403, error_message="Project has no access."),
            PermissionDenied,
            "The server at Fake denied access (403): Project has no access.",
        ),
        (
            Reply(status=404, error_message="The model `nope` does not exist"),
            ModelNotFound,
            "Model 'nope' was not found at Fake.",
        ),
        (
            Reply(status=400, error_message="temperature must be <= 2"),
            BadRequest,
            "The server at Fake rejected the request (400): temperature must be <= 2",
        ),
        (
            Reply(status=429, headers={"retry-after": "3"}),
            RateLimited,
            "The server at Fake is rate limiting requests (429). Try again in 3 s.",
        ),
        (
            Reply(status=500, error_message="boom"),
            ServerError,
            "The server at Fake had an internal error (500): boom",
        ),
        (
            Reply(status=503, error_message="Overloaded"),
            ServerError,
            "The server at Fake is overloaded or unavailable (503): Overloaded",
        ),
    ],
)
def test_http_errors_map_to_typed_errors(
    fake_llm: FakeLLM, reply: Reply, error_type: type[ProviderError], message: str
) -> None:
    fake_llm.script(reply)
    error = error_of(collect(endpoint(fake_llm, api_key=KEY), model="nope"))
    assert type(error) is error_type
    assert str(error) == message
    assert error.status == reply.status
    assert len(fake_llm.chat_requests()) == 1  # max_retries=0: no retry


def test_rate_limit_carries_retry_after_seconds(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=429, headers={"retry-after": "3"}))
    error = error_of(collect(endpoint(fake_llm)))
    assert isinstance(error, RateLimited) and error.retry_after == 3.0


def test_retry_after_forms() -> None:
    assert _retry_after({"retry-after-ms": "1500"}) == 1.5
    assert _retry_after({"retry-after": "2.5"}) == 2.5
    assert _retry_after({}) is None
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (_retry_after({"retry-after": date}) or 0) <= 30


def test_server_error_is_retried_when_allowed(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(status=500, headers={"retry-after-ms": "10"}), times=1)
    events = collect(endpoint(fake_llm, max_retries=1))
    assert events[-1] == Finished("stop")
    assert len(fake_llm.chat_requests()) == 2


def test_wrong_base_url_hints_at_v1(fake_llm: FakeLLM) -> None:
    ep = Endpoint(base_url=fake_llm.base_url.removesuffix("/v1"), name="Fake", max_retries=0)
    error = error_of(collect(ep, model="m"))
    assert isinstance(error, ModelNotFound)
    assert str(error).startswith("Model 'm' was not found at Fake. Check the base URL")


# ---- connection and timeouts -----------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused() -> None:
    ep = Endpoint(base_url=f"http://127.0.0.1:{closed_port()}/v1", name="Local", max_retries=0)
    error = error_of(collect(ep))
    assert isinstance(error, ConnectionFailed)
    assert str(error) == "Could not connect to Local. Is the server running?"


def test_connection_message_names_known_local_servers() -> None:
    ollama = Endpoint(base_url="http://localhost:11434/v1")
    assert "Is Ollama running?" in _connect_message(ollama)
    assert "LM Studio" in _connect_message(Endpoint(base_url="http://127.0.0.1:1234/v1"))
    assert "Ollama" not in _connect_message(Endpoint(base_url="https://example.com:11434/v1"))


def test_base_url_without_scheme_fails_clearly() -> None:
    error = error_of(collect(Endpoint(base_url="localhost:11434/v1", name="Ollama")))
    assert isinstance(error, ConnectionFailed)
    assert "must start with http://" in str(error)


def test_first_token_timeout(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(first_token_delay=5))
    started = time.monotonic()
    error = error_of(collect(endpoint(fake_llm, first_token_timeout=0.3)))
    assert time.monotonic() - started < 3
    assert isinstance(error, TimedOut)
    assert str(error) == "No answer from Fake within 0.3 s (first-token timeout)."


def test_stall_mid_stream_times_out_and_keeps_the_text(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(stall_after_chunks=2, stall_seconds=10))
    events = collect(endpoint(fake_llm, idle_timeout=0.3))
    assert text_of(events) == "Hello from "
    assert usage_of(events) == Usage(6, 2, estimated=True)
    error = error_of(events)
    assert isinstance(error, TimedOut)
    assert str(error) == "The stream from Fake stalled: nothing arrived for 0.3 s (after 2 tokens)."


def test_cut_stream_is_reported_with_the_text_kept(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(cut_after_chunks=3))
    events = collect(endpoint(fake_llm))
    assert text_of(events) == "Hello from the "
    error = error_of(events)
    assert isinstance(error, StreamCut)
    assert str(error) == "The stream ended before the model finished (after 3 tokens)."


def test_stream_without_finish_reason_is_cut(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="Only", finish_reason=None))
    events = collect(endpoint(fake_llm))
    assert text_of(events) == "Only"
    error = error_of(events)
    assert isinstance(error, StreamCut)
    assert str(error) == "The stream ended before the model finished (after 1 token)."


def test_error_event_inside_a_200_stream(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(error_event_after_chunks=2, error_message="Model crashed"))
    events = collect(endpoint(fake_llm))
    assert text_of(events) == "Hello from "
    error = error_of(events)
    assert isinstance(error, ServerError)
    assert str(error) == "The server at Fake reported an error during the stream: Model crashed"


def test_cancelling_the_consumer_closes_the_connection(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="word " * 200, tokens_per_second=50))
    request = ChatRequest(MESSAGES, "fake-model")
    received: list[str] = []

    async def consume() -> None:
        async for event in OpenAIChatProvider(endpoint(fake_llm)).stream(request):
            if isinstance(event, TextDelta):
                received.append(event.text)

    async def main() -> None:
        task = asyncio.create_task(consume())
        while len(received) < 2:
            await asyncio.sleep(0.01)
        assert fake_llm.open_connections == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    deadline = time.monotonic() + 2
    while fake_llm.open_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake_llm.open_connections == 0
    assert 2 <= len(received) < 200


def test_sdk_timeouts_and_ollama_404s_map_to_helpful_errors() -> None:
    """Paths the fake server cannot reach: our own timers fire before the SDK's."""
    ollama = Endpoint(base_url="http://localhost:11434/v1", name="Ollama")
    request = httpx2.Request("POST", "http://localhost:11434/v1/chat/completions")
    timeout = openai.APITimeoutError(request=request)
    before = _map_error(timeout, ollama, "llama3", deltas=None)
    assert isinstance(before, TimedOut) and str(before) == "The request to Ollama timed out."
    during = _map_error(timeout, ollama, "llama3", deltas=4)
    assert isinstance(during, TimedOut) and "stalled" in str(during)

    body = {"error": {"message": 'model "llama3" not found, try pulling it first'}}
    response = httpx2.Response(404, json=body, request=request)
    missing = openai.NotFoundError("404", response=response, body=body["error"])
    error = _map_error(missing, ollama, "llama3", deltas=None)
    assert isinstance(error, ModelNotFound)
    assert (
        str(error) == "Model 'llama3' was not found at Ollama. Pull it with `ollama pull llama3`."
    )
