"""ProfileStore: presets plus user profiles in profiles.json, atomic and never lossy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptstudio.providers import (
    PRESETS,
    DuplicateProfile,
    ProfileError,
    ProviderProfile,
    UnknownProfile,
)
from promptstudio.settings.profiles import ProfilesFileBroken, ProfileStore

MINE = ProviderProfile("my-vllm", "openai-compatible", "My vLLM", "http://gpu-box:8000/v1")


def test_starts_with_the_presets_and_no_file(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    assert [p.id for p in store.profiles()] == [p.id for p in PRESETS]
    assert not store.path.exists()
    assert store.is_preset("openai") and not store.is_preset("my-vllm")


def test_add_edit_remove_and_persist(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.add(MINE)
    assert store.get("my-vllm") == MINE
    edited = MINE.with_changes(name="GPU box", extra_headers={"X-Team": "ml"})
    store.update(edited)

    reopened = ProfileStore(tmp_path)
    assert reopened.get("my-vllm") == edited
    assert reopened.profiles()[-1] == edited
    reopened.remove("my-vllm")
    assert [p.id for p in ProfileStore(tmp_path).profiles()] == [p.id for p in PRESETS]


def test_duplicate_and_unknown_ids(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.add(MINE)
    with pytest.raises(DuplicateProfile):
        store.add(MINE)
    with pytest.raises(DuplicateProfile):
        store.add(MINE.with_changes(id="openai"))
    with pytest.raises(UnknownProfile):
        store.update(MINE.with_changes(id="nobody"))
    with pytest.raises(UnknownProfile):
        store.remove("nobody")
    with pytest.raises(UnknownProfile):
        store.get("nobody")


def test_presets_cannot_be_removed_but_can_be_hidden_and_overridden(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    with pytest.raises(ProfileError, match="cannot be removed; hide it instead"):
        store.remove("openai")
    store.hide("groq")
    moved = store.get("ollama").with_changes(base_url="http://box:11434/v1")
    store.update(moved)

    reopened = ProfileStore(tmp_path)
    assert "groq" not in [p.id for p in reopened.profiles()]
    assert "groq" in [p.id for p in reopened.profiles(include_hidden=True)]
    assert reopened.is_hidden("groq")
    assert reopened.get("ollama").base_url == "http://box:11434/v1"
    assert reopened.is_overridden("ollama")
    # Overrides keep the preset's place in the list.
    assert [p.id for p in reopened.profiles(include_hidden=True)] == [p.id for p in PRESETS]

    reopened.reset("ollama")
    reopened.hide("groq", hidden=False)
    again = ProfileStore(tmp_path)
    assert again.get("ollama") == next(p for p in PRESETS if p.id == "ollama")
    assert not again.is_hidden("groq") and not again.is_overridden("ollama")


def test_only_user_data_is_written(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.add(MINE)
    data = json.loads(store.path.read_text())
    assert data == {
        "version": 1,
        "profiles": [MINE.to_dict()],
        "overrides": [],
        "hidden": [],
    }
    assert not list(tmp_path.glob("*.tmp"))  # the temporary file was renamed into place


def test_a_broken_file_is_kept_aside_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    text = '{\n  "version": 1,\n  "profiles": [\n    {"id": "x",\n  ]\n}\n'
    path.write_text(text)
    store = ProfileStore(tmp_path)
    with pytest.raises(ProfilesFileBroken) as info:
        store.load()
    error = info.value
    assert error.line == 5
    assert str(error).startswith(f"{path} line 5: is not valid JSON")
    assert "profiles.json.broken" in str(error)
    assert (tmp_path / "profiles.json.broken").read_text() == text  # nothing lost
    assert not path.exists()
    # The store still works, with the presets.
    assert [p.id for p in store.profiles()] == [p.id for p in PRESETS]
    store.add(MINE)
    assert ProfileStore(tmp_path).get("my-vllm") == MINE


def test_a_second_broken_file_does_not_overwrite_the_first(tmp_path: Path) -> None:
    (tmp_path / "profiles.json.broken").write_text("older")
    (tmp_path / "profiles.json").write_text("[")
    with pytest.raises(ProfilesFileBroken) as info:
        ProfileStore(tmp_path).load()
    assert info.value.kept_at == tmp_path / "profiles.json.broken.2"
    assert (tmp_path / "profiles.json.broken").read_text() == "older"


def test_one_bad_profile_keeps_the_others(tmp_path: Path) -> None:
    good = MINE.to_dict()
    bad = {"id": "bad-one", "kind": "openai", "name": "Bad", "base_url": "ftp://x"}
    text = json.dumps({"version": 1, "profiles": [good, bad]}, indent=2)
    (tmp_path / "profiles.json").write_text(text)
    store = ProfileStore(tmp_path)
    with pytest.raises(ProfilesFileBroken) as info:
        store.load()
    line = text.splitlines().index('      "id": "bad-one",') + 1
    assert info.value.line == line
    assert f"line {line}: profile 'bad-one' is invalid: The base URL" in str(info.value)
    assert "The profiles that could be read were kept." in str(info.value)
    assert store.get("my-vllm") == MINE
    # The readable part is saved at once; the original is kept aside whole.
    assert ProfileStore(tmp_path).get("my-vllm") == MINE
    assert "bad-one" in (tmp_path / "profiles.json.broken").read_text()


def test_a_key_in_the_file_is_refused(tmp_path: Path) -> None:
    entry = {**MINE.to_dict(), "api_key": "sk-should-not-be-here"}
    (tmp_path / "profiles.json").write_text(json.dumps({"version": 1, "profiles": [entry]}))
    with pytest.raises(ProfilesFileBroken) as info:
        ProfileStore(tmp_path).load()
    message = str(info.value)
    assert "looks like a key" in message and "keychain" in message
    assert "sk-should-not-be-here" not in message
    assert "still contains it" in message
    assert not (tmp_path / "profiles.json").exists()  # nothing readable: no new file


def test_key_shaped_profiles_are_never_stored(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    with pytest.raises(ProfileError):
        store.add(MINE.with_changes(extra_headers={"Authorization": "Bearer sk-1"}))
    assert not store.path.exists()


def test_override_of_an_unknown_preset_is_reported(tmp_path: Path) -> None:
    entry = {**MINE.to_dict(), "id": "gone-preset"}
    (tmp_path / "profiles.json").write_text(json.dumps({"version": 1, "overrides": [entry]}))
    with pytest.raises(ProfilesFileBroken, match="not a built-in profile"):
        ProfileStore(tmp_path).load()


def test_a_newer_format_is_kept_aside(tmp_path: Path) -> None:
    (tmp_path / "profiles.json").write_text('{"version": 99, "profiles": []}')
    with pytest.raises(ProfilesFileBroken, match="format version 99"):
        ProfileStore(tmp_path).load()
    assert (tmp_path / "profiles.json.broken").exists()
