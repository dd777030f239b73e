"""What an evaluation will cost before anything is sent, and a budget that stops it.

The plan counts, per model column, the requests to send and the cells the answer cache
serves for nothing, and estimates tokens and dollars:

* input tokens: characters / 4 of the rendered messages (``providers.estimate_tokens``),
  times the model's calibration: the ratio of the tokens its server reported to that
  estimate, over the model's past answers in the library (:func:`read_history`);
* output tokens: the column's ``max_tokens`` (an upper bound), else the mean of the
  model's past answers to this prompt, else :data:`GUESSED_OUTPUT_TOKENS` (said so);
* cost: those tokens at the price table's rates; a model without a price costs "unknown".

The judge's requests (``llm-rubric`` and promptfoo's model-graded checks) are a row of
their own (key :data:`JUDGE_KEY`): one per graded answer and check (``g-eval`` asks twice,
its first question the same for every answer; ``select-best`` once per case), each the
judge prompt plus the answer it grades (that answer's estimated output tokens). A cell the
cache answers has its judge replies cached too: free.

Each figure carries the sentence saying how it was estimated. :class:`Budget` is what
:class:`~promptstudio.evals.runner.Evaluation` consults before each request it would
send: spent (real usage of finished answers) plus what is in flight plus this request's
estimate must stay within the limit, else the evaluation starts nothing more.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptstudio.chat import Message
from promptstudio.errors import PromptStudioError
from promptstudio.evals import checks_model
from promptstudio.evals.cache import request_key
from promptstudio.evals.judge import judge_messages
from promptstudio.evals.model_prompts import PROMPTS
from promptstudio.providers import Endpoint, PriceTable
from promptstudio.providers.pricing import estimate_tokens
from promptstudio.runs import RunTarget
from promptstudio.runs.columns import split_sample_key
from promptstudio.storage.sql import rows, stored_json

if TYPE_CHECKING:
    from promptstudio.evals.runner import EvalTarget, Evaluation

GUESSED_OUTPUT_TOKENS = 256
JUDGE_KEY = "judge"  # the plan's row (and the budget's estimate) of the judge's requests
CALIBRATION_ANSWERS = 200  # the newest answers of a model read to calibrate it
# A run of the board asks for a plan first from this many requests on (columns × samples).
RUN_PLAN_THRESHOLD = 20


@dataclass(frozen=True, slots=True)
class ModelHistory:
    """What the library knows of one model: its token calibration and answer lengths."""

    calibrated_on: int = 0  # past answers with reported input tokens
    reported_input: int = 0
    estimated_input: int = 0
    answers_to_prompt: int = 0  # past answers to this prompt with output tokens
    output_tokens_to_prompt: int = 0

    @property
    def ratio(self) -> float | None:
        """Reported / estimated input tokens; None without past answers."""
        if not self.calibrated_on or self.estimated_input <= 0:
            return None
        return self.reported_input / self.estimated_input

    @property
    def mean_output(self) -> int | None:
        if not self.answers_to_prompt:
            return None
        return math.ceil(self.output_tokens_to_prompt / self.answers_to_prompt)


@dataclass(frozen=True, slots=True)
class PlannedCell:
    """One cell: the column it is for, its messages (None: will not render), cached?"""

    column_key: str
    messages: tuple[Message, ...] | None
    cached: bool = False
    case_key: str = ""  # which case (for the judge's requests its checks make)


@dataclass(frozen=True, slots=True)
class ModelPlan:
    key: str
    label: str
    model: str
    requests: int  # to send
    cached: int  # served by the cache: free
    unrenderable: int  # cases the template does not render for: nothing sent
    input_tokens: int
    output_tokens: int
    cost: float | None  # None: the price table does not know the model
    input_basis: str
    output_basis: str
    per_request_cost: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.key,
            "model": self.label,
            "requests": self.requests,
            "cached": self.cached,
            "unrenderable": self.unrenderable,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": self.cost,
            "input_estimated_by": self.input_basis,
            "output_estimated_by": self.output_basis,
        }


@dataclass(frozen=True, slots=True)
class EvalPlan:
    models: tuple[ModelPlan, ...]
    notes: tuple[str, ...] = ()

    @property
    def requests(self) -> int:
        return sum(m.requests for m in self.models)

    @property
    def cached(self) -> int:
        return sum(m.cached for m in self.models)

    @property
    def cost(self) -> float:
        """The total of the models with a known price."""
        return sum(m.cost or 0.0 for m in self.models)

    @property
    def unpriced(self) -> tuple[str, ...]:
        return tuple(m.label for m in self.models if m.cost is None and m.requests)

    def total_line(self) -> str:
        tokens_in = sum(m.input_tokens for m in self.models)
        tokens_out = sum(m.output_tokens for m in self.models)
        cost = money(self.cost)
        if self.unpriced:
            cost += f" + unknown for {', '.join(self.unpriced)} (no price)"
        return (
            f"total: {self.requests} requests, {self.cached} from the cache (free), "
            f"~{tokens_in:,} input + ~{tokens_out:,} output tokens, about {cost}"
        )

    def lines(self) -> list[str]:
        """The plan in words: a line per model with how each figure was estimated."""
        out = []
        for m in self.models:
            cost = "unknown (no price for this model)" if m.cost is None else money(m.cost)
            skipped = f", {m.unrenderable} not rendered" if m.unrenderable else ""
            out.append(
                f"{m.label}: {m.requests} requests, {m.cached} cached (free){skipped}; "
                f"~{m.input_tokens:,} input tokens, ~{m.output_tokens:,} output tokens; {cost}"
            )
            out.append(f"    input: {m.input_basis}")
            out.append(f"    output: {m.output_basis}")
        out.append(self.total_line())
        out += list(self.notes)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": [m.to_dict() for m in self.models],
            "requests": self.requests,
            "cached": self.cached,
            "cost": self.cost,
            "unpriced": list(self.unpriced),
            "notes": list(self.notes),
        }


def money(cost: float) -> str:
    return "$0" if cost == 0 else f"${cost:.6f}" if cost < 0.01 else f"${cost:,.4f}"


def plan_cells(
    cells: Sequence[PlannedCell],
    columns: Sequence[tuple[str, str, str, int | None]],
    history: Mapping[str, ModelHistory],
    prices: PriceTable | None,
    notes: Sequence[str] = (),
    apis: Mapping[str, str] | None = None,
) -> EvalPlan:
    """The plan for ``cells``; ``columns`` are (key, label, model, max_tokens); ``apis``
    says which API a column speaks (by key), so its images count as that API counts them."""
    models = []
    for key, label, model, max_tokens in columns:
        mine = [c for c in cells if c.column_key == key]
        sent = [c for c in mine if c.messages is not None and not c.cached]
        known = history.get(model, ModelHistory())
        api = (apis or {}).get(key, "messages")
        raw = sum(estimate_tokens(c.messages or (), api) for c in sent)
        ratio = known.ratio
        if ratio is None:
            input_tokens = raw
            input_basis = f"characters / 4 ({model} has no past answers with reported usage)"
        else:
            input_tokens = math.ceil(raw * ratio)
            input_basis = (
                f"characters / 4 × {ratio:.2f}, calibrated on {known.calibrated_on} past "
                f"answers of {model} (reported ÷ estimated tokens)"
            )
        if max_tokens is not None:
            each_out, output_basis = max_tokens, f"max_tokens {max_tokens} each (an upper bound)"
        elif known.mean_output is not None:
            each_out = known.mean_output
            output_basis = (
                f"{each_out} each: the mean of {known.answers_to_prompt} past answers of "
                f"{model} to this prompt"
            )
        else:
            each_out = GUESSED_OUTPUT_TOKENS
            output_basis = (
                f"{each_out} each: a guess (no max_tokens, no past answers of {model} "
                "to this prompt)"
            )
        output_tokens = each_out * len(sent)
        price = prices.price_for(model) if prices is not None else None
        cost = per_request = None
        if price is not None:
            cost = (input_tokens * price.input + output_tokens * price.output) / 1_000_000
            mean_in = input_tokens / len(sent) if sent else 0
            per_request = (mean_in * price.input + each_out * price.output) / 1_000_000
        models.append(
            ModelPlan(
                key=key,
                label=label,
                model=model,
                requests=len(sent),
                cached=sum(1 for c in mine if c.cached and c.messages is not None),
                unrenderable=sum(1 for c in mine if c.messages is None),
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost=cost,
                input_basis=input_basis,
                output_basis=output_basis,
                per_request_cost=per_request,
            )
        )
    return EvalPlan(tuple(models), tuple(notes))


def plan_run(
    messages: Sequence[Message],
    targets: Sequence[RunTarget],
    history: Mapping[str, ModelHistory],
    prices: PriceTable | None,
) -> EvalPlan:
    """The plan of one run of the board: every sample of every column is a request (runs
    are never served from the cache)."""
    columns: dict[str, tuple[str, str, str, int | None]] = {}
    cells = []
    for target in targets:
        column_id = split_sample_key(target.key)[0]
        columns.setdefault(
            column_id, (column_id, target.model, target.model, target.params.max_tokens)
        )
        cells.append(PlannedCell(column_id, tuple(messages)))
    apis = {split_sample_key(t.key)[0]: image_api(t.endpoint) for t in targets}
    return plan_cells(cells, list(columns.values()), history, prices, apis=apis)


# ---- from an evaluation and the library --------------------------------------------------


def evaluation_cells(evaluation: Evaluation) -> list[tuple[PlannedCell, str | None]]:
    """Every cell of ``evaluation`` (each repeat of it) rendered as it will be sent, with
    its cache key."""
    out: list[tuple[PlannedCell, str | None]] = []
    for case in evaluation.result.cases:
        messages, problem = evaluation._render(case)
        for target in evaluation.targets:
            for sample in range(evaluation.repeat):
                if problem is not None:
                    out.append((PlannedCell(target.column.key, None, case_key=case.key), None))
                    continue
                run_target = checks_model.with_logprobs(
                    target.run_target(target.column.key), evaluation.checks[case.key]
                )
                key = request_key(run_target, messages, sample, evaluation.tool_defs)
                planned = PlannedCell(target.column.key, tuple(messages), case_key=case.key)
                out.append((planned, key))
    return out


def plan_evaluation(
    evaluation: Evaluation,
    history: Mapping[str, ModelHistory],
    cached_keys: set[str] | frozenset[str] = frozenset(),
    computed: Sequence[tuple[PlannedCell, str | None]] | None = None,
) -> EvalPlan:
    """The plan of ``evaluation``; ``cached_keys`` are the cache keys already answered;
    ``computed``: :func:`evaluation_cells` when already known (it renders every case)."""
    cells = [
        PlannedCell(
            c.column_key, c.messages, key in cached_keys and not evaluation.fresh, c.case_key
        )
        for c, key in (evaluation_cells(evaluation) if computed is None else computed)
    ]
    apis = {t.column.key: image_api(t.endpoint) for t in evaluation.targets}
    columns = columns_of(evaluation.targets)
    plan = plan_cells(cells, columns, history, evaluation.price_table, apis=apis)
    judged = _judge_plan(evaluation, cells, plan, history)
    return plan if judged is None else EvalPlan((*plan.models, judged), plan.notes)


def planned_models(evaluation: Evaluation) -> list[str]:
    """The models whose past answers calibrate the plan: the columns' and the judge's."""
    models = [target.column.model for target in evaluation.targets]
    return models + ([evaluation.judge.model] if evaluation.judge is not None else [])


# Judge requests per graded answer, by check type (negated or not); select-best: per case.
_JUDGE_ASKS: dict[str, int] = {
    "llm-rubric": 1,
    "factuality": 1,
    "model-graded-closedqa": 1,
    "g-eval": 2,
    "answer-relevance": 1,
    "context-faithfulness": 1,
    "select-best": 1,
}
_PER_CASE = "select-best"
_STEPS = "g-eval"  # its first request (the steps) is the same for every answer


def _judge_plan(
    evaluation: Evaluation,
    cells: Sequence[PlannedCell],
    plan: EvalPlan,
    history: Mapping[str, ModelHistory],
) -> ModelPlan | None:
    """The judge's row of the plan; None without a judge or a check that asks it."""
    judge = evaluation.judge
    if judge is None:
        return None
    answer_tokens = {
        m.key: m.output_tokens / m.requests if m.requests else 0.0 for m in plan.models
    }
    # A cache answers the steps of one criteria after the first (unless fresh answers).
    steps_cached = evaluation.cache is not None and not evaluation.fresh
    cases = {case.key: case for case in evaluation.result.cases}
    prompts: dict[tuple[str, int], int] = {}  # (case, check): the judge prompt's tokens
    seen: set[tuple[str, int] | str] = set()
    sent = cached = 0
    raw = 0.0
    for cell in cells:
        if cell.messages is None:
            continue
        for index, check in enumerate(evaluation.checks.get(cell.case_key, ())):
            base = str(check.get("type", "")).removeprefix("not-")
            asks = _JUDGE_ASKS.get(base, 0)
            if base == "answer-relevance" and evaluation.tools.embed is None:
                asks = 0  # not graded without an embeddings endpoint: the judge is not asked
            if base == _PER_CASE:
                asks = 0 if (cell.case_key, index) in seen else 1
                seen.add((cell.case_key, index))
            if base == _STEPS and steps_cached:
                criteria = f"{_STEPS}:{check.get('value')}"
                asks = 2 if criteria not in seen else 1
                seen.add(criteria)
            if not asks:
                continue
            if cell.cached:
                cached += asks
                continue
            key = (cell.case_key, index)
            if key not in prompts:
                variables = {**evaluation.values, **cases[cell.case_key].vars}
                prompts[key] = _judge_prompt_tokens(evaluation, check, base, cell, variables)
            answers = len(evaluation.targets) if base == _PER_CASE else 1
            sent += asks
            raw += asks * (prompts[key] + answers * answer_tokens.get(cell.column_key, 0.0))
    if not sent and not cached:
        return None
    known = history.get(judge.model, ModelHistory())
    ratio = known.ratio
    input_tokens = math.ceil(raw * (ratio or 1.0))
    input_basis = (
        "the judge prompt and the answer it grades (the answer's estimated output tokens), "
        + (
            f"characters / 4 × {ratio:.2f}, calibrated on {known.calibrated_on} past answers "
            f"of {judge.model}"
            if ratio is not None
            else f"characters / 4 ({judge.model} has no past answers with reported usage)"
        )
    )
    max_tokens = judge.params.max_tokens
    each_out = max_tokens if max_tokens is not None else GUESSED_OUTPUT_TOKENS
    output_basis = (
        f"max_tokens {max_tokens} each (an upper bound)"
        if max_tokens is not None
        else f"{each_out} each: a guess (no max_tokens for the judge)"
    )
    output_tokens = each_out * sent
    price = evaluation.price_table.price_for(judge.model) if evaluation.price_table else None
    cost = per_request = None
    if price is not None:
        cost = (input_tokens * price.input + output_tokens * price.output) / 1_000_000
        mean_in = input_tokens / sent if sent else 0
        per_request = (mean_in * price.input + each_out * price.output) / 1_000_000
    return ModelPlan(
        key=JUDGE_KEY,
        label=f"judge {judge.model}",
        model=judge.model,
        requests=sent,
        cached=cached,
        unrenderable=0,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost=cost,
        input_basis=input_basis,
        output_basis=output_basis,
        per_request_cost=per_request,
    )


