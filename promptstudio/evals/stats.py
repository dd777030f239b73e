"""Honest numbers for evaluations: intervals, paired tests, agreement and repeats.

Pure Python (``math``, ``random``, ``statistics``): a pass rate of 6/10 is reported with its
Wilson interval, two versions graded on the same cases are compared with an exact McNemar
test on the cases where they disagree, mean scores with a paired bootstrap interval, a judge
against a person with Cohen's kappa, and repeated samples with pass@k and pass^k.
``docs/STATISTICS.md`` gives the formulas and references.

Every function takes plain counts or sequences and returns a frozen result; nothing here
knows about cases, columns or Qt. Input that has no answer (k > n, negative counts,
sequences of different lengths) raises :class:`StatisticsError` with a readable message.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from statistics import NormalDist
from typing import Final, Generic, TypeVar

from promptstudio.errors import PromptStudioError

CONFIDENCE: Final = 0.95
"""The confidence level of every interval here unless the caller asks for another."""

ALPHA: Final = 0.05
"""The significance level the paired test's sentence speaks of."""

BOOTSTRAP_RESAMPLES: Final = 10_000
"""Resamples of the paired bootstrap: enough for a stable 95% percentile interval
(Efron & Tibshirani 1993 suggest at least 1,000 for percentile intervals)."""

BOOTSTRAP_SEED: Final = 20211207
"""The default seed: the same scores always give the same interval."""

Label = TypeVar("Label", bound=Hashable)


class StatisticsError(PromptStudioError, ValueError):
    """Counts or samples that have no answer: say what is wrong with them."""


# ---- one pass rate -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interval:
    """A confidence interval ``[low, high]`` at ``confidence`` (0.95 for 95%)."""

    low: float
    high: float
    confidence: float = CONFIDENCE

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def percent(self, digits: int = 0) -> str:
        """``31–83%``: the bounds as percentages (whole ones rounded as :func:`percent`)."""
        if digits == 0:
            return f"{percent(self.low)}–{percent(self.high)}%"
        return f"{self.low * 100:.{digits}f}–{self.high * 100:.{digits}f}%"


@dataclass(frozen=True, slots=True)
class PassRate:
    """``passed`` of ``total`` with its Wilson interval (None when nothing was graded)."""

    passed: int
    total: int
    interval: Interval | None

    @property
    def rate(self) -> float | None:
        return self.passed / self.total if self.total else None

    def describe(self) -> str:
        """``6/10 passed (60%, 95% CI 31–83%)``; ``0/0: nothing graded``."""
        if self.total == 0 or self.interval is None:
            return "0/0: nothing graded"
        level = f"{self.interval.confidence * 100:g}%"
        return (
            f"{self.passed}/{self.total} passed ({percent_text(self.passed / self.total)}, "
            f"{level} CI {self.interval.percent()})"
        )


def percent(fraction: float) -> int:
    """Whole percent, halves rounded up (5/8 reads as 63%, as people round): the one
    rounding of every percentage shown, in the window, the CLI and the reports alike.
    (Python's ``:.0%`` rounds halves to even, 62%.) The tiny nudge keeps a half that
    binary floating point stores a hair low (29/200 = 0.145) a half."""
    return math.floor(fraction * 100 + 0.5 + 1e-9)


def percent_text(fraction: float) -> str:
    """``63%``: :func:`percent` with its sign."""
    return f"{percent(fraction)}%"


def wilson_interval(passed: int, total: int, confidence: float = CONFIDENCE) -> Interval | None:
    """The Wilson score interval for ``passed`` successes in ``total`` trials.

    None for 0/0 (no trials: no interval). Unlike the normal ("Wald") interval it stays
    inside [0, 1] and is not empty at 0/n or n/n: 10/10 gives [0.722, 1].
    """
    _count("passed", passed)
    _count("total", total)
    if passed > total:
        raise StatisticsError(f"{passed} passed out of {total} is impossible.")
    _level(confidence)
    if total == 0:
        return None
    z = _z(confidence)
    p = passed / total
    z2n = z * z / total
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / total + z2n / (4 * total))
    # At 0/n and n/n the formula gives 0 and 1 up to rounding: say them exactly.
    low = 0.0 if passed == 0 else max(0.0, centre - half)
    high = 1.0 if passed == total else min(1.0, centre + half)
    return Interval(low, high, confidence)


