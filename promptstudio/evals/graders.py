"""Graders: check one answer against one assertion, the way promptfoo does.

An assertion is a dict in promptfoo's shape, ``{"type", "value"?, "threshold"?}``, so a
case's stored ``asserts`` and the ``assert`` entries of a promptfoo config are the same
data. Type names and meanings follow promptfoo's documentation
(``configuration/expected-outputs/deterministic`` and ``model-graded/llm-rubric``); a
value written as a template (``{{ city }}``) is rendered with the case's variables first,
as promptfoo renders it (``runner.rendered_check``);
``max-length`` and ``min-length`` are ours (characters: promptfoo only counts words, with
``word-count``). Any type is negated by a ``not-`` prefix. Other keys promptfoo allows
(``weight``, ``metric``, ``provider``, ``description``, ...) are left to the caller.

promptfoo's other types (:data:`UNGRADED_TYPES`: code, embeddings, other model-graded
checks, ...) are accepted and reported as not graded, with the reason.

Deterministic types are graded synchronously by :func:`grade`; ``llm-rubric`` asks a judge
model through :func:`grade_with_judge`. A malformed assertion raises :class:`GraderError`
(:func:`check_assertion` finds it before a run); a judge that fails or answers nonsense
gives a failed result instead, so one bad reply never stops an evaluation.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from promptstudio.evals import checks_model, checks_more, checks_tools
from promptstudio.evals.grading import (
    NEGATION_PREFIX,
    NOT_GRADED,
    Answer,
    GraderError,
    GradeResult,
    _Check,
    _number_text,
    _plural,
    _quote,
    _result,
    _snippet,
    _Spec,
)
from promptstudio.evals.json_answers import json_values, loads, schema_problem

if TYPE_CHECKING:
    from jsonschema.protocols import Validator


log = logging.getLogger(__name__)

ASSERTION_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "equals": "The output is exactly the value (default: the case's expected answer).",
        "contains": "The output contains the value.",
        "icontains": "The output contains the value, ignoring case.",
        "starts-with": "The output starts with the value.",
        "regex": "The output matches the regular expression (Python syntax).",
        "is-json": "The output is JSON, valid against the value as a JSON Schema if given.",
        "contains-json": "The output holds JSON, valid against the value as a schema if given.",
        "word-count": "The output has exactly value words, or value.min to value.max words.",
        "max-length": "The output is at most value characters long.",
        "min-length": "The output is at least value characters long.",
        "latency": "The answer took at most threshold milliseconds.",
        "cost": "The answer cost at most threshold US dollars.",
        "llm-rubric": "A judge model grades the output against the rubric in value.",
        **checks_more.TYPES,
        **checks_tools.TYPES,
        **checks_model.TYPES,
    }
)
"""Every type we grade, with a line for the UI; each also works with ``not-`` in front."""

MODEL_GRADED: Final = frozenset({"llm-rubric", *checks_model.JUDGED})


def _ungraded(reason: str, *types: str) -> dict[str, str]:
    return dict.fromkeys(types, reason)


PROMPTFOO_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        **_ungraded(
            "it runs code from the config, which PromptStudio does not run",
            *("javascript", "python", "ruby", "webhook"),
        ),
        **_ungraded(
            "it compares embeddings, which PromptStudio does not compute",
            *("similar", "similar:cosine", "similar:dot", "similar:euclidean"),
        ),
        **_ungraded(
            "it is a model-graded check PromptStudio does not have (only llm-rubric)",
            *("answer-relevance", "context-faithfulness", "context-recall", "context-relevance"),
            *("conversation-relevance", "factuality", "model-graded-closedqa", "g-eval"),
            *("model-graded-factuality", "search-rubric", "select-best", "agent-rubric"),
            *("classifier", "moderation", "pi", "guardrails", "is-refusal", "human"),
        ),
        **_ungraded(
            "PromptStudio does not compute this metric",
            *("bleu", "gleu", "meteor", "rouge-n", "levenshtein", "perplexity"),
            *("perplexity-score", "max-score"),
        ),
        **_ungraded(
            "PromptStudio has no grader of this type",
            *("contains-all", "contains-any", "icontains-all", "icontains-any"),
            *("contains-html", "is-html", "is-sql", "contains-sql", "is-xml", "contains-xml"),
            *("is-valid-function-call", "is-valid-openai-function-call"),
            *("is-valid-openai-tools-call", "finish-reason", "tool-call-f1", "skill-used"),
            *("trace-error-spans", "trace-span-count", "trace-span-duration"),
            *("trajectory:goal-success", "trajectory:tool-args-match", "trajectory:step-count"),
            *("trajectory:tool-sequence", "trajectory:tool-used"),
        ),
    }
)
"""promptfoo's assertion types (0.121) beyond the first ones, each with why a check of it
would not be graded without a grader of its own."""

UNGRADED_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {name: why for name, why in PROMPTFOO_TYPES.items() if name not in ASSERTION_TYPES}
)
"""promptfoo's types PromptStudio has no grader for, each with why.

