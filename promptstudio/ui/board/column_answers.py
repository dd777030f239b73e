"""A run column's answers: one per sample of its run, the one on show, and the text that
streams into it.

The board drains the run worker's feed on its ~30 Hz timer and hands each column what
arrived (:meth:`ColumnAnswers.flush`). The new text of the sample on show is collected and
written to the view once per flush, so a fast model costs one widget update per frame,
never one per token; the status, figures, tool calls and the conversation's bar follow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from promptstudio.chat import Message
from promptstudio.runs import TargetResult, TargetStatus
from promptstudio.runs.feed import TargetUpdate
from promptstudio.ui.board.answer_pane import AnswerPane
from promptstudio.ui.board.column_stats import ColumnStats
from promptstudio.ui.board.thread_view import ThreadView, TurnBar
from promptstudio.ui.board.tool_calls_view import ColumnToolSteps

SAMPLE_MARK = {TargetStatus.DONE: " ✓", TargetStatus.FAILED: " ✗", TargetStatus.CANCELLED: " ■"}


class ColumnAnswers:
    """The samples of the column's run and the one on show (``selected``), over the parts
    of the column that show them. ``streaming`` says whether the column's run is on (its
    stop button); ``schema`` gives the JSON schema the JSON view checks answers against."""

    def __init__(
        self,
        answer: AnswerPane,
        stats: ColumnStats,
        tool_steps: ColumnToolSteps,
        thread_view: ThreadView,
        turn_bar: TurnBar,
        *,
        streaming: Callable[[], bool],
        schema: Callable[[], dict[str, Any] | None],
    ) -> None:
        self.answer, self.stats, self.tool_steps = answer, stats, tool_steps
        self.thread_view, self.turn_bar = thread_view, turn_bar
        self._streaming, self._schema = streaming, schema
        self.samples: list[TargetResult | None] = [None]
        self.selected = 0
        self.previous_text: str | None = None  # the answer shown before this run
        self._pending: list[str] = []  # text for the view at the next flush
        self._shown = 0  # how many of the selected sample's deltas the view has
        self._dirty = False
        answer.text_source = self.text
        answer.samples_bar.currentChanged.connect(self.select)
        answer.view_mode.currentTextChanged.connect(lambda _mode: self.refresh_view(force=True))

    @property
    def result(self) -> TargetResult | None:
        """The answer on show (the selected sample)."""
        return self.samples[self.selected] if self.selected < len(self.samples) else None

    def text(self) -> str:
        result = self.result
        return result.text if result is not None else self.answer.output.toPlainText()

    def begin(self, samples: int) -> None:
        """A run of ``samples`` answers starts; the last answer is kept to compare with."""
        if self.result is not None and self.result.text:
            self.previous_text = self.result.text
        self._pending.clear()
        self._shown = 0
        self.samples = [None] * samples
        self.selected = 0
        bar = self.answer.samples_bar
        bar.blockSignals(True)
        while bar.count():
            bar.removeTab(0)
        for number in range(samples):
            bar.addTab(str(number + 1))
        bar.setCurrentIndex(0)
        bar.blockSignals(False)
        bar.setVisible(samples > 1)
        self.tool_steps.clear()
        self.answer.clear()
        self.thread_view.clear_turns()
        self.stats.clear()
        self.update_turns()

    def flush(self, arrived: Mapping[int, Sequence[TargetUpdate]]) -> None:
        """Take what the run worker reported on each sample since the last flush, write the
        new text of the one on show, and refresh the figures."""
        for sample, updates in arrived.items():
            self._take(sample, updates)
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            output = self.answer.output
            bar = output.verticalScrollBar()
            follow = bar.value() >= bar.maximum() - 40
            output.append_text(text)
            if follow:
                bar.setValue(bar.maximum())
            self.refresh_view(force=False)
        retrying = self.result is not None and self.result.retry is not None
        if self._dirty or retrying:  # a retry's countdown moves without new events
            self._dirty = False
            self.show_state()

    def _take(self, sample: int, updates: Sequence[TargetUpdate]) -> None:
        self.samples[sample] = updates[-1].result
        self._dirty = True
        if sample != self.selected:
            return
        shown = self._shown  # deltas up to this one are in the view (or in _pending)
        self._pending += [u.delta for u in updates if u.chunks > shown and u.delta]
        self._shown = max(shown, updates[-1].chunks)  # counts only grow, in order

    def select(self, index: int) -> None:
        """Show sample ``index`` (the samples' tabs)."""
        if not 0 <= index < len(self.samples):
            return
        self.selected = index
        self._pending.clear()
        result = self.samples[index]
        text, self._shown = result.text_so_far() if result is not None else ("", 0)
        self.answer.output.set_text(text)
        self.refresh_view(force=True)
        self.show_state()
        self.update_turns()

    def end(self) -> None:
        """The run ended: the last of it, rendered and counted."""
        self.flush({})
        self.refresh_view(force=True)
        self.show_state()
        self.update_turns()

    def show_thread(self, turns: Sequence[Message], prompt_size: int, summary: str) -> None:
        self.thread_view.show_turns(turns, prompt_size, summary)
        self.update_turns()

    def refresh_view(self, *, force: bool) -> None:
        if self.answer.due(force=force):  # the text only when a view renders it
            self.answer.show_rendered(self.text(), self._schema())

    def show_state(self) -> None:
        """Each sample's mark, and the status, figures and tool calls of the one on show."""
        for number, sample in enumerate(self.samples):
            mark = SAMPLE_MARK.get(sample.status, "") if sample is not None else ""
            self.answer.samples_bar.setTabText(number, f"{number + 1}{mark}")
        result = self.result
        if result is not None:
            self.tool_steps.show(result)
            self.stats.show(self.samples, result)

    def update_turns(self) -> None:
        """What the conversation's bar offers: Continue once an answer with text ended."""
        result = self.result
        finished = result is not None and result.status.finished and bool(result.text.strip())
        self.turn_bar.set_state(
            can_continue=finished,
            streaming=self._streaming(),
            has_thread=bool(self.thread_view.turns),
        )
