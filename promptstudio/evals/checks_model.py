"""promptfoo's checks that need more than the answer's text: a judge, embeddings, logprobs, code.

Names and meanings follow promptfoo's documentation (``configuration/expected-outputs/
model-graded/*``, ``similar``, ``perplexity``, ``python``):

- ``factuality`` (value: the reference): the judge picks one of five categories (A) subset,
  (B) superset, (C) same details, (D) disagreement, (E) differences that do not matter;
  A, B, C and E pass, D fails.
- ``model-graded-closedqa`` (value: the criterion): the judge answers Y or N.
- ``g-eval`` (value: criteria, text or a list): the judge writes evaluation steps, then
  scores 0..10; the score /10 passes at ``threshold`` (default 0.7).
- ``answer-relevance``: the judge writes the questions the answer answers; their mean
  cosine similarity to the case's ``query`` (else the prompt) passes at ``threshold``
  (default 0); needs the embeddings endpoint.
- ``context-faithfulness``: the judge splits the answer into claims and checks each
  against the ``context`` variable; supported / all passes at ``threshold`` (default 0).
- ``select-best`` (value: criteria): graded once every column of the case has answered;
  the judge picks one answer, which passes, and the others fail.
- ``similar`` (value: text or list, default the expected answer): cosine similarity of the
  embeddings ≥ ``threshold`` (default 0.75), the best of several values.
- ``perplexity`` (≤ threshold) and ``perplexity-score`` (1 / (1 + perplexity) ≥ threshold),
  perplexity = exp(−mean log-probability of the answer's tokens).
- ``python``: the user's code in a separate process (:mod:`promptstudio.evals.code_check`),
  only with code checks turned on.
- ``javascript`` is not supported.

A check that cannot be graded here (no embeddings endpoint, no log-probabilities, code
checks off, JavaScript) is *not graded*: it says why, and the case's verdict leaves it out.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from promptstudio.chat import Message
from promptstudio.errors import PromptStudioError
from promptstudio.evals import grading, model_prompts
from promptstudio.evals.json_answers import json_values
from promptstudio.templating import TemplateError, render_messages

if TYPE_CHECKING:
    from promptstudio.evals.grading import Answer, GradeResult, _Check, _Spec
    from promptstudio.evals.results import CellResult, EvalRun
    from promptstudio.runs import RunTarget

log = logging.getLogger(__name__)

JudgeCall = Callable[[list[Message]], Awaitable[str]]
EmbedCall = Callable[[list[str]], Awaitable[list[list[float]]]]

TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "factuality": "A judge compares the output's facts with the reference in value.",
        "model-graded-closedqa": "A judge says whether the output meets the criterion in value.",
        "g-eval": "A judge scores the output by the criteria in value (G-Eval), ≥ threshold.",
        "answer-relevance": "The output answers the case's query (judge and embeddings).",
        "context-faithfulness": "A judge checks the output's claims against the context var.",
        "select-best": "A judge picks the best of the case's answers by the criteria in value.",
        "similar": "Embedding cosine similarity to value (or expected) ≥ threshold (0.75).",
        "perplexity": "The answer's perplexity (from log-probabilities) ≤ threshold.",
        "perplexity-score": "1 / (1 + perplexity) ≥ threshold.",
        "python": "Your Python expression or function body grades the output (Settings).",
        "javascript": "Not supported here: such checks are reported as not graded.",
    }
)
"""The types this module grades, with a line for the UI."""

JUDGED: Final[frozenset[str]] = frozenset(
    {
        "factuality",
        "model-graded-closedqa",
        "g-eval",
        "answer-relevance",
        "context-faithfulness",
        "select-best",
    }
)
"""Types that ask the judge model (the evaluation needs a judge column for them)."""

DEFAULT_THRESHOLDS: Final[Mapping[str, float]] = MappingProxyType(
    {
        "g-eval": 0.7,
        "answer-relevance": 0.0,
        "context-faithfulness": 0.0,
        "similar": 0.75,
    }
)
FACTUAL_PASS: Final = frozenset("ABCE")
NOT_GRADED: Final = "not_graded"
"""The key in a result's details that marks it as not graded (left out of the verdict)."""


