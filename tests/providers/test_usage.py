"""Usage from the stream: input, output, cached and reasoning tokens; counted when missing."""

from __future__ import annotations

import pytest

from promptstudio.providers import Finished, TextDelta, Usage
from tests.fake_llm import FakeLLM, Reply
from tests.providers.helpers import MESSAGES, PROTOCOLS, collect, endpoint, usage_of


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_cached_and_reasoning_tokens(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(input_tokens=1200, cached_tokens=1024, reasoning_tokens=30))
    usage = usage_of(collect(endpoint(fake_llm, protocol)))
    # Anthropic reports input without the cache; we add it back: the same totals everywhere.
    assert usage == Usage(1200, 35, cached_input_tokens=1024, reasoning_tokens=30)


def test_anthropic_thinking_is_not_text_but_counts_as_reasoning(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="Yes.", thinking="Let me think about it"))
    events = collect(endpoint(fake_llm, "messages"))
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Yes."]
    usage = usage_of(events)
    assert usage.output_tokens == 1 + 5 and usage.reasoning_tokens == 5


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_usage_is_estimated_when_the_server_sends_none(fake_llm: FakeLLM, protocol: str) -> None:
    fake_llm.script(Reply(text="abcdefg", chunk="char", include_usage=False))
    events = collect(endpoint(fake_llm, protocol))
    chars_in = sum(len(m.content) for m in MESSAGES)  # 24 -> 6
    assert usage_of(events) == Usage(-(-chars_in // 4), 7, estimated=True)
    assert isinstance(events[-1], Finished)


def test_anthropic_cut_keeps_the_input_it_reported(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(input_tokens=500, cached_tokens=100, cut_after_chunks=2))
    usage = usage_of(collect(endpoint(fake_llm, "messages")))
    assert usage == Usage(500, 2, estimated=True, cached_input_tokens=100)


@pytest.mark.parametrize(
    ("protocol", "reason"),
    [("chat", "length"), ("responses", "max_output_tokens"), ("messages", "max_tokens")],
)
def test_length_limit_is_the_finish_reason(fake_llm: FakeLLM, protocol: str, reason: str) -> None:
    fake_llm.script(Reply(finish_reason="length"))
    events = collect(endpoint(fake_llm, protocol))
    assert events[-1] == Finished(reason)
    assert not usage_of(events).estimated
