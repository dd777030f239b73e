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

from promptstudio.evals.graders import GradeResult

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
        )


@dataclass(frozen=True)
class CellResult:
    """What one model answered for one case, and how it was graded.

    ``latency_ms`` is the whole request; a cache hit keeps the latency measured when the
    answer was first received, and costs 0 (``cached`` is True).
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

    @property
    def passed(self) -> bool | None:
        """True when every check passed; False on a failed check or a failed request."""
        if self.status == FAILED:
            return False
        if self.status != DONE or not self.grades:
            return None
        return all(grade.passed for grade in self.grades)

    @property
    def score(self) -> float | None:
        """The mean of the checks' scores (0 for a failed request; None when ungraded)."""
        if self.status == FAILED:
            return 0.0
        if self.status != DONE or not self.grades:
            return None
        return sum(grade.score for grade in self.grades) / len(self.grades)

    def to_dict(self) -> dict[str, Any]:
        return {
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
        }


def grade_to_dict(grade: GradeResult) -> dict[str, Any]:
    return {
        "grader": grade.grader,
        "passed": grade.passed,
        "score": grade.score,
        "reason": grade.reason,
        "details": dict(grade.details),
    }


def grade_from_dict(data: Mapping[str, Any]) -> GradeResult:
    return GradeResult(
        passed=bool(data["passed"]),
        score=float(data["score"]),
        reason=str(data.get("reason") or ""),
        grader=str(data.get("grader") or ""),
        details=dict(data.get("details") or {}),
    )


@dataclass
class EvalRun:
    """One evaluation of one version: its columns, its cases and every cell so far.

    ``id`` is the library's once stored; ``version_number`` is the version's number in
    its prompt's history (what the UI calls "v7").
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
    # (case key, column key) -> a person's rating (storage.ratings.Rating); stored ones only
    ratings: dict[tuple[str, str], Any] = field(default_factory=dict)

    def cell(self, case_key: str, column_key: str) -> CellResult | None:
        return self.cells.get((case_key, column_key))

    def column(self, key: str) -> EvalColumn:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    @property
    def total(self) -> int:
        return len(self.columns) * len(self.cases)

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
    running = sum(1 for cell in run.cells.values() if cell.status == CANCELLED)
    return StopCounts(run.total, len(run.cells) - running, running, run.total - len(run.cells))


@dataclass(frozen=True)
class ModelSummary:
    """One column's figures over every case.

    ``pass_rate`` is passed / graded (None when nothing was graded); failed requests
    count as graded failures, cancelled cells and cells without checks do not count.
    Latencies are over answered cells; ``total_cost`` sums the known costs (cache hits
    add 0) and is None when no cost was known at all.
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

    def to_dict(self) -> dict[str, Any]:
        return {
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
        }


def summarize(run: EvalRun) -> list[ModelSummary]:
    """A :class:`ModelSummary` per column, in the run's column order."""
    summaries = []
    for column in run.columns:
        cells = [c for case in run.cases if (c := run.cell(case.key, column.key)) is not None]
        verdicts = [c.passed for c in cells if c.passed is not None]
        scores = [score for c in cells if (score := c.score) is not None]
        latencies = [c.latency_ms for c in cells if c.status == DONE and c.latency_ms is not None]
        costs = [c.cost for c in cells if c.cost is not None]
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


def compare_runs(old: EvalRun, new: EvalRun) -> list[Flip]:
    """Every (case, model) graded in both runs whose verdict differs, in grid order."""
    columns = match_columns(old, new)
    flips = []
    for case in new.cases:
        for column in new.columns:
            old_key = columns.get(column.key)
            if old_key is None:
                continue
            before, after = old.cell(case.key, old_key), new.cell(case.key, column.key)
            if before is None or after is None:
                continue
            was, now = before.passed, after.passed
            if was is not None and now is not None and was != now:
                flips.append(Flip(case.key, column.key, was, now))
    return flips


def _short(value: object, limit: int = 24) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cells_in_order(run: EvalRun) -> Sequence[CellResult]:
    """Every stored cell, case by case, column by column."""
    return [
        cell
        for case in run.cases
        for column in run.columns
        if (cell := run.cell(case.key, column.key)) is not None
    ]
