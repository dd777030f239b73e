"""Test data for the library: a finished answer, with any field overridden."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promptstudio.storage import Database, library


def answer(text: str = "answer", **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``library.add_response``: a done answer unless overridden."""
    fields: dict[str, Any] = {
        "base_url": "http://127.0.0.1:1/v1",
        "model": "m",
        "params": {},
        "messages": [],
        "text": text,
        "status": "done",
        "error": None,
        "finish_reason": "stop",
        "ttft_ms": None,
        "total_ms": None,
        "input_tokens": None,
        "output_tokens": None,
        "usage_estimated": False,
    }
    fields.update(overrides)
    return fields


def respond(
    db: Database,
    version_id: int,
    text: str = "answer",
    *,
    variables: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> library.ResponseRow:
    """Record a run of the version with one answer."""
    run = db.call(library.record_run, version_id, dict(variables or {}))
    return db.call(library.add_response, run.id, **answer(text, **overrides))