def _judge_prompt_tokens(
    evaluation: Evaluation,
    check: Mapping[str, Any],
    base: str,
    cell: PlannedCell,
    variables: Mapping[str, object],
) -> int:
    """Estimated tokens of the judge prompt for ``check`` on ``cell``'s case, without the
    answer: the rubric prompt filled in, or a model-graded check's prompt, its value and
    the prompt sent (which those prompts quote)."""
    assert evaluation.judge is not None
    value = check.get("value")
    text = value if isinstance(value, str) else "" if value is None else str(value)
    if base == "llm-rubric":
        try:
            return estimate_tokens(
                judge_messages(text, "", evaluation.judge.prompt, variables=variables)
            )
        except PromptStudioError:
            return estimate_tokens([Message("user", evaluation.judge.prompt + text)])
    template = evaluation.tools.prompts.get(base) or PROMPTS.get(base, "")
    sent = "\n\n".join(message.content for message in cell.messages or ())
    return estimate_tokens([Message("user", template + text + sent)])


def image_api(endpoint: Endpoint) -> str:
    """How the endpoint's API counts images: Anthropic's pixels, or OpenAI's tiles (the
    Chat Completions and Responses APIs and every OpenAI-compatible server alike)."""
    return "messages" if endpoint.kind == "anthropic" else "chat"


