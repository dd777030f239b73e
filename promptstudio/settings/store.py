"""Settings persisted as ``settings.json`` in the data dir.

Writes are atomic (a temporary file, then ``os.replace``), so a crash mid-write leaves the
old file. A file that cannot be read is kept aside as ``settings.json.broken`` and the
defaults are used, with the reason available to the UI; nothing is silently lost.
Unknown names are kept as they are (a newer version may have written them).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from promptstudio.errors import PromptStudioError
from promptstudio.settings.schema import BY_NAME, defaults

log = logging.getLogger(__name__)
FILENAME = "settings.json"


class SettingsError(PromptStudioError):
    """A settings file or value that cannot be used."""


class SettingsStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILENAME
        self.problem: str | None = None  # why the file on disk could not be used
        self._values = defaults()
        self._extra: dict[str, object] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("the file does not hold a JSON object")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
            aside = self.path.with_name(FILENAME + ".broken")
            os.replace(self.path, aside)
            self.problem = (
                f"{self.path} could not be read{where}: {exc}. It was kept as {aside.name}; "
                "the defaults are used."
            )
            log.warning("%s", self.problem)
            return
        for name, value in data.items():
            setting = BY_NAME.get(name)
            if setting is None:
                self._extra[name] = value
                continue
            try:
                self._values[name] = setting.validate(value)
            except ValueError as exc:
                log.warning("settings.json: ignoring %s: %s", name, exc)

    def get(self, name: str) -> object:
        return self._values[name]

    def values(self) -> dict[str, object]:
        return dict(self._values)

    def update(self, changes: Mapping[str, object]) -> dict[str, object]:
        """Validate every change first; save only if all are valid. Returns what changed."""
        checked: dict[str, object] = {}
        problems: list[str] = []
        for name, value in changes.items():
            setting = BY_NAME.get(name)
            if setting is None:
                problems.append(f"Unknown setting {name!r}.")
                continue
            try:
                checked[name] = setting.validate(value)
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise SettingsError(" ".join(problems))
        changed = {k: v for k, v in checked.items() if self._values.get(k) != v}
        if changed:
            self._values.update(changed)
            self._save()
        return changed

    def _save(self) -> None:
        payload = {**self._extra, **self._values}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(payload, out, indent=2, sort_keys=True)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
