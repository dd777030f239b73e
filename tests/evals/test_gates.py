"""Gated promotion in the core: a label moves only to a version whose latest evaluation
meets its gate on the prompt's current cases and the gate's models."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from promptstudio.evals.gates import GateRefused, check_gate, latest_pass_rates, move_label
from promptstudio.evals.graders import GradeResult
from promptstudio.evals.results import CellResult, EvalColumn, EvalRun
from promptstudio.evals.store import cases_from_rows, save_run
from promptstudio.storage import Database, StorageError, library
from promptstudio.storage.rows import LabelGate


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "library.sqlite3") as database:
        yield database


def _prompt(db: Database, cases: int = 10) -> tuple[int, int, int]:
    """A prompt with ``cases`` cases and two versions: (prompt, v1, v2) ids."""
    prompt = db.call(library.create_prompt, "Support")
    v1 = db.call(library.save_version, prompt.id, "Answer {{ q }}", {}, {})
    v2 = db.call(library.save_version, prompt.id, "Answer {{ q }} briefly", {}, {})
    db.call(library.replace_cases, prompt.id,
            [{"vars": {"q": f"q{n}"}, "expected": "yes"} for n in range(cases)])  # fmt: skip
    return prompt.id, v1.id, v2.id


def _evaluate(
    db: Database, prompt_id: int, version_id: int, passes: dict[str, int], *, only: int = 0
) -> None:
    """Store an evaluation of the version: per model, how many of the current cases pass
    (the first ``only`` cases when ``only`` is given)."""
    cases = cases_from_rows(db.call(library.list_cases, prompt_id))
    cases = cases[:only] if only else cases
    columns = tuple(EvalColumn(f"c{i}", m, m, "http://127.0.0.1:1/v1")
                    for i, m in enumerate(passes))  # fmt: skip
    run = EvalRun(columns, cases)
    for column in columns:
        for n, case in enumerate(cases):
            good = n < passes[column.model]
            grade = GradeResult(good, float(good), "", "equals")
            run.put(CellResult(case.key, column.key, "done", text="x", grades=(grade,)))
    db.call(save_run, version_id, run)


def _label_version(db: Database, prompt_id: int, name: str) -> int | None:
    label = db.call(library.get_label, prompt_id, name)
    return None if label is None else label.version_id


def test_a_gated_label_is_refused_with_the_numbers_then_allowed(db: Database) -> None:
    prompt, v1, v2 = _prompt(db)
    _evaluate(db, prompt, v1, {"m1": 10})
    gate = LabelGate(0.9, models=("m1",))
    first = db.call(move_label, prompt, "production", v1, gate=gate)
    assert first.label.gate == gate and first.check is not None and first.check.met
    _evaluate(db, prompt, v2, {"m1": 7})
    with pytest.raises(GateRefused) as refused:
        db.call(move_label, prompt, "production", v2)  # the stored gate applies
    message = refused.value.message
    assert 'Label "production" stays on v1: v2 does not meet its gate' in message
    assert "7/10 passed (70%" in message and "70% is below 90%" in message
    assert _label_version(db, prompt, "production") == v1
    _evaluate(db, prompt, v2, {"m1": 9})  # a newer evaluation of v2: 9/10 meets 90%
    moved = db.call(move_label, prompt, "production", v2)
    assert (moved.version_number, moved.previous) == (2, 1)
    assert _label_version(db, prompt, "production") == v2


def test_the_lower_bound_is_stricter_than_the_rate(db: Database) -> None:
    prompt, v1, _v2 = _prompt(db)
    _evaluate(db, prompt, v1, {"m1": 9})
    assert db.call(check_gate, prompt, v1, LabelGate(0.8)).met
    check = db.call(check_gate, prompt, v1, LabelGate(0.8, lower_bound=True))
    assert not check.met  # 9/10: the Wilson interval's low end is about 60%
    assert "is below 80%" in check.lines()[0] and "95% CI" in check.lines()[0]


def test_the_evaluation_must_cover_the_current_cases(db: Database) -> None:
    prompt, v1, _v2 = _prompt(db)
    _evaluate(db, prompt, v1, {"m1": 8}, only=8)  # 8/8, but two current cases never ran
    check = db.call(check_gate, prompt, v1, LabelGate(0.5))
    assert not check.met and "did not run 2 of the current cases" in check.lines()[0]
    # A case edited after the evaluation is not the case that was run.
    _evaluate(db, prompt, v1, {"m1": 10})
    assert db.call(check_gate, prompt, v1, LabelGate(0.5)).met
    rows = db.call(library.list_cases, prompt)
    edited: list[dict[str, Any]] = [
        {"id": rows[0].id, "vars": {"q": "changed"}, "expected": "yes"},
        *({"id": r.id, "vars": r.vars, "expected": r.expected} for r in rows[1:]),
    ]
    db.call(library.save_cases, prompt, edited)
    assert "did not run 1 of" in db.call(check_gate, prompt, v1, LabelGate(0.5)).lines()[0]


def test_every_gate_model_needs_an_evaluation_of_the_version(db: Database) -> None:
    prompt, v1, _v2 = _prompt(db)
    _evaluate(db, prompt, v1, {"m1": 10, "m2": 5})
    assert not db.call(check_gate, prompt, v1, LabelGate(0.9)).met  # every model: m2 fails
    assert db.call(check_gate, prompt, v1, LabelGate(0.9, models=("m1",))).met
    check = db.call(check_gate, prompt, v1, LabelGate(0.9, models=("m1", "m3")))
    assert not check.met and check.lines()[1] == "m3: no evaluation of this version on it"
    with pytest.raises(GateRefused, match='"best" was not created'):
        db.call(move_label, prompt, "best", v1, gate=LabelGate(0.9, models=("m3",)))
    assert db.call(library.get_label, prompt, "best") is None


def test_an_unevaluated_version_and_a_cleared_gate(db: Database) -> None:
    prompt, v1, v2 = _prompt(db)
    _evaluate(db, prompt, v1, {"m1": 10})
    db.call(move_label, prompt, "production", v1, gate=LabelGate(1.0))
    with pytest.raises(GateRefused, match="v2 has no evaluation yet"):
        db.call(move_label, prompt, "production", v2)
    moved = db.call(move_label, prompt, "production", v2, clear_gate=True)
    assert moved.label.gate is None and moved.check is None
    assert db.call(library.get_label, prompt, "PRODUCTION").gate is None  # type: ignore[union-attr]
    other = db.call(library.create_prompt, "Other")
    with pytest.raises(StorageError, match="another prompt"):
        db.call(move_label, other.id, "production", v1)


def test_latest_pass_rates_pool_the_models_of_each_versions_newest_evaluation(
    db: Database,
) -> None:
    prompt, v1, v2 = _prompt(db, cases=4)
    _evaluate(db, prompt, v1, {"m1": 1})
    _evaluate(db, prompt, v1, {"m1": 4, "m2": 2})
    rates = db.call(latest_pass_rates, prompt)
    assert set(rates) == {v1} and (rates[v1].passed, rates[v1].total) == (6, 8)
    assert v2 not in rates


def _names(gates: Sequence[LabelGate]) -> list[str]:
    return [gate.describe() for gate in gates]


def test_a_gate_describes_itself() -> None:
    assert _names([LabelGate(0.9, models=("m1", "m2")), LabelGate(0.8, lower_bound=True)]) == [
        "pass rate ≥ 90% on m1, m2",
        "the 95% interval's lower bound ≥ 80% on every model",
    ]
