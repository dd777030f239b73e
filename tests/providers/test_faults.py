"""Every fault on every protocol gives the right typed error, with the text so far kept.

The real SDKs talk HTTP to the fake server; nothing is mocked. Each case runs for OpenAI
Chat Completions, OpenAI Responses and Anthropic Messages.
"""

from __future__ import annotations

import logging
import time

import pytest

from promptstudio.providers import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    Finished,
    ModelNotFound,
    Overloaded,
    PermissionDenied,
    ProviderError,
    RateLimited,
    ServerError,
    StreamCut,
    TimedOut,
    Usage,
)
from tests.fake_llm import FakeLLM, Reply
from tests.providers.helpers import (
    KEY,
    PROTOCOLS,
    closed_port,
    collect,
    endpoint,
    endpoint_at,
    error_of,
    sent,
    text_of,
    usage_of,
)

pytestmark = pytest.mark.parametrize("protocol", PROTOCOLS)


def test_a_clean_answer(fake_llm: FakeLLM, protocol: str) -> None:
    events = collect(endpoint(fake_llm, protocol))
    assert text_of(events) == "Hello from the fake model."
    assert isinstance(events[-1], Finished)
    assert (
        events[-1].reason
        == {"chat": "stop", "responses": "completed", "messages": "end_turn"}[protocol]
    )
    usage = usage_of(events)
    assert (usage.input_tokens, usage.output_tokens, usage.estimated) == (6, 5, False)
    assert len(sent(fake_llm, protocol)) == 1


# ---- HTTP errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "error_type", "message"),
    [
        (
            Reply(status=403, error_message="Project has no access."),
            PermissionDenied,
            "The server at Fake denied access (403): Project has no access.",
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
            Reply(status=503, error_message="Busy"),
            Overloaded,
            "The server at Fake is overloaded (503): Busy. Try again later.",
        ),
        (
            Reply(status=529, error_message="Overloaded", headers={"retry-after": "20"}),
            Overloaded,
            "The server at Fake is overloaded (529): Overloaded. Try again in 20 s.",
        ),
    ],
)
def test_http_errors_map_to_typed_errors(
    fake_llm: FakeLLM,
    protocol: str,
    reply: Reply,
    error_type: type[ProviderError],
    message: str,
) -> None:
    fake_llm.script(reply)
    error = error_of(collect(endpoint(fake_llm, protocol, api_key=KEY)))
    assert type(error) is error_type
    assert str(error) == message
    assert error.status == reply.status
    assert len(sent(fake_llm, protocol)) == 1  # max_retries=0: no retry


def test_rate_limit_and_overload_carry_retry_after(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(status=429, headers={"retry-after": "3"}), times=1)
    fake_llm.script(Reply(status=529, headers={"retry-after-ms": "2500"}), times=1)
    limited = error_of(collect(endpoint(fake_llm, protocol)))
    overloaded = error_of(collect(endpoint(fake_llm, protocol)))
    assert isinstance(limited, RateLimited) and limited.retry_after == 3.0
    assert isinstance(overloaded, Overloaded) and overloaded.retry_after == 2.5


def test_bad_key_names_the_endpoint_and_never_shows_the_key(
    fake_llm: FakeLLM, protocol: str
) -> None:
    fake_llm.require_key = "sk-the-right-one"
    ep = endpoint(fake_llm, protocol, api_key=KEY, name="My Claude")
    error = error_of(collect(ep))  # the fake echoes the wrong key back in its body
    assert isinstance(error, AuthenticationFailed)
    assert str(error) == "The server at My Claude rejected the API key (401)."
    assert KEY not in repr(error) and KEY not in repr(ep)
    for request in fake_llm.requests:
        assert KEY not in request.path  # never in a URL


def test_keys_never_reach_our_logs(
    fake_llm: FakeLLM, protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="promptstudio")
    fake_llm.script(Reply(status=429, headers={"retry-after-ms": "10"}), times=1)
    fake_llm.script(Reply(status=400, error_message=f"echo {KEY}"))
    error = error_of(collect(endpoint(fake_llm, protocol, api_key=KEY, max_retries=1)))
    assert isinstance(error, BadRequest)
    assert "retry 1 of 1" in caplog.text
    assert KEY not in caplog.text


