"""Run a template on every test case × every model column, and grade each answer.

Each cell is one request through the run engine (retries, timeouts and typed errors are
those of any run). Requests to one server are limited to a few at a time, as runs are
(``runs.limits``): a local server (Ollama, llama.cpp, LM Studio) answers one request at a
time, so it gets one; hosted APIs get more; a provider profile can set its own limit. An
identical request is answered from the cache unless ``fresh``.

A cell that fails (a template that will not render for that case, an HTTP error, a cut
stream) is recorded and the evaluation goes on. :meth:`Evaluation.cancel` stops what is
running: finished cells are kept, cells cut off while running are marked cancelled, and
cells never started are left out (``EvalRun.total`` minus the cells counts them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from promptstudio.chat import Message
from promptstudio.errors import PromptStudioError
from promptstudio.evals.cache import AnswerCache, CachedAnswer, request_key
from promptstudio.evals.graders import Answer, GradeResult, check_assertion, grade, needs_judge
from promptstudio.evals.judge import DEFAULT_JUDGE_PROMPT, grade_with_judge
from promptstudio.evals.plan import Budget
from promptstudio.evals.results import (
    CANCELLED,
    DONE,
    FAILED,
    CellResult,
    EvalCase,
    EvalColumn,
    EvalRun,
)
from promptstudio.providers import (
    Endpoint,
    GenerationParams,
    PriceTable,
    Provider,
    ProviderError,
    create_provider,
)
from promptstudio.runs import RunSession, RunTarget, ServerLimits, TargetStatus
from promptstudio.runs.limits import is_local, server_key
from promptstudio.templating import TemplateError, render_messages

log = logging.getLogger(__name__)

LOCAL_LIMIT = 1
REMOTE_LIMIT = 4
__all__ = [
    "LOCAL_LIMIT",
    "REMOTE_LIMIT",
    "EvalError",
    "EvalTarget",
    "Evaluation",
    "JudgeSettings",
    "effective_checks",
    "is_local",
    "server_key",
]


class EvalError(PromptStudioError):
    """The evaluation cannot start as set up (a malformed check, no judge for a rubric)."""


@dataclass(frozen=True)
class EvalTarget:
    """A model column and how to reach it (the endpoint carries the key, in memory only)."""

    column: EvalColumn
    endpoint: Endpoint
    params: GenerationParams = field(default_factory=GenerationParams)

    def run_target(self, key: str) -> RunTarget:
        return RunTarget(key, self.endpoint, self.column.model, self.params)


@dataclass(frozen=True)
class JudgeSettings:
    """The model that grades ``llm-rubric`` checks, and the prompt it is given."""

    endpoint: Endpoint
    model: str
    prompt: str = DEFAULT_JUDGE_PROMPT
    params: GenerationParams = field(default_factory=GenerationParams)


def effective_checks(
    case: EvalCase, for_every_case: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The checks a case is graded by: those for every case, then its own.

    A case with an expected answer and no checks of its own is graded by ``equals``
    against it (as promptfoo reads a plain ``__expected``).
    """
    own = [dict(check) for check in case.asserts]
    if not own and case.expected is not None:
        own = [{"type": "equals"}]
    return [dict(check) for check in for_every_case] + own


