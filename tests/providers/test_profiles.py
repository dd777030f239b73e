"""Provider profiles: presets, validation with typed errors, and no keys anywhere."""

from __future__ import annotations

import logging

import pytest

from promptstudio.credentials.keystore import account_for
from promptstudio.providers import (
    PRESETS,
    Endpoint,
    InvalidProfile,
    ProviderProfile,
    SecretInProfile,
    resolve_api,
)
from promptstudio.providers.profiles import preset


def test_presets_cover_the_common_servers() -> None:
    urls = {p.id: p.base_url for p in PRESETS}
    assert urls["openai"] == "https://api.openai.com/v1"
    assert urls["anthropic"] == "https://api.anthropic.com"  # the SDK adds /v1
    assert urls["ollama"] == "http://localhost:11434/v1"
    assert urls["lm-studio"] == "http://localhost:1234/v1"
    assert urls["llama-cpp"] == "http://localhost:8080/v1"
    assert urls["vllm"] == "http://localhost:8000/v1"
    assert urls["gemini"] == "https://generativelanguage.googleapis.com/v1beta/openai"
    for pid in ("openrouter", "groq", "together", "mistral", "deepseek"):
        assert urls[pid].startswith("https://")
    assert len(urls) == len(PRESETS)
    assert not preset("ollama").needs_key and preset("openai").needs_key
    assert preset("anthropic").kind == "anthropic"


def test_key_account_defaults_to_the_key_stores_account() -> None:
    profile = ProviderProfile("mine", "openai-compatible", "Mine", " http://host:1/v1/ ")
    assert profile.base_url == "http://host:1/v1"
    assert profile.key_account == account_for("http://host:1/v1/")
    moved = profile.with_changes(base_url="http://other:2/v1")
    assert moved.key_account == "http://other:2/v1"  # the default follows the URL
    named = ProviderProfile("x", "openai", "X", "https://a/v1", key_account="work-openai")
    assert named.with_changes(base_url="https://b/v1").key_account == "work-openai"


def test_to_endpoint_carries_everything_but_stores_no_key() -> None:
    profile = ProviderProfile(
        "groq-eu", "openai-compatible", "Groq EU", "https://g/v1", extra_headers={"X-R": "eu"}
    )
    ep = profile.to_endpoint("sk-123", first_token_timeout=30, max_retries=1)
    assert ep == Endpoint(
        base_url="https://g/v1",
        api_key="sk-123",
        kind="openai-compatible",
        name="Groq EU",
        extra_headers={"X-R": "eu"},
        first_token_timeout=30,
        max_retries=1,
    )
    assert "sk-123" not in repr(profile) and "sk-123" not in repr(ep)
    assert profile.to_endpoint(None).idle_timeout == Endpoint("x").idle_timeout
    assert profile.to_endpoint("").api_key is None


def test_api_auto_and_fixed() -> None:
    openai = preset("openai")
    assert resolve_api(openai.kind, openai.api, "o3") == "responses"
    fixed = openai.with_changes(api="chat")
    assert resolve_api(fixed.kind, fixed.api, "o3") == "chat"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"id": "Has Spaces"}, "id", "lower-case letters"),
        ({"kind": "gopher"}, "kind", "Unknown provider kind 'gopher'"),
        ({"name": "  "}, "name", "needs a name"),
        ({"base_url": "localhost:11434/v1"}, "base_url", "must start with http:// or https://"),
        ({"base_url": "http:///v1"}, "base_url", "has no host name"),
        ({"base_url": "http://host:99999/v1"}, "base_url", "malformed"),
        ({"base_url": "https://h/v1?key=abc"}, "base_url", "query string"),
        ({"api": "completions"}, "api", "Unknown API"),
        ({"extra_headers": {"Bad Name": "x"}}, "extra_headers", "not a valid header name"),
        ({"extra_headers": {"X-A": "two\r\nlines"}}, "extra_headers", "single line"),
    ],
)
def test_validation_errors_are_typed_and_clear(
    changes: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidProfile) as info:
        preset("groq").with_changes(**changes)
    assert info.value.field == field
    assert message in str(info.value)


def test_anthropic_speaks_only_messages() -> None:
    with pytest.raises(InvalidProfile, match="Messages API"):
        preset("anthropic").with_changes(api="responses")


@pytest.mark.parametrize(
    "headers", [{"Authorization": "Bearer sk-1"}, {"x-api-key": "sk-1"}, {"X-Goog-Api-Key": "k"}]
)
def test_credential_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(SecretInProfile) as info:
        preset("openai").with_changes(extra_headers=headers)
    assert "keychain" in str(info.value)
    assert "sk-1" not in str(info.value)


def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(SecretInProfile):
        preset("openai").with_changes(base_url="https://user:sk-secret@api.example.com/v1")


def test_secret_looking_header_values_are_allowed_but_never_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    profile = preset("openrouter").with_changes(extra_headers={"X-Org-Token": "tok-very-secret"})
    assert "tok-very-secret" not in repr(profile)
    assert "tok-very-secret" not in caplog.text


def test_dict_round_trip_and_key_fields_refused() -> None:
    profile = ProviderProfile(
        "local",
        "openai-compatible",
        "Local",
        "http://127.0.0.1:9/v1",
        key_account="acct",
        extra_headers={"X-A": "1"},
        api="responses",
        needs_key=False,
    )
    assert ProviderProfile.from_dict(profile.to_dict()) == profile
    assert preset("ollama").to_dict() == {
        "id": "ollama",
        "kind": "openai-compatible",
        "name": "Ollama",
        "base_url": "http://localhost:11434/v1",
        "needs_key": False,
    }
    for field in ("api_key", "apiKey", "secret", "token"):
        with pytest.raises(SecretInProfile):
            ProviderProfile.from_dict({**profile.to_dict(), field: "sk-xyz"})
    with pytest.raises(InvalidProfile):
        ProviderProfile.from_dict({"id": "x"})


def test_profiles_are_hashable() -> None:
    assert len({preset("openai"), preset("openai"), preset("groq")}) == 2


@pytest.mark.parametrize("bad", [0, -1, 65, 2.5, "2", True])
def test_requests_at_once_is_a_whole_number_or_blank(bad: object) -> None:
    with pytest.raises(InvalidProfile) as info:
        ProviderProfile.from_dict({**preset("llama-cpp").to_dict(), "max_concurrent": bad})
    assert info.value.field == "max_concurrent"
    assert "from 1 to 64" in info.value.message
    limited = preset("llama-cpp").with_changes(max_concurrent=2)
    assert ProviderProfile.from_dict(limited.to_dict()) == limited
    assert limited.to_endpoint(None).max_concurrent == 2
    assert "max_concurrent" not in preset("llama-cpp").to_dict()
