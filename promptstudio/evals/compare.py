"""Two versions, or two models, on the same cases: the paired numbers and the ROI line.

One function makes the figures (:func:`compare_columns`); the grid, ``eval --compare``
and the exported report all show what it returns, so they cannot disagree. A comparison
pairs each case's answers on both sides (with repeats, sample i with sample i of the same
case) and gives

- the discordant counts, the exact McNemar p-value and its sentence (``stats``);
- each side's pass rate with its 95% Wilson interval, and the change in pass rate with
  Newcombe's paired interval over the same pairs as the test;
- the paired bootstrap interval of the difference in mean scores;
- the cost per 1,000 answers on each side, from the answers' real usage: what a fresh
  answer cost, and for an answer served from the cache what its tokens cost at the price
  table's prices; "cost unknown" when no answer has a price.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from promptstudio.evals.results import CellResult, EvalRun, match_columns
from promptstudio.evals.stats import (
    BootstrapResult,
    Interval,
    PairedComparison,
    PassRate,
    compare_paired,
    format_p,
    paired_bootstrap,
    paired_difference_interval,
    pass_rate,
    percent,
)
from promptstudio.providers import PriceTable, Usage

PER_ANSWERS: Final = 1000
COST_UNKNOWN: Final = "cost unknown"


@dataclass(frozen=True)
class Side:
    """One side of a comparison: who, its pass rate over the paired answers, its cost."""

    name: str
    rate: PassRate
    cost_per_1000: float | None  # US dollars per 1,000 answers; None: no price known
    priced: int  # how many answers the cost is averaged over

    def to_dict(self) -> dict[str, Any]:
        interval = self.rate.interval
        return {
            "name": self.name,
            "passed": self.rate.passed,
            "graded": self.rate.total,
            "pass_rate": self.rate.rate,
            "pass_rate_low": None if interval is None else interval.low,
            "pass_rate_high": None if interval is None else interval.high,
            "cost_per_1000": self.cost_per_1000,
            "priced_answers": self.priced,
        }


@dataclass(frozen=True)
class Comparison:
    """``new`` against ``old`` on the answers both have graded (see the module's text).

    ``subject`` says what is held fixed: the model when versions are compared, the version
    when columns are.
    """

    subject: str
    new: Side
    old: Side
    paired: PairedComparison
    score_change: BootstrapResult | None  # mean score new − old, per case
    fractional_scores: bool = False  # some check scored between 0 and 1 (not pass/fail only)

    @property
    def rate_change(self) -> float | None:
        """The pass rate's change, new − old (None when nothing is paired)."""
        new, old = self.new.rate.rate, self.old.rate.rate
        return None if new is None or old is None else new - old

    @property
    def rate_change_interval(self) -> Interval | None:
        paired = self.paired
        return paired_difference_interval(
            paired.both_passed, paired.gained, paired.lost, paired.both_failed
        )

    def sentence(self) -> str:
        """The paired test in words (McNemar's p and whether it is significant at 5%)."""
        return self.paired.sentence()

    def roi_line(self) -> str:
        """One line to quote: the pass-rate change with its interval and the cost per 1,000
        answers on both sides, e.g. "v4 vs v3 on gpt-4o: pass rate 80% (95% CI 49–94%) vs
        60% (31–83%), +20 points (95% CI −10 to +50), p = 0.37; cost per 1,000 answers
        $0.42 vs $0.70 (−40%)"."""
        new, old = self.new, self.old
        about = f"{new.name} vs {old.name}" + (f" on {self.subject}" if self.subject else "")
        if new.rate.total == 0:
            return f"{about}: no answers graded on both sides; {self._cost_text()}"
        rates = f"pass rate {_rate(new.rate, True)} vs {_rate(old.rate, False)}"
        change, interval = self.rate_change, self.rate_change_interval
        if change is not None and interval is not None:
            low, high = _points(interval.low), _points(interval.high)
            rates += f", {_points(change)} points (95% CI {low} to {high})"
        rates += f", {format_p(self.paired.p_value)}"
        return f"{about}: {rates}; {self._cost_text()}"

    def _cost_text(self) -> str:
        new, old = self.new.cost_per_1000, self.old.cost_per_1000
        if new is None and old is None:
            return f"{COST_UNKNOWN} (no price for either model)"
        text = f"cost per 1,000 answers {_money(new)} vs {_money(old)}"
        if new is not None and old is not None and old > 0:
            text += f" ({(new - old) / old:+.0%})".replace("-", "−")
        return text

    def to_dict(self) -> dict[str, Any]:
        paired, interval, score = self.paired, self.rate_change_interval, self.score_change
        return {
            "subject": self.subject,
            "new": self.new.to_dict(),
            "old": self.old.to_dict(),
            "unit": paired.unit,
            "both_passed": paired.both_passed,
            "gained": paired.gained,
            "lost": paired.lost,
            "both_failed": paired.both_failed,
            "p_value": paired.p_value,
            "significant": paired.significant,
            "verdict": paired.verdict,
            "sentence": self.sentence(),
            "pass_rate_change": None
            if interval is None
            else {
                "difference": self.rate_change,
                "low": interval.low,
                "high": interval.high,
            },
            "mean_score_change": _bootstrap_dict(score),
            "fractional_scores": self.fractional_scores,
            "roi": self.roi_line(),
        }


def compare_columns(
    new_run: EvalRun,
    new_column: str,
    old_run: EvalRun,
    old_column: str,
    *,
    new_name: str,
    old_name: str,
    subject: str = "",
    price_table: PriceTable | None = None,
) -> Comparison:
    """``new_run``'s column ``new_column`` against ``old_run``'s ``old_column`` (the same run
    for two models; two runs for two versions), over the cases both runs hold."""
    old_cases = {case.key for case in old_run.cases}
    shared = [case.key for case in new_run.cases if case.key in old_cases]
    repeated = new_run.repeat > 1 or old_run.repeat > 1
    new_verdicts: list[bool] = []
    old_verdicts: list[bool] = []
    new_scores: list[float] = []
    old_scores: list[float] = []
    fractional = False
    for key in shared:
        mine = {cell.sample: cell for cell in new_run.samples(key, new_column)}
        theirs = {cell.sample: cell for cell in old_run.samples(key, old_column)}
        both = [(mine[n], theirs[n]) for n in sorted(mine.keys() & theirs.keys())]  # i with i
        pairs = [
            (a.passed, b.passed) for a, b in both if a.passed is not None and b.passed is not None
        ]
        if pairs:
            new_verdicts += [a for a, _ in pairs]
            old_verdicts += [b for _, b in pairs]
        scored = [
            (a.score, b.score) for a, b in both if a.score is not None and b.score is not None
        ]
        fractional = fractional or any(s not in (0.0, 1.0) for pair in scored for s in pair)
        if scored:
            new_scores.append(math.fsum(a for a, _ in scored if a is not None) / len(scored))
            old_scores.append(math.fsum(b for _, b in scored if b is not None) / len(scored))
    paired = compare_paired(new_verdicts, old_verdicts, new_name=new_name, old_name=old_name)
    if repeated:
        paired = dataclasses.replace(paired, unit="sample")
    model_new, model_old = new_run.column(new_column).model, old_run.column(old_column).model
    new_costs = _costs(_answers(new_run, new_column, shared), model_new, price_table)
    old_costs = _costs(_answers(old_run, old_column, shared), model_old, price_table)
    return Comparison(
        subject=subject,
        new=Side(new_name, pass_rate(sum(new_verdicts), len(new_verdicts)), *new_costs),
        old=Side(old_name, pass_rate(sum(old_verdicts), len(old_verdicts)), *old_costs),
        paired=paired,
        score_change=paired_bootstrap(new_scores, old_scores),
        fractional_scores=fractional,
    )


def comparisons(
    run: EvalRun, baseline: EvalRun | None, price_table: PriceTable | None = None
) -> list[Comparison]:
    """What the grid and ``eval --compare`` show: ``run`` against ``baseline`` model by
    model, then ``run``'s other models against its first."""
    found = compare_versions(baseline, run, price_table) if baseline is not None else []
    return found + compare_models(run, price_table)


def compare_versions(
    old: EvalRun, new: EvalRun, price_table: PriceTable | None = None
) -> list[Comparison]:
    """``new`` against ``old``, model by model (the columns :func:`match_columns` pairs).

    Two versions that share no model (a small model with a crafted prompt, evaluated as v4,
    against a large one with a plain prompt, v3) are compared first column with first
    column, each named with its model: "v4 on small vs v3 on large"."""
    new_name, old_name = _version(new, "new"), _version(old, "old")
    matched = match_columns(old, new)
    if not matched and new.columns and old.columns:
        mine, theirs = new.columns[0], old.columns[0]
        return [
            compare_columns(
                new, mine.key, old, theirs.key, new_name=f"{new_name} on {mine.label}",
                old_name=f"{old_name} on {theirs.label}", price_table=price_table,
            )
        ]  # fmt: skip
    if new_name == old_name:  # two evaluations of one version
        new_name, old_name = (
            f"{new_name} (evaluation {new.id})",
            f"{old_name} (evaluation {old.id})",
        )
    return [
        compare_columns(
            new, column.key, old, matched[column.key],
            new_name=new_name, old_name=old_name, subject=column.label, price_table=price_table,
        )
        for column in new.columns
        if column.key in matched
    ]  # fmt: skip


def compare_models(run: EvalRun, price_table: PriceTable | None = None) -> list[Comparison]:
    """Every other column of ``run`` against its first (e.g. a small model with a crafted
    prompt against a large one), on the same cases."""
    if len(run.columns) < 2:
        return []
    first = run.columns[0]
    version = _version(run, "")
    return [
        compare_columns(
            run, column.key, run, first.key, new_name=column.label, old_name=first.label,
            subject=version, price_table=price_table,
        )
        for column in run.columns[1:]
    ]  # fmt: skip


def compare_pair(
    run: EvalRun, new_key: str, old_key: str, price_table: PriceTable | None = None
) -> Comparison:
    """Any column of ``run`` against any other (the grid's pair picker), named as
    :func:`compare_models` names them."""
    labels = {column.key: column.label for column in run.columns}
    return compare_columns(
        run, new_key, run, old_key, new_name=labels.get(new_key, new_key),
        old_name=labels.get(old_key, old_key), subject=_version(run, ""), price_table=price_table,
    )  # fmt: skip


def _version(run: EvalRun, fallback: str) -> str:
    return f"v{run.version_number}" if run.version_number is not None else fallback


def _answers(run: EvalRun, column: str, cases: Sequence[str]) -> list[CellResult]:
    return [cell for key in cases for cell in run.samples(key, column)]


def _costs(
    cells: Sequence[CellResult], model: str, price_table: PriceTable | None
) -> tuple[float | None, int]:
    """(dollars per 1,000 answers, answers priced): fresh answers at what they cost, cached
    ones at what their tokens cost now; answers without a price are left out."""
    costs = []
    for cell in cells:
        if cell.status != "done":
            continue
        if not cell.cached and cell.cost is not None:
            costs.append(cell.cost)
        elif price_table is not None and cell.input_tokens is not None:
            usage = Usage(cell.input_tokens, cell.output_tokens)
            cost = price_table.cost(model, usage)
            if cost is not None:
                costs.append(cost)
    if not costs:
        return None, 0
    return math.fsum(costs) / len(costs) * PER_ANSWERS, len(costs)


def _rate(rate: PassRate, level: bool) -> str:
    interval = rate.interval
    if rate.rate is None or interval is None:
        return "—"
    shown = f"{_percent(rate.rate)}%"
    return f"{shown} (95% CI {interval.percent()})" if level else f"{shown} ({interval.percent()})"


_percent = percent  # the one rounding of percentages (stats.percent)


def _points(fraction: float) -> str:
    points = _percent(fraction) if fraction >= 0 else -_percent(-fraction)
    return f"{points:+d}".replace("-", "−") if points else "±0"


def _money(dollars: float | None) -> str:
    if dollars is None:
        return COST_UNKNOWN
    if dollars == 0:
        return "$0"
    decimals = max(2, 1 - math.floor(math.log10(dollars)))
    return f"${dollars:.{decimals}f}"


def _bootstrap_dict(result: BootstrapResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "mean_difference": result.mean_difference,
        "low": result.interval.low,
        "high": result.interval.high,
        "pairs": result.pairs,
        "resamples": result.resamples,
    }
