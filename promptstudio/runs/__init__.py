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

__all__ = ["RetryInfo", "RunSession", "RunTarget", "TargetResult", "TargetStatus", "UpdateCallback"]
