"""The run column in the core: its stored form, the run defaults, and the one RunTarget path."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from promptstudio.chat import Message
from promptstudio.credentials import KeyStore
from promptstudio.providers import GenerationParams, ProviderProfile, supported_params
from promptstudio.providers.param_rules import API_KINDS, PARAM_RULES
from promptstudio.runs.columns import (
    ColumnConfig,
    ColumnError,
    RunDefaults,
    column_api,
    column_key,
    run_target,
)
from promptstudio.runs.engine import RunSession
from promptstudio.settings.store import SettingsStore
from tests.fake_llm import FakeLLM, Reply


def test_column_round_trips_through_its_stored_form() -> None:
    column = ColumnConfig(
        "http://127.0.0.1:9/v1", "m", "", GenerationParams(temperature=0.5, stop=("x",))
    )
    again = ColumnConfig.from_dict(column.to_dict())
    assert again == column
    assert "api_key" not in str(column.to_dict())


def test_ui_column_config_is_the_core_type() -> None:
    from promptstudio.ui.board.run_column import ColumnConfig as WidgetConfig

    assert WidgetConfig is ColumnConfig


def test_the_parameter_table_says_which_apis_carry_each_setting() -> None:
    for api, kind in API_KINDS:
        allowed = supported_params(api, "openai" if kind == "openai" else kind)
        assert allowed == {n for n, rule in PARAM_RULES.items() if rule.accepted_by(api, kind)}
    assert "top_k" not in supported_params("chat", "openai")
    assert "top_k" in supported_params("chat", "openai-compatible")
    assert supported_params("messages", "anthropic") >= {"thinking_budget", "top_k"}
    assert "seed" not in supported_params("responses", "openai")


def test_run_defaults_come_typed_from_the_settings_store(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    assert RunDefaults.from_settings(store.get) == RunDefaults(
        connect_timeout=5.0, first_token_timeout=120.0, idle_timeout=60.0, max_retries=2
    )
    store.update({"run.temperature": 0.3, "run.max_tokens": 77, "timeouts.first_token": 2})
    defaults = RunDefaults.from_settings(SettingsStore(tmp_path).get)
    assert (defaults.temperature, defaults.max_tokens, defaults.top_p) == (0.3, 77, None)
    assert defaults.first_token_timeout == 2.0


def test_run_target_fills_unset_settings_and_sets_timeouts() -> None:
    defaults = RunDefaults(temperature=0.3, max_tokens=77, first_token_timeout=2.0)
    column = ColumnConfig("http://127.0.0.1:9/v1/", "m", params=GenerationParams(max_tokens=5))
    keys = KeyStore()
    keys.set("http://127.0.0.1:9/v1", "sk-typed")
    target = run_target(column, [], keys, defaults, key="c1:0")
    assert (target.key, target.model) == ("c1:0", "m")
    assert (target.params.temperature, target.params.max_tokens) == (0.3, 5)
    assert target.endpoint.first_token_timeout == 2.0
    assert target.endpoint.api_key == "sk-typed"


def test_run_target_uses_the_columns_provider_and_its_key() -> None:
    profile = ProviderProfile("mine", "openai-compatible", "Mine", "http://127.0.0.1:9/v1")
    keys = KeyStore()
    keys.set(profile.key_account, "sk-profile")
    column = ColumnConfig("", "m", "mine")
    target = run_target(column, [profile], keys, RunDefaults(idle_timeout=7.0))
    assert target.endpoint.base_url == profile.base_url
    assert target.endpoint.api_key == "sk-profile"
    assert target.endpoint.idle_timeout == 7.0
    assert target.key == column.id


def test_a_columns_key_is_looked_up_in_one_place() -> None:
    """The key status, a typed key and the request use one lookup (``column_key``)."""
    profile = ProviderProfile(
        "mine", "openai-compatible", "Mine", "http://127.0.0.1:9/v1", key_env="MINE_KEY"
    )
    assert column_key(ColumnConfig("", "m", "mine"), [profile]) == (
        profile.key_account,
        "MINE_KEY",
    )
    typed = ColumnConfig("http://127.0.0.1:9/v1/", "m")
    assert column_key(typed, [profile]) == ("http://127.0.0.1:9/v1", "")
    # A provider since removed: the column's own base URL still names its key.
    assert column_key(ColumnConfig("http://h/v1", "m", "gone"), []) == ("http://h/v1", "")
    with pytest.raises(ColumnError):
        column_key(ColumnConfig("", "m", "gone"), [])


def test_a_columns_api_comes_from_its_provider_and_model() -> None:
    claude = ProviderProfile("claude", "anthropic", "Claude", "https://api.anthropic.com")
    assert column_api(ColumnConfig("", "claude-x", "claude"), [claude]) == "messages"
    assert column_api(ColumnConfig("http://127.0.0.1:9/v1", "m"), []) == "chat"
    assert column_api(ColumnConfig("", "m", "gone"), [], guess=True) == "chat"  # a preview
    with pytest.raises(ColumnError, match="no provider profile 'gone'"):
        column_api(ColumnConfig("", "m", "gone"), [])


def test_run_target_refuses_an_unknown_provider_and_no_model() -> None:
    with pytest.raises(ColumnError, match="no provider profile 'gone'"):
        run_target(ColumnConfig("", "m", "gone"), [], KeyStore(), RunDefaults())
    with pytest.raises(ColumnError, match="model"):
        run_target(ColumnConfig("http://127.0.0.1:9/v1"), [], KeyStore(), RunDefaults())


def test_api_and_samples_round_trip_and_old_columns_load_unchanged() -> None:
    column = ColumnConfig("http://127.0.0.1:9/v1", "m", api="responses", samples=3)
    stored = column.to_dict()
    assert (stored["api"], stored["samples"]) == ("responses", 3)
    assert ColumnConfig.from_dict(stored) == column
    old = {
        "id": "c1",
        "profile": "",
        "base_url": "http://127.0.0.1:9/v1",
        "model": "m",
        "params": {"temperature": 0.2},
    }
    loaded = ColumnConfig.from_dict(old)
    assert (loaded.api, loaded.samples) == ("auto", 1)
    assert loaded.to_dict() == old  # stored as before: the defaults are left out


def test_a_column_refuses_an_api_or_samples_it_cannot_have(caplog) -> None:
    with pytest.raises(ColumnError, match="Unknown API 'messages'"):
        ColumnConfig(api="messages")
    for samples in (0, 21, True):
        with pytest.raises(ColumnError, match="Samples must be a whole number from 1 to 20"):
            ColumnConfig(samples=samples)
    hand_edited = ColumnConfig.from_dict({"model": "m", "api": "soap", "samples": "many"})
    assert (hand_edited.model, hand_edited.api, hand_edited.samples) == ("m", "auto", 1)
    assert "soap" in caplog.text and "many" in caplog.text


def test_the_columns_api_is_the_one_the_request_goes_over(fake_llm: FakeLLM) -> None:
    fake_llm.script(Reply(text="ok"), times=3)
    compatible = ColumnConfig(fake_llm.base_url, "m", api="responses", id="a")
    profile = ProviderProfile("o", "openai", "O", fake_llm.base_url, needs_key=False)
    reasoning = ColumnConfig("", "o3-mini", "o", api="chat", id="b")  # auto: Responses
    auto = ColumnConfig(fake_llm.base_url, "m", id="c")
    assert column_api(compatible, []) == "responses"
    assert column_api(reasoning, [profile]) == "chat"
    keys = KeyStore()
    targets = [run_target(c, [profile], keys, RunDefaults()) for c in (compatible, reasoning, auto)]
    asyncio.run(RunSession((Message("user", "Hi"),), targets).run())
    assert [r.json["model"] for r in fake_llm.responses_requests()] == ["m"]
    assert sorted(r.json["model"] for r in fake_llm.chat_requests()) == ["m", "o3-mini"]


def test_an_anthropic_provider_takes_no_other_api() -> None:
    claude = ProviderProfile("c", "anthropic", "Claude", "http://127.0.0.1:9")
    column = ColumnConfig("", "claude-x", "c", api="chat")
    with pytest.raises(ColumnError, match="Claude speaks the Anthropic Messages API only"):
        run_target(column, [claude], KeyStore(), RunDefaults())
    assert column_api(ColumnConfig("", "claude-x", "c"), [claude]) == "messages"
