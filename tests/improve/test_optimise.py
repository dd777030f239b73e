"""The optimiser's loop on stand-in services: ranking, and stopping without a real gain."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import DONE, CellResult, EvalCase, EvalColumn, EvalRun
from promptstudio.improve import ModelReply
from promptstudio.improve.optimise import (
    STOP_NO_GAIN,
    STOP_ROUNDS,
    OptimisationReport,
    Optimiser,
)
from promptstudio.storage import Database, library
from promptstudio.storage.rows import VersionRow

COLUMN = EvalColumn("c1", "m", "m", "http://x", {})


def _run(passes: list[bool]) -> EvalRun:
    cases = tuple(EvalCase(f"k{i}", i, {"q": str(i)}) for i in range(len(passes)))
    run = EvalRun(columns=(COLUMN,), cases=cases)
    for case, ok in zip(cases, passes, strict=True):
        grade = GradeResult(ok, 1.0 if ok else 0.0, "" if ok else "wrong", "equals")
        run.put(CellResult(case.key, "c1", DONE, text="a", grades=(grade,)))
    return run


def _optimise(
    tmp_path: Path, outcomes: dict[str, list[bool]], rounds: int
) -> tuple[OptimisationReport, list[Mapping[str, object]]]:
    db = Database(tmp_path / "library.sqlite3")
    prompt = db.call(library.create_prompt, "p")
    original = db.call(library.save_version, prompt.id, "user:\n{{ q }}\n", {}, {})
    asked: list[Mapping[str, object]] = []

    async def propose(values: Mapping[str, object]) -> ModelReply:
        asked.append(values)
        return ModelReply(f"Try {values['attempt']}.\n<prompt>\n{values['template']}"
                          f"line {len(asked)}\n</prompt>")  # fmt: skip

    async def evaluate(version: VersionRow) -> EvalRun:
        key = version.template.strip().splitlines()[-1]
        return _run(outcomes.get(key, outcomes["original"]))

    async def save(parent: int, template: str, message: str) -> VersionRow:
        return db.call(library.branch_version, parent, template, kind="candidate",
                       message=message)  # fmt: skip

    optimiser = Optimiser("p", original, propose=propose, evaluate=evaluate,
                          save_candidate=save, rounds=rounds, candidates=2)  # fmt: skip
    try:
        return asyncio.run(optimiser.run()), asked
    finally:
        db.close()


def test_a_round_without_a_significant_gain_stops_the_optimisation(tmp_path: Path) -> None:
    outcomes = {"original": [True, False, False, True],
                "line 1": [True, True, False, True], "line 2": [False] * 4}  # fmt: skip
    report, asked = _optimise(tmp_path, outcomes, rounds=3)
    assert (
        report.chosen is not None and report.chosen.version == 2
    )  # better (3/4 over 2/4) but not significantly
    assert report.stopped == STOP_NO_GAIN and len(report.rounds) == 1
    assert "not yet significant" in report.rounds[0].comparison
    assert "case 2" in str(asked[0]["failures"]) and "wrong" in str(asked[0]["failures"])


def test_a_significant_gain_goes_on_to_the_next_round(tmp_path: Path) -> None:
    eight_fail, eight_pass = [False] * 8, [True] * 8
    outcomes = {"original": eight_fail, "line 1": eight_pass, "line 2": eight_fail}
    report, _asked = _optimise(tmp_path, outcomes, rounds=2)
    assert [c.pass_rate for c in report.rounds[0].candidates] == [1.0, 0.0]
    assert report.rounds[0].comparison.endswith("better than v1.")
    assert len(report.rounds) == 2 and report.stopped in (STOP_ROUNDS, STOP_NO_GAIN)
    assert report.chosen is not None and report.chosen.round == 1
    assert "| 1 | v2 | 8/8 100% |" in report.to_markdown()
