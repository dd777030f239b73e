"""What of a finished target goes into history: one place for the GUI and the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promptstudio.chat import Message
from promptstudio.runs.engine import TargetResult


def response_fields(result: TargetResult, messages: Sequence[Message]) -> dict[str, Any]:
    """Keyword arguments for ``storage.library.add_response`` (never the key)."""
    return {
        "base_url": result.target.endpoint.base_url,
        "model": result.target.model,
        "params": result.target.params.to_dict(),
        "messages": [m.to_dict() for m in messages],
        **answer_fields(result),
    }


def answer_fields(result: TargetResult) -> dict[str, Any]:
    """An answer's text, how it ended and its figures: what a response row and a stored
    step of a conversation both keep (and ``run --json`` shows)."""
    usage = result.usage
    return {
        "text": result.text,
        "status": str(result.status),
        "error": result.error.message if result.error else None,
        "finish_reason": result.finish_reason,
        "ttft_ms": result.ttft_ms,
        "total_ms": result.total_ms,
        "input_tokens": usage.input_tokens if usage else None,
        "output_tokens": usage.output_tokens if usage else None,
        "usage_estimated": bool(usage and usage.estimated),
        "cost": result.cost,
    }