def pass_rate(passed: int, total: int, confidence: float = CONFIDENCE) -> PassRate:
    """``passed`` of ``total`` with its Wilson interval."""
    return PassRate(passed, total, wilson_interval(passed, total, confidence))


# ---- two versions on the same cases ------------------------------------------------


@dataclass(frozen=True, slots=True)
class PairedComparison:
    """Two versions (or models) graded pass/fail on the same cases.

    ``gained``: cases the new one passes and the old one failed; ``lost``: the reverse.
    ``p_value`` is the exact two-sided McNemar test on those discordant counts.
    """

    new: str
    old: str
    both_passed: int
    gained: int
    lost: int
    both_failed: int
    p_value: float
    alpha: float = ALPHA
    unit: str = "case"  # what is paired: "case", or "sample" when cases were repeated

    @property
    def cases(self) -> int:
        return self.both_passed + self.gained + self.lost + self.both_failed

    @property
    def discordant(self) -> int:
        return self.gained + self.lost

    @property
    def significant(self) -> bool:
        return self.discordant > 0 and self.p_value < self.alpha

    @property
    def verdict(self) -> str:
        """``better``, ``worse`` (both significant), ``no difference`` or ``not significant``."""
        if self.discordant == 0:
            return "no difference"
        if not self.significant:
            return "not significant"
        return "better" if self.gained > self.lost else "worse"

    def sentence(self) -> str:
        """The comparison in words, e.g. "v4 passes 7 cases v3 failed and fails 1 it
        passed; p = 0.07: not yet significant — add cases or repeats"."""
        new, old = self.new, self.old
        if self.cases == 0:
            return f"{new} and {old} share no graded {self.unit}s: nothing to compare."
        if self.discordant == 0:
            every = _cases(self.cases, self.unit)
            return f"{new} and {old} agree on all {every}: no difference to test."
        gained = _cases(self.gained, self.unit)
        counts = f"{new} passes {gained} {old} failed and fails {self.lost} it passed"
        level = f"{self.alpha * 100:g}%"
        if self.significant:
            direction = "better" if self.gained > self.lost else "worse"
            shown = format_p(self.p_value)
            if _rounded(self.p_value) >= self.alpha:  # 0.0499 would read "p = 0.05"
                shown = f"p < {self.alpha:g}"
            return f"{counts}; {shown}: significant at {level} — {new} is {direction} than {old}."
        return f"{counts}; {format_p(self.p_value)}: not yet significant — add cases or repeats."


def mcnemar_exact(gained: int, lost: int) -> float:
    """The exact two-sided McNemar p-value for discordant counts ``gained`` and ``lost``.

    Under "no difference" each discordant case is a fair coin: X ~ Binomial(b + c, 1/2)
    and p = min(1, 2 · P(X ≤ min(b, c))). No discordant cases: p = 1.
    """
    _count("gained", gained)
    _count("lost", lost)
    trials = gained + lost
    if trials == 0:
        return 1.0
    tail = sum(math.comb(trials, i) for i in range(min(gained, lost) + 1))
    return min(1.0, float(Fraction(2 * tail, 2**trials)))


def compare_paired(
    new: Sequence[bool], old: Sequence[bool], *, new_name: str = "new", old_name: str = "old"
) -> PairedComparison:
    """Compare pass/fail verdicts of two versions on the same cases, in the same order."""
    _same_length(new, old)
    both_passed = sum(1 for a, b in zip(new, old, strict=True) if a and b)
    gained = sum(1 for a, b in zip(new, old, strict=True) if a and not b)
    lost = sum(1 for a, b in zip(new, old, strict=True) if b and not a)
    both_failed = len(new) - both_passed - gained - lost
    return PairedComparison(
        new_name, old_name, both_passed, gained, lost, both_failed, mcnemar_exact(gained, lost)
    )


def format_p(p: float) -> str:
    """``p = 0.07``, ``p = 0.0032``, ``p < 0.001``, ``p = 1``: two significant digits."""
    if p < 0.001:
        return "p < 0.001"
    if p >= 1:
        return "p = 1"
    return f"p = {_rounded(p):g}"


