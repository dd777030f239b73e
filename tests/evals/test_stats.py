"""Statistics against published values, and the edge cases: 0/0, all pass, ties, k > n."""

from __future__ import annotations

import math

import pytest

from promptstudio.evals.stats import (
    BOOTSTRAP_RESAMPLES,
    Interval,
    PairedComparison,
    StatisticsError,
    cohen_kappa,
    compare_paired,
    format_p,
    is_flaky,
    mcnemar_exact,
    paired_bootstrap,
    pass_at_k,
    pass_hat_k,
    pass_rate,
    repeats,
    wilson_interval,
)

# ---- Wilson ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("passed", "total", "low", "high"),
    [
        (6, 10, 0.3127, 0.8318),  # the issue's example
        # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (score).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),
    ],
)
def test_wilson_interval_matches_published_values(
    passed: int, total: int, low: float, high: float
) -> None:
    interval = wilson_interval(passed, total)
    assert interval is not None
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


def test_wilson_edges_are_exact_and_zero_of_zero_has_no_interval() -> None:
    assert wilson_interval(0, 0) is None
    none_passed = wilson_interval(0, 10)
    all_passed = wilson_interval(10, 10)
    assert none_passed is not None and none_passed.low == 0.0 and none_passed.high < 0.3
    assert all_passed is not None and all_passed.high == 1.0 and all_passed.low > 0.7


def test_wilson_narrows_with_more_cases_and_follows_the_level() -> None:
    small, large = wilson_interval(6, 10), wilson_interval(600, 1000)
    assert small is not None and large is not None
    assert large.high - large.low < (small.high - small.low) / 5
    wide = wilson_interval(6, 10, confidence=0.99)
    assert wide is not None and wide.low < small.low and wide.high > small.high


def test_pass_rate_describes_itself() -> None:
    assert pass_rate(6, 10).describe() == "6/10 passed (60%, 95% CI 31–83%)"
    assert pass_rate(0, 0).describe() == "0/0: nothing graded"
    assert pass_rate(0, 0).rate is None


@pytest.mark.parametrize(
    ("passed", "total", "confidence"), [(11, 10, 0.95), (-1, 10, 0.95), (1, 2, 1.0), (1, 2, 0)]
)
def test_wilson_refuses_impossible_input(passed: int, total: int, confidence: float) -> None:
    with pytest.raises(StatisticsError):
        wilson_interval(passed, total, confidence)


# ---- McNemar -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gained", "lost", "p"),
    [
        (7, 1, 0.0703),  # 2 · (1 + 8) / 2^8
        (1, 7, 0.0703),  # symmetric
        (10, 0, 0.0020),  # 2 / 2^10
        (4, 4, 1.0),  # a tie: min(1, 2 · P(X ≤ 4)) caps at 1
        (0, 0, 1.0),  # nothing discordant
        (12, 2, 0.0129),  # 2 · (1 + 14 + 91) / 2^14
    ],
)
def test_mcnemar_exact_p_values(gained: int, lost: int, p: float) -> None:
    assert round(mcnemar_exact(gained, lost), 4) == p


def test_mcnemar_stays_exact_for_many_cases() -> None:
    p = mcnemar_exact(600, 400)
    assert 0 < p < 1e-9  # 1000 coin flips: no float overflow, no zero
    assert mcnemar_exact(500, 500) == 1.0


def test_the_issue_sentence() -> None:
    new = [True] * 7 + [False] + [True, True, False]
    old = [False] * 7 + [True] + [True, True, False]
    comparison = compare_paired(new, old, new_name="v4", old_name="v3")
    assert (comparison.both_passed, comparison.gained, comparison.lost) == (2, 7, 1)
    assert comparison.both_failed == 1 and comparison.cases == 11
    assert comparison.verdict == "not significant" and not comparison.significant
    assert comparison.sentence() == (
        "v4 passes 7 cases v3 failed and fails 1 it passed; p = 0.07: not yet significant — "
        "add cases or repeats."
    )


def test_a_significant_difference_says_which_way() -> None:
    better = compare_paired([True] * 10, [False] * 10, new_name="v5", old_name="v4")
    assert better.significant and better.verdict == "better"
    assert better.sentence() == (
        "v5 passes 10 cases v4 failed and fails 0 it passed; p = 0.002: significant at 5% — "
        "v5 is better than v4."
    )
    worse = compare_paired([False] * 10, [True] * 10, new_name="v5", old_name="v4")
    assert worse.verdict == "worse" and worse.sentence().endswith("v5 is worse than v4.")


