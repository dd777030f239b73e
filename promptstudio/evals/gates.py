"""Gated promotion: a label ("production") moves only to a version whose evals pass.

A label may carry a :class:`~promptstudio.storage.rows.LabelGate`. Moving it checks the
version's newest evaluation on each of the gate's models (none named: every model of the
version's newest evaluation): it must have run every one of the prompt's *current* cases
(same values, expected answer and checks as now) and its pass rate, or the lower bound of
its 95% Wilson interval, must reach the gate. Otherwise :class:`GateRefused` says why, with
the numbers, and the label stays where it was. The GUI and ``promptstudio label`` both go
through :func:`move_label`, on the database thread, in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from promptstudio.errors import PromptStudioError
from promptstudio.evals.results import CANCELLED, EvalCase, EvalRun, summarize
from promptstudio.evals.stats import PassRate, pass_rate
from promptstudio.evals.store import cases_from_rows, run_from_rows
from promptstudio.storage import StorageError, library
from promptstudio.storage.rows import EvalRunRow, LabelGate, LabelRow
from promptstudio.storage.transaction import transaction

_EPSILON = 1e-9  # 9/10 meets a gate of 0.9 whatever the float rounding


@dataclass(frozen=True, slots=True)
class ModelVerdict:
    """How one model of the gate did: its evaluation's numbers, or why there are none."""

    model: str
    rate: PassRate | None = None  # None: no evaluation of the version on this model
    evaluation: str = ""  # "evaluation #5 (2026-12-07 03:20)"
    missing_cases: int = 0  # current cases that evaluation did not run (as they are now)
    met: bool = False

    def describe(self, gate: LabelGate) -> str:
        if self.rate is None:
            return f"{self.model}: no evaluation of this version on it"
        line = f"{self.model}: {self.rate.describe()} in {self.evaluation}"
        if self.missing_cases:
            return f"{line}; it did not run {self.missing_cases} of the current cases"
        if not self.met:
            figure = gate_figure(self.rate, gate)
            shown = "nothing graded" if figure is None else f"{figure:.0%}"
            return f"{line}; {shown} is below {gate.pass_rate:.0%}"
        return line


@dataclass(frozen=True, slots=True)
class GateCheck:
    """A version measured against a gate, model by model."""

    gate: LabelGate
    version_number: int
    verdicts: tuple[ModelVerdict, ...]

    @property
    def met(self) -> bool:
        return bool(self.verdicts) and all(verdict.met for verdict in self.verdicts)

    def lines(self) -> list[str]:
        if not self.verdicts:
            return [f"v{self.version_number} has no evaluation yet."]
        return [verdict.describe(self.gate) for verdict in self.verdicts]


class GateRefused(PromptStudioError):
    """The version does not meet the label's gate; the message carries the numbers."""

    def __init__(self, label: str, check: GateCheck, current: int | None) -> None:
        stays = f"stays on v{current}" if current is not None else "was not created"
        head = (
            f'Label "{label}" {stays}: v{check.version_number} does not meet its gate '
            f"({check.gate.describe()})."
        )
        super().__init__("\n".join([head, *(f"  {line}" for line in check.lines())]))
        self.label, self.check, self.current = label, check, current


def gate_figure(rate: PassRate, gate: LabelGate) -> float | None:
    """The number the gate compares: the pass rate or its interval's lower bound."""
    if gate.lower_bound:
        return None if rate.interval is None else rate.interval.low
    return rate.rate


def check_gate(
    conn: sqlite3.Connection, prompt_id: int, version_id: int, gate: LabelGate
) -> GateCheck:
    """Measure a version against a gate (reads only)."""
    version = library.get_version(conn, version_id)
    evaluations = [run for run in library.list_eval_runs(conn, prompt_id)
                   if run.version_id == version_id]  # fmt: skip
    current = cases_from_rows(library.list_cases(conn, prompt_id))
    models = gate.models or _models_of(evaluations[:1])
    verdicts = []
    loaded: dict[int, EvalRun] = {}
    for model in models:
        row = next((run for run in evaluations if _has_model(run, model)), None)
        if row is None:
            verdicts.append(ModelVerdict(model))
            continue
        if row.id not in loaded:
            loaded[row.id] = run_from_rows(row, library.eval_cells(conn, row.id))
        verdicts.append(_verdict(loaded[row.id], row, model, current, gate))
    return GateCheck(gate, version.number, tuple(verdicts))


