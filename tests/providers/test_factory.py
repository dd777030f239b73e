"""create_provider and resolve_api pick the API from the endpoint's kind, api and model."""

from __future__ import annotations

import pytest

from promptstudio.providers import (
    ChatRequest,
    Endpoint,
    Finished,
    ProviderError,
    create_provider,
    is_reasoning_model,
    resolve_api,
)
from promptstudio.providers.anthropic_messages import AnthropicMessagesProvider
from promptstudio.providers.openai_chat import OpenAIChatProvider
from promptstudio.providers.openai_responses import OpenAIResponsesProvider
from tests.fake_llm import FakeLLM
from tests.providers.helpers import MESSAGES, collect, endpoint


@pytest.mark.parametrize(
    ("kind", "api", "model", "expected"),
    [
        ("openai", "auto", "gpt-4o-mini", "chat"),
        ("openai", "auto", "o3-mini", "responses"),
        ("openai", "auto", "gpt-5", "responses"),
        ("openai", "auto", "gpt-5.1-codex", "responses"),
        ("openai", "chat", "o3", "chat"),
        ("openai-compatible", "auto", "o3", "chat"),
        ("openai-compatible", "responses", "llama3", "responses"),
        ("anthropic", "auto", "claude-sonnet-4-5", "messages"),
    ],
)
def test_resolve_api(kind: str, api: str, model: str, expected: str) -> None:
    assert resolve_api(kind, api, model) == expected


def test_reasoning_models() -> None:
    assert all(is_reasoning_model(m) for m in ("o1", "o1-mini", "o3-pro", "o4-mini", "gpt-5-nano"))
    assert not any(is_reasoning_model(m) for m in ("gpt-4o", "gpt-4.1", "omni", "gpt-50x"))


def test_resolve_api_refuses_nonsense() -> None:
    with pytest.raises(ProviderError, match="Messages API"):
        resolve_api("anthropic", "chat", "claude")
    with pytest.raises(ProviderError, match="Unknown API"):
        resolve_api("openai", "completions", "gpt-4o")


def test_fixed_apis_get_their_providers() -> None:
    base = "http://127.0.0.1:1"
    chat = create_provider(Endpoint(base_url=base, kind="openai-compatible"))
    assert isinstance(chat, OpenAIChatProvider)
    responses = create_provider(Endpoint(base_url=base, kind="openai"), api="responses")
    assert isinstance(responses, OpenAIResponsesProvider)
    claude = create_provider(Endpoint(base_url=base, kind="anthropic"))
    assert isinstance(claude, AnthropicMessagesProvider)


def test_openai_auto_chooses_per_model(fake_llm: FakeLLM) -> None:
    ep = endpoint(fake_llm, "chat", kind="openai", api="auto")
    assert collect(ep, model="gpt-4o-mini")[-1] == Finished("stop")
    assert collect(ep, model="o4-mini")[-1] == Finished("completed")
    assert [r.path for r in fake_llm.generation_requests()] == [
        "/v1/chat/completions",
        "/v1/responses",
    ]
    assert ChatRequest(MESSAGES, "x").model == "x"


def test_unknown_kind_is_a_provider_error() -> None:
    with pytest.raises(ProviderError, match="Unknown provider kind 'gopher'"):
        create_provider(Endpoint(base_url="http://x", kind="gopher", name="X"))
