"""``${file:PATH}`` references in a ``.prompty`` file's front matter, read as Prompty reads
them: relative to the file, never outside its folder, JSON and YAML parsed, other text as
it is."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from promptstudio.exchange.errors import ExchangeError
from promptstudio.exchange.front_matter import load_yaml
from promptstudio.exchange.reading import checked_text, read_referenced

_REFERENCE = re.compile(r"^\$\{file:(.+)\}$", re.IGNORECASE)


def with_files(value: Any, base_dir: Path | None, key: str = "") -> Any:
    """The front matter with every whole-value ``${file:path}`` in a mapping replaced by
    the file's content, as the Prompty loader does (JSON and YAML parsed, other text as is)."""
    if isinstance(value, dict):
        return {k: with_files(v, base_dir, k) for k, v in value.items()}
    if isinstance(value, list):
        return [with_files(item, base_dir) if isinstance(item, dict) else item for item in value]
    found = _REFERENCE.match(value.strip()) if isinstance(value, str) and key else None
    return value if found is None else _read_reference(found.group(1).strip(), key, base_dir)


def _read_reference(reference: str, key: str, base_dir: Path | None) -> Any:
    shown = "${file:" + reference + "}"
    if base_dir is None:
        raise ExchangeError(
            f"'{key}' is read from {shown}, which cannot be reached from the text alone: "
            "import the .prompty file itself."
        )
    base = base_dir.resolve()
    try:
        path = (base / reference).resolve()
    except (OSError, RuntimeError):  # a symbolic link loop
        path = None
    if path is None or not path.is_relative_to(base):
        raise ExchangeError(
            f"'{key}' refers to {shown}, outside the file's folder ({base_dir}); it is not "
            "read. Copy that file next to the .prompty file."
        )
    raw = read_referenced(path, f"'{key}': {shown}")
    try:
        content = checked_text(raw)
        if path.suffix.lower() == ".json":
            return json.loads(content)
        if path.suffix.lower() in (".yaml", ".yml"):
            return load_yaml(content)
    except ExchangeError as exc:
        raise ExchangeError(f"'{key}': {shown}: {exc.reason}") from None
    except (ValueError, RecursionError) as exc:
        raise ExchangeError(f"'{key}': {shown} is not valid JSON ({exc}).") from None
    return content
