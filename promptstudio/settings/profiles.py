"""The user's provider profiles, kept in ``profiles.json`` in the data dir.

Built-in presets come from code (``providers.profiles.PRESETS``) and are never written out
as such: the file holds only the user's own profiles, the presets they edited (stored as
overrides, so a later release's preset changes still reach untouched presets) and the ids
of hidden presets. Presets cannot be removed, only hidden or overridden.

Writes are atomic (a temporary file, flushed and synced, then ``os.replace``), so a crash
leaves the old file or the new one. A file that cannot be read is never lost: it is moved
aside as ``profiles.json.broken`` (``.broken.2``, ... when that exists), the profiles that
can still be read are kept, and :class:`ProfilesFileBroken` names the file and line. Keys
are refused here as everywhere else: they belong in the keychain.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptstudio.providers.profiles import (
    PRESETS,
    DuplicateProfile,
    ProfileError,
    ProviderProfile,
    SecretInProfile,
    UnknownProfile,
)

log = logging.getLogger(__name__)

FILE_NAME = "profiles.json"
FORMAT_VERSION = 1


class ProfilesFileBroken(ProfileError):
    """``profiles.json`` could not be read in full; it was kept aside as ``kept_at``."""

    def __init__(self, message: str, *, path: Path, line: int | None, kept_at: Path) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.kept_at = kept_at


@dataclass
class _Problem:
    line: int | None
    text: str


@dataclass
class _Contents:
    profiles: list[ProviderProfile] = field(default_factory=list)
    overrides: dict[str, ProviderProfile] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)
    problems: list[_Problem] = field(default_factory=list)


class ProfileStore:
    """Presets plus the user's profiles; every change is saved at once.

    :meth:`load` reads the file (other methods load on first use). After a
    :class:`ProfilesFileBroken` the store stays usable with what could be read.
    """

    def __init__(self, data_dir: Path, presets: Sequence[ProviderProfile] = PRESETS) -> None:
        self.data_dir = Path(data_dir)
        self._presets = {p.id: p for p in presets}
        self._contents = _Contents()
        self._loaded = False

    @property
    def path(self) -> Path:
        return self.data_dir / FILE_NAME

    # ---- reading -----------------------------------------------------------------------

    def load(self) -> None:
        """Read ``profiles.json``; raises :class:`ProfilesFileBroken` after keeping it aside."""
        self._loaded = True
        self._contents = _Contents()
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError) as exc:
            self._broken(_Contents(problems=[_Problem(None, f"cannot be read ({exc})")]))
            return
        contents = self._parse(text)
        if contents.problems:
            self._broken(contents)
        else:
            self._contents = contents
        log.debug("loaded %d profiles from %s", len(self._contents.profiles), self.path)

    def profiles(self, *, include_hidden: bool = False) -> list[ProviderProfile]:
        """Presets (as overridden) in their order, then the user's profiles in theirs."""
        self._ensure_loaded()
        out = [
            self._contents.overrides.get(pid, preset)
            for pid, preset in self._presets.items()
            if include_hidden or pid not in self._contents.hidden
        ]
        return out + list(self._contents.profiles)

    def __iter__(self) -> Iterator[ProviderProfile]:
        return iter(self.profiles())

    def get(self, profile_id: str) -> ProviderProfile:
        """The profile ``profile_id`` (hidden presets included); raises UnknownProfile."""
        for profile in self.profiles(include_hidden=True):
            if profile.id == profile_id:
                return profile
        raise UnknownProfile(f"There is no provider profile '{profile_id}'.")

    def is_preset(self, profile_id: str) -> bool:
        return profile_id in self._presets

    def is_hidden(self, profile_id: str) -> bool:
        self._ensure_loaded()
        return profile_id in self._contents.hidden

    def is_overridden(self, profile_id: str) -> bool:
        self._ensure_loaded()
        return profile_id in self._contents.overrides

    # ---- changes -----------------------------------------------------------------------

    def add(self, profile: ProviderProfile) -> None:
        """Add a user profile; raises DuplicateProfile when the id is taken."""
        self._ensure_loaded()
        if profile.id in self._presets or any(p.id == profile.id for p in self._contents.profiles):
            raise DuplicateProfile(f"A provider profile with id '{profile.id}' already exists.")
        self._contents.profiles.append(profile)
        self._save()

    def update(self, profile: ProviderProfile) -> None:
        """Replace the profile with ``profile.id``; for a preset this stores an override."""
        self._ensure_loaded()
        if profile.id in self._presets:
            if profile == self._presets[profile.id]:
                self._contents.overrides.pop(profile.id, None)
            else:
                self._contents.overrides[profile.id] = profile
            self._save()
            return
        for index, existing in enumerate(self._contents.profiles):
            if existing.id == profile.id:
                self._contents.profiles[index] = profile
                self._save()
                return
        raise UnknownProfile(f"There is no provider profile '{profile.id}' to change.")

    def remove(self, profile_id: str) -> None:
        """Delete a user profile. Presets cannot be removed: hide them instead."""
        self._ensure_loaded()
        if profile_id in self._presets:
            raise ProfileError(
                f"The built-in profile '{profile_id}' cannot be removed; hide it instead."
            )
        kept = [p for p in self._contents.profiles if p.id != profile_id]
        if len(kept) == len(self._contents.profiles):
            raise UnknownProfile(f"There is no provider profile '{profile_id}' to remove.")
        self._contents.profiles = kept
        self._save()

    def hide(self, profile_id: str, hidden: bool = True) -> None:
        """Hide (or show again) a preset in :meth:`profiles`."""
        self._ensure_loaded()
        if profile_id not in self._presets:
            raise UnknownProfile(f"There is no built-in profile '{profile_id}' to hide.")
        if hidden:
            self._contents.hidden.add(profile_id)
        else:
            self._contents.hidden.discard(profile_id)
        self._save()

    def reset(self, profile_id: str) -> None:
        """Undo the user's changes to a preset (and show it again)."""
        self._ensure_loaded()
        if profile_id not in self._presets:
            raise UnknownProfile(f"There is no built-in profile '{profile_id}' to reset.")
        self._contents.overrides.pop(profile_id, None)
        self._contents.hidden.discard(profile_id)
        self._save()

    # ---- the file ----------------------------------------------------------------------

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.load()

    def _parse(self, text: str) -> _Contents:
        contents = _Contents()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            contents.problems.append(_Problem(exc.lineno, f"is not valid JSON ({exc.msg})"))
            return contents
        if not isinstance(data, dict):
            contents.problems.append(_Problem(1, "must hold a JSON object"))
            return contents
        version = data.get("version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            contents.problems.append(
                _Problem(_line_of(text, "version"), f"has format version {version!r}")
            )
            return contents
        seen = set(self._presets)
        for entry in _list(data, "profiles", text, contents):
            profile = _read_profile(entry, text, contents)
            if profile is None:
                continue
            if profile.id in seen:
                line = _line_of(text, json.dumps(profile.id))
                contents.problems.append(_Problem(line, f"repeats the profile id '{profile.id}'"))
                continue
            seen.add(profile.id)
            contents.profiles.append(profile)
        for entry in _list(data, "overrides", text, contents):
            profile = _read_profile(entry, text, contents)
            if profile is None:
                continue
            if profile.id not in self._presets:
                line = _line_of(text, json.dumps(profile.id))
                contents.problems.append(
                    _Problem(line, f"overrides '{profile.id}', which is not a built-in profile")
                )
                continue
            contents.overrides[profile.id] = profile
        hidden = data.get("hidden", [])
        if not isinstance(hidden, list) or not all(isinstance(h, str) for h in hidden):
            contents.problems.append(
                _Problem(_line_of(text, '"hidden"'), "'hidden' must be a list of ids")
            )
        else:
            contents.hidden = {h for h in hidden if h in self._presets}
        return contents

    def _broken(self, contents: _Contents) -> None:
        """Keep the unreadable file aside, keep what was readable, and say so."""
        kept_at = _free_name(self.path.with_name(FILE_NAME + ".broken"))
        os.replace(self.path, kept_at)
        self._contents = _Contents(contents.profiles, contents.overrides, contents.hidden)
        readable = bool(contents.profiles or contents.overrides or contents.hidden)
        if readable:
            self._save()
        first = contents.problems[0]
        where = f"{self.path} line {first.line}" if first.line else str(self.path)
        more = len(contents.problems) - 1
        also = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        kept = "The profiles that could be read were kept. " if readable else ""
        message = (
            f"{where}: {first.text}{also}. {kept}The file was kept as {kept_at.name} in "
            f"{self.data_dir}; nothing in it is lost."
        )
        log.warning("%s", message)
        raise ProfilesFileBroken(message, path=self.path, line=first.line, kept_at=kept_at)

    def _save(self) -> None:
        data: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "profiles": [p.to_dict() for p in self._contents.profiles],
            "overrides": [p.to_dict() for p in self._contents.overrides.values()],
            "hidden": sorted(self._contents.hidden),
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(FILE_NAME + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)


