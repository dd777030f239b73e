"""How far the judge model agrees with the person rating the same answers.

An answer counts when it has both a person's 👍/👎 (``EvalRun.ratings``) and a verdict of
the judge: every model-graded check on it (``llm-rubric``, or any grade that carries the
judge's ``reply``) passed, or not. Cohen's kappa and the confusion counts come from
:func:`promptstudio.evals.stats.cohen_kappa`; the person is the first rater.
"""

from __future__ import annotations

from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import EvalRun
from promptstudio.evals.stats import Agreement, cohen_kappa

PASS, FAIL = "pass", "fail"
JUDGE_GRADERS = frozenset({"llm-rubric"})


def is_judged(grade: GradeResult) -> bool:
    return grade.grader in JUDGE_GRADERS or "reply" in grade.details


def judge_verdict(grades: tuple[GradeResult, ...]) -> bool | None:
    """The judge's verdict on one answer: all its model-graded checks passed; None: none."""
    judged = [grade.passed for grade in grades if is_judged(grade)]
    return all(judged) if judged else None


def judge_agreement(run: EvalRun) -> Agreement[str] | None:
    """The person (first) against the judge (second); None when no answer has both."""
    human: list[str] = []
    judge: list[str] = []
    for key, rating in run.ratings.items():
        cell = run.cells.get(key)
        person = getattr(rating, "passed", None)
        verdict = judge_verdict(cell.grades) if cell is not None else None
        if person is None or verdict is None:
            continue
        human.append(PASS if person else FAIL)
        judge.append(PASS if verdict else FAIL)
    if not human:
        return None
    return cohen_kappa(human, judge)


def has_judge_verdicts(run: EvalRun) -> bool:
    return any(judge_verdict(cell.grades) is not None for cell in run.cells.values())


def agreement_short(agreement: Agreement[str] | None) -> str:
    """A few characters for a toolbar: ``judge κ 0.42 · 7 rated``."""
    if agreement is None:
        return "judge κ —"
    kappa = "undefined" if agreement.kappa is None else f"{agreement.kappa:.2f}"
    return f"judge κ {kappa} · {agreement.items} rated"


def agreement_text(agreement: Agreement[str] | None) -> str:
    """One line: kappa over how many answers, and the four counts."""
    if agreement is None:
        return "Judge vs you: rate answers the judge graded (👍/👎) to see how far it agrees."
    kappa = "undefined" if agreement.kappa is None else f"{agreement.kappa:.2f}"
    counts = (
        f"both pass {agreement.count(PASS, PASS)} · both fail {agreement.count(FAIL, FAIL)} · "
        f"judge pass, you fail {agreement.count(FAIL, PASS)} · "
        f"judge fail, you pass {agreement.count(PASS, FAIL)}"
    )
    return f"Judge vs you: κ = {kappa} over {agreement.items} answers ({counts})"
