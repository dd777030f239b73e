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

With ``repeat`` n over 1 every case is asked n times per model; each sample is a cell of
its own (``CellResult.sample``) with its own cache key, so a rerun is answered from the
cache sample by sample.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from promptstudio.chat import Image, Message
from promptstudio.errors import PromptStudioError
from promptstudio.evals import checks_model
from promptstudio.evals.cache import AnswerCache, CachedAnswer, request_key
from promptstudio.evals.graders import (
    Answer,
    GradeResult,
    check_assertion,
    grade,
    needs_judge,
    ungraded_reason,
)
from promptstudio.evals.judge import DEFAULT_JUDGE_PROMPT, grade_with_judge
from promptstudio.evals.plan import JUDGE_KEY, Budget
from promptstudio.evals.results import (
    CANCELLED,
    DONE,
    FAILED,
    CellResult,
    EvalCase,
    EvalColumn,
    EvalRun,
)
from promptstudio.images import ImageReader
from promptstudio.providers import (
    Endpoint,
    GenerationParams,
    PriceTable,
    Provider,
    ProviderError,
    create_provider,
)
from promptstudio.providers.pricing import estimate_tokens
from promptstudio.runs import RunSession, RunTarget, ServerLimits, TargetStatus
from promptstudio.runs.limits import is_local, server_key
from promptstudio.templating import TemplateError, input_names, render_messages, render_text
from promptstudio.templating.threads import thread_turns
from promptstudio.tools import ToolDef

log = logging.getLogger(__name__)