def _list(data: dict[str, Any], key: str, text: str, contents: _Contents) -> list[Any]:
    value = data.get(key, [])
    if isinstance(value, list):
        return value
    contents.problems.append(_Problem(_line_of(text, json.dumps(key)), f"'{key}' must be a list"))
    return []


def _read_profile(entry: Any, text: str, contents: _Contents) -> ProviderProfile | None:
    try:
        return ProviderProfile.from_dict(entry)
    except ProfileError as exc:
        pid = entry.get("id") if isinstance(entry, dict) else None
        line = _line_of(text, json.dumps(pid)) if isinstance(pid, str) else None
        name = f"profile '{pid}'" if isinstance(pid, str) else "a profile"
        reason = str(exc).rstrip(".")
        if isinstance(exc, SecretInProfile):
            reason += (
                ". The file kept aside still contains it: delete it there once the key is in "
                "the keychain"
            )
        contents.problems.append(_Problem(line, f"{name} is invalid: {reason}"))
        return None


def _line_of(text: str, needle: str) -> int | None:
    """The 1-based line where ``needle`` first appears (an id, a key), if it does."""
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1


def _free_name(path: Path) -> Path:
    if not path.exists():
        return path
    number = 2
    while path.with_name(f"{path.name}.{number}").exists():
        number += 1
    return path.with_name(f"{path.name}.{number}")
