"""The run column in the core: its stored form, the run defaults, and the one RunTarget path."""

from __future__ import annotations

from pathlib import Path

import pytest

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
from promptstudio.settings.store import SettingsStore


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
    assert column_api(ColumnConfig("", "m", "gone"), []) == "chat"


def test_run_target_refuses_an_unknown_provider_and_no_model() -> None:
    with pytest.raises(ColumnError, match="no provider profile 'gone'"):
        run_target(ColumnConfig("", "m", "gone"), [], KeyStore(), RunDefaults())
    with pytest.raises(ColumnError, match="model"):
        run_target(ColumnConfig("http://127.0.0.1:9/v1"), [], KeyStore(), RunDefaults())