def columns_of(targets: Sequence[EvalTarget]) -> list[tuple[str, str, str, int | None]]:
    return [(t.column.key, t.column.label, t.column.model, t.params.max_tokens) for t in targets]


def cached_among(conn: sqlite3.Connection, keys: Sequence[str]) -> set[str]:
    """The keys the library's answer cache holds (on the database's thread)."""
    found: set[str] = set()
    unique = list(dict.fromkeys(k for k in keys if k))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(
            r["key"]
            for r in rows(conn, f"SELECT key FROM response_cache WHERE key IN ({marks})", chunk)
        )
    return found


def read_history(
    conn: sqlite3.Connection, models: Sequence[str], prompt_id: int | None
) -> dict[str, ModelHistory]:
    """Calibration and answer lengths of ``models`` from the library's past answers.

    Calibration reads the model's newest answers anywhere in the library whose server
    reported usage (estimated usage would calibrate the estimate against itself): runs'
    answers and evaluations' (each cell keeps the estimate made when it was sent); answer
    lengths read this prompt's runs and evaluations."""
    out: dict[str, ModelHistory] = {}
    for model in dict.fromkeys(models):
        reported = estimated = count = 0
        for row in rows(
            conn,
            "SELECT messages, input_tokens FROM responses WHERE model = ? AND status = 'done' "
            "AND input_tokens > 0 AND usage_estimated = 0 ORDER BY id DESC LIMIT ?",
            (model, CALIBRATION_ANSWERS),
        ):
            sent = [m for m in stored_json(row["messages"], []) if isinstance(m, dict)]
            guess = estimate_tokens(Message("user", _content(m)) for m in sent)  # content only
            if guess > 0:
                reported += int(row["input_tokens"])
                estimated += guess
                count += 1
        for row in _eval_calibration(conn, model):
            reported += int(row["input_tokens"])
            estimated += int(row["input_estimate"])
            count += 1
        answers = output = 0
        if prompt_id is not None:
            for row in rows(
                conn,
                "SELECT s.output_tokens FROM responses s JOIN runs r ON r.id = s.run_id "
                "JOIN versions v ON v.id = r.version_id WHERE v.prompt_id = ? AND s.model = ? "
                "AND s.status = 'done' AND s.output_tokens IS NOT NULL",
                (prompt_id, model),
            ):
                answers, output = answers + 1, output + int(row["output_tokens"])
            answers, output = _eval_outputs(conn, prompt_id, model, answers, output)
        out[model] = ModelHistory(count, reported, estimated, answers, output)
    return out


