"""Evaluations: grade answers against a case's checks (promptfoo-style assertions).

Qt-free, like the rest of the core. ``graders`` holds the deterministic checks, ``judge``
the model-graded one (``llm-rubric``), ``checks_text`` the one-line text form of checks.
"""

from __future__ import annotations

from promptstudio.evals.checks_text import (
    CheckLineError,
    format_check,
    format_checks,
    parse_check,
    parse_checks,
    reads_as_check,
)
from promptstudio.evals.graders import (
    ASSERTION_TYPES,
    MODEL_GRADED,
    NEGATION_PREFIX,
    Answer,
    GraderError,
    GradeResult,
    check_assertion,
    grade,
    needs_judge,
)
from promptstudio.evals.judge import (
    DEFAULT_JUDGE_PROMPT,
    JudgeCall,
    grade_with_judge,
    judge_messages,
    judge_with_endpoint,
)

__all__ = [
    "ASSERTION_TYPES",
    "DEFAULT_JUDGE_PROMPT",
    "MODEL_GRADED",
    "NEGATION_PREFIX",
    "Answer",
    "CheckLineError",
    "GradeResult",
    "GraderError",
    "JudgeCall",
    "check_assertion",
    "format_check",
    "format_checks",
    "grade",
    "grade_with_judge",
    "judge_messages",
    "judge_with_endpoint",
    "needs_judge",
    "parse_check",
    "parse_checks",
    "reads_as_check",
]