def _rounded(p: float) -> float:
    return float(f"{p:.2g}")


def paired_difference_interval(
    both_passed: int, gained: int, lost: int, both_failed: int, confidence: float = CONFIDENCE
) -> Interval | None:
    """The interval of the change in pass rate (new − old) over paired verdicts.

    Newcombe's (1998) method 10 for paired data: each side's Wilson interval, combined with
    the correlation φ of the 2×2 table, so it stays within [−1, 1] and agrees with the
    Wilson intervals shown next to it. None when there are no pairs.
    """
    for name, value in (("both_passed", both_passed), ("gained", gained), ("lost", lost),
                        ("both_failed", both_failed)):  # fmt: skip
        _count(name, value)
    pairs = both_passed + gained + lost + both_failed
    if pairs == 0:
        return None
    a, b, c, d = both_passed, gained, lost, both_failed
    new_rate, old_rate = (a + b) / pairs, (a + c) / pairs
    new = wilson_interval(a + b, pairs, confidence)
    old = wilson_interval(a + c, pairs, confidence)
    assert new is not None and old is not None  # pairs > 0
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(margins) if margins else 0.0
    below_new, above_new = new_rate - new.low, new.high - new_rate
    below_old, above_old = old_rate - old.low, old.high - old_rate
    down = below_new**2 - 2 * phi * below_new * above_old + above_old**2
    up = above_new**2 - 2 * phi * above_new * below_old + below_old**2
    change = new_rate - old_rate
    low = max(-1.0, change - math.sqrt(max(0.0, down)))
    high = min(1.0, change + math.sqrt(max(0.0, up)))
    return Interval(low, high, confidence)


# ---- mean scores: paired bootstrap -------------------------------------------------


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    """The mean of ``new - old`` over paired scores and its percentile bootstrap interval."""

    mean_difference: float
    interval: Interval
    pairs: int
    resamples: int
    seed: int

    @property
    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of 0 (a real difference)."""
        return self.interval.low > 0 or self.interval.high < 0


def paired_bootstrap(
    new: Sequence[float],
    old: Sequence[float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = CONFIDENCE,
) -> BootstrapResult | None:
    """The paired bootstrap interval of the mean difference ``new - old``.

    Resamples the per-case differences with replacement ``resamples`` times (seeded, so the
    same scores always give the same interval) and takes the percentiles of the resampled
    means (linear interpolation between order statistics). None when there are no pairs.
    """
    _same_length(new, old)
    _level(confidence)
    if resamples < 1:
        raise StatisticsError(f"The bootstrap needs at least one resample, not {resamples}.")
    differences = [float(a) - float(b) for a, b in zip(new, old, strict=True)]
    if any(not math.isfinite(d) for d in differences):
        raise StatisticsError("Scores must be finite numbers (no NaN or infinity).")
    size = len(differences)
    if size == 0:
        return None
    mean = math.fsum(differences) / size
    rng = random.Random(seed)
    means = sorted(math.fsum(rng.choices(differences, k=size)) / size for _ in range(resamples))
    tail = (1 - confidence) / 2
    interval = Interval(_quantile(means, tail), _quantile(means, 1 - tail), confidence)
    return BootstrapResult(mean, interval, size, resamples, seed)


def _quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, interpolating linearly (Hyndman & Fan type 7)."""
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


# ---- a judge against a person ------------------------------------------------------


@dataclass(frozen=True)
class Agreement(Generic[Label]):
    """How two raters agree on the same items: counts, raw agreement and Cohen's kappa.

    ``counts[(a, b)]`` is how often the first rater said ``a`` and the second ``b``.
    ``kappa`` is None when it is undefined; ``note`` then says why.
    """

    labels: tuple[Label, ...]
    counts: Mapping[tuple[Label, Label], int] = field(hash=False)
    items: int
    observed: float | None
    expected: float | None
    kappa: float | None
    note: str = ""

    def count(self, first: Label, second: Label) -> int:
        return self.counts.get((first, second), 0)


