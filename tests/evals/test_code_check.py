"""The ``python`` check: the user's code in a separate, time-limited interpreter."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from promptstudio.evals import checks_model
from promptstudio.evals.checks_model import CheckInput, CheckTools
from promptstudio.evals.code_check import MAX_OUTPUT_BYTES, run_python_check
from promptstudio.evals.graders import Answer, GradeResult

ON = CheckTools(run_code=True, code_timeout=5.0)


def graded(code: str, text: str = "Paris", tools: CheckTools = ON, **check: Any) -> GradeResult:
    case = CheckInput(variables={"country": "France"}, prompt="Capital of France?")
    assertion = {"type": "python", "value": code, **check}
    return asyncio.run(checks_model.grade(assertion, Answer(text), tools, case))


@pytest.mark.parametrize(
    ("code", "passed", "score"),
    [
        ("output == 'Paris'", True, 1.0),
        ("output.startswith('L')", False, 0.0),
        ("len(output) / 10", True, 0.5),
        ("0", False, 0.0),
        ("context['vars']['country'] in context['prompt']", True, 1.0),
        ("return {'pass': True, 'score': 0.9, 'reason': 'fine'}", True, 0.9),
        ("x = output.lower()\nreturn x == 'paris'", True, 1.0),
    ],
)
def test_the_result_becomes_the_verdict(code: str, passed: bool, score: float) -> None:
    result = graded(code)
    assert (result.passed, result.score) == (passed, pytest.approx(score))


def test_a_number_passes_at_the_threshold() -> None:
    assert not graded("len(output) / 10", threshold=0.6).passed
    assert graded("len(output) / 10", threshold=0.5).passed


def test_prints_do_not_confuse_the_result() -> None:
    assert graded("print('noise')\nreturn True").passed


def test_an_exception_fails_the_check_with_the_reason() -> None:
    result = graded("1 / 0")
    assert not result.passed
    assert "ZeroDivisionError" in result.reason


def test_a_negated_exception_still_fails() -> None:
    assert not asyncio.run(
        checks_model.grade({"type": "not-python", "value": "1 / 0"}, Answer("x"), ON, CheckInput())
    ).passed


def test_a_timeout_fails_the_check_and_kills_the_process() -> None:
    tools = CheckTools(run_code=True, code_timeout=0.5)
    result = graded("while True:\n    pass", tools=tools)
    assert not result.passed
    assert "did not finish within 0.5 s" in result.reason


def test_a_flood_of_output_is_cut() -> None:
    code = f"import sys\nsys.__stdout__.write('x' * {MAX_OUTPUT_BYTES * 4})\nreturn True"
    result = graded(code)
    assert not result.passed and "printed more than" in result.reason


def test_an_unusable_result_is_a_failure() -> None:
    result = graded("[1, 2]")
    assert not result.passed and "was expected" in result.reason


def test_code_checks_are_off_by_default() -> None:
    result = graded("True", tools=CheckTools())
    assert checks_model.is_not_graded(result)
    assert "Run code checks" in result.reason


def test_the_interpreter_is_isolated(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # A module in the current directory (or on PYTHONPATH) is not importable with -I.
    (tmp_path / "planted.py").write_text("VALUE = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    outcome = asyncio.run(run_python_check("__import__('planted').VALUE == 1", "", {}))
    assert outcome.error is not None and "ModuleNotFoundError" in outcome.error
