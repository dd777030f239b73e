"""An evaluation's results: cases × model columns, each cell an answer and its grades.

Plain data shared by the runner, the library and the UI. A cell's verdict is ``passed``:
True or False when it was graded, None when there was nothing to grade (no checks, or
the cell was cancelled before it ran). A model that failed to answer (an HTTP error, a
cut stream, a template that would not render) fails the case: an error is not a pass.

Runs are compared case by case (a case keeps its id across versions) and column by
column (matched by model and endpoint), so "what flipped between v5 and v7" is a list
of :class:`Flip`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from promptstudio.chat import ToolCall
from promptstudio.evals.graders import GradeResult
from promptstudio.evals.stats import Interval, is_flaky, pass_at_k, pass_hat_k, wilson_interval

DONE: Final = "done"
FAILED: Final = "failed"
CANCELLED: Final = "cancelled"


@dataclass(frozen=True)
class EvalColumn:
    """One model column of an evaluation (a run column of the board when it ran)."""

    key: str
    label: str
    model: str
    base_url: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.key,  # not "key": the library refuses key-like field names
            "label": self.label,
            "model": self.model,
            "base_url": self.base_url,
            "params": dict(self.params),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalColumn:
        return cls(
            key=str(data["id"]),
            label=str(data.get("label") or data["model"]),
            model=str(data["model"]),
            base_url=str(data.get("base_url") or ""),
            params=dict(data.get("params") or {}),
        )


@dataclass(frozen=True)
class EvalCase:
    """A test case as it was run (a copy: the prompt's cases may change afterwards)."""

    key: str  # the case's id as text; stable across versions
    position: int
    vars: dict[str, Any] = field(default_factory=dict, hash=False)
    description: str = ""
    expected: str | None = None
    asserts: tuple[dict[str, Any], ...] = field(default=(), hash=False)
    threshold: float | None = None  # promptfoo's test threshold: the weighted score to pass

    @property
    def title(self) -> str:
        """What a row header shows: the description, else the first values."""
        if self.description:
            return self.description
        values = ", ".join(f"{name}={_short(value)}" for name, value in self.vars.items())
        return values or f"Case {self.position + 1}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.key, "position": self.position, "vars": self.vars}
        if self.description:
            out["description"] = self.description
        if self.expected is not None:
            out["expected"] = self.expected
        if self.asserts:
            out["assert"] = [dict(check) for check in self.asserts]
        if self.threshold is not None:
            out["threshold"] = self.threshold
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalCase:
        expected = data.get("expected")
        return cls(
            key=str(data["id"]),
            position=int(data.get("position", 0)),
            vars=dict(data.get("vars") or {}),
            description=str(data.get("description") or ""),
            expected=None if expected is None else str(expected),
            asserts=tuple(dict(check) for check in data.get("assert") or ()),
            threshold=case_threshold(data),
        )


def case_threshold(data: Mapping[str, Any]) -> float | None:
    """A case's ``threshold`` (promptfoo's test-level one), or None when it has none."""
    raw = data.get("threshold")
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        return None
    return float(raw)


@dataclass(frozen=True)
class CellResult:
    """What one model answered for one case, and how it was graded.

    ``latency_ms`` is the whole request; a cache hit keeps the latency measured when the
    answer was first received, and costs 0 (``cached`` is True). ``sample`` is which of the
    evaluation's repeats this is (0 for the first, the only one without repeats).
    """

    case_key: str
    column_key: str
    status: str  # DONE | FAILED | CANCELLED
    text: str = ""
    error: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None
    cached: bool = False
    grades: tuple[GradeResult, ...] = ()
    sample: int = 0
    threshold: float | None = None  # the case's: the weighted score to pass, as promptfoo
    # characters / 4 of the messages sent, when the server reported ``input_tokens``: the
    # plan's calibration (``evals.plan.read_history``); None otherwise
    input_estimate: int | None = None
    tool_calls: tuple[ToolCall, ...] = ()  # the calls the answer made
    batch: bool = False  # answered by a provider batch: its cost is at the batch price

    @property
    def graded(self) -> tuple[GradeResult, ...]:
        """The grades that count: checks of a type not graded here are left out."""
        return tuple(grade for grade in self.grades if grade.graded)

    @property
    def passed(self) -> bool | None:
        """True when every graded check passed (or, with a case threshold, the weighted
        score reaches it); False on a failed check or a failed request."""
        if self.status == FAILED:
            return False
        graded = self.graded
        if self.status != DONE or not graded:
            return None
        if self.threshold is not None:
            return weighted_score(graded) >= self.threshold
        return all(grade.passed for grade in graded)

    @property
    def score(self) -> float | None:
        """The graded checks' scores averaged by weight (0 for a failed request; None when
        none was graded)."""
        if self.status == FAILED:
            return 0.0
        graded = self.graded
        if self.status != DONE or not graded:
            return None
        return weighted_score(graded)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "case": self.case_key,
            "column": self.column_key,
            "status": self.status,
            "passed": self.passed,
            "score": self.score,
            "text": self.text,
            "error": self.error,
            "latency_ms": self.latency_ms,
            "ttft_ms": self.ttft_ms,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": self.cost,
            "cached": self.cached,
            "grades": [grade_to_dict(grade) for grade in self.grades],
            "sample": self.sample,
        }
        if self.tool_calls:
            out["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if self.batch:  # cells sent live read as before
            out["batch"] = True
        return out


def weighted_score(grades: Sequence[GradeResult]) -> float:
    """promptfoo's test score: the mean of the scores weighted by each check's ``weight``
    (0 when every weight is 0)."""
    total = math.fsum(grade.weight for grade in grades)
    if not total:
        return 0.0
    return math.fsum(grade.weight * grade.score for grade in grades) / total


def grade_to_dict(grade: GradeResult) -> dict[str, Any]:
    out = {
        "grader": grade.grader,
        "passed": grade.passed,
        "score": grade.score,
        "reason": grade.reason,
        "details": dict(grade.details),
    }
    if grade.weight != 1.0:
        out["weight"] = grade.weight
    return out


def grade_from_dict(data: Mapping[str, Any]) -> GradeResult:
    weight = data.get("weight", 1.0)
    return GradeResult(
        passed=bool(data["passed"]),
        score=float(data["score"]),
        reason=str(data.get("reason") or ""),
        grader=str(data.get("grader") or ""),
        details=dict(data.get("details") or {}),
        weight=float(weight) if isinstance(weight, int | float) else 1.0,
    )


@dataclass
class EvalRun:
    """One evaluation of one version: its columns, its cases and every cell so far.

    ``id`` is the library's once stored; ``version_number`` is the version's number in
    its prompt's history (what the UI calls "v7"). With repeats (``settings["repeat"]``
    over 1) ``cells`` holds each case's first sample, as without, and ``more_samples`` the
    others by (case, column, sample): whatever reads one answer per cell keeps working.
    """

    columns: tuple[EvalColumn, ...]
    cases: tuple[EvalCase, ...]
    cells: dict[tuple[str, str], CellResult] = field(default_factory=dict)
    status: str = DONE  # DONE, or CANCELLED when stopped before every cell ran
    id: int | None = None
    prompt_id: int | None = None
    version_id: int | None = None
    version_number: int | None = None
    created_at: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    more_samples: dict[tuple[str, str, int], CellResult] = field(default_factory=dict)
    # (case key, column key) -> a person's rating (storage.ratings.Rating); stored ones only
    ratings: dict[tuple[str, str], Any] = field(default_factory=dict)

    def cell(self, case_key: str, column_key: str) -> CellResult | None:
        return self.cells.get((case_key, column_key))

    @property
    def repeat(self) -> int:
        """How many samples of each case every model was asked for (1: no repeats)."""
        value = self.settings.get("repeat", 1)
        return value if isinstance(value, int) and value >= 1 else 1

    def put(self, cell: CellResult) -> None:
        """Keep a finished sample: the first in ``cells``, the others in ``more_samples``."""
        if cell.sample == 0:
            self.cells[(cell.case_key, cell.column_key)] = cell
        else:
            self.more_samples[(cell.case_key, cell.column_key, cell.sample)] = cell

    def samples(self, case_key: str, column_key: str) -> list[CellResult]:
        """Every stored sample of one case on one model, in sample order."""
        first = self.cells.get((case_key, column_key))
        found = [first] if first is not None else []
        for number in range(1, self.repeat):
            more = self.more_samples.get((case_key, column_key, number))
            if more is not None:
                found.append(more)
        return found

    @property
    def answers(self) -> int:
        """How many samples are stored (finished, failed or cut off)."""
        return len(self.cells) + len(self.more_samples)

    def column(self, key: str) -> EvalColumn:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    @property
    def total(self) -> int:
        """Answers asked for: cases × columns × repeats."""
        return len(self.columns) * len(self.cases) * self.repeat

    @property
    def title(self) -> str:
        """How pickers name the run: ``v7 · 2026-11-22 10:03``."""
        version = f"v{self.version_number}" if self.version_number is not None else "unsaved"
        when = self.created_at[:16].replace("T", " ")
        return f"{version} · {when}" if when else version


@dataclass(frozen=True)
class StopCounts:
    """How the answers of a stopped evaluation ended: finished, cut off while running (their
    cells are CANCELLED), or never started (no cell). The CLI and the window say the same."""

    total: int
    finished: int
    cancelled_running: int
    not_started: int

    @property
    def cancelled(self) -> int:
        return self.cancelled_running + self.not_started

    def describe(self) -> str:
        """In words: 3 of 10 answers finished, 7 cancelled (2 while running, 5 not started)."""
        return (
            f"{self.finished:,} of {self.total:,} answers finished, {self.cancelled:,} "
            f"cancelled ({self.cancelled_running:,} while running, {self.not_started:,} "
            "not started)"
        )


def stop_counts(run: EvalRun) -> StopCounts:
    stored = cells_in_order(run)
    running = sum(1 for cell in stored if cell.status == CANCELLED)
    return StopCounts(run.total, len(stored) - running, running, run.total - len(stored))


@dataclass(frozen=True)
class ModelSummary:
    """One column's figures over every case.

    ``pass_rate`` is passed / graded (None when nothing was graded); failed requests
    count as graded failures, cancelled cells and cells without checks do not count.
    ``pass_interval`` is its 95% Wilson interval. With repeats every sample counts (graded
    and passed are samples), ``pass_at_k``/``pass_hat_k`` are the means over cases with
    all ``repeat`` samples graded (k = repeat), and ``flaky`` counts the cases whose
    samples disagree. Latencies are over answered cells; ``total_cost`` sums the known
    costs (cache hits add 0) and is None when no cost was known at all.
    """

    column_key: str
    label: str
    cells: int
    graded: int
    passed: int
    failed_requests: int
    cached: int
    pass_rate: float | None
    mean_score: float | None
    mean_latency_ms: float | None
    p95_latency_ms: float | None
    total_cost: float | None
    pass_interval: Interval | None = None
    repeat: int = 1
    pass_at_k: float | None = None
    pass_hat_k: float | None = None
    flaky: int = 0
    batch_cost: float | None = None  # the part of total_cost answered by batches (batch price)

    @property
    def live_cost(self) -> float | None:
        """What the answers sent live cost (``total_cost`` less the batches')."""
        if self.total_cost is None:
            return None
        return max(0.0, self.total_cost - (self.batch_cost or 0.0))

    def to_dict(self) -> dict[str, Any]:
        interval = self.pass_interval
        split = {"batch_cost": self.batch_cost, "live_cost": self.live_cost}
        return ({} if self.batch_cost is None else split) | {
            "column": self.column_key,
            "label": self.label,
            "cells": self.cells,
            "graded": self.graded,
            "passed": self.passed,
            "failed_requests": self.failed_requests,
            "cached": self.cached,
            "pass_rate": self.pass_rate,
            "mean_score": self.mean_score,
            "mean_latency_ms": self.mean_latency_ms,
            "p95_latency_ms": self.p95_latency_ms,
            "total_cost": self.total_cost,
            "pass_rate_low": None if interval is None else interval.low,
            "pass_rate_high": None if interval is None else interval.high,
            "confidence": None if interval is None else interval.confidence,
            "repeat": self.repeat,
            "pass_at_k": self.pass_at_k,
            "pass_hat_k": self.pass_hat_k,
            "flaky": self.flaky,
        }


def case_outcomes(run: EvalRun, column_key: str) -> dict[str, list[bool]]:
    """Each case's graded verdicts on one column, sample by sample (ungraded left out)."""
    return {
        case.key: [c.passed for c in run.samples(case.key, column_key) if c.passed is not None]
        for case in run.cases
    }


def summarize(run: EvalRun) -> list[ModelSummary]:
    """A :class:`ModelSummary` per column, in the run's column order."""
    summaries = []
    repeat = run.repeat
    for column in run.columns:
        cells = [c for case in run.cases for c in run.samples(case.key, column.key)]
        verdicts = [c.passed for c in cells if c.passed is not None]
        outcomes = case_outcomes(run, column.key).values()
        whole = [o for o in outcomes if len(o) == repeat]
        at_k = [pass_at_k(repeat, sum(o), repeat) for o in whole]
        hat_k = [pass_hat_k(repeat, sum(o), repeat) for o in whole]
        scores = [score for c in cells if (score := c.score) is not None]
        latencies = [c.latency_ms for c in cells if c.status == DONE and c.latency_ms is not None]
        costs = [c.cost for c in cells if c.cost is not None]
        batch_costs = [c.cost for c in cells if c.cost is not None and c.batch]
        summaries.append(
            ModelSummary(
                column_key=column.key,
                label=column.label,
                cells=len(cells),
                graded=len(verdicts),
                passed=sum(verdicts),
                failed_requests=sum(1 for c in cells if c.status == FAILED),
                cached=sum(1 for c in cells if c.cached),
                pass_rate=sum(verdicts) / len(verdicts) if verdicts else None,
                mean_score=sum(scores) / len(scores) if scores else None,
                mean_latency_ms=sum(latencies) / len(latencies) if latencies else None,
                p95_latency_ms=percentile(latencies, 95),
                total_cost=math.fsum(costs) if costs else None,
                pass_interval=wilson_interval(sum(verdicts), len(verdicts)),
                repeat=repeat,
                pass_at_k=math.fsum(at_k) / len(at_k) if at_k else None,
                pass_hat_k=math.fsum(hat_k) / len(hat_k) if hat_k else None,
                flaky=sum(1 for o in outcomes if is_flaky(o)),
                batch_cost=math.fsum(batch_costs) if batch_costs else None,
            )
        )
    return summaries


def percentile(values: Iterable[float], pct: float) -> float | None:
    """The nearest-rank percentile (the smallest value with pct% of values at or below)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


# ---- comparing two runs ----------------------------------------------------------------


@dataclass(frozen=True)
class Flip:
    """A case whose verdict changed between two runs, for one model."""

    case_key: str
    column_key: str  # the newer run's column
    before: bool
    after: bool

    @property
    def improved(self) -> bool:
        return self.after and not self.before


def match_columns(old: EvalRun, new: EvalRun) -> dict[str, str]:
    """The newer run's column keys mapped to the older run's, for columns that match.

    A column matches the one with the same model at the same endpoint; failing that, the
    one with the same model (each older column is used once).
    """
    matched: dict[str, str] = {}
    used: set[str] = set()
    for same in (
        lambda a, b: a.model == b.model and a.base_url == b.base_url,
        lambda a, b: a.model == b.model,
    ):
        for column in new.columns:
            if column.key in matched:
                continue
            for candidate in old.columns:
                if candidate.key not in used and same(column, candidate):
                    matched[column.key] = candidate.key
                    used.add(candidate.key)
                    break
    return matched


def case_verdict(run: EvalRun, case_key: str, column_key: str) -> bool | None:
    """A case's verdict on one model: its cell's, or with repeats whether every graded
    sample passed (a flaky case is not a pass); None when nothing was graded."""
    graded = [c.passed for c in run.samples(case_key, column_key) if c.passed is not None]
    return all(graded) if graded else None


def compare_runs(old: EvalRun, new: EvalRun) -> list[Flip]:
    """Every (case, model) graded in both runs whose verdict differs, in grid order."""
    columns = match_columns(old, new)
    flips = []
    for case in new.cases:
        for column in new.columns:
            old_key = columns.get(column.key)
            if old_key is None:
                continue
            was = case_verdict(old, case.key, old_key)
            now = case_verdict(new, case.key, column.key)
            if was is not None and now is not None and was != now:
                flips.append(Flip(case.key, column.key, was, now))
    return flips


def _short(value: object, limit: int = 24) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cells_in_order(run: EvalRun) -> Sequence[CellResult]:
    """Every stored cell, case by case, column by column, sample by sample."""
    if not run.more_samples:
        return [
            cell
            for case in run.cases
            for column in run.columns
            if (cell := run.cell(case.key, column.key)) is not None
        ]
    return [
        cell for case in run.cases for column in run.columns
        for cell in run.samples(case.key, column.key)
    ]  # fmt: skip
