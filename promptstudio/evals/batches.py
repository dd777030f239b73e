"""An evaluation sent as provider batches (OpenAI Batch API, Anthropic Message Batches).

Half the price, no rate limits of this machine's to wait on, answers within 24 hours.
:func:`submit` renders every cell as a live evaluation does (the same ``run_target``
columns, the same request builders, the same cache keys): cache hits are answered and
graded here, cells that cannot be sent are failed with the live run's reason, and the rest
become one batch per column. The evaluation is stored as ``pending`` with its batches,
their ``custom_id`` → cell mapping and the request bodies in one transaction before
anything is sent; then each batch is created and its remote id noted.

:func:`collect` (any process, any time later) polls a batch; once it has ended its answers
are matched back by ``custom_id``, graded, cached and stored as the evaluation's cells in
the transaction that marks the batch collected, which succeeds once: a second collector
gets :class:`AlreadyCollected` and writes nothing. A batch the provider ended early
(expired, cancelled, failed validation) or a line it answered with an error or could not
give (a malformed line) fails those cells with the reason; the answered ones are kept.
Keys are never stored: the caller resolves each column's endpoint again (``resolve``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptstudio.chat import Message, ToolCall
from promptstudio.errors import PromptStudioError
from promptstudio.evals import checks_model
from promptstudio.evals.cache import CachedAnswer, LibraryCache, request_key
from promptstudio.evals.graders import Answer
from promptstudio.evals.results import DONE, FAILED, CellResult, EvalCase, EvalRun
from promptstudio.evals.runner import EvalError, EvalTarget, Evaluation, JudgeSettings
from promptstudio.evals.store import cell_fields, load_run, run_fields
from promptstudio.providers import (
    BadRequest,
    ChatRequest,
    Endpoint,
    GenerationParams,
    PriceTable,
    ProviderError,
)
from promptstudio.providers.batch_api import (
    BatchClient,
    BatchLine,
    BatchStatus,
    LineResult,
    batch_api,
    batch_body,
    batch_unsupported,
)
from promptstudio.storage import batches as stored
from promptstudio.storage.batches import AlreadyCollected, BatchRow

if TYPE_CHECKING:
    from promptstudio.runs.columns import ColumnConfig
    from promptstudio.storage import Database

log = logging.getLogger(__name__)

__all__ = [
    "RUN_CASE",
    "AlreadyCollected",
    "BatchError",
    "CollectResult",
    "Resolver",
    "Submitted",
    "collect",
    "run_case",
    "submit",
]

#: The one case of a run's samples sent as a batch (``run --samples N --batch``, Run → Send
#: the samples as a batch): no variables of its own, the run's values are the evaluation's.
RUN_CASE = "run"


def run_case() -> EvalCase:
    return EvalCase(RUN_CASE, 0, description="The run's values (samples sent as a batch)")


#: Gives a stored batch's endpoint again, with its key (from the keychain or environment).
Resolver = Callable[[Mapping[str, Any]], Endpoint]


class BatchError(PromptStudioError):
    """A batch cannot be sent, polled or collected (the message says why and what is kept)."""


@dataclass
class Submitted:
    """A submitted evaluation: the pending run and its batches (id, provider id, state)."""

    run: EvalRun
    batches: list[BatchRow] = field(default_factory=list)


@dataclass
class CollectResult:
    """What collecting one batch did: still running (``cells`` empty), or stored."""

    batch: BatchRow
    status: BatchStatus | None
    cells: list[CellResult] = field(default_factory=list)
    finished_run: bool = False  # the last batch of its evaluation: the run is done

    @property
    def stored(self) -> bool:
        return self.batch.collected or bool(self.cells)


# ---- submitting ------------------------------------------------------------------------


async def submit(
    evaluation: Evaluation, columns: Sequence[ColumnConfig], db: Database, version_id: int
) -> Submitted:
    """Store ``evaluation`` as pending with a batch per column, then send the batches.
    ``columns[i]`` is the run column of ``evaluation.targets[i]`` (stored, never its key).
    Raises :class:`EvalError` before anything is stored when a column has no batches."""
    for target in evaluation.targets:
        reason = batch_unsupported(target.endpoint)
        if reason is not None:
            raise EvalError(f"{target.column.label}: {reason}")
    for target in evaluation.targets:
        api = batch_api(target.endpoint, target.column.model)
        try:
            await BatchClient(target.endpoint, api).check()
        except ProviderError as exc:
            raise EvalError(f"{target.column.label}: {exc.message}") from exc
    run = evaluation.result
    run.settings["batch"] = True
    planned = [
        await _plan_column(evaluation, target, column)
        for target, column in zip(evaluation.targets, columns, strict=True)
    ]
    planned = [batch for batch in planned if batch["items"]]
    row, ids = await db.acall(stored.save_pending_eval, version_id, run_fields(run), planned)
    run.id, run.prompt_id, run.version_id = row.id, row.prompt_id, row.version_id
    run.version_number, run.created_at, run.status = row.version_number, row.created_at, row.status
    if not planned:  # every cell answered here: nothing to send
        await db.acall(_finish_without_batches, row.id)
        run.status = DONE
    for batch_id in ids:
        await _send(
            db,
            batch_id,
            endpoint=_endpoint_of(evaluation, await db.acall(stored.get_batch, batch_id)),
        )
    return Submitted(run, await db.acall(stored.list_batches, eval_run_id=row.id))


async def _plan_column(
    evaluation: Evaluation, target: EvalTarget, column: ColumnConfig
) -> dict[str, Any]:
    """A column's batch: a line per cell still to ask. The other cells go into the run now:
    a case whose template does not render, a cache hit (graded here), a request the live
    run would refuse (with its reason)."""
    items: list[dict[str, Any]] = []
    for case in evaluation.result.cases:
        messages, problem = evaluation.render_case(case)
        for sample in range(evaluation.repeat):
            cell, item = await _cell_or_line(evaluation, target, case, messages, problem, sample)
            if cell is not None:
                evaluation.result.put(cell)
            elif item is not None:
                items.append({**item, "custom_id": f"r{len(items) + 1}"})
    return {
        "column_key": target.column.key,
        "api": batch_api(target.endpoint, target.column.model),
        "target": _target_fields(target, column),
        "items": items,
    }


async def _cell_or_line(
    evaluation: Evaluation,
    target: EvalTarget,
    case: EvalCase,
    messages: list[Message],
    problem: str | None,
    sample: int,
) -> tuple[CellResult | None, dict[str, Any] | None]:
    """(the cell answered here, None) or (None, the batch line's fields but its id)."""
    column = target.column.key
    if problem is not None:
        return CellResult(case.key, column, FAILED, error=problem, sample=sample), None
    checks = evaluation.checks[case.key]
    request = checks_model.with_logprobs(target.run_target(column), checks)
    key = request_key(request, messages, sample, evaluation.tool_defs)
    cache = evaluation.cache
    if cache is not None and not evaluation.fresh and (hit := await cache.get(key)):
        grades = await evaluation.grade_answer(case, _answer(hit, 0.0, evaluation), messages)
        done = _done(
            case.key, column, sample, hit, 0.0, grades, cached=True, threshold=case.threshold
        )
        return done, None
    chat = ChatRequest(
        tuple(messages), request.model, request.params, evaluation.tool_defs, request.logprobs
    )
    try:
        _api, body = batch_body(target.endpoint, chat)
    except ProviderError as exc:
        return CellResult(case.key, column, FAILED, error=exc.message, sample=sample), None
    line = {
        "case_key": case.key,
        "sample": sample,
        "request_key": key,
        "body": body,
        "messages": [m.to_dict() for m in messages],
    }
    return None, line


def _finish_without_batches(conn: Any, eval_run_id: int) -> None:
    conn.execute("UPDATE eval_runs SET status = 'done' WHERE id = ?", (eval_run_id,))


def _endpoint_of(evaluation: Evaluation, batch: BatchRow) -> Endpoint:
    return next(t.endpoint for t in evaluation.targets if t.column.key == batch.column_key)


def _target_fields(target: EvalTarget, column: ColumnConfig) -> dict[str, Any]:
    """What is kept of a column to reach it again: never its key or headers."""
    return {
        "marker": uuid.uuid4().hex,  # finds the batch again if its id was never noted
        "column": column.to_dict(),
        "label": target.column.label,
        "model": target.column.model,
        "params": target.params.to_dict(),
        "base_url": target.endpoint.base_url,
        "kind": target.endpoint.kind,
        "api": target.endpoint.api,
    }


async def _send(
    db: Database, batch_id: int, endpoint: Endpoint, *, again: bool = False
) -> BatchRow:
    """Create the batch at the provider and note its id; a refusal fails its cells.
    ``again``: a process stopped before noting the id, so a batch created then (found by
    its marker) is taken instead of paying for a second one."""
    batch = await db.acall(stored.get_batch, batch_id)
    items = await db.acall(stored.batch_items, batch_id)
    client = BatchClient(endpoint, batch.api)  # type: ignore[arg-type]
    lines = [BatchLine(item.custom_id, item.body) for item in items]
    marker = str(batch.target.get("marker") or "")
    metadata = {"promptstudio_evaluation": str(batch.eval_run_id), "promptstudio_batch": marker}
    try:
        found = await client.find(marker) if again and marker else None
        status = found or await client.submit(lines, metadata)
    except ProviderError as exc:
        if not isinstance(exc, BadRequest):  # the network, the key, a busy server: later
            error = f"Not sent yet ({exc.message}); it is sent on the next collect."
            await db.acall(stored.set_batch_state, batch_id, state=stored.UNSENT, error=error)
            if again:
                raise
            return await db.acall(stored.get_batch, batch_id)
        message = f"The batch could not be sent: {exc.message}"
        cells = [
            CellResult(item.case_key, batch.column_key, FAILED, error=message, sample=item.sample)
            for item in items
        ]
        await db.acall(_store_collected, batch_id, cells, "failed", message, None)
        return await db.acall(stored.get_batch, batch_id)
    await db.acall(
        stored.set_batch_state,
        batch_id,
        state=status.state,
        counts=status.counts(),
        remote_id=status.remote_id,
        input_file_id=status.input_file_id,
    )
    return await db.acall(stored.get_batch, batch_id)


def _store_collected(
    conn: Any,
    batch_id: int,
    cells: Sequence[CellResult],
    state: str,
    error: str | None,
    counts: Mapping[str, int] | None,
) -> bool:
    return stored.collect_batch_cells(
        conn,
        batch_id,
        [cell_fields(cell) for cell in cells],
        state=state,
        error=error,
        counts=counts,
    )


# ---- polling and collecting ----------------------------------------------------------


async def poll(db: Database, batch: BatchRow, resolve: Resolver) -> BatchStatus:
    """Ask the provider how ``batch`` is doing and note it. Raises ``ProviderError``
    (the network, the key) with nothing changed."""
    if batch.remote_id is None:
        await _send(db, batch.id, resolve(batch.target), again=True)
        batch = await db.acall(stored.get_batch, batch.id)
        if batch.remote_id is None:
            return BatchStatus("", batch.state, error=batch.error)
    client = BatchClient(resolve(batch.target), batch.api)  # type: ignore[arg-type]
    return await _noted(db, batch.id, await client.retrieve(batch.remote_id))


async def collect(
    db: Database,
    batch_id: int,
    resolve: Resolver,
    price_table: PriceTable | None = None,
    tools: checks_model.CheckTools | None = None,
) -> CollectResult:
    """Poll the batch; once it has ended, store its answers as cells (once: see the module).
    Raises :class:`AlreadyCollected`, or ``ProviderError`` when the provider cannot be
    reached (nothing is changed then: collect again later)."""
    batch = await db.acall(stored.get_batch, batch_id)
    if batch.collected:
        raise AlreadyCollected(
            f"Batch {batch.id} was collected already into evaluation {batch.eval_run_id}."
        )
    status = await poll(db, batch, resolve)
    batch = await db.acall(stored.get_batch, batch_id)
    if batch.collected:  # it could not be sent: its cells are failed and stored
        return CollectResult(batch, status, finished_run=True)
    if not status.ended:
        return CollectResult(batch, status)
    endpoint = resolve(batch.target)
    found, unreadable = await BatchClient(endpoint, batch.api).results(status)  # type: ignore[arg-type]
    run = await db.acall(load_run, batch.eval_run_id)
    grader = await _grader(db, run, batch, endpoint, resolve, price_table, tools)
    items = await db.acall(stored.batch_items, batch_id)
    prices = (price_table or PriceTable({})).for_batch(endpoint.kind)
    cache = LibraryCache(db)
    cells: list[CellResult] = []
    for item in items:
        line = found.get(item.custom_id)
        cells.append(await _cell(grader, batch, item, line, status, unreadable, prices, cache))
    finished = await db.acall(
        _store_collected, batch_id, cells, status.state, status.error, status.counts()
    )
    return CollectResult(await db.acall(stored.get_batch, batch_id), status, cells, finished)


async def cancel(db: Database, batch: BatchRow, resolve: Resolver) -> BatchStatus:
    """Ask the provider to cancel ``batch`` (what it answered already is collected later)."""
    if batch.remote_id is None or batch.collected:
        raise BatchError(
            f"Batch {batch.id} is {'collected' if batch.collected else 'not sent'}: "
            "there is nothing to cancel."
        )
    client = BatchClient(resolve(batch.target), batch.api)  # type: ignore[arg-type]
    return await _noted(db, batch.id, await client.cancel(batch.remote_id))


async def _noted(db: Database, batch_id: int, status: BatchStatus) -> BatchStatus:
    """Store what the provider said of the batch (its state, counts and error)."""
    await db.acall(
        stored.set_batch_state,
        batch_id,
        state=status.state,
        counts=status.counts(),
        error=status.error,
    )
    return status


async def _cell(
    grader: Evaluation,
    batch: BatchRow,
    item: stored.BatchItemRow,
    line: LineResult | None,
    status: BatchStatus,
    unreadable: Sequence[str],
    prices: PriceTable,
    cache: LibraryCache,
) -> CellResult:
    column = batch.column_key
    if line is None or line.error is not None:
        if line is not None:
            why = f"The batch answered this request with an error: {line.error}"
        elif unreadable:
            why = f"No answer could be read for this request: {unreadable[0]}."
        elif status.error:
            why = status.error
        else:
            why = f"The batch ended ({status.state}) without an answer for this request."
        return CellResult(item.case_key, column, FAILED, error=why, sample=item.sample, batch=True)
    model = str(batch.target.get("model") or "")
    usage = line.usage
    answer = CachedAnswer(
        model=model,
        text=line.text,
        finish_reason=line.finish_reason,
        input_tokens=usage.input_tokens if usage else None,
        output_tokens=usage.output_tokens if usage else None,
        tool_calls=tuple(ToolCall.from_dict(call) for call in line.tool_calls),
    )
    cost = prices.cost(model, usage) if usage is not None else None
    await cache.put(item.request_key, answer)
    case = next(c for c in grader.result.cases if c.key == item.case_key)
    messages = [Message.from_dict(m) for m in item.messages]
    grades = await grader.grade_answer(case, _answer(answer, cost, grader), messages)
    return _done(
        item.case_key,
        column,
        item.sample,
        answer,
        cost,
        grades,
        batch=True,
        threshold=case.threshold,
    )


async def _grader(
    db: Database,
    run: EvalRun,
    batch: BatchRow,
    endpoint: Endpoint,
    resolve: Resolver,
    price_table: PriceTable | None,
    tools: checks_model.CheckTools | None,
) -> Evaluation:
    """An evaluation that grades as the live one would: the version's template and values,
    the checks for every case, the judge (reached again through ``resolve``)."""
    from promptstudio.storage import library
    from promptstudio.tools import ToolsError, tools_from_data

    assert run.version_id is not None  # a stored evaluation
    version = await db.acall(library.get_version, run.version_id)
    column = run.column(batch.column_key)
    params = GenerationParams.from_dict(dict(batch.target.get("params") or {}))
    judge = None
    wanted = run.settings.get("judge") or None
    if wanted:
        others = await db.acall(stored.list_batches, eval_run_id=run.id)
        for other in others:
            if other.target.get("model") == wanted.get("model"):
                judge = JudgeSettings(
                    resolve(other.target),
                    str(wanted["model"]),
                    str(wanted.get("prompt") or ""),
                    GenerationParams.from_dict(dict(other.target.get("params") or {})),
                )
                break
    try:
        tool_defs = list(tools_from_data(version.settings.get("tools") or []))
    except ToolsError:
        tool_defs = []
    return Evaluation(
        version.template or " ",
        run.cases,
        [EvalTarget(column, endpoint, params)],
        values=version.variables,
        for_every_case=run.settings.get("for_every_case") or (),
        judge=judge,
        cache=LibraryCache(db),
        price_table=price_table,
        tools=tools,
        tool_defs=tool_defs,
    )


def _answer(answer: CachedAnswer, cost: float | None, evaluation: Evaluation) -> Answer:
    return Answer(
        text=answer.text,
        latency_ms=answer.total_ms,
        cost=cost,
        finish_reason=answer.finish_reason,
        logprobs=answer.logprobs,
        tool_calls=answer.tool_calls,
        tools=evaluation.tool_defs,
    )


def _done(
    case_key: str,
    column: str,
    sample: int,
    answer: CachedAnswer,
    cost: float | None,
    grades: Sequence[Any],
    *,
    cached: bool = False,
    batch: bool = False,
    threshold: float | None = None,
) -> CellResult:
    return CellResult(
        case_key,
        column,
        DONE,
        text=answer.text,
        latency_ms=answer.total_ms,
        ttft_ms=answer.ttft_ms,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
        cost=cost,
        cached=cached,
        grades=tuple(grades),
        sample=sample,
        threshold=threshold,
        batch=batch,
    )