def _eval_calibration(conn: sqlite3.Connection, model: str) -> list[sqlite3.Row]:
    """The model's newest evaluation answers with reported and estimated input tokens."""
    return rows(
        conn,
        """
        SELECT c.input_tokens, c.input_estimate FROM eval_results c
        JOIN eval_runs e ON e.id = c.eval_run_id
        WHERE c.input_estimate > 0 AND c.input_tokens > 0 AND c.status = 'done'
          AND c.cached = 0 AND EXISTS (
            SELECT 1 FROM json_each(e.columns) j
            WHERE json_extract(j.value, '$.id') = c.column_key
              AND json_extract(j.value, '$.model') = ?)
        ORDER BY c.id DESC LIMIT ?
        """,
        (model, CALIBRATION_ANSWERS),
    )


def _eval_outputs(
    conn: sqlite3.Connection, prompt_id: int, model: str, answers: int, output: int
) -> tuple[int, int]:
    for run in rows(conn, "SELECT id, columns FROM eval_runs WHERE prompt_id = ?", (prompt_id,)):
        keys = [
            c.get("id")  # a column's key is stored as "id" (EvalColumn.to_dict)
            for c in stored_json(run["columns"], [])
            if isinstance(c, dict) and c.get("model") == model
        ]
        for key in keys:
            for row in rows(
                conn,
                "SELECT output_tokens FROM eval_results WHERE eval_run_id = ? AND column_key = ? "
                "AND status = 'done' AND cached = 0 AND output_tokens IS NOT NULL",
                (run["id"], key),
            ):
                answers, output = answers + 1, output + int(row["output_tokens"])
    return answers, output


