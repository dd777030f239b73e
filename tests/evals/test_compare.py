"""Paired comparisons and the ROI line: what the grid and ``eval --compare`` both show."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pytest

from promptstudio.evals.compare import (
    COST_UNKNOWN,
    compare_models,
    compare_versions,
    comparisons,
)
from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import (
    DONE,
    FAILED,
    CellResult,
    EvalCase,
    EvalColumn,
    EvalRun,
    case_verdict,
    compare_runs,
)
from promptstudio.evals.stats import StatisticsError, paired_difference_interval
from promptstudio.providers import ModelPrice, PriceTable

Verdict = bool | list[bool] | None


def grade(passed: bool, score: float | None = None) -> GradeResult:
    return GradeResult(passed, (1.0 if passed else 0.0) if score is None else score, "", "equals")


def make_run(
    version: int,
    verdicts: Mapping[str, Sequence[Verdict]],
    *,
    cost: float | None = 0.001,
    cached: bool = False,
    repeat: int = 1,
) -> EvalRun:
    """A run whose columns are ``verdicts``' keys; a list of verdicts is a case's samples."""
    columns = tuple(EvalColumn(key, key, key, "http://api") for key in verdicts)
    count = max(len(v) for v in verdicts.values())
    cases = tuple(EvalCase(str(n), n) for n in range(count))
    run = EvalRun(columns, cases, id=version * 10, version_number=version)
    if repeat > 1:
        run.settings["repeat"] = repeat
    for key, column in verdicts.items():
        for n, verdict in enumerate(column):
            samples = verdict if isinstance(verdict, list) else [verdict]
            for sample, passed in enumerate(samples):
                grades = () if passed is None else (grade(passed),)
                run.put(
                    CellResult(
                        str(n), key, DONE, cost=0.0 if cached else cost, cached=cached,
                        input_tokens=1000, output_tokens=500, grades=grades, sample=sample,
                    )
                )  # fmt: skip
    return run


def test_the_issue_example_in_numbers_and_words() -> None:
    old = make_run(3, {"gpt": [False] * 7 + [True] + [True] * 2}, cost=0.0007)
    new = make_run(4, {"gpt": [True] * 7 + [False] + [True] * 2}, cost=0.00042)
    [found] = compare_versions(old, new)
    paired = found.paired
    assert (paired.gained, paired.lost, paired.both_passed, paired.both_failed) == (7, 1, 2, 0)
    assert paired.p_value == pytest.approx(0.0703125)  # 2 · 9/256
    assert found.sentence() == (
        "v4 passes 7 cases v3 failed and fails 1 it passed; p = 0.07: not yet significant — "
        "add cases or repeats."
    )
    assert found.roi_line() == (
        "v4 vs v3 on gpt: pass rate 90% (95% CI 60–98%) vs 30% (11–60%), +60 points "
        "(95% CI +7 to +84), p = 0.07; cost per 1,000 answers $0.42 vs $0.70 (−40%)"
    )
    data = found.to_dict()
    assert data["new"]["pass_rate_low"] == pytest.approx(0.5958, abs=1e-4)
    assert data["pass_rate_change"]["difference"] == pytest.approx(0.6)
    assert data["mean_score_change"]["mean_difference"] == pytest.approx(0.6)
    assert data["significant"] is False and data["roi"] == found.roi_line()


def test_nothing_graded_on_both_sides_is_said_not_divided_by_zero() -> None:
    old = make_run(1, {"gpt": [None, None]}, cost=None)
    new = make_run(2, {"gpt": [True, None]}, cost=None)
    [found] = compare_versions(old, new)
    assert found.paired.cases == 0 and found.rate_change is None
    assert found.rate_change_interval is None and found.score_change is None
    assert found.sentence() == "v2 and v1 share no graded cases: nothing to compare."
    assert found.roi_line() == (
        "v2 vs v1 on gpt: no answers graded on both sides; "
        f"{COST_UNKNOWN} (no price for either model)"
    )


def test_all_pass_on_both_sides_is_no_difference() -> None:
    old, new = make_run(1, {"gpt": [True] * 10}), make_run(2, {"gpt": [True] * 10})
    [found] = compare_versions(old, new)
    assert found.paired.p_value == 1.0 and found.paired.verdict == "no difference"
    assert found.sentence() == "v2 and v1 agree on all 10 cases: no difference to test."
    interval = found.rate_change_interval
    assert interval is not None and interval.low < 0 < interval.high
    assert "±0 points" in found.roi_line() and "p = 1" in found.roi_line()
    assert found.score_change is not None and found.score_change.interval.low == 0.0


def test_a_tie_of_discordant_cases_is_not_significant() -> None:
    old = make_run(1, {"gpt": [True, True, False, False, True]})
    new = make_run(2, {"gpt": [False, False, True, True, True]})
    [found] = compare_versions(old, new)
    assert (found.paired.gained, found.paired.lost) == (2, 2)
    assert found.paired.p_value == 1.0 and not found.paired.significant
    assert "±0 points" in found.roi_line()


def test_a_significant_change_says_so() -> None:
    old = make_run(1, {"gpt": [False] * 12 + [True] * 3})
    new = make_run(2, {"gpt": [True] * 15})
    [found] = compare_versions(old, new)
    assert found.paired.p_value == pytest.approx(2 / 4096)
    assert "significant at 5% — v2 is better than v1" in found.sentence()


def test_models_in_one_run_are_compared_with_the_first() -> None:
    run = make_run(5, {"large": [True, True, False, True], "small": [True, True, True, True]})
    [found] = compare_models(run)
    assert (found.new.name, found.old.name, found.subject) == ("small", "large", "v5")
    assert found.roi_line().startswith("small vs large on v5: pass rate 100%")
    assert compare_models(make_run(1, {"only": [True]})) == []
    both = comparisons(run, make_run(4, {"large": [True] * 4, "small": [False] * 4}))
    assert [c.new.name for c in both] == ["v5", "v5", "small"]


def test_cost_unknown_without_a_price_and_cached_answers_priced_by_their_tokens() -> None:
    old = make_run(1, {"gpt": [True, False]}, cost=None)
    new = make_run(2, {"gpt": [True, True]}, cost=0.002)
    [found] = compare_versions(old, new)
    assert found.old.cost_per_1000 is None
    assert "cost per 1,000 answers $2.00 vs cost unknown" in found.roi_line()
    # Served from the cache (cost 0): priced by their real usage at the table's prices.
    cached = make_run(3, {"gpt": [True, True]}, cached=True)
    table = PriceTable({"gpt": ModelPrice(input=1.0, output=2.0)})  # $ per million tokens
    [found] = compare_versions(old, cached, table)
    assert found.new.cost_per_1000 == pytest.approx(2.0)  # (1000·1 + 500·2)/1e6 · 1000
    [found] = compare_versions(old, cached)
    assert found.new.cost_per_1000 is None  # no table: a cache hit's $0 is not its cost


def test_failed_requests_count_as_failures_and_are_not_priced() -> None:
    old = make_run(1, {"gpt": [True, True]})
    new = make_run(2, {"gpt": [True, True]})
    new.put(CellResult("1", "gpt", FAILED, error="boom"))
    [found] = compare_versions(old, new)
    assert (found.paired.lost, found.new.rate.passed) == (1, 1)
    assert found.new.priced == 1


def test_repeats_pair_sample_with_sample_and_say_samples() -> None:
    old = make_run(1, {"gpt": [[False, False, True], [True, True, True]]}, repeat=3)
    new = make_run(2, {"gpt": [[True, True, True], [True, True, True]]}, repeat=3)
    [found] = compare_versions(old, new)
    assert found.paired.unit == "sample" and found.paired.cases == 6
    assert found.sentence().startswith("v2 passes 2 samples v1 failed and fails 0 it passed")


def test_a_sample_missing_on_one_side_leaves_its_pair_out() -> None:
    old = make_run(1, {"gpt": [[True, True, False]]}, repeat=3)
    new = make_run(2, {"gpt": [[True, False, True]]}, repeat=3)
    del old.more_samples[("0", "gpt", 1)]  # stopped before sample 1 finished
    [found] = compare_versions(old, new)
    # sample 0 with sample 0 (both pass), sample 2 with sample 2 (gained), not 1 with 2
    assert found.paired.cases == 2 and (found.paired.gained, found.paired.lost) == (1, 0)


def test_two_evaluations_of_one_version_are_told_apart() -> None:
    old, new = make_run(3, {"gpt": [True]}), make_run(3, {"gpt": [False]})
    new.id = 31
    [found] = compare_versions(old, new)
    assert (found.new.name, found.old.name) == ("v3 (evaluation 31)", "v3 (evaluation 30)")


# ---- the interval of the change in pass rate (Newcombe's method 10) -------------------------


def test_paired_difference_interval_edge_cases() -> None:
    assert paired_difference_interval(0, 0, 0, 0) is None
    every = paired_difference_interval(10, 0, 0, 0)
    none = paired_difference_interval(0, 0, 0, 10)
    assert every is not None and none is not None
    assert every.low == pytest.approx(-none.high) and every.low < 0 < every.high
    worst = paired_difference_interval(0, 0, 10, 0)  # everything the old one passed, lost
    assert worst is not None and -1.0 <= worst.low < -0.6 and worst.high < 0
    with pytest.raises(StatisticsError):
        paired_difference_interval(-1, 0, 0, 0)


@pytest.mark.parametrize(("a", "b", "c", "d"), [(12, 9, 2, 21), (2, 7, 1, 0), (0, 3, 3, 4)])
def test_paired_difference_interval_holds_the_change_and_mirrors(
    a: int, b: int, c: int, d: int
) -> None:
    interval = paired_difference_interval(a, b, c, d)
    mirrored = paired_difference_interval(a, c, b, d)
    assert interval is not None and mirrored is not None
    change = (b - c) / (a + b + c + d)
    assert -1 <= interval.low <= change <= interval.high <= 1
    assert math.isclose(interval.low, -mirrored.high) and math.isclose(interval.high, -mirrored.low)


def test_paired_difference_interval_worked_example() -> None:
    """44 pairs, a=12, b=9, c=2, d=21 (θ = 0.159): the value method 10's formula gives, worked
    by hand from the two Wilson intervals and φ (a regression value, not a published one)."""
    interval = paired_difference_interval(12, 9, 2, 21)
    assert interval is not None
    assert interval.low == pytest.approx(0.0182, abs=5e-4)
    assert interval.high == pytest.approx(0.2892, abs=5e-4)


def test_with_repeats_a_case_flips_on_all_its_samples_not_its_first() -> None:
    old = make_run(1, {"gpt": [[True, False, True], [True, True, True]]}, repeat=3)
    new = make_run(2, {"gpt": [[True, True, True], [True, True, False]]}, repeat=3)
    flips = compare_runs(old, new)
    assert [(f.case_key, f.before, f.after) for f in flips] == [
        ("0", False, True),
        ("1", True, False),
    ]
    assert case_verdict(old, "0", "gpt") is False and case_verdict(new, "1", "gpt") is False
    assert case_verdict(make_run(1, {"gpt": [None]}), "0", "gpt") is None


def test_versions_without_a_common_model_compare_their_first_columns() -> None:
    """The seeds' claim: a small model with a crafted prompt (v4) against a large one with a
    plain prompt (v3), in one line with the cost per 1,000 answers."""
    large = make_run(3, {"large": [True] * 7 + [False] * 3}, cost=0.01)
    small = make_run(4, {"small": [True] * 9 + [False]}, cost=0.0006)
    [found] = compare_versions(large, small)
    assert (found.new.name, found.old.name, found.subject) == ("v4 on small", "v3 on large", "")
    assert found.roi_line() == (
        "v4 on small vs v3 on large: pass rate 90% (95% CI 60–98%) vs 70% (40–89%), +20 points "
        "(95% CI −6 to +47), p = 0.5; cost per 1,000 answers $0.60 vs $10.00 (−94%)"
    )
