"""What every grader shares: the answer, a check's finding and its result, the error.

:mod:`graders` (the deterministic checks and the dispatch) and the further checks
(``checks_more`` with its SQL checks in ``checks_sql``, ``checks_tools``, ``checks_model``)
all build on these; graders imports the further checks, and they import only this module
(and ``checks_more`` its ``checks_sql``) at import time, so any of them can be imported
first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from promptstudio.chat import ToolCall
from promptstudio.errors import PromptStudioError
from promptstudio.tools import ToolDef

if TYPE_CHECKING:
    from promptstudio.runs import TargetResult

NEGATION_PREFIX: Final = "not-"

NOT_GRADED: Final = "not_graded"
"""The key in a result's details that marks it as not graded (left out of the verdict)."""


class GraderError(PromptStudioError):
    """An assertion that cannot be graded as written: unknown type, bad value or threshold."""


@dataclass(frozen=True)
class Answer:
    """What one model produced for one case: the text and, when known, time and cost."""

    text: str
    latency_ms: float | None = None
    cost: float | None = None  # US dollars
    finish_reason: str | None = None  # as the provider said it: stop, end_turn, length, ...
    logprobs: tuple[float, ...] | None = None  # per token, when the API returned them
    tool_calls: tuple[ToolCall, ...] = ()
    tools: tuple[ToolDef, ...] = ()  # the prompt's tools, that the calls are checked against

    @classmethod
    def from_result(cls, result: TargetResult) -> Answer:
        """The answer of a finished run target (latency: the whole request)."""
        return cls(
            text=result.text,
            latency_ms=result.total_ms,
            cost=result.cost,
            finish_reason=result.finish_reason,
            tool_calls=result.tool_calls,
        )


@dataclass(frozen=True)
class GradeResult:
    """The verdict on one assertion: pass/fail, a score in 0..1 and why.

    ``grader`` is the type as written (``not-contains``); ``details`` holds what is worth
    keeping beyond the reason, JSON-ready (for ``llm-rubric``: the judge's raw reply and
    its own score, pass and reason; ``error`` when the judge failed; :data:`NOT_GRADED`
    when the check was not graded: ``reason`` says why, and ``passed`` means nothing).
    """

    passed: bool
    score: float
    reason: str
    grader: str
    details: dict[str, Any] = field(default_factory=dict, hash=False)
    weight: float = 1.0  # the check's promptfoo ``weight``: its share of the case's score

    @property
    def graded(self) -> bool:
        """False for a check that was not graded (left out of every verdict)."""
        return not self.details.get(NOT_GRADED)


@dataclass(frozen=True, slots=True)
class _Spec:
    written: str
    base: str
    negated: bool
    value: Any
    threshold: float | None


@dataclass(frozen=True, slots=True)
class _Check:
    """A grader's finding before negation. ``decided=False``: nothing to grade (no
    latency known, the judge failed), so the negated check fails as well."""

    passed: bool
    reason: str
    score: float | None = None  # None: 1.0 when passed, else 0.0
    details: dict[str, Any] = field(default_factory=dict)
    decided: bool = True


def _result(spec: _Spec, check: _Check) -> GradeResult:
    passed, reason = check.passed, check.reason
    score = check.score if check.score is not None else float(check.passed)
    if spec.negated and check.decided:
        passed, score = not passed, 1.0 - score
        verdict = "passes" if passed else "fails"
        reason = f"{reason} Negated with '{NEGATION_PREFIX}', so the check {verdict}."
    elif spec.negated:
        reason = f"{reason} The negated check fails too: there was nothing to negate."
    return GradeResult(passed, score, reason, spec.written, dict(check.details))


def _object_value(spec: _Spec) -> object:
    """An object value may arrive as the JSON text of a one-line check."""
    value = spec.value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise GraderError(f"The value of '{spec.written}' is not valid JSON ({exc}).") from None
    return value


def _number_text(value: int | float) -> str:
    """Numbers as promptfoo (JavaScript) writes them: 3, 2.5, never 3.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _snippet(text: str) -> str:
    return _quote(text, 20) if text else "the end of the text"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"
