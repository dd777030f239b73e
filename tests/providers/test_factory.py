"""create_provider picks the implementation from the endpoint's kind."""

from __future__ import annotations

import pytest

from promptstudio.providers import Endpoint, ProviderError, create_provider
from promptstudio.providers.openai_chat import OpenAIChatProvider


@pytest.mark.parametrize("kind", ["openai", "openai-compatible"])
def test_openai_kinds_get_the_chat_completions_provider(kind: str) -> None:
    provider = create_provider(Endpoint(base_url="http://127.0.0.1:1/v1", kind=kind))
    assert isinstance(provider, OpenAIChatProvider)


def test_anthropic_is_not_available_yet() -> None:
    with pytest.raises(ProviderError, match=r"^Anthropic support is not available yet\.$"):
        create_provider(Endpoint(base_url="https://api.anthropic.com", kind="anthropic"))


def test_unknown_kind_is_a_provider_error() -> None:
    with pytest.raises(ProviderError, match="Unknown provider kind 'gopher'"):
        create_provider(Endpoint(base_url="http://x", kind="gopher", name="X"))