def test_missing_key_says_one_is_needed(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.require_key = KEY
    error = error_of(collect(endpoint(fake_llm, protocol)))
    assert isinstance(error, AuthenticationFailed)
    assert str(error) == "The server at Fake needs an API key (401)."


def test_server_messages_are_scrubbed_of_the_key(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(status=400, error_message=f"Bad header Bearer {KEY} here"))
    error = error_of(collect(endpoint(fake_llm, protocol, api_key=KEY)))
    assert isinstance(error, BadRequest)
    assert str(error) == "The server at Fake rejected the request (400): Bad header Bearer *** here"


def test_unknown_model_offers_the_available_models(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.models = ["fake-model", "fake-model-large", "other"]
    fake_llm.script(Reply(status=404, error_message="model not found"), model="fake-modl")
    error = error_of(collect(endpoint(fake_llm, protocol), model="fake-modl"))
    assert isinstance(error, ModelNotFound)
    assert str(error) == (
        "Model 'fake-modl' was not found at Fake. Did you mean fake-model or fake-model-large?"
    )
    assert error.available == ("fake-model", "fake-model-large", "other")
    assert error.model == "fake-modl"


def test_unknown_model_lists_models_when_none_is_close(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(status=404), model="zzz")
    error = error_of(collect(endpoint(fake_llm, protocol), model="zzz"))
    assert str(error) == (
        "Model 'zzz' was not found at Fake. Available: fake-model, fake-model-large."
    )


def test_unknown_model_without_a_model_list(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.models_reply = Reply(status=500)
    fake_llm.script(Reply(status=404), model="zzz")
    error = error_of(collect(endpoint(fake_llm, protocol), model="zzz"))
    assert isinstance(error, ModelNotFound)
    assert str(error) == "Model 'zzz' was not found at Fake."


# ---- connection and timeouts -----------------------------------------------------------


def test_connection_refused(protocol: str) -> None:
    port = closed_port()
    error = error_of(collect(endpoint_at(port, protocol)))
    assert isinstance(error, ConnectionFailed)
    assert str(error) == f"Could not connect to Local. Is the server running at 127.0.0.1:{port}?"


def test_first_token_timeout(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(first_token_delay=5))
    started = time.monotonic()
    error = error_of(collect(endpoint(fake_llm, protocol, first_token_timeout=0.3)))
    assert time.monotonic() - started < 2
    assert isinstance(error, TimedOut)
    assert str(error) == "No answer from Fake within 0.3 s (first-token timeout)."


def test_stall_mid_stream_times_out_and_keeps_the_text(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(stall_after_chunks=2, stall_seconds=10))
    events = collect(endpoint(fake_llm, protocol, idle_timeout=0.3))
    assert text_of(events) == "Hello from "
    usage = usage_of(events)
    assert usage.output_tokens == 2 and usage.estimated
    error = error_of(events)
    assert isinstance(error, TimedOut)
    assert str(error) == "The stream from Fake stalled: nothing arrived for 0.3 s (after 2 tokens)."


def test_disconnect_mid_stream_keeps_the_text(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(cut_after_chunks=3))
    events = collect(endpoint(fake_llm, protocol))
    assert text_of(events) == "Hello from the "
    assert usage_of(events).estimated
    error = error_of(events)
    assert isinstance(error, StreamCut)
    assert str(error) == "The stream ended before the model finished (after 3 tokens)."


def test_stream_that_never_finishes_is_cut(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(text="Only", finish_reason=None))
    events = collect(endpoint(fake_llm, protocol))
    assert text_of(events) == "Only"
    error = error_of(events)
    assert isinstance(error, StreamCut)
    message = "The stream ended before the model finished (after 1 token)."
    if protocol == "chat":  # a local Chat Completions server: llama.cpp's interruptions
        assert str(error).startswith(f"{message} A llama.cpp server started with")
    else:
        assert str(error) == message


def test_error_event_inside_a_200_stream(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(
        Reply(error_event_after_chunks=2, error_message="Model crashed", error_type="api_error")
    )
    events = collect(endpoint(fake_llm, protocol))
    assert text_of(events) == "Hello from "
    error = error_of(events)
    assert type(error) is ServerError
    assert str(error) == "The server at Fake reported an error during the stream: Model crashed"
    usage = usage_of(events)
    assert usage.output_tokens == 2 and usage.estimated


@pytest.mark.parametrize(
    ("error_type", "expected"),
    [("overloaded_error", Overloaded), ("rate_limit_exceeded", RateLimited)],
)
def test_typed_error_events(
    fake_llm: FakeLLM, protocol: str, error_type: str, expected: type[ProviderError]
) -> None:
    fake_llm.script(Reply(error_event_after_chunks=1, error_message="Busy", error_type=error_type))
    events = collect(endpoint(fake_llm, protocol))
    assert text_of(events) == "Hello "
    assert type(error_of(events)) is expected


def test_usage_is_kept_when_only_the_trailer_is_lost(fake_llm: FakeLLM, protocol: str) -> None:
    """A cut after the last text but before the end: the answer still failed (no finish)."""
    fake_llm.script(Reply(text="a b", cut_after_chunks=2))
    events = collect(endpoint(fake_llm, protocol))
    assert text_of(events) == "a b"
    assert isinstance(error_of(events), StreamCut)
    assert isinstance(usage_of(events), Usage)


def test_thinking_is_not_a_missing_first_token(fake_llm: FakeLLM, protocol: str) -> None:
    """A model that thinks (streams reasoning) longer than the first-token timeout is fine."""
    fake_llm.script(
        Reply(text="Done.", thinking="one two three four five six", tokens_per_second=10)
    )
    events = collect(endpoint(fake_llm, protocol, first_token_timeout=0.3))
    assert text_of(events) == "Done."
    assert isinstance(events[-1], Finished)
