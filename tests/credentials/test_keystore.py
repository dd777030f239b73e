"""KeyStore against a real keyring backend: in memory, and the 'no keychain' backend."""

from __future__ import annotations

import logging

import keyring
import keyring.backends.fail
import keyring.errors
import pytest

from promptstudio.credentials import (
    ENV_KEY_VARS,
    CredentialError,
    InMemoryKeyring,
    KeyStore,
    ResolvedKey,
    env_var_for,
)

SENTINEL = "sk-test-SENTINEL-0123456789abcdefghij"
OPENAI = "https://api.openai.com/v1"


def test_round_trip_in_the_keychain(memory_keyring: InMemoryKeyring) -> None:
    store = KeyStore()
    assert store.backend_available()
    assert store.get(OPENAI) is None
    assert store.set(OPENAI + "/", f"  {SENTINEL}\n") == "keychain"
    assert store.get(OPENAI) == SENTINEL
    assert memory_keyring.get_password(KeyStore.SERVICE, OPENAI) == SENTINEL
    store.delete(OPENAI)
    assert store.get(OPENAI) is None
    store.delete(OPENAI)  # deleting a missing key is fine


def test_a_new_store_sees_keys_in_the_keychain() -> None:
    KeyStore().set(OPENAI, SENTINEL)
    assert KeyStore().get(OPENAI) == SENTINEL


def test_empty_key_is_refused() -> None:
    with pytest.raises(CredentialError):
        KeyStore().set(OPENAI, "   ")


def test_the_backend_is_looked_up_at_call_time() -> None:
    store = KeyStore()
    store.set(OPENAI, "first")
    keyring.set_keyring(InMemoryKeyring())
    assert store.get(OPENAI) is None


def test_resolve_prefers_stored_key_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    store = KeyStore()
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    resolved = store.resolve(OPENAI)
    assert resolved == ResolvedKey("from-env", "environment", "OPENAI_API_KEY")
    store.set(OPENAI, SENTINEL)
    assert store.resolve(OPENAI + "/") == ResolvedKey(SENTINEL, "keychain", "OPENAI_API_KEY")


def test_resolve_without_any_key() -> None:
    assert KeyStore().resolve(OPENAI) == ResolvedKey(None, "none", "OPENAI_API_KEY")
    assert KeyStore().resolve("http://localhost:8080/v1") == ResolvedKey(None, "none", None)


def test_environment_is_ignored_for_other_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    assert KeyStore().resolve("http://127.0.0.1:8089/v1").value is None
    assert KeyStore().resolve("https://api.openai.com.evil.example/v1").value is None


def test_resolved_key_repr_hides_the_value() -> None:
    resolved = ResolvedKey(SENTINEL, "keychain", None)
    assert SENTINEL not in repr(resolved)
    assert SENTINEL not in str(resolved)
    assert SENTINEL not in f"{resolved}"


def test_without_a_keychain_keys_live_for_the_session_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    store = KeyStore()
    assert not store.backend_available()
    with caplog.at_level(logging.WARNING, logger="promptstudio"):
        assert store.set(OPENAI, SENTINEL) == "session"
    assert "session only" in caplog.text
    assert SENTINEL not in caplog.text
    assert store.get(OPENAI) == SENTINEL
    assert store.resolve(OPENAI) == ResolvedKey(SENTINEL, "session", "OPENAI_API_KEY")
    assert KeyStore().get(OPENAI) is None  # another process (store) never sees it
    store.delete(OPENAI)
    assert store.get(OPENAI) is None


class RefusingKeyring(InMemoryKeyring):
    """A real backend whose keychain is locked: reads work, writes fail."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("locked")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("locked")


def test_a_keychain_error_on_set_falls_back_to_the_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    keyring.set_keyring(RefusingKeyring())
    store = KeyStore()
    assert store.backend_available()
    with caplog.at_level(logging.WARNING, logger="promptstudio"):
        assert store.set(OPENAI, SENTINEL) == "session"
    assert SENTINEL not in caplog.text
    assert store.resolve(OPENAI).source == "session"
    with pytest.raises(CredentialError, match="Could not remove"):
        store.delete(OPENAI)
    assert store.get(OPENAI) is None  # the session copy is gone either way


def test_setting_in_the_keychain_replaces_a_session_copy(memory_keyring: InMemoryKeyring) -> None:
    store = KeyStore()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    store.set(OPENAI, "old-session-key")
    keyring.set_keyring(memory_keyring)
    assert store.set(OPENAI, SENTINEL) == "keychain"
    assert store.resolve(OPENAI) == ResolvedKey(SENTINEL, "keychain", "OPENAI_API_KEY")


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.openai.com/v1", "OPENAI_API_KEY"),
        ("https://api.openai.com/v1/", "OPENAI_API_KEY"),
        ("https://API.OpenAI.com/v1", "OPENAI_API_KEY"),
        ("api.openai.com/v1", "OPENAI_API_KEY"),
        ("https://api.anthropic.com", "ANTHROPIC_API_KEY"),
        ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
        ("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
        ("https://api.together.xyz/v1", "TOGETHER_API_KEY"),
        ("https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
        ("https://api.deepseek.com", "DEEPSEEK_API_KEY"),
        ("https://generativelanguage.googleapis.com/v1beta/openai/", "GEMINI_API_KEY"),
        ("http://localhost:11434/v1", None),
        ("http://127.0.0.1:8089/v1", None),
        ("https://example.com/v1", None),
        ("https://api.openai.com.evil.example/v1", None),
        ("http://api.openai.com/v1", None),  # never offer an env key over plain HTTP
    ],
)
def test_env_var_for(base_url: str, expected: str | None) -> None:
    assert env_var_for(base_url) == expected
    if expected is not None:
        assert expected in ENV_KEY_VARS
