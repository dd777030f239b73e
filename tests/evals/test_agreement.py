"""The judge's agreement with a person's ratings on one evaluation."""

from __future__ import annotations

import pytest

from promptstudio.evals.agreement import agreement_text, judge_agreement
from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import DONE, CellResult, EvalColumn, EvalRun
from promptstudio.storage.ratings import BAD, GOOD, Rating


def _run(pairs: list[tuple[int | None, bool | None]]) -> EvalRun:
    run = EvalRun(columns=(EvalColumn("a", "m", "m", "", {}),), cases=())
    for n, (human, judge) in enumerate(pairs):
        grades: tuple[GradeResult, ...] = (GradeResult(True, 1.0, "", "contains"),)  # not judged
        if judge is not None:
            grades += (GradeResult(judge, float(judge), "", "llm-rubric"),)
        run.cells[(f"c{n}", "a")] = CellResult(f"c{n}", "a", DONE, grades=grades)
        if human is not None:
            run.ratings[(f"c{n}", "a")] = Rating(human)
    return run


def test_kappa_and_counts_over_answers_rated_by_both() -> None:
    pairs: list[tuple[int | None, bool | None]] = [
        (GOOD, True), (GOOD, True), (GOOD, True), (BAD, False), (BAD, False),
        (GOOD, False), (BAD, True),
        (None, True), (GOOD, None),  # only one of the two: left out
    ]  # fmt: skip
    agreement = judge_agreement(_run(pairs))
    assert agreement is not None and agreement.items == 7
    # p_o = 5/7; p_e = (4*4 + 3*3) / 49 = 25/49; kappa = (35/49 - 25/49) / (24/49)
    assert agreement.kappa == pytest.approx(10 / 24)
    text = agreement_text(agreement)
    assert "κ = 0.42 over 7 answers" in text
    assert "both pass 3 · both fail 2 · judge pass, you fail 1 · judge fail, you pass 1" in text


def test_no_overlap_and_one_verdict_say_so() -> None:
    assert judge_agreement(_run([(None, True), (GOOD, None)])) is None
    assert "rate answers the judge graded" in agreement_text(None)
    same = judge_agreement(_run([(GOOD, True), (GOOD, True)]))
    assert same is not None and same.kappa is None
    assert "κ = undefined over 2 answers" in agreement_text(same)
