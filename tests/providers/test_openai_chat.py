"""Chat Completions specifics; the fault matrix for all protocols is in test_faults.py."""

from __future__ import annotations

import asyncio
import email.utils
import time

import httpx2
import openai
import pytest

from promptstudio.providers import (
    ChatRequest,
    ConnectionFailed,
    Endpoint,
    Finished,
    ModelNotFound,
    TextDelta,
    TimedOut,
    Usage,
)
from promptstudio.providers.failures import connect_message, map_sdk_error, retry_after_seconds
from promptstudio.providers.openai_chat import OPENAI_ERRORS, OpenAIChatProvider
from promptstudio.providers.streaming import NO_KEY_PLACEHOLDER
from tests.fake_llm import FakeLLM, Reply
from tests.providers.helpers import KEY, MESSAGES, collect, endpoint, error_of, text_of


def test_streams_deltas_then_server_usage_then_finished(fake_llm: FakeLLM) -> None:
    events = collect(endpoint(fake_llm))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert [d.text for d in deltas] == ["Hello ", "from ", "the ", "fake ", "model."]
    assert events[-2:] == [
        Usage(6, 5, estimated=False, cached_input_tokens=0, reasoning_tokens=0),
        Finished("stop"),
    ]


def test_keyless_endpoint_never_sends_the_env_key(
    fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    events = collect(endpoint(fake_llm))
    assert events[-1] == Finished("stop")
    assert fake_llm.chat_requests()[0].headers["authorization"] == f"Bearer {NO_KEY_PLACEHOLDER}"


def test_keyless_anthropic_never_sends_the_env_key(
    fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-the-environment")
    collect(endpoint(fake_llm, "messages"))
    headers = fake_llm.messages_requests()[0].headers
    assert headers["authorization"] == f"Bearer {NO_KEY_PLACEHOLDER}"
    assert "x-api-key" not in headers


def test_key_is_sent_as_bearer_and_extra_headers_too(fake_llm: FakeLLM) -> None:
    fake_llm.require_key = KEY
    events = collect(endpoint(fake_llm, api_key=KEY, extra_headers={"X-Team": "prompts"}))
    assert text_of(events) == "Hello from the fake model."
    headers = fake_llm.chat_requests()[0].headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["x-team"] == "prompts"
    assert KEY not in repr(OpenAIChatProvider(endpoint(fake_llm, api_key=KEY)))


def test_wrong_base_url_hints_at_v1(fake_llm: FakeLLM) -> None:
    fake_llm.models_reply = Reply(status=500)  # /v1/models cannot tell (see test_v1_hint)
    ep = Endpoint(base_url=fake_llm.root_url, name="Fake", max_retries=0)
    error = error_of(collect(ep, model="m"))
    assert isinstance(error, ModelNotFound) and error.url_suspect
    assert str(error) == (
        "Model 'm' was not found at Fake. Check the base URL too: compatible servers usually "
        "serve under /v1."
    )


def test_anthropic_base_url_with_v1_is_called_out(fake_llm: FakeLLM) -> None:
    ep = endpoint(fake_llm, "messages", base_url=fake_llm.base_url)  # .../v1/v1/messages
    error = error_of(collect(ep, model="m"))
    assert isinstance(error, ModelNotFound)
    assert str(error).endswith("Check the base URL too: Anthropic's has no /v1 (the SDK adds it).")


def test_base_url_without_scheme_fails_clearly(fake_llm: FakeLLM) -> None:
    error = error_of(collect(Endpoint(base_url="localhost:11434/v1", name="Ollama")))
    assert isinstance(error, ConnectionFailed)
    assert "must start with http://" in str(error)
    assert fake_llm.requests == []


def test_connection_message_names_known_local_servers() -> None:
    ollama = Endpoint(base_url="http://localhost:11434/v1", name="Ollama")
    assert connect_message(ollama) == (
        "Could not connect to Ollama. Is Ollama running at localhost:11434? "
        "Start it with `ollama serve`."
    )
    studio = Endpoint(base_url="http://127.0.0.1:1234/v1", name="LM Studio")
    assert "Is LM Studio running at 127.0.0.1:1234?" in connect_message(studio)
    remote = Endpoint(base_url="https://example.com:11434/v1", name="Remote")
    assert connect_message(remote) == (
        "Could not connect to Remote (example.com). Check the address and your network."
    )


def test_what_counts_as_local_is_one_definition() -> None:
    """The connection hint and the run queue agree on which servers are on this machine."""
    from promptstudio.providers import is_local
    from promptstudio.providers.failures import local_server

    docker = Endpoint(base_url="http://host.docker.internal:11434/v1", name="Ollama")
    assert is_local(docker)
    assert "Is Ollama running at host.docker.internal:11434?" in connect_message(docker)
    assert local_server(Endpoint(base_url="http://127.0.0.2:1234/v1")) == "LM Studio"
    assert local_server(Endpoint(base_url="http://example.com:1234/v1")) is None


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "2.5"}) == 2.5
    assert retry_after_seconds({}) is None
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (retry_after_seconds({"retry-after": date}) or 0) <= 30


def test_cancelling_the_consumer_closes_the_connection(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="word " * 200, tokens_per_second=50))
    request = ChatRequest(MESSAGES, "fake-model")
    received: list[str] = []

    async def consume() -> None:
        async for event in OpenAIChatProvider(endpoint(fake_llm)).stream(request):
            if isinstance(event, TextDelta):
                received.append(event.text)

    async def main() -> float:
        task = asyncio.create_task(consume())
        while len(received) < 2:
            await asyncio.sleep(0.01)
        assert fake_llm.open_connections == 1
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return cancelled_at

    cancelled_at = asyncio.run(main())
    deadline = time.monotonic() + 2
    while not fake_llm.hangups and time.monotonic() < deadline:
        time.sleep(0.005)
    assert fake_llm.hangups and fake_llm.hangups[0] - cancelled_at < 0.1
    assert 2 <= len(received) < 200


def test_sdk_timeouts_and_ollama_404s_map_to_helpful_errors() -> None:
    """Paths the fake server cannot reach: our own timers fire before the SDK's."""
    ollama = Endpoint(base_url="http://localhost:11434/v1", name="Ollama")
    request = httpx2.Request("POST", "http://localhost:11434/v1/chat/completions")
    timeout = openai.APITimeoutError(request=request)
    before = map_sdk_error(timeout, ollama, "llama3", OPENAI_ERRORS, deltas=None)
    assert isinstance(before, TimedOut) and str(before) == "The request to Ollama timed out."
    during = map_sdk_error(timeout, ollama, "llama3", OPENAI_ERRORS, deltas=4)
    assert isinstance(during, TimedOut) and "stalled" in str(during)

    body = {"error": {"message": 'model "llama3" not found, try pulling it first'}}
    response = httpx2.Response(404, json=body, request=request)
    missing = openai.NotFoundError("404", response=response, body=body["error"])
    error = map_sdk_error(missing, ollama, "llama3", OPENAI_ERRORS, deltas=None)
    assert isinstance(error, ModelNotFound)
    assert (
        str(error) == "Model 'llama3' was not found at Ollama. Pull it with `ollama pull llama3`."
    )
