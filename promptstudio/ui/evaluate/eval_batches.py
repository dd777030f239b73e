"""The Evaluate tab's batches: "Send as a batch", pending cells, collecting as batches end.

With "Send as a batch" checked, Evaluate stores the evaluation as pending and sends one
provider batch per column (``evals.batches``); the grid shows it at once, each cell still
waiting saying its batch's state, counts and time since it was sent. Every open batch of
the library is polled on a timer (and once at start, so a restart picks them up): what has
ended is collected (once, whichever process asks first) and the evaluation shown again
with its answers. A provider that cannot be reached is reported in the status bar and
asked again at the next poll; nothing is lost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from promptstudio.errors import PromptStudioError
from promptstudio.evals import batches
from promptstudio.evals.cache import LibraryCache
from promptstudio.evals.runner import EvalError, Evaluation
from promptstudio.evals.store import load_run
from promptstudio.providers import Endpoint
from promptstudio.runs.columns import ColumnConfig
from promptstudio.storage import batches as stored

if TYPE_CHECKING:
    from collections.abc import Mapping

    from promptstudio.ui.evaluate.eval_flow import EvalFlow

log = logging.getLogger(__name__)
POLL_MS = 30_000
TICK_MS = 1_000


class BatchFlow(QObject):
    """Sends the open prompt's evaluation as batches and collects every open batch."""

    collected = Signal(object)  # an EvalRun whose last batch was collected

    def __init__(self, flow: EvalFlow) -> None:
        super().__init__(flow)
        self.flow = flow
        self.services, self.db, self.tasks = flow.services, flow.db, flow.tasks
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        QTimer.singleShot(0, self.poll)  # batches left pending by an earlier session
        self.ticker = QTimer(self)  # the waiting cells' elapsed time, between polls
        self.ticker.setInterval(TICK_MS)
        self.ticker.timeout.connect(self._tick)
        self._waiting: tuple[int, list[stored.BatchRow]] | None = None

    def poll(self) -> None:
        self.tasks.start("eval-batches-poll", self._poll())

    def send_samples(self) -> None:
        """Send the run board's samples as batches (Run → Send the samples as a batch)."""
        self.tasks.start("evaluate-samples", self.submit(samples=True))

    async def submit(self, *, samples: bool = False) -> None:
        """Send the open prompt's evaluation as batches and show it pending; ``samples``:
        the run's samples instead, as a one-case evaluation of the values on show."""
        flow = self.flow
        evaluation = await (self._samples() if samples else flow._prepare())
        version = await self.services.save_for_run()
        by_id = {column.id: column for column in flow.session.columns}
        columns = [by_id[target.column.key] for target in evaluation.targets]
        submitted = await batches.submit(evaluation, columns, self.db, version.id)
        flow.versionsChanged.emit(version.prompt_id)
        await flow.show_stored(submitted.run)
        sent = [b for b in submitted.batches if not b.collected]
        self.services.notifier.say(
            f"Sent {len(sent)} batch{'es' if len(sent) != 1 else ''} "
            f"({', '.join(b.remote_id or '?' for b in sent)}): the grid fills in as they end."
            if sent
            else "Every answer came from the cache or could not be sent: nothing is pending."
        )
        await self.show_pending()
        if sent:
            self.timer.start()

    async def _samples(self) -> Evaluation:
        """Each column's samples (the Samples box) of the values on show: one case, its
        answers fresh, shown in Evaluate as they arrive."""
        error = self.services.check_template()
        if error is not None:
            raise EvalError(f"Template error at line {error.line}: {error.message}")
        count = max((column.samples for column in self.flow.session.columns), default=1)
        return self.flow.evaluation_for((batches.run_case(),), samples=count)

    async def _poll(self) -> None:
        waiting = await self.db.acall(stored.list_batches, open_only=True)
        if not waiting:
            self.timer.stop()
            return
        self.timer.start()
        changed: set[int] = set()
        tools = (
            self.services.check_tools(LibraryCache(self.db)) if self.services.check_tools else None
        )
        for batch in waiting:
            try:
                result = await batches.collect(
                    self.db, batch.id, self._resolve, self.services.prices(), tools
                )
            except batches.AlreadyCollected:
                changed.add(batch.eval_run_id)  # another process did: show its answers
                continue
            except PromptStudioError as exc:
                self.services.notifier.say(
                    f"Batch {batch.id}: could not ask the provider ({exc.message}); "
                    "trying again later, nothing is lost."
                )
                continue
            if result.stored:
                changed.add(batch.eval_run_id)
        shown = self.flow.shown
        for eval_id in changed:
            run = await self.db.acall(load_run, eval_id)
            if shown is not None and shown.id == eval_id:
                await self.flow.show(eval_id)
                if run.status != "pending":  # no longer "Waiting for N batches"
                    self.flow.pane.status.setText("Every batch of this evaluation is collected.")
            if run.status != "pending":
                self.collected.emit(run)
        await self.show_pending()

    async def show_pending(self) -> None:
        """The shown evaluation's waiting cells say how their batch is doing."""
        shown = self.flow.shown
        if shown is None or shown.id is None or shown.status != "pending":
            return
        rows = await self.db.acall(stored.list_batches, eval_run_id=shown.id)
        if self.flow.shown is not shown:  # another poll collected and showed it meanwhile
            return
        waiting = [row for row in rows if not row.collected]
        self._waiting = (shown.id, waiting)
        self._tick()
        if waiting:
            self.ticker.start()
            self.flow.pane.status.setText(
                f"Waiting for {len(waiting)} batch{'es' if len(waiting) != 1 else ''}; the grid "
                "fills in as they end (checked every "
                f"{self.timer.interval() // 1000 or 1} s, and at start)."
            )

    def _tick(self) -> None:
        """The waiting cells' text again (their elapsed time), from the rows of the last
        poll: no database, no provider; stops once another evaluation is shown."""
        shown = self.flow.shown
        if self._waiting is None or shown is None or shown.id != self._waiting[0]:
            self.ticker.stop()
            return
        eval_id, waiting = self._waiting
        texts = {row.column_key: (pending_text(row), pending_words(row)) for row in waiting}
        self.flow.pane.results.set_pending(eval_id, texts)
        if not waiting:
            self.ticker.stop()

    def _resolve(self, target: Mapping[str, Any]) -> Endpoint:
        """A stored batch's endpoint, its key found as a run finds it (never stored)."""
        column = ColumnConfig.from_dict(dict(target.get("column") or {}))
        return self.services.run_target(column).endpoint


def pending_text(batch: stored.BatchRow, now: datetime | None = None) -> str:
    """``batch in_progress · 3/10 · 4 min``: what a cell waiting on ``batch`` shows."""
    done, total = batch.counts.get("done", 0), batch.counts.get("total", 0) or batch.requests
    return f"batch {batch.state} · {done}/{total} · {_elapsed(batch, now)}"


def pending_words(batch: stored.BatchRow, now: datetime | None = None) -> str:
    """The same in words, with the failed count (tooltip, screen readers)."""
    counts = batch.counts
    total = counts.get("total", 0) or batch.requests
    return (
        f"Waiting for batch {batch.remote_id or batch.id} ({batch.state}): "
        f"{counts.get('done', 0)} of {total} answered, {counts.get('failed', 0)} failed, "
        f"sent {_elapsed(batch, now)} ago"
    )


def _elapsed(batch: stored.BatchRow, now: datetime | None) -> str:
    try:
        since = datetime.fromisoformat(batch.created_at.replace("Z", "+00:00"))
    except ValueError:
        return "?"
    seconds = max(0, int(((now or datetime.now(UTC)) - since).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
