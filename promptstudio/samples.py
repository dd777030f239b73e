"""The sample prompts a new library starts with.

They are the first thing a user sees, so each shows one technique worth copying (a role
with numbered steps, few-shot turns, step-by-step reasoning, JSON output). The templates
and their example values live in ``resources/samples/`` (the ``promptstudio.resources``
package), listed by ``samples.json``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from promptstudio.storage import library
from promptstudio.storage.errors import StorageError
from promptstudio.storage.transaction import transaction

logger = logging.getLogger(__name__)

MANIFEST = "samples.json"


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    folder: str
    template: str
    variables: dict[str, Any]
    message: str
    tools: list[dict[str, Any]] = field(default_factory=list)  # as a version stores them
    cases: list[dict[str, Any]] = field(default_factory=list)  # test cases, promptfoo-style


def samples_dir() -> Traversable:
    """Where the sample files are: the installed package, or the checkout's resources/."""
    try:
        return resources.files("promptstudio.resources") / "samples"
    except ModuleNotFoundError:
        # Running from a source tree that was never installed: resources/ is only mapped to
        # promptstudio.resources by the package build (pyproject's package-dir).
        return Path(__file__).resolve().parent.parent / "resources" / "samples"


def load_samples(root: Traversable | None = None) -> list[Sample]:
    """Read the manifest and every template it names."""
    root = samples_dir() if root is None else root
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        return [
            Sample(
                name=entry["name"],
                folder=entry.get("folder", "Samples"),
                template=(root / entry["file"]).read_text(encoding="utf-8"),
                variables=dict(entry.get("variables", {})),
                message=entry.get("message", ""),
                tools=list(entry.get("tools", [])),
                cases=list(entry.get("cases", [])),
            )
            for entry in manifest["samples"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"The sample prompts could not be read: {exc}") from exc


def install_samples(conn: sqlite3.Connection) -> int:
    """Add the samples to a library that has never held a prompt; return how many.

    Trashed prompts count as held: a user who deleted the samples does not get them back.
    """
    samples = load_samples()
    with transaction(conn):
        if library.count_prompts(conn, include_trashed=True):
            return 0
        for sample in samples:
            prompt = library.create_prompt(conn, sample.name, sample.folder)
            library.save_version(
                conn,
                prompt.id,
                sample.template,
                sample.variables,
                {"tools": sample.tools} if sample.tools else {},
                message=sample.message,
                kind="sample",
            )
            if sample.cases:
                library.replace_cases(conn, prompt.id, sample.cases)
    logger.info("Installed %d sample prompts", len(samples))
    return len(samples)