def test_a_p_value_just_under_five_percent_is_not_rounded_up_to_it() -> None:
    comparison = PairedComparison("a", "b", 0, 9, 1, 0, p_value=0.0499)
    assert comparison.significant
    assert "; p < 0.05: significant at 5%" in comparison.sentence()


def test_identical_verdicts_and_no_cases_say_so() -> None:
    same = compare_paired([True, False, True], [True, False, True], new_name="a", old_name="b")
    assert same.p_value == 1.0 and same.verdict == "no difference"
    assert same.sentence() == "a and b agree on all 3 cases: no difference to test."
    empty = compare_paired([], [], new_name="a", old_name="b")
    assert empty.sentence() == "a and b share no graded cases: nothing to compare."


def test_paired_data_must_pair() -> None:
    with pytest.raises(StatisticsError, match="same cases on both sides, not 2 and 3"):
        compare_paired([True, False], [True, False, True])


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0703125, "p = 0.07"),
        (0.001953, "p = 0.002"),
        (0.0325, "p = 0.033"),
        (1.0, "p = 1"),
        (0.0004, "p < 0.001"),
        (0.5, "p = 0.5"),
    ],
)
def test_p_values_are_written_with_two_significant_digits(p: float, text: str) -> None:
    assert format_p(p) == text


# ---- paired bootstrap --------------------------------------------------------------


def test_bootstrap_is_deterministic_and_centred_on_the_mean_difference() -> None:
    new = [0.9, 0.8, 0.85, 0.7, 0.95, 0.6, 0.9, 0.75, 0.8, 0.88]
    old = [0.7, 0.75, 0.6, 0.65, 0.8, 0.55, 0.7, 0.7, 0.6, 0.8]
    first = paired_bootstrap(new, old)
    again = paired_bootstrap(new, old)
    assert first == again and first is not None
    assert first.resamples == BOOTSTRAP_RESAMPLES and first.pairs == 10
    assert first.mean_difference == pytest.approx(0.128)
    assert first.interval.low < first.mean_difference < first.interval.high
    assert first.excludes_zero  # every case improved
    other_seed = paired_bootstrap(new, old, seed=1)
    assert other_seed is not None and other_seed.interval != first.interval


def test_bootstrap_of_no_difference_straddles_zero() -> None:
    new = [1.0, 0.0] * 20
    old = [0.0, 1.0] * 20
    result = paired_bootstrap(new, old, resamples=2000)
    assert result is not None and result.mean_difference == 0
    assert result.interval.low < 0 < result.interval.high and not result.excludes_zero


def test_bootstrap_of_verdicts_is_the_interval_of_a_pass_rate_change() -> None:
    new = [True] * 16 + [False] * 4
    old = [True] * 10 + [False] * 10
    result = paired_bootstrap([float(v) for v in new], [float(v) for v in old])
    assert result is not None and result.mean_difference == pytest.approx(0.3)
    assert 0 < result.interval.low < 0.3 < result.interval.high <= 0.6


def test_bootstrap_edges() -> None:
    assert paired_bootstrap([], []) is None
    single = paired_bootstrap([0.8], [0.5])
    assert single is not None
    assert single.interval == Interval(pytest.approx(0.3), pytest.approx(0.3))  # type: ignore[arg-type]
    with pytest.raises(StatisticsError, match="finite"):
        paired_bootstrap([math.nan], [0.5])
    with pytest.raises(StatisticsError, match="at least one resample"):
        paired_bootstrap([1.0], [0.5], resamples=0)


# ---- Cohen's kappa -----------------------------------------------------------------


def ratings(*cells: tuple[str, str, int]) -> tuple[list[str], list[str]]:
    first: list[str] = []
    second: list[str] = []
    for a, b, count in cells:
        first += [a] * count
        second += [b] * count
    return first, second