A check of one of these types is accepted (an imported config keeps it, and exports it
again as it was) but not graded: :func:`grade` gives a result marked not graded
(:data:`NOT_GRADED` in its details) that says why, and a case's verdict is made of its
other checks.
"""

# ---- reading assertions -------------------------------------------------------------


def check_assertion(assertion: Mapping[str, Any]) -> None:
    """Raise :class:`GraderError` if ``assertion`` cannot be graded; say what is wrong."""
    _parse(assertion)


def ungraded_reason(assertion: Mapping[str, Any]) -> str | None:
    """Why ``assertion`` is not graded here (a sentence); None when it is graded."""
    written = assertion.get("type") if isinstance(assertion, Mapping) else None
    if not isinstance(written, str):
        return None
    why = UNGRADED_TYPES.get(written.removeprefix(NEGATION_PREFIX))
    return None if why is None else f"Not graded: '{written}' is a promptfoo check; {why}."


def needs_judge(assertion: Mapping[str, Any]) -> bool:
    """True for model-graded types (``llm-rubric``, negated or not)."""
    return _parse(assertion).base in MODEL_GRADED


def _parse(assertion: Mapping[str, Any]) -> _Spec:
    if not isinstance(assertion, Mapping):
        raise GraderError("A check must be a mapping with a 'type', like {'type': 'contains'}.")
    written = assertion.get("type")
    if not isinstance(written, str) or not written.strip():
        raise GraderError("A check needs a 'type', such as 'contains' or 'not-regex'.")
    negated = written.startswith(NEGATION_PREFIX)
    base = written.removeprefix(NEGATION_PREFIX)
    if base in UNGRADED_TYPES:
        return _Spec(written, base, negated, assertion.get("value"), None)
    if base not in ASSERTION_TYPES:
        known = ", ".join(ASSERTION_TYPES)
        raise GraderError(
            f"Unknown check type '{written}'. Known types: {known}; "
            f"each can be negated with '{NEGATION_PREFIX}'."
        )
    spec = _Spec(
        written=written,
        base=base,
        negated=negated,
        value=assertion.get("value"),
        threshold=_threshold(written, assertion.get("threshold")),
    )
    _check_value(spec)
    checks_more.check_weight(written, assertion.get("weight"))
    return spec


def _threshold(written: str, raw: object) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise GraderError(f"The threshold of '{written}' must be a number, not {raw!r}.")
    return float(raw)


def _check_value(spec: _Spec) -> None:
    written, base, value, threshold = spec.written, spec.base, spec.value, spec.threshold
    if base in ("contains", "icontains", "starts-with"):
        _text_value(written, value, "the text to look for")
    elif base == "equals":
        if value is not None and not isinstance(value, str | int | float | list | dict):
            raise GraderError(f"The value of '{written}' must be text, a number or JSON.")
    elif base == "regex":
        _compiled(written, value)
    elif base in ("is-json", "contains-json"):
        if value is not None:
            _validator(written, value)
    elif base == "word-count":
        _word_range(written, value)
    elif base in ("max-length", "min-length"):
        _count(written, value, "value")
    elif base in ("latency", "cost"):
        unit = "milliseconds" if base == "latency" else "US dollars"
        if threshold is None:
            raise GraderError(f"'{written}' needs a 'threshold', in {unit}.")
        if threshold < 0:
            raise GraderError(f"The threshold of '{written}' cannot be negative.")
    elif base == "llm-rubric":
        if not isinstance(value, str) or not value.strip():
            raise GraderError(f"'{written}' needs a 'value': the rubric the judge grades by.")
        if threshold is not None and not 0 <= threshold <= 1:
            raise GraderError(f"The threshold of '{written}' must be between 0 and 1.")
    elif base in checks_more.TYPES:
        checks_more.check_value(spec)
    elif base in checks_tools.TYPES:
        checks_tools.check_value(spec)
    elif base in checks_model.TYPES:
        checks_model.check_value(spec)


def _text_value(written: str, value: object, what: str) -> str:
    if value is None:
        raise GraderError(f"'{written}' needs a 'value': {what}.")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise GraderError(f"The value of '{written}' must be text, not {type(value).__name__}.")
    text = value if isinstance(value, str) else _number_text(value)
    if not text:
        raise GraderError(f"The value of '{written}' is empty: give {what}.")
    return text


def _compiled(written: str, value: object) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise GraderError(f"'{written}' needs a 'value': the regular expression to match.")
    try:
        return re.compile(value)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise GraderError(
            f"The regex {value!r} of '{written}' is invalid{where}: {exc.msg}."
        ) from exc


def _validator(written: str, schema: object) -> Validator:
    """A validator for ``schema`` (jsonschema picks the draft from ``$schema``)."""
    import jsonschema  # a fifth of a second to import: only when a schema is used

    if not isinstance(schema, dict):
        raise GraderError(
            f"The value of '{written}' must be a JSON Schema (an object); "
            "file references are not supported."
        )
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise GraderError(
            f"The JSON Schema of '{written}' is invalid at {exc.json_path}: {exc.message}."
        ) from exc
    validator: Validator = cls(schema)
    return validator


def _count(written: str, value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GraderError(f"The {name} of '{written}' must be a whole number ≥ 0, not {value!r}.")
    return value


def _word_range(written: str, value: object) -> tuple[int | None, int | None]:
    """``(min, max)`` words; an exact count gives both."""
    if isinstance(value, Mapping):
        low = None if value.get("min") is None else _count(written, value["min"], "min")
        high = None if value.get("max") is None else _count(written, value["max"], "max")
        if low is None and high is None:
            raise GraderError(f"The value of '{written}' needs 'min' and/or 'max'.")
        if low is not None and high is not None and low > high:
            raise GraderError(f"In '{written}', min ({low}) is greater than max ({high}).")
        return low, high
    if value is None:
        raise GraderError(f"'{written}' needs a 'value': a word count or {{min, max}}.")
    exact = _count(written, value, "value")
    return exact, exact


# ---- deterministic grading ----------------------------------------------------------


def grade(
    assertion: Mapping[str, Any], answer: Answer, *, expected: str | None = None
) -> GradeResult:
    """Grade ``answer`` by one deterministic assertion.

    ``expected`` is the case's expected answer, used by ``equals`` without a value.
    Raises :class:`GraderError` for a malformed assertion or an ``llm-rubric`` (that one
    needs :func:`grade_with_judge`).
    """
    spec = _parse(assertion)
    not_graded = ungraded_reason(assertion)
    if not_graded is not None:
        return GradeResult(False, 0.0, not_graded, spec.written, {NOT_GRADED: True})
    if spec.base in MODEL_GRADED:
        raise GraderError(f"'{spec.written}' needs a judge model: use grade_with_judge().")
    if spec.base in checks_model.TYPES:
        raise GraderError(f"'{spec.written}' is graded by checks_model.grade().")
    return _result(spec, _GRADERS[spec.base](spec, answer, expected))


def _equals(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    want = spec.value if spec.value is not None else expected
    if want is None:
        raise GraderError(
            f"'{spec.written}' needs a 'value', or the case needs an expected answer."
        )
    if isinstance(want, dict | list):
        try:
            data = loads(answer.text)
        except ValueError:
            return _Check(False, "The output is not JSON, so it cannot equal the expected JSON.")
        if data == want:
            return _Check(True, "The output's JSON equals the expected JSON.")
        return _Check(False, "The output's JSON differs from the expected JSON.")
    text = want if isinstance(want, str) else _number_text(want)
    if answer.text == text:
        return _Check(True, "The output equals the expected text.")
    return _Check(False, _difference(answer.text, text))


def _difference(got: str, want: str) -> str:
    index = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
    if index is None:
        index = min(len(got), len(want))
    return (
        f"The output differs from the expected text at character {index + 1}: "
        f"expected {_snippet(want[index:])}, got {_snippet(got[index:])}."
    )


def _contains(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    needle = _text_value(spec.written, spec.value, "the text to look for")
    if spec.base == "icontains":  # lower(), as promptfoo's toLowerCase(): "ß" is not "ss"
        found = needle.lower() in answer.text.lower()
        how = " (ignoring case)"
    else:
        found, how = needle in answer.text, ""
    if found:
        return _Check(True, f"The output contains {_quote(needle)}{how}.")
    return _Check(False, f"The output does not contain {_quote(needle)}{how}.")


def _starts_with(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    prefix = _text_value(spec.written, spec.value, "the text to look for")
    if answer.text.startswith(prefix):
        return _Check(True, f"The output starts with {_quote(prefix)}.")
    return _Check(False, f"The output starts with {_snippet(answer.text)}, not {_quote(prefix)}.")


def _regex(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    pattern = _compiled(spec.written, spec.value)
    match = pattern.search(answer.text)
    if match is None:
        return _Check(False, f"The output does not match /{pattern.pattern}/.")
    return _Check(
        True,
        f"The output matches /{pattern.pattern}/ at character {match.start() + 1}: "
        f"{_quote(match.group(0))}.",
    )


def _is_json(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    try:
        data = loads(answer.text)
    except ValueError as exc:
        return _Check(False, f"The output is not valid JSON: {exc}.")
    if spec.value is None:
        return _Check(True, "The output is valid JSON.")
    problem = schema_problem(_validator(spec.written, spec.value), data)
    if problem is None:
        return _Check(True, "The output is valid JSON and matches the schema.")
    return _Check(False, f"The output's JSON does not match the schema: {problem}.")


def _contains_json(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    found = json_values(answer.text)
    if not found:
        return _Check(False, "The output contains no JSON object or array.")
    if spec.value is None:
        return _Check(True, f"The output contains JSON ({_plural(len(found), 'value')}).")
    validator = _validator(spec.written, spec.value)
    problems = []
    for data in found:
        problem = schema_problem(validator, data)
        if problem is None:
            return _Check(True, "The output contains JSON that matches the schema.")
        problems.append(problem)
    return _Check(
        False,
        f"None of the output's JSON ({_plural(len(found), 'value')}) matches the schema; "
        f"the first: {problems[0]}.",
    )


def _word_count(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    low, high = _word_range(spec.written, spec.value)
    words = len(answer.text.split())
    counted = _plural(words, "word")
    if low is not None and low == high:
        if words == low:
            return _Check(True, f"The output has {counted}, as required.")
        return _Check(False, f"The output has {counted}, not {low}.")
    if low is not None and words < low:
        return _Check(False, f"The output has {counted}, fewer than the minimum of {low}.")
    if high is not None and words > high:
        return _Check(False, f"The output has {counted}, more than the maximum of {high}.")
    return _Check(True, f"The output has {counted}, within the limits.")


def _length(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    limit = _count(spec.written, spec.value, "value")
    size = len(answer.text)
    counted = _plural(size, "character")
    if spec.base == "max-length":
        if size <= limit:
            return _Check(True, f"The output has {counted}, within the maximum of {limit}.")
        return _Check(False, f"The output has {counted}, more than the maximum of {limit}.")
    if size >= limit:
        return _Check(True, f"The output has {counted}, at least the minimum of {limit}.")
    return _Check(False, f"The output has {counted}, fewer than the minimum of {limit}.")


def _latency(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    limit = spec.threshold
    assert limit is not None  # _check_value requires it
    if answer.latency_ms is None:
        return _Check(False, "No latency was recorded for this answer.", decided=False)
    took = f"The answer took {answer.latency_ms:,.0f} ms"
    if answer.latency_ms <= limit:
        return _Check(True, f"{took}, within the limit of {limit:,.0f} ms.")
    return _Check(False, f"{took}, over the limit of {limit:,.0f} ms.")


def _cost(spec: _Spec, answer: Answer, expected: str | None) -> _Check:
    limit = spec.threshold
    assert limit is not None  # _check_value requires it
    if answer.cost is None:
        return _Check(
            False,
            "The cost of this answer is unknown (no price for the model, or no usage).",
            decided=False,
        )
    cost = f"The answer cost ${answer.cost:.6g}"
    if answer.cost <= limit:
        return _Check(True, f"{cost}, within the limit of ${limit:.6g}.")
    return _Check(False, f"{cost}, over the limit of ${limit:.6g}.")


_GRADERS: Final[dict[str, Callable[[_Spec, Answer, str | None], _Check]]] = {
    "equals": _equals,
    "contains": _contains,
    "icontains": _contains,
    "starts-with": _starts_with,
    "regex": _regex,
    "is-json": _is_json,
    "contains-json": _contains_json,
    "word-count": _word_count,
    "max-length": _length,
    "min-length": _length,
    "latency": _latency,
    "cost": _cost,
    **checks_more.GRADERS,
    **checks_tools.GRADERS,
}


# ---- text helpers -------------------------------------------------------------------
