"""Settings declared as data, validated, persisted atomically; broken files kept aside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptstudio.settings.schema import BY_NAME, SETTINGS, defaults, groups
from promptstudio.settings.store import SettingsError, SettingsStore


def test_every_setting_has_a_valid_default_and_a_description() -> None:
    for setting in SETTINGS:
        assert setting.description and setting.label and setting.group
        assert setting.validate(setting.default) == setting.default
    assert groups()[:2] == ["Run defaults", "Timeouts"]


def test_values_round_trip_through_the_file(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    assert store.values() == defaults()
    changed = store.update({"timeouts.idle": "30", "run.temperature": 0.7, "editor.font_size": 14})
    assert changed == {"timeouts.idle": 30.0, "run.temperature": 0.7, "editor.font_size": 14}
    again = SettingsStore(tmp_path)
    assert again.get("timeouts.idle") == 30.0
    assert again.get("run.temperature") == 0.7
    assert again.get("editor.font_size") == 14


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("timeouts.connect", -1, "at least"),
        ("timeouts.idle", "soon", "must be a number"),
        ("timeouts.max_retries", 1.5, "whole number"),
        ("run.temperature", 3, "at most"),
        ("appearance.theme", "neon", "one of"),
        ("timeouts.first_token", float("nan"), "finite"),
        ("timeouts.first_token", None, "needs a value"),
        ("editor.font_size", True, "number"),
    ],
)
def test_invalid_values_are_refused_and_never_saved(
    tmp_path: Path, name: str, value: object, reason: str
) -> None:
    store = SettingsStore(tmp_path)
    with pytest.raises(SettingsError, match=reason):
        store.update({name: value, "editor.font_family": "Iosevka"})  # one bad: none saved
    assert store.get(name) == BY_NAME[name].default
    assert store.get("editor.font_family") is None
    assert not (tmp_path / "settings.json").exists()


def test_optional_values_can_be_cleared(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    store.update({"run.max_tokens": 512})
    store.update({"run.max_tokens": ""})
    assert SettingsStore(tmp_path).get("run.max_tokens") is None


def test_a_broken_file_is_kept_aside_and_defaults_are_used(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text('{"timeouts.idle": 30,\n  oops}', encoding="utf-8")
    store = SettingsStore(tmp_path)
    assert store.values() == defaults()
    assert store.problem is not None and "line 2" in store.problem
    assert (tmp_path / "settings.json.broken").read_text(encoding="utf-8").endswith("oops}")
    store.update({"timeouts.idle": 20})
    assert json.loads((tmp_path / "settings.json").read_text())["timeouts.idle"] == 20


def test_unknown_and_invalid_entries_on_disk(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(
        json.dumps({"future.option": [1, 2], "timeouts.idle": -5, "editor.font_size": 12}),
        encoding="utf-8",
    )
    store = SettingsStore(tmp_path)
    assert store.get("timeouts.idle") == 60.0  # invalid on disk: the default
    assert store.get("editor.font_size") == 12
    store.update({"editor.font_size": 13})
    on_disk = json.loads((tmp_path / "settings.json").read_text())
    assert on_disk["future.option"] == [1, 2]  # kept for the version that wrote it


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    for size in range(8, 12):
        store.update({"editor.font_size": size})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]


def test_price_overrides_are_checked_line_by_line(tmp_path: Path) -> None:
    from promptstudio.providers.pricing import parse_price_overrides

    store = SettingsStore(tmp_path)
    with pytest.raises(SettingsError, match="Price line 2"):
        store.update({"prices.overrides": "good-model: 1, 2\nbad line\n"})
    assert store.get("prices.overrides") is None
    store.update({"prices.overrides": "# mine\nmy-model: 0.5, 1.5, 0.25\nother:3,4"})
    prices = parse_price_overrides(str(SettingsStore(tmp_path).get("prices.overrides")))
    assert prices["my-model"].cached_input == 0.25 and prices["other"].output == 4.0
    with pytest.raises(ValueError, match="line 1"):
        parse_price_overrides("x: -1, 2")