@dataclass(frozen=True)
class CheckTools:
    """What these checks may use; each missing tool makes its checks not graded."""

    judge: JudgeCall | None = None
    embed: EmbedCall | None = None
    run_code: bool = False  # the user's "Run code checks" setting (never from a config)
    code_timeout: float = 5.0
    prompts: Mapping[str, str] = field(default_factory=lambda: dict(model_prompts.PROMPTS))


@dataclass(frozen=True)
class CheckInput:
    """The case around an answer: its variables, expected answer and the prompt sent."""

    variables: Mapping[str, object] = field(default_factory=dict)
    expected: str | None = None
    prompt: str = ""  # the rendered messages' text, promptfoo's ``prompt``


def handles(base: str) -> bool:
    return base in TYPES


def with_logprobs(target: RunTarget, checks: Sequence[Mapping[str, Any]]) -> RunTarget:
    """``target`` asking for token log-probabilities when a check needs them (and its
    server speaks an OpenAI API; Chat Completions returns them, the others do not)."""
    wanted = any(
        str(c.get("type", "")).removeprefix(grading.NEGATION_PREFIX).startswith("perplexity")
        for c in checks
    )
    if not wanted or target.endpoint.kind == "anthropic":
        return target
    return dataclasses.replace(target, logprobs=True)


def is_not_graded(result: GradeResult) -> bool:
    return bool(result.details.get(NOT_GRADED))


# ---- reading a check's value ------------------------------------------------------------


def check_value(spec: _Spec) -> None:
    """Raise :class:`GraderError` if the value or threshold of one of our types is wrong."""
    base, written, value, threshold = spec.base, spec.written, spec.value, spec.threshold
    if base in ("factuality", "model-graded-closedqa", "select-best"):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise grading.GraderError(f"The value of '{written}' must be text.")
        if base != "factuality" and value is None:
            raise grading.GraderError(f"'{written}' needs a 'value': the criteria to grade by.")
    elif base == "g-eval":
        _criteria(spec)
    elif base == "similar" and value is not None:
        _texts(written, value)
    elif base == "python":
        if not isinstance(value, str) or not value.strip():
            raise grading.GraderError(f"'{written}' needs a 'value': a Python expression.")
        if value.strip().startswith("file://"):
            raise grading.GraderError(f"'{written}': Python files are not supported.")
    elif base == "perplexity" and threshold is not None and threshold < 1:
        raise grading.GraderError(f"The threshold of '{written}' must be ≥ 1.")
    unit = base in ("g-eval", "answer-relevance", "context-faithfulness", "similar")
    if (unit or base == "perplexity-score") and threshold is not None and not 0 <= threshold <= 1:
        raise grading.GraderError(f"The threshold of '{written}' must be between 0 and 1.")


def _criteria(spec: _Spec) -> str:
    value = spec.value
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return "\n".join(f"- {item.strip()}" for item in value)
    raise grading.GraderError(f"'{spec.written}' needs a 'value': criteria, as text or a list.")


def _texts(written: str, value: object) -> list[str]:
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    raise grading.GraderError(f"The value of '{written}' must be text or a list of texts.")


# ---- grading --------------------------------------------------------------------------