def _content(message: Mapping[str, Any]) -> str:
    content = message.get("content", "")
    return content if isinstance(content, str) else str(content)


# ---- the budget --------------------------------------------------------------------------


@dataclass
class Budget:
    """At most ``limit`` dollars: real costs of finished answers, plus estimates of those
    in flight, plus the next request's estimate. ``estimates`` is the cost of one request
    per column key (from the plan); a column without one (no price) counts as free."""

    limit: float
    estimates: dict[str, float] = field(default_factory=dict)
    spent: float = 0.0
    in_flight: float = 0.0
    stopped: bool = False

    @classmethod
    def from_plan(cls, limit: float, plan: EvalPlan) -> Budget:
        return cls(limit, {m.key: m.per_request_cost or 0.0 for m in plan.models})

    def reserve(self, column_key: str) -> float | None:
        """The amount held for one request, or None (and stopped) if it would exceed."""
        estimate = self.estimates.get(column_key, 0.0)
        if self.stopped or self.spent + self.in_flight + estimate > self.limit + 1e-12:
            self.stopped = True
            return None
        self.in_flight += estimate
        return estimate

    def settle(self, held: float, cost: float | None) -> None:
        """A request ended: release what was held, count what it really cost."""
        self.in_flight = max(0.0, self.in_flight - held)
        self.spent += cost or 0.0

    def describe(self) -> str:
        return f"stopped for budget: {money(self.spent)} spent of {money(self.limit)}"