@dataclass(frozen=True, slots=True)
class Promotion:
    """A label moved: where it is now, where it was (a version number), the gate's check."""

    label: LabelRow
    version_number: int
    previous: int | None
    check: GateCheck | None


def move_label(
    conn: sqlite3.Connection,
    prompt_id: int,
    name: str,
    version_id: int,
    *,
    gate: LabelGate | None = None,
    clear_gate: bool = False,
) -> Promotion:
    """Point the label at the version (creating it), if the version meets its gate.

    ``gate`` replaces the label's gate (and is checked already for this move);
    ``clear_gate`` takes the gate away. Raises :class:`GateRefused`, writing nothing.
    """
    with transaction(conn):
        version = library.get_version(conn, version_id)
        if version.prompt_id != prompt_id:
            raise StorageError(f"Version {version_id} belongs to another prompt.")
        existing = library.get_label(conn, prompt_id, name)
        previous = None
        if existing is not None:
            previous = library.get_version(conn, existing.version_id).number
        effective = gate or (None if clear_gate or existing is None else existing.gate)
        check = None
        if effective is not None:
            check = check_gate(conn, prompt_id, version_id, effective)
            if not check.met:
                raise GateRefused(existing.name if existing else name.strip(), check, previous)
        row = library.set_label(conn, prompt_id, name, version_id)
        if gate is not None or clear_gate:
            row = library.set_label_gate(conn, prompt_id, row.name, gate)
        return Promotion(row, version.number, previous, check)


def latest_pass_rates(conn: sqlite3.Connection, prompt_id: int) -> dict[int, PassRate]:
    """Each evaluated version's newest evaluation, every model pooled: version id -> rate."""
    newest: dict[int, EvalRunRow] = {}
    for row in library.list_eval_runs(conn, prompt_id):  # newest first
        newest.setdefault(row.version_id, row)
    rates = {}
    for version_id, row in newest.items():
        summaries = summarize(run_from_rows(row, library.eval_cells(conn, row.id)))
        rates[version_id] = pass_rate(sum(s.passed for s in summaries),
                                      sum(s.graded for s in summaries))  # fmt: skip
    return rates


def _models_of(rows: Iterable[EvalRunRow]) -> list[str]:
    return [str(column.get("model") or "") for row in rows for column in row.columns]


def _has_model(row: EvalRunRow, model: str) -> bool:
    return any(model in (column.get("model"), column.get("label")) for column in row.columns)


def _verdict(
    run: EvalRun, row: EvalRunRow, model: str, current: Sequence[EvalCase], gate: LabelGate
) -> ModelVerdict:
    column = next(c for c in run.columns if model in (c.model, c.label))
    summary = next(s for s in summarize(run) if s.column_key == column.key)
    rate = pass_rate(summary.passed, summary.graded)
    as_run = {case.key: _content(case) for case in run.cases}
    missing = sum(
        1
        for case in current
        if as_run.get(case.key) != _content(case)
        or all(cell.status == CANCELLED for cell in run.samples(case.key, column.key))
    )
    figure = gate_figure(rate, gate)
    met = missing == 0 and figure is not None and figure + _EPSILON >= gate.pass_rate
    when = row.created_at[:16].replace("T", " ")
    return ModelVerdict(model, rate, f"evaluation #{row.id} ({when})", missing, met)


def _content(case: EvalCase) -> tuple[object, ...]:
    """What makes a case the same case: its values, expected answer, checks and threshold."""
    return (case.vars, case.expected, list(case.asserts), case.threshold)