async def grade(
    assertion: Mapping[str, Any], answer: Answer, tools: CheckTools, case: CheckInput
) -> GradeResult:
    """Grade one of our types (all but ``select-best``, see :func:`grade_select_best`).

    Never raises for a judge, an endpoint or code that fails: the result fails or is not
    graded, with the reason; so does a check the case cannot serve (``similar`` without a
    value on a case without an expected answer). Raises :class:`GraderError` for a
    malformed check (which :func:`graders.check_assertion` finds before a run).
    """
    from promptstudio.evals import graders  # it imports this module: here, not at the top

    spec = graders._parse(assertion)
    try:
        check = await _GRADERS[spec.base](spec, answer, tools, case)
    except _Failed as exc:
        check = grading._Check(False, str(exc), details=exc.details, decided=False)
    except grading.GraderError as exc:  # one the case decides: no expected answer for it
        check = grading._Check(False, exc.message, details={"error": exc.message}, decided=False)
    except PromptStudioError as exc:
        check = grading._Check(
            False, f"Could not grade: {exc.message}", details={"error": exc.message}, decided=False
        )
    return _finished(spec, check)


def _finished(spec: _Spec, check: _Check) -> GradeResult:
    if check.details.get(NOT_GRADED):
        return grading.GradeResult(False, 0.0, check.reason, spec.written, dict(check.details))
    return grading._result(spec, check)


def not_graded(reason: str) -> _Check:
    return grading._Check(False, f"Not graded: {reason}", details={NOT_GRADED: True}, decided=False)