@pytest.mark.parametrize(
    ("yy", "yn", "ny", "nn", "kappa"),
    [
        # Wikipedia, "Cohen's kappa", worked example: 50 proposals, two readers.
        (20, 5, 10, 15, 0.4),
        # Wikipedia, same 60% agreement, different kappa.
        (45, 15, 25, 15, 0.1304),
        (25, 35, 5, 35, 0.2593),
    ],
)
def test_kappa_matches_the_textbook_examples(
    yy: int, yn: int, ny: int, nn: int, kappa: float
) -> None:
    first, second = ratings(
        ("yes", "yes", yy), ("yes", "no", yn), ("no", "yes", ny), ("no", "no", nn)
    )
    agreement = cohen_kappa(first, second)
    assert agreement.kappa is not None and round(agreement.kappa, 4) == kappa
    assert agreement.count("yes", "no") == yn and agreement.count("no", "yes") == ny
    assert agreement.items == yy + yn + ny + nn
    assert agreement.observed == pytest.approx((yy + nn) / agreement.items)


def test_kappa_of_full_agreement_on_one_verdict_is_undefined_and_says_why() -> None:
    agreement = cohen_kappa([True] * 5, [True] * 5)
    assert agreement.kappa is None and agreement.observed == 1.0
    assert "undefined" in agreement.note and "same verdict" in agreement.note


def test_kappa_edges() -> None:
    perfect = cohen_kappa([True, False, True], [True, False, True])
    assert perfect.kappa == 1.0
    opposed = cohen_kappa([True, False], [False, True])
    assert opposed.kappa == -1.0
    empty = cohen_kappa(list[bool](), list[bool]())
    assert empty.kappa is None and empty.items == 0 and empty.note


# ---- repeats -----------------------------------------------------------------------


def humaneval_pass_at_k(n: int, c: int, k: int) -> float:
    """The numerically stable form printed in Chen et al. (2021)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


@pytest.mark.parametrize(
    ("n", "c", "k"),
    [(10, 3, 1), (10, 5, 5), (200, 13, 10), (200, 13, 100), (100, 0, 10), (5, 5, 5), (20, 1, 20)],
)
def test_pass_at_k_matches_the_humaneval_formula(n: int, c: int, k: int) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(humaneval_pass_at_k(n, c, k), rel=1e-12, abs=1e-15)


def test_pass_at_k_known_values() -> None:
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)  # pass@1 is the plain pass rate
    assert pass_at_k(10, 5, 5) == pytest.approx(1 - 1 / 252)
    assert pass_at_k(5, 0, 3) == 0.0
    assert pass_at_k(5, 3, 3) == 1.0  # only 2 failures: any 3 samples include a pass


def test_pass_hat_k_known_values() -> None:
    assert pass_hat_k(10, 5, 2) == pytest.approx(10 / 45)
    assert pass_hat_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_hat_k(5, 5, 5) == 1.0
    assert pass_hat_k(5, 2, 3) == 0.0


@pytest.mark.parametrize(("n", "c", "k"), [(3, 1, 4), (3, 4, 1), (3, 1, 0), (-1, 0, 1)])
def test_repeats_refuse_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(StatisticsError):
        pass_at_k(n, c, k)
    with pytest.raises(StatisticsError):
        pass_hat_k(n, c, k)


def test_k_larger_than_the_samples_names_the_fix() -> None:
    with pytest.raises(StatisticsError, match="run at least 5 repeats"):
        pass_at_k(3, 1, 5)


def test_flaky_and_repeat_summary() -> None:
    assert is_flaky([True, False, True]) and not is_flaky([True] * 3)
    assert not is_flaky([False] * 3) and not is_flaky([])
    summary = repeats([True, False, True, True, False])
    assert (summary.samples, summary.correct, summary.k) == (5, 3, 5)
    assert summary.pass_at_k == 1.0 and summary.pass_hat_k == 0.0 and summary.flaky
    two = repeats([True, False, True, True, False], k=2)
    assert two.pass_at_k == pytest.approx(1 - 1 / 10)
    assert two.pass_hat_k == pytest.approx(3 / 10)


def test_percentages_round_halves_up_everywhere() -> None:
    from promptstudio.evals.stats import percent, percent_text

    assert [percent(x) for x in (0.0, 0.005, 0.125, 0.145, 0.625, 0.994, 0.995, 1.0)] == [
        0, 1, 13, 15, 63, 99, 100, 100,
    ]  # fmt: skip
    assert percent_text(5 / 8) == "63%" and f"{5 / 8:.0%}" == "62%"  # not Python's rounding