def cohen_kappa(first: Sequence[Label], second: Sequence[Label]) -> Agreement[Label]:
    """Cohen's kappa of two raters over the same items, with the confusion counts.

    κ = (p_o − p_e) / (1 − p_e), p_o the share of items they agree on and p_e the agreement
    expected by chance from each rater's own label frequencies. When both raters give every
    item one and the same label, p_o = p_e = 1 and κ is 0/0: undefined, not 1, since there
    is no agreement beyond chance to measure; ``observed`` still says they agree fully.
    """
    _same_length(first, second)
    items = len(first)
    counts = Counter(zip(first, second, strict=True))
    labels = tuple(dict.fromkeys([*first, *second]))
    if items == 0:
        return Agreement(labels, dict(counts), 0, None, None, None, "No items rated by both.")
    observed = sum(counts[(label, label)] for label in labels) / items
    first_counts, second_counts = Counter(first), Counter(second)
    expected = sum(first_counts[label] * second_counts[label] for label in labels) / items**2
    if expected == 1:
        note = (
            f"Both raters gave all {items} items the same verdict ({labels[0]!r}); kappa is "
            "undefined (0/0): with one verdict, chance alone explains the full agreement."
        )
        return Agreement(labels, dict(counts), items, observed, expected, None, note)
    kappa = (observed - expected) / (1 - expected)
    return Agreement(labels, dict(counts), items, observed, expected, kappa)


# ---- repeats -----------------------------------------------------------------------


def pass_at_k(samples: int, correct: int, k: int) -> float:
    """The unbiased estimate of pass@k: at least one of k samples passes.

    From n samples of which c passed: 1 − C(n − c, k) / C(n, k) (Chen et al. 2021).
    """
    _samples(samples, correct, k)
    if samples - correct < k:
        return 1.0
    return float(1 - Fraction(math.comb(samples - correct, k), math.comb(samples, k)))


def pass_hat_k(samples: int, correct: int, k: int) -> float:
    """The unbiased estimate of pass^k: all of k samples pass.

    From n samples of which c passed: C(c, k) / C(n, k) (Yao et al. 2024, τ-bench).
    """
    _samples(samples, correct, k)
    return float(Fraction(math.comb(correct, k), math.comb(samples, k)))


def is_flaky(outcomes: Sequence[bool]) -> bool:
    """True when repeated samples of one case disagree: some passed and some failed."""
    return any(outcomes) and not all(outcomes)


@dataclass(frozen=True, slots=True)
class Repeats:
    """n samples of one case: c passed, with pass@k, pass^k and the flaky mark."""

    samples: int
    correct: int
    k: int
    pass_at_k: float
    pass_hat_k: float

    @property
    def flaky(self) -> bool:
        return 0 < self.correct < self.samples


def repeats(outcomes: Sequence[bool], k: int | None = None) -> Repeats:
    """Summarise the repeated samples of one case (``k`` defaults to all of them)."""
    samples = len(outcomes)
    correct = sum(1 for passed in outcomes if passed)
    k = samples if k is None else k
    return Repeats(
        samples, correct, k, pass_at_k(samples, correct, k), pass_hat_k(samples, correct, k)
    )


# ---- checks on the input -----------------------------------------------------------


def _count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StatisticsError(f"{name} must be a whole number ≥ 0, not {value!r}.")


def _samples(samples: int, correct: int, k: int) -> None:
    _count("The number of samples", samples)
    _count("The number passed", correct)
    _count("k", k)
    if correct > samples:
        raise StatisticsError(f"{correct} passed out of {samples} samples is impossible.")
    if k == 0:
        raise StatisticsError("k must be at least 1.")
    if k > samples:
        raise StatisticsError(
            f"k = {k} is more than the {samples} samples taken: run at least {k} repeats."
        )


def _same_length(first: Sequence[object], second: Sequence[object]) -> None:
    if len(first) != len(second):
        raise StatisticsError(
            f"Paired data needs the same cases on both sides, not {len(first)} and {len(second)}."
        )


def _level(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise StatisticsError(f"The confidence level must be between 0 and 1, not {confidence}.")


def _z(confidence: float) -> float:
    """The two-sided normal quantile: 1.96 for 95%."""
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def _cases(count: int, unit: str = "case") -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