class Evaluation:
    """One evaluation: build it, ``await run()`` once; ``cancel()`` from the same loop.

    ``on_cell`` is called with each finished cell (on the loop running the evaluation: a
    GUI hands it to its own thread). ``values`` fill the variables a case leaves out.
    ``share_turns`` (the app's runs' limits, on the same loop) makes requests to a server
    wait for those runs' too where the limits agree.
    """

    def __init__(
        self,
        template: str,
        cases: Sequence[EvalCase],
        targets: Sequence[EvalTarget],
        *,
        values: Mapping[str, object] | None = None,
        for_every_case: Sequence[Mapping[str, Any]] = (),
        judge: JudgeSettings | None = None,
        cache: AnswerCache | None = None,
        fresh: bool = False,
        local_limit: int = LOCAL_LIMIT,
        remote_limit: int = REMOTE_LIMIT,
        price_table: PriceTable | None = None,
        provider_factory: Callable[[Endpoint], Provider] = create_provider,
        on_cell: Callable[[CellResult], None] | None = None,
        share_turns: ServerLimits | None = None,
        budget: Budget | None = None,
    ) -> None:
        keys = [t.column.key for t in targets]
        if len(set(keys)) != len(keys):
            raise ValueError(f"column keys must be unique: {keys}")
        self.template = template
        self.targets = tuple(targets)
        self.values = dict(values or {})
        self.for_every_case = [dict(check) for check in for_every_case]
        self.judge = judge
        self.cache = cache
        self.fresh = fresh
        # With share_turns (the app's runs), a local server serves both one at a time.
        self.limits = ServerLimits(max(1, local_limit), max(1, remote_limit), share=share_turns)
        self.price_table = price_table
        self.provider_factory = provider_factory
        self.on_cell = on_cell
        self.budget = budget  # evals.plan: no request starts that would exceed it
        self.result = EvalRun(columns=tuple(t.column for t in targets), cases=tuple(cases))
        self.result.settings = {
            "for_every_case": self.for_every_case,
            "fresh": fresh,
            "judge": None if judge is None else {"model": judge.model, "prompt": judge.prompt},
        }
        self.checks = {case.key: effective_checks(case, for_every_case) for case in cases}
        self._check_setup()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._cancelled = False
        self._rendered: dict[str, tuple[list[Message], str | None, int]] = {}
        self._last_cost: dict[str, float | None] = {}  # real cost per request key, for the budget

    @property
    def done(self) -> int:
        return len(self.result.cells)

    @property
    def total(self) -> int:
        return self.result.total

    def _check_setup(self) -> None:
        """Refuse an empty template, malformed checks, or rubrics without a judge, before
        anything is sent (a template empty only for some cases fails those cells)."""
        if not self.template.strip():
            raise EvalError("Nothing to send: the template is empty.")
        for case in self.result.cases:
            for check in self.checks[case.key]:
                try:
                    check_assertion(check)
                    rubric = needs_judge(check)
                except PromptStudioError as exc:
                    raise EvalError(f"{case.title}: {exc.message}") from exc
                if rubric and self.judge is None:
                    raise EvalError(
                        f"{case.title}: an 'llm-rubric' check needs a judge model; "
                        "choose which column judges."
                    )

    async def run(self) -> EvalRun:
        """Run every cell; returns the run (status CANCELLED if :meth:`cancel` was used)."""
        if self._started:
            raise RuntimeError("an Evaluation runs once; make a new one")
        self._started = True
        # A few workers per server, as many as its limit, take the cells one by one: no task
        # per cell up front (131k cells made 131k tasks), so a stop cancels only those few.
        pools: dict[tuple[str, int], list[EvalTarget]] = {}
        for target in self.targets:
            pool = (server_key(target.endpoint), self._workers(target.endpoint))
            pools.setdefault(pool, []).append(target)
        for (server, workers), targets in pools.items():
            cells = ((case, target) for case in self.result.cases for target in targets)
            for number in range(workers):
                self._tasks.append(
                    asyncio.create_task(self._work(cells), name=f"eval:{server}:{number}")
                )
        try:
            await asyncio.gather(*self._tasks)
        except asyncio.CancelledError:  # the caller went away: stop every request
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            raise
        if self._cancelled:
            self.result.status = CANCELLED
        if self.budget is not None and self.budget.stopped:
            self.result.status = CANCELLED
            self.result.settings["stopped_for_budget"] = {
                "max_cost": self.budget.limit, "spent": self.budget.spent}  # fmt: skip
        return self.result

    def cancel(self) -> None:
        """Stop: running requests are dropped and their cells cancelled; no cell starts."""
        self._cancelled = True
        for task in self._tasks:
            task.cancel()

    async def _work(self, cells: Iterator[tuple[EvalCase, EvalTarget]]) -> None:
        """Run cells from the shared iterator until it is empty or the evaluation stops."""
        for case, target in cells:
            if self._cancelled or (self.budget is not None and self.budget.stopped):
                return
            messages, problem = self._messages(case)
            await self._cell(case, target, messages, problem)

    def _workers(self, endpoint: Endpoint) -> int:
        """How many of the server's cells run at once: as many as its limit lets through."""
        return self.limits.limit_for(endpoint) or 1

    def _messages(self, case: EvalCase) -> tuple[list[Message], str | None]:
        """The case's rendered messages, rendered once and kept until every column has them."""
        if case.key not in self._rendered:
            self._rendered[case.key] = (*self._render(case), len(self.targets))
        messages, problem, left = self._rendered[case.key]
        if left == 1:
            del self._rendered[case.key]
        else:
            self._rendered[case.key] = (messages, problem, left - 1)
        return messages, problem

    def _render(self, case: EvalCase) -> tuple[list[Message], str | None]:
        try:
            return render_messages(self.template, {**self.values, **case.vars}), None
        except TemplateError as exc:
            return [], f"The template does not render for this case ({exc.location()}): {exc}"

    # ---- one cell ------------------------------------------------------------------------

    async def _cell(
        self, case: EvalCase, target: EvalTarget, messages: list[Message], problem: str | None
    ) -> None:
        column = target.column.key
        try:
            if problem is not None:
                self._record(CellResult(case.key, column, FAILED, error=problem))
                return
            run_target = target.run_target(column)
            try:
                received, cost, cached, error = await self._answer(run_target, messages, column)
            except _OverBudget:
                return  # left out, as a cell never started
            answer = _fields(received)
            if error is not None:
                self._record(CellResult(case.key, column, FAILED, error=error, **answer))
                return
            graded = Answer(
                text=received.text,
                latency_ms=received.total_ms,
                cost=0.0 if cached else cost,
                finish_reason=received.finish_reason,
            )
            grades = await self._grade(case, graded)
            self._record(
                CellResult(
                    case.key,
                    column,
                    DONE,
                    cost=0.0 if cached else cost,
                    cached=cached,
                    grades=tuple(grades),
                    **answer,
                )
            )
        except asyncio.CancelledError:
            if not self._cancelled:
                raise
            self._record(CellResult(case.key, column, CANCELLED, error="Stopped."))
        except Exception as exc:  # a bug of ours: one cell fails, the evaluation goes on
            log.exception("evaluation cell %s × %s failed", case.key, column)
            self._record(CellResult(case.key, column, FAILED, error=f"Unexpected error: {exc}"))

    async def _answer(
        self, target: RunTarget, messages: list[Message], budgeted: str | None = None
    ) -> tuple[CachedAnswer, float | None, bool, str | None]:
        """(the answer, cost, from the cache?, error) for one request; ``budgeted`` names
        the column whose estimate the budget holds while it runs."""
        key = request_key(target, messages)
        if self.cache is not None and not self.fresh:
            hit = await self.cache.get(key)
            if hit is not None:
                return hit, 0.0, True, None
        held = 0.0
        if self.budget is not None:
            reserved = self.budget.reserve(budgeted) if budgeted else 0.0
            if reserved is None:
                raise _OverBudget
            held = reserved
        try:
            return await self._ask(target, messages, key)
        finally:
            if self.budget is not None:
                self.budget.settle(held, self._last_cost.pop(key, None))

    async def _ask(
        self, target: RunTarget, messages: list[Message], key: str
    ) -> tuple[CachedAnswer, float | None, bool, str | None]:
        session = RunSession(
            messages,
            [target],
            provider_factory=self.provider_factory,
            price_table=self.price_table,
            limits=self.limits,
        )
        result = (await session.run())[target.key]
        self._last_cost[key] = result.cost
        received = CachedAnswer.from_result(result)
        if result.status is not TargetStatus.DONE:
            error = result.error.message if result.error else f"The request ended {result.status}."
            return received, result.cost, False, error
        if self.cache is not None:
            await self.cache.put(key, received)
        return received, result.cost, False, None

    async def _grade(self, case: EvalCase, answer: Answer) -> list[GradeResult]:
        grades = []
        for check in self.checks[case.key]:
            if needs_judge(check):
                assert self.judge is not None  # checked in _check_setup
                grades.append(
                    await grade_with_judge(
                        check,
                        answer,
                        judge=self._ask_judge,
                        variables={**self.values, **case.vars},
                        prompt_template=self.judge.prompt,
                    )
                )
            else:
                grades.append(grade(check, answer, expected=case.expected))
        return grades

    async def _ask_judge(self, messages: list[Message]) -> str:
        """The judge's reply, through the same cache and server limits as any request."""
        assert self.judge is not None
        target = RunTarget("judge", self.judge.endpoint, self.judge.model, self.judge.params)
        answer, _cost, _cached, error = await self._answer(target, messages)
        if error is not None:
            raise ProviderError(f"The judge ({self.judge.model}) failed: {error}")
        return answer.text

    def _record(self, cell: CellResult) -> None:
        self.result.cells[(cell.case_key, cell.column_key)] = cell
        if self.on_cell is not None:
            try:
                self.on_cell(cell)
            except Exception:
                log.exception("on_cell failed for %s × %s", cell.case_key, cell.column_key)


class _OverBudget(Exception):
    """The next request would take the evaluation over its budget."""


def _fields(answer: CachedAnswer) -> dict[str, Any]:
    return {
        "text": answer.text,
        "latency_ms": answer.total_ms,
        "ttft_ms": answer.ttft_ms,
        "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens,
    }
