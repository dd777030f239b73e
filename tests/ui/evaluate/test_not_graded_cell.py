"""A cell whose checks could not run here says "not graded", not "no checks"."""

from __future__ import annotations

from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import DONE, CellResult
from promptstudio.ui.evaluate.eval_grid_model import verdict_text


def test_a_cell_with_only_ungraded_checks_says_not_graded() -> None:
    skipped = GradeResult(False, 0.0, "Not graded: code checks are off.", "python",
                          {"not_graded": True})  # fmt: skip
    assert verdict_text(CellResult("1", "m", DONE, grades=(skipped,))) == "— not graded"
    assert verdict_text(CellResult("1", "m", DONE)) == "— no checks"
    passed = GradeResult(True, 1.0, "ok", "contains")
    verdict = verdict_text(CellResult("1", "m", DONE, grades=(skipped, passed)))
    assert verdict == "✓ pass (1 not graded)"