class _Failed(Exception):
    """The judge or an endpoint failed: the check fails, negated or not."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {"error": message}


async def _ask(
    tools: CheckTools, name: str, values: Mapping[str, object], *, want: str
) -> tuple[dict[str, Any], str]:
    """Ask the judge with prompt ``name`` and return the last JSON object holding ``want``."""
    if tools.judge is None:
        raise _Failed("No judge model is chosen for model-graded checks.")
    template = tools.prompts.get(name) or model_prompts.PROMPTS[name]
    try:
        messages = render_messages(template, dict(values))
    except TemplateError as exc:
        raise grading.GraderError(
            f"The judge prompt of '{name}' could not be rendered ({exc.location()}): {exc}"
        ) from exc
    try:
        reply = await tools.judge(messages)
    except Exception as exc:  # CancelledError is a BaseException and goes through
        error = str(exc) or type(exc).__name__
        raise _Failed(f"The judge could not grade this answer: {error}") from exc
    found = [v for v in json_values(reply) if isinstance(v, dict) and want in v]
    if not found:
        raise _Failed(
            f"The judge's reply could not be read: it holds no JSON object with '{want}'.",
            {"reply": reply},
        )
    return found[-1], reply


def _input(case: CheckInput) -> str:
    query = case.variables.get("query")
    return query if isinstance(query, str) and query else case.prompt


async def _factuality(spec: _Spec, answer: Answer, tools: CheckTools, case: CheckInput) -> _Check:
    reference = spec.value if spec.value is not None else case.expected
    if not reference:
        raise grading.GraderError(
            f"'{spec.written}' needs a 'value' (the reference), or the case an expected answer."
        )
    values = {**case.variables, "input": _input(case), "reference": reference}
    verdict, reply = await _ask(
        tools, "factuality", {**values, "output": answer.text}, want="category"
    )
    category = str(verdict.get("category", "")).strip().strip("()").upper()[:1]
    if category not in "ABCDE" or not category:
        raise _Failed(f"The judge chose no category A to E ({verdict.get('category')!r}).")
    why = str(verdict.get("reason") or "").strip() or "The judge gave no reason."
    passed = category in FACTUAL_PASS
    details = {"reply": reply, "category": category, "reason": why}
    return grading._Check(passed, f"Category {category}. {why}", details=details)


async def _closed_qa(spec: _Spec, answer: Answer, tools: CheckTools, case: CheckInput) -> _Check:
    values = {**case.variables, "input": _input(case), "criteria": spec.value}
    verdict, reply = await _ask(
        tools, "model-graded-closedqa", {**values, "output": answer.text}, want="verdict"
    )
    said = str(verdict.get("verdict", "")).strip().upper()
    if said not in ("Y", "N", "YES", "NO"):
        raise _Failed(f"The judge's verdict is {said!r}, not Y or N.", {"reply": reply})
    why = str(verdict.get("reason") or "").strip() or "The judge gave no reason."
    return grading._Check(said.startswith("Y"), why, details={"reply": reply, "verdict": said[0]})


async def _g_eval(spec: _Spec, answer: Answer, tools: CheckTools, case: CheckInput) -> _Check:
    criteria = _criteria(spec)
    planned, _ = await _ask(tools, "g-eval (steps)", {"criteria": criteria}, want="steps")
    steps = planned.get("steps")
    listed = (
        "\n".join(f"{n}. {s}" for n, s in enumerate(steps, 1))
        if isinstance(steps, list)
        else str(steps)
    )
    values = {**case.variables, "input": _input(case), "criteria": criteria, "steps": listed}
    verdict, reply = await _ask(tools, "g-eval", {**values, "output": answer.text}, want="score")
    raw = verdict.get("score")
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise _Failed(f"The judge's score is {raw!r}, not a number from 0 to 10.", {"reply": reply})
    score = min(max(float(raw), 0.0), 10.0) / 10
    why = str(verdict.get("reason") or "").strip() or "The judge gave no reason."
    return _at_least(
        spec, score, f"G-Eval score {score:.2f}", why, {"reply": reply, "steps": steps}
    )


def _at_least(spec: _Spec, score: float, shown: str, why: str, details: dict[str, Any]) -> _Check:
    limit = spec.threshold if spec.threshold is not None else DEFAULT_THRESHOLDS[spec.base]
    passed = score >= limit
    where = "at least" if passed else "below"
    return grading._Check(
        passed,
        f"{shown}, {where} the threshold {limit:g}. {why}".strip(),
        score=score,
        details=details,
    )


async def _answer_relevance(
    spec: _Spec, answer: Answer, tools: CheckTools, case: CheckInput
) -> _Check:
    if tools.embed is None:
        return not_graded("answer-relevance needs an embeddings endpoint (Settings → Checks).")
    query = _input(case)
    if not query:
        return not_graded("the case has no 'query' variable and the prompt is empty.")
    asked, reply = await _ask(tools, "answer-relevance", {"output": answer.text}, want="questions")
    questions = [q for q in asked.get("questions") or [] if isinstance(q, str) and q.strip()]
    if not questions:
        raise _Failed("The judge wrote no questions.", {"reply": reply})
    vectors = await _embed(tools, [query, *questions])
    scores = [cosine(vectors[0], vector) for vector in vectors[1:]]
    score = max(0.0, sum(scores) / len(scores))
    details = {"questions": questions, "similarities": scores}
    return _at_least(spec, score, f"Relevance {score:.2f}", "", details)


async def _context_faithfulness(
    spec: _Spec, answer: Answer, tools: CheckTools, case: CheckInput
) -> _Check:
    context = case.variables.get("context")
    if isinstance(context, list):
        context = "\n\n".join(str(part) for part in context)
    if not isinstance(context, str) or not context.strip():
        return not_graded("context-faithfulness needs a 'context' variable in the case.")
    values = {**case.variables, "query": _input(case), "context": context}
    verdict, reply = await _ask(
        tools, "context-faithfulness", {**values, "output": answer.text}, want="claims"
    )
    claims = [c for c in verdict.get("claims") or [] if isinstance(c, dict)]
    supported = sum(1 for c in claims if c.get("supported") is True)
    score = supported / len(claims) if claims else 1.0
    shown = f"{supported} of {len(claims)} claims supported by the context ({score:.2f})"
    return _at_least(spec, score, shown, "", {"reply": reply, "claims": claims})


async def _similar(spec: _Spec, answer: Answer, tools: CheckTools, case: CheckInput) -> _Check:
    wanted = spec.value if spec.value is not None else case.expected
    if wanted is None:
        raise grading.GraderError(
            f"'{spec.written}' needs a 'value', or the case needs an expected answer."
        )
    if tools.embed is None:
        return not_graded("'similar' needs an embeddings endpoint (Settings → Checks).")
    references = _texts(spec.written, wanted)
    vectors = await _embed(tools, [answer.text, *references])
    scores = [cosine(vectors[0], vector) for vector in vectors[1:]]
    best = max(scores)
    return _at_least(spec, best, f"Cosine similarity {best:.3f}", "", {"similarities": scores})


async def _embed(tools: CheckTools, texts: list[str]) -> list[list[float]]:
    assert tools.embed is not None
    try:
        vectors = await tools.embed(texts)
    except PromptStudioError as exc:
        raise _Failed(f"The embeddings endpoint failed: {exc.message}") from exc
    if len(vectors) != len(texts) or any(not v for v in vectors):
        raise _Failed("The embeddings endpoint returned the wrong number of vectors.")
    return vectors


def cosine(first: Sequence[float], second: Sequence[float]) -> float:
    """Cosine similarity; 0 for a zero vector or vectors of different lengths."""
    if len(first) != len(second):
        return 0.0
    norms = math.sqrt(math.fsum(a * a for a in first)) * math.sqrt(math.fsum(b * b for b in second))
    return math.fsum(a * b for a, b in zip(first, second, strict=True)) / norms if norms else 0.0


async def _perplexity(spec: _Spec, answer: Answer, tools: CheckTools, case: CheckInput) -> _Check:
    logprobs = answer.logprobs
    if not logprobs:
        return not_graded(
            "this answer carries no token log-probabilities (its API did not return them)."
        )
    value = perplexity(logprobs)
    details = {"perplexity": value, "tokens": len(logprobs)}
    if spec.base == "perplexity-score":
        score = 1 / (1 + value)
        limit = spec.threshold if spec.threshold is not None else 0.0
        passed = score >= limit
        reason = f"Perplexity score {score:.3f} ({'≥' if passed else '<'} {limit:g})."
        return grading._Check(passed, reason, score=score, details=details)
    if spec.threshold is None:
        return grading._Check(True, f"Perplexity {value:.3f} (no threshold).", details=details)
    passed = value <= spec.threshold
    reason = f"Perplexity {value:.3f} ({'≤' if passed else '>'} {spec.threshold:g})."
    return grading._Check(passed, reason, details=details)


def perplexity(logprobs: Sequence[float]) -> float:
    """exp(−mean log-probability), as promptfoo computes it."""
    return math.exp(-math.fsum(logprobs) / len(logprobs))


async def _python(spec: _Spec, answer: Answer, tools: CheckTools, case: CheckInput) -> _Check:
    if not tools.run_code:
        return not_graded(
            "code checks are off. Turn on 'Run code checks' in Settings "
            "(the CLI: --allow-code-checks) to run this Python check."
        )
    from promptstudio.evals.code_check import run_python_check

    context = {"prompt": case.prompt, "vars": _plain(case.variables)}
    outcome = await run_python_check(spec.value, answer.text, context, timeout=tools.code_timeout)
    if outcome.error is not None:
        return grading._Check(
            False, outcome.error, score=0.0, details={"error": outcome.error}, decided=False
        )
    limit = spec.threshold
    passed = outcome.passed if limit is None else outcome.score >= limit
    return grading._Check(passed, outcome.reason, score=outcome.score)


def _plain(values: Mapping[str, object]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(dict(values), default=str))
    return result


async def _javascript(spec: _Spec, answer: Answer, tools: CheckTools, case: CheckInput) -> _Check:
    return not_graded("JavaScript checks are not supported in PromptStudio; use 'python'.")


async def _select_best_alone(
    spec: _Spec, answer: Answer, tools: CheckTools, case: CheckInput
) -> _Check:
    check = not_graded("'select-best' is graded when every column of the case has answered.")
    check.details[_PENDING] = True
    return check


_PENDING: Final = "pending"


_GRADERS: Final[dict[str, Callable[[_Spec, Answer, CheckTools, CheckInput], Awaitable[_Check]]]] = {
    "factuality": _factuality,
    "model-graded-closedqa": _closed_qa,
    "g-eval": _g_eval,
    "answer-relevance": _answer_relevance,
    "context-faithfulness": _context_faithfulness,
    "select-best": _select_best_alone,
    "similar": _similar,
    "perplexity": _perplexity,
    "perplexity-score": _perplexity,
    "python": _python,
    "javascript": _javascript,
}


async def grade_select_best(
    assertion: Mapping[str, Any], answers: Sequence[str], tools: CheckTools
) -> list[GradeResult]:
    """One result per answer of a case: the one the judge picks passes, the others fail."""
    from promptstudio.evals import graders  # it imports this module: here, not at the top

    spec = graders._parse(assertion)
    try:
        if len(answers) < 2:
            checks = [not_graded("'select-best' needs at least two answers to compare.")] * len(
                answers
            )
        else:
            verdict, reply = await _ask(
                tools,
                "select-best",
                {"criteria": spec.value, "outputs": list(answers)},
                want="best",
            )
            best = verdict.get("best")
            if isinstance(best, bool) or not isinstance(best, int) or not 0 <= best < len(answers):
                raise _Failed(
                    f"The judge chose {best!r}, not an output's number.", {"reply": reply}
                )
            why = str(verdict.get("reason") or "").strip()
            checks = [
                grading._Check(
                    number == best,
                    f"{'Chosen' if number == best else 'Not chosen'} as the best of "
                    f"{len(answers)} answers. {why}".strip(),
                    details={"reply": reply, "best": best},
                )
                for number in range(len(answers))
            ]
    except _Failed as exc:
        checks = [grading._Check(False, str(exc), details=exc.details, decided=False)] * len(
            answers
        )
    return [_finished(spec, check) for check in checks]


async def select_best_for_case(
    checks: Sequence[Mapping[str, Any]],
    case_key: str,
    columns: Sequence[str],
    run: EvalRun,
    tools: CheckTools,
    record: Callable[[CellResult], None],
) -> None:
    """Grade a case's ``select-best`` checks across its answered columns, once all columns
    have a cell (call after each cell is recorded; only the last call finds work to do).

    Each column's cell is recorded again with its placeholder replaced by the verdict.
    """
    from promptstudio.evals.results import DONE

    chosen = [
        index
        for index, check in enumerate(checks)
        if str(check.get("type", "")).removeprefix(grading.NEGATION_PREFIX) == "select-best"
    ]
    cells = [run.cell(case_key, column) for column in columns]
    if not chosen or any(cell is None for cell in cells):
        return
    done = [cell for cell in cells if cell is not None and cell.status == DONE]
    pending = [
        index
        for index in chosen
        if any(index < len(c.grades) and c.grades[index].details.get(_PENDING) for c in done)
    ]
    if not pending:
        return
    for cell in done:  # claimed before waiting on the judge: no second call grades again
        record(dataclasses.replace(cell, grades=_without_pending(cell.grades, pending)))
    answers = [cell.text for cell in done]
    verdicts = {index: await grade_select_best(checks[index], answers, tools) for index in pending}
    for number, cell in enumerate(done):
        grades = list(cell.grades)
        for index, results in verdicts.items():
            grades[index] = dataclasses.replace(results[number], weight=grades[index].weight)
        record(dataclasses.replace(cell, grades=tuple(grades)))


def _without_pending(
    grades: Sequence[GradeResult], indexes: Sequence[int]
) -> tuple[GradeResult, ...]:
    out = list(grades)
    for index in indexes:
        details = {k: v for k, v in out[index].details.items() if k != _PENDING}
        out[index] = dataclasses.replace(out[index], details=details)
    return tuple(out)
