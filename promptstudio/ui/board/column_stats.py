"""A run column's stats: its status beside the title, and the lines under its settings
(the answer's figures, what went wrong, how consistent the samples are).

:class:`ColumnStats` owns those labels (children of the column, rows of its layout) and
writes them from the answer on show; the functions here give the texts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtWidgets import QLabel, QWidget

from promptstudio.durations import format_ms as ms_text
from promptstudio.runs import TargetResult, TargetStatus
from promptstudio.runs.consistency import consistency
from promptstudio.ui.formatting import format_cost
from promptstudio.ui.theme import set_status

STATUS_TEXT = {
    TargetStatus.QUEUED: "Queued",
    TargetStatus.WAITING: "Waiting…",
    TargetStatus.STREAMING: "Streaming…",
    TargetStatus.DONE: "Done",
    TargetStatus.FAILED: "Failed",
    TargetStatus.CANCELLED: "Stopped",
}
METRICS_TIP = (
    "TTFT (time to first token): from sending the request to the first text of the answer, "
    "retries included. Total: from sending the request to the end of the answer. Neither "
    "counts waiting in the queue for the server, nor PromptStudio's own start-up."
)
QUEUED_TIP = (
    "Waiting for an earlier request to the same server to end: a server on this machine "
    "gets one request at a time unless its provider says otherwise (Settings › Providers "
    "› Requests at once)."
)


class ColumnStats:
    """The status (a label of the title line) and the consistency, problem and metrics
    lines, made in that order as children of ``parent``."""

    def __init__(self, parent: QWidget, status: QLabel) -> None:
        self.status = status
        self.consistency = QLabel(parent)
        self.consistency.setObjectName("consistency")
        self.consistency.hide()
        self.error = QLabel(parent)
        self.error.setObjectName("runError")
        self.error.setWordWrap(True)
        set_status(self.error, "error")
        self.error.hide()
        self.metrics = QLabel(parent)
        self.metrics.setObjectName("runMetrics")
        self.metrics.setWordWrap(True)
        self.metrics.setToolTip(METRICS_TIP)

    def clear(self) -> None:
        """A run starts: nothing to say yet but that it waits."""
        self.consistency.hide()
        self.error.hide()
        self.metrics.clear()
        self.status.setText("Waiting…")

    def show_problem(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def hide_problem(self) -> None:
        self.error.hide()

    def not_sent(self, message: str) -> None:
        """The run could not start, and why."""
        self.status.setText("Not sent")
        self.show_problem(message)

    def show(self, samples: Sequence[TargetResult | None], result: TargetResult) -> None:
        """Show ``result`` (the sample on show) and, for several samples, how many are done
        and how consistent the finished ones are."""
        retry = result.retry
        if retry is not None and not result.status.finished:
            left = math.ceil(retry.seconds_left)
            self.status.setText(f"Retry {retry.attempt}/{retry.max_retries} in {left} s")
            self.show_problem(f"{retry.reason} — retrying in {left} s")
            self.metrics.setText("  ·  ".join(metric_parts(result)))
            return
        results = [r for r in samples if r is not None]
        status = STATUS_TEXT.get(result.status, str(result.status))
        if len(samples) > 1:
            done = sum(1 for r in results if r.status.finished)
            self.status.setText(f"{done}/{len(samples)} · {status}")
        else:
            self.status.setText(status)
        self.status.setToolTip(QUEUED_TIP if result.status is TargetStatus.QUEUED else "")
        self.metrics.setText("  ·  ".join(metric_parts(result)))
        if result.status in (TargetStatus.FAILED, TargetStatus.CANCELLED):
            reason = result.error.message if result.error is not None else "stopped by you"
            self.show_problem(ending_text(result, reason))
        else:
            self.error.hide()
        finished = [r for r in results if r.status == TargetStatus.DONE]
        if len(samples) > 1 and len(finished) == len(samples):
            figure = consistency([r.text for r in finished])
            if figure is not None:
                self.consistency.setText(figure.describe())
                self.consistency.setToolTip(f"Most common answer: {figure.majority[:300]}")
                self.consistency.show()


def ending_text(result: TargetResult, reason: str) -> str:
    """Why an answer ended early, and how much of it had arrived."""
    if result.output_chunks or result.text:
        return f"Stopped after {result.output_chunks} tokens: {reason}"
    if result.status == TargetStatus.FAILED:
        return f"Failed: {reason}"
    return f"Stopped before the first token: {reason}"


def metric_parts(result: TargetResult) -> list[str]:
    """TTFT, total, tokens (``~`` when estimated) and tokens/s of one answer."""
    parts = [f"TTFT {ms_text(result.ttft_ms)}", f"total {ms_text(result.total_ms)}"]
    usage = result.usage
    if usage is not None:
        mark = "~" if usage.estimated else ""
        tokens_in = "—" if usage.input_tokens is None else usage.input_tokens
        tokens_out = "—" if usage.output_tokens is None else usage.output_tokens
        parts.append(f"tokens in {mark}{tokens_in} / out {mark}{tokens_out}")
    elif result.output_chunks:
        parts.append(f"~{result.output_chunks} tokens so far")
    rate = result.tokens_per_second
    if rate is not None:
        parts.append(f"{rate:.1f} tok/s")
    if result.status.finished:
        parts.append(cost_text(result.cost))
    return parts


def cost_text(cost: float | None) -> str:
    """A price when we know one; never a made-up number."""
    return "cost —" if cost is None else format_cost(cost)
