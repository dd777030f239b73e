"""Runs: one rendered prompt streamed to many models at once, with live results."""

from __future__ import annotations

from promptstudio.runs.engine import (
    RetryInfo,
    RunSession,
    RunTarget,
    TargetResult,
    TargetStatus,
    UpdateCallback,
)
from promptstudio.runs.limits import ServerLimits

__all__ = [
    "RetryInfo",
    "RunSession",
    "RunTarget",
    "ServerLimits",
    "TargetResult",
    "TargetStatus",
    "UpdateCallback",
]