_TEMPLATE_SYNTAX = re.compile(r"\{\{|\{%|\{#")
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
    "rendered_check",
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
        repeat: int = 1,
        tools: checks_model.CheckTools | None = None,
        budget: Budget | None = None,
        tool_defs: Sequence[ToolDef] = (),
        stored_images: Mapping[str, Image] | None = None,
        locate: Callable[[int, int], str | None] | None = None,
    ) -> None:
        if repeat < 1:
            raise EvalError(f"Each case is asked at least once, not {repeat} times.")
        keys = [t.column.key for t in targets]
        if len(set(keys)) != len(keys):
            raise ValueError(f"column keys must be unique: {keys}")
        self.template = template
        # Where a template position lies in the file it was read from (``prompt.json:3``).
        self.locate = locate
        self.tool_defs = tuple(tool_defs)  # the prompt's tools, sent with every request
        # Reads the cases' images; a file gone since the version was stored is sent from the
        # library's copy (``stored_images``, by source) and listed, to be said.
        self.images = ImageReader(stored=dict(stored_images or {}))
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
        # The judge of promptfoo's model-graded checks is the judge column's, through the
        # same cache and server limits; embeddings and code checks as the user set them.
        self.tools = dataclasses.replace(
            tools or checks_model.CheckTools(), judge=None if judge is None else self._ask_judge
        )
        self.budget = budget  # evals.plan: no request starts that would exceed it
        self.result = EvalRun(columns=tuple(t.column for t in targets), cases=tuple(cases))
        self.result.settings = {
            "for_every_case": self.for_every_case,
            "fresh": fresh,
            "judge": None if judge is None else {"model": judge.model, "prompt": judge.prompt},
            "code_checks": self.tools.run_code,
        }
        if repeat > 1:  # an evaluation without repeats is stored as it always was
            self.result.settings["repeat"] = repeat
        self.repeat = repeat
        self.checks = {case.key: effective_checks(case, for_every_case) for case in cases}
        self._check_setup()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._cancelled = False
        self._rendered: dict[str, tuple[list[Message], str | None, int]] = {}
        self._last_cost: dict[str, float | None] = {}  # real cost per request key, for the budget

    @property
    def done(self) -> int:
        return self.result.answers

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
                    written = str(check["type"])
                    article = "an" if written.startswith(("llm", "a", "e", "i", "o", "u")) else "a"
                    raise EvalError(
                        f"{case.title}: {article} '{written}' check needs a judge model; "
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
            cells = (
                (case, target, sample)
                for case in self.result.cases
                for target in targets
                for sample in range(self.repeat)
            )
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

    async def _work(self, cells: Iterator[tuple[EvalCase, EvalTarget, int]]) -> None:
        """Run cells from the shared iterator until it is empty or the evaluation stops."""
        for case, target, sample in cells:
            if self._cancelled or (self.budget is not None and self.budget.stopped):
                return
            messages, problem = self._messages(case)
            await self._cell(case, target, messages, problem, sample)

    def _workers(self, endpoint: Endpoint) -> int:
        """How many of the server's cells run at once: as many as its limit lets through."""
        return self.limits.limit_for(endpoint) or 1

    def _messages(self, case: EvalCase) -> tuple[list[Message], str | None]:
        """The case's rendered messages, rendered once and kept until every column has them."""
        if case.key not in self._rendered:
            self._rendered[case.key] = (*self._render(case), len(self.targets) * self.repeat)
        messages, problem, left = self._rendered[case.key]
        if left == 1:
            del self._rendered[case.key]
        else:
            self._rendered[case.key] = (messages, problem, left - 1)
        return messages, problem

    def _render(self, case: EvalCase) -> tuple[list[Message], str | None]:
        """The case's messages; a thread the case holds and the template does not use goes
        after them (as Prompty adds a thread input it does not find), so a conversation
        copied into a case is replayed and its final answer graded."""
        try:
            messages = render_messages(
                self.template, {**self.values, **case.vars}, images=self.images
            )
            return messages + case_thread(self.template, case.vars), None
        except TemplateError as exc:
            where = (self.locate(exc.line, exc.column) if self.locate else None) or exc.location()
            return [], f"The template does not render for this case ({where}): {exc}"

    def render_case(self, case: EvalCase) -> tuple[list[Message], str | None]:
        """What a cell of ``case`` sends, or why it does not render (``evals.batches``)."""
        return self._render(case)

    async def grade_answer(
        self, case: EvalCase, answer: Answer, messages: Sequence[Message] = ()
    ) -> list[GradeResult]:
        """Grade an answer received elsewhere (a batch) as a live cell is graded."""
        return await self._grade(case, answer, messages)

    # ---- one cell ------------------------------------------------------------------------

    async def _cell(
        self,
        case: EvalCase,
        target: EvalTarget,
        messages: list[Message],
        problem: str | None,
        sample: int = 0,
    ) -> None:
        column = target.column.key
        try:
            if problem is not None:
                self._record(CellResult(case.key, column, FAILED, error=problem, sample=sample))
                return
            run_target = checks_model.with_logprobs(
                target.run_target(column), self.checks[case.key]
            )
            try:
                received, cost, cached, error = await self._answer(
                    run_target, messages, sample, budgeted=column, tools=self.tool_defs
                )
            except _OverBudget:
                return  # left out, as a cell never started
            answer = _fields(received)
            answer["sample"] = sample
            if not cached and received.input_tokens and not received.usage_estimated:
                answer["input_estimate"] = estimate_tokens(messages)  # calibrates plans
            if error is not None:
                self._record(CellResult(case.key, column, FAILED, error=error, **answer))
                return
            graded = Answer(
                text=received.text,
                latency_ms=received.total_ms,
                cost=0.0 if cached else cost,
                finish_reason=received.finish_reason,
                logprobs=received.logprobs,
                tool_calls=received.tool_calls,
                tools=self.tool_defs,
            )
            grades = await self._grade(case, graded, messages)
            self._record(
                CellResult(
                    case.key,
                    column,
                    DONE,
                    cost=0.0 if cached else cost,
                    cached=cached,
                    grades=tuple(grades),
                    threshold=case.threshold,
                    **answer,
                )
            )
            await self._select_best(case)
        except asyncio.CancelledError:
            if not self._cancelled:
                raise
            self._record(CellResult(case.key, column, CANCELLED, error="Stopped.", sample=sample))
        except Exception as exc:  # a bug of ours: one cell fails, the evaluation goes on
            log.exception("evaluation cell %s × %s failed", case.key, column)
            failed = CellResult(
                case.key, column, FAILED, error=f"Unexpected error: {exc}", sample=sample
            )
            self._record(failed)

    async def _answer(
        self,
        target: RunTarget,
        messages: list[Message],
        sample: int = 0,
        budgeted: str | None = None,
        tools: Sequence[ToolDef] = (),
    ) -> tuple[CachedAnswer, float | None, bool, str | None]:
        """(the answer, cost, from the cache?, error) for one request (``sample``: which
        repeat of it, ``tools``: sent with it); ``budgeted`` names the column whose estimate
        the budget holds while it runs."""
        key = request_key(target, messages, sample, tools)
        if self.cache is not None and not self.fresh:
            hit = await self.cache.get(key)
            if hit is not None:
                return hit, 0.0, True, None
        held = 0.0
        if self.budget is not None:
            reserved = self.budget.reserve(budgeted) if budgeted else 0.0
            if reserved is None:
                raise _OverBudget("not asked: the budget would be exceeded")
            held = reserved
        try:
            return await self._ask(target, messages, key, tools)
        finally:
            if self.budget is not None:
                self.budget.settle(held, self._last_cost.pop(key, None))

    async def _ask(
        self, target: RunTarget, messages: list[Message], key: str, tools: Sequence[ToolDef] = ()
    ) -> tuple[CachedAnswer, float | None, bool, str | None]:
        session = RunSession(
            messages,
            [target],
            provider_factory=self.provider_factory,
            price_table=self.price_table,
            limits=self.limits,
            tools=tools,
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

    async def _grade(
        self, case: EvalCase, answer: Answer, messages: Sequence[Message] = ()
    ) -> list[GradeResult]:
        grades = []
        for written in self.checks[case.key]:
            try:
                check = rendered_check(written, {**self.values, **case.vars})
            except TemplateError as exc:
                reason = f"Its value does not render for this case ({exc.location()}): {exc}"
                grades.append(GradeResult(False, 0.0, reason, str(written.get("type"))))
                continue
            if checks_model.handles(str(check.get("type", "")).removeprefix("not-")):
                about = checks_model.CheckInput(
                    {**self.values, **case.vars},
                    case.expected,
                    "\n\n".join(message.content for message in messages),
                )
                grades.append(await checks_model.grade(check, answer, self.tools, about))
            elif needs_judge(check):
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
        return [
            dataclasses.replace(result, weight=float(check.get("weight", 1.0)))
            for check, result in zip(self.checks[case.key], grades, strict=True)
        ]

    async def _select_best(self, case: EvalCase) -> None:
        """Grade the case's ``select-best`` checks once every column has its cell."""
        columns = [target.column.key for target in self.targets]
        await checks_model.select_best_for_case(
            self.checks[case.key], case.key, columns, self.result, self.tools, self._record
        )

    async def _ask_judge(self, messages: list[Message]) -> str:
        """The judge's reply, through the same cache and server limits as any request."""
        assert self.judge is not None
        target = RunTarget("judge", self.judge.endpoint, self.judge.model, self.judge.params)
        answer, _cost, _cached, error = await self._answer(target, messages, budgeted=JUDGE_KEY)
        if error is not None:
            raise ProviderError(f"The judge ({self.judge.model}) failed: {error}")
        return answer.text

    def _record(self, cell: CellResult) -> None:
        self.result.put(cell)
        if self.on_cell is not None:
            try:
                self.on_cell(cell)
            except Exception:
                log.exception("on_cell failed for %s × %s", cell.case_key, cell.column_key)


def rendered_check(check: Mapping[str, Any], variables: Mapping[str, object]) -> dict[str, Any]:
    """``check`` with a text value rendered with the case's variables, as promptfoo renders
    every assertion's value (``contains: "{{ city }}"``); other checks as they are.

    Raises :class:`TemplateError` when the value does not render.
    """
    value = check.get("value")
    if not isinstance(value, str) or not _TEMPLATE_SYNTAX.search(value):
        return dict(check)
    if ungraded_reason(check) is not None:  # not graded: not rendered either
        return dict(check)
    return {**check, "value": render_text(value, variables)}


def case_thread(template: str, values: Mapping[str, object]) -> list[Message]:
    """The turns of the thread values ``template`` does not use (a conversation copied
    into a test case), in the values' order. :class:`TemplateError` for a template that
    does not parse."""
    used = set(input_names(template))
    found: list[Message] = []
    for name, value in values.items():
        turns = thread_turns(value) if name not in used else None
        found += turns or []
    return found


class _OverBudget(PromptStudioError):
    """The next request would take the evaluation over its budget (a judge's request: its
    check is left undecided, with this message)."""


def _fields(answer: CachedAnswer) -> dict[str, Any]:
    return {
        "text": answer.text,
        "latency_ms": answer.total_ms,
        "ttft_ms": answer.ttft_ms,
        "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens,
        "tool_calls": tuple(answer.tool_calls),
    }
