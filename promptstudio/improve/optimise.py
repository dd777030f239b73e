"""Optimise: rounds of rewrites, each evaluated on the prompt's cases, the best kept.

Each round asks the optimiser prompt for K rewrites of the best version so far, told its
failing cases and the checks' reasons. Every rewrite that passes :func:`check_rewrite`
becomes a version on a branch of the one it rewrote (kind "candidate") and is evaluated
through the evaluator (its cache, per-server limits and the shared :class:`Budget`). The
best is chosen by pass rate, then mean score, then cost. The optimisation stops after R
rounds, when the budget is spent, or when a round's best is not significantly better than
the best before it (McNemar's exact test on the paired verdicts, as comparisons use).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from promptstudio.evals.plan import Budget
from promptstudio.evals.results import FAILED, EvalRun, summarize
from promptstudio.evals.stats import compare_paired
from promptstudio.improve.asking import ModelReply
from promptstudio.improve.errors import FeatureError
from promptstudio.improve.improving import variable_list
from promptstudio.improve.rewrite import check_rewrite, parse_proposal
from promptstudio.storage.rows import VersionRow

STOP_ROUNDS = "rounds"
STOP_BUDGET = "budget"
STOP_NO_GAIN = "no significant gain"
STOP_CANCELLED = "cancelled"
MAX_FAILURES = 20

Propose = Callable[[Mapping[str, object]], Awaitable[ModelReply]]
Evaluate = Callable[[VersionRow], Awaitable[EvalRun]]
SaveCandidate = Callable[[int, str, str], Awaitable[VersionRow]]


@dataclass
class Candidate:
    """One version measured: the original (round 0) or a rewrite."""

    round: int
    template: str
    version_id: int | None = None
    version: int | None = None  # the number History shows
    parent_version: int | None = None
    passed: int = 0
    graded: int = 0
    pass_rate: float | None = None
    mean_score: float | None = None
    cost: float = 0.0  # the evaluation's, plus the request that proposed it
    eval_id: int | None = None
    complete: bool = True  # False: the budget stopped its evaluation part way
    note: str = ""  # what the model said it changed
    rejected: str | None = None  # why the rewrite was refused (then nothing was evaluated)

    @property
    def rank(self) -> tuple[float, float, float]:
        """Bigger is better: pass rate, then mean score, then lower cost."""
        return (
            -1.0 if self.pass_rate is None else self.pass_rate,
            -1.0 if self.mean_score is None else self.mean_score,
            -self.cost,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["template"]
        return data


@dataclass
class Round:
    number: int
    candidates: list[Candidate] = field(default_factory=list)
    best_version: int | None = None
    best_pass_rate: float | None = None
    comparison: str = ""  # the paired test's sentence against the best before

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.number,
            "candidates": [c.to_dict() for c in self.candidates],
            "best_version": self.best_version,
            "best_pass_rate": self.best_pass_rate,
            "comparison": self.comparison,
        }


@dataclass
class OptimisationReport:
    prompt: str
    original: Candidate
    rounds: list[Round] = field(default_factory=list)
    chosen: Candidate | None = None
    stopped: str = STOP_ROUNDS
    spent: float = 0.0
    max_cost: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        chosen = self.chosen or self.original
        return {
            "prompt": self.prompt,
            "original": self.original.to_dict(),
            "rounds": [r.to_dict() for r in self.rounds],
            "chosen": {"version": chosen.version, "version_id": chosen.version_id,
                       "pass_rate": chosen.pass_rate, "round": chosen.round},
            "stopped": self.stopped,
            "spent": self.spent,
            "max_cost": self.max_cost,
            "settings": self.settings,
        }  # fmt: skip

    def pass_rates(self) -> list[tuple[int, float | None]]:
        """The best pass rate after each round (round 0: the original), for the chart."""
        points = [(0, self.original.pass_rate)]
        points += [(r.number, r.best_pass_rate) for r in self.rounds]
        return points

    def table(self) -> list[list[str]]:
        """Round, version, pass rate, mean score, cost, note: the report's table."""
        rows = [["round", "version", "pass", "score", "cost", "note"]]
        for candidate in [self.original, *(c for r in self.rounds for c in r.candidates)]:
            rows.append([
                str(candidate.round),
                f"v{candidate.version}" if candidate.version is not None else "—",
                _rate(candidate),
                "—" if candidate.mean_score is None else f"{candidate.mean_score:.2f}",
                money(candidate.cost),
                candidate.rejected or candidate.note or ("" if candidate.round else "original"),
            ])  # fmt: skip
        return rows

    def to_markdown(self) -> str:
        chosen = self.chosen or self.original
        lines = [
            f"# Optimisation of {self.prompt}",
            "",
            f"Chosen: v{chosen.version} ({_rate(chosen)}), from v{self.original.version} "
            f"({_rate(self.original)}). Stopped: {self.stopped}. Spent {money(self.spent)}"
            + (f" of {money(self.max_cost)}." if self.max_cost is not None else "."),
            "",
        ]
        rows = self.table()
        lines.append("| " + " | ".join(rows[0]) + " |")
        lines.append("|" + "---|" * len(rows[0]))
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows[1:]]
        lines += ["", "Best pass rate per round:", "", "```"]
        for number, rate in self.pass_rates():
            bar = "█" * round((rate or 0) * 40)
            lines.append(f"round {number}  {bar} {'—' if rate is None else f'{rate:.0%}'}")
        lines += ["```", ""]
        lines += [f"Round {r.number}: {r.comparison}" for r in self.rounds if r.comparison]
        return "\n".join(lines) + "\n"


def money(cost: float | None) -> str:
    if cost is None:
        return "—"
    return "$0" if cost == 0 else f"${cost:.6f}" if cost < 0.01 else f"${cost:,.4f}"


def _rate(candidate: Candidate) -> str:
    if candidate.rejected:
        return "rejected"
    if candidate.pass_rate is None:
        return "—"
    partial = "" if candidate.complete else " (partial)"
    return f"{candidate.passed}/{candidate.graded} {candidate.pass_rate:.0%}{partial}"


def measure(candidate: Candidate, run: EvalRun) -> None:
    """Fill the candidate's figures from its evaluation, every column pooled."""
    summaries = summarize(run)
    candidate.passed = sum(s.passed for s in summaries)
    candidate.graded = sum(s.graded for s in summaries)
    candidate.pass_rate = candidate.passed / candidate.graded if candidate.graded else None
    scores = [s.mean_score for s in summaries if s.mean_score is not None]
    candidate.mean_score = math.fsum(scores) / len(scores) if scores else None
    candidate.cost += math.fsum(s.total_cost or 0.0 for s in summaries)
    candidate.eval_id = run.id
    candidate.complete = len(run.cells) + len(run.more_samples) >= run.total


def failures(run: EvalRun, limit: int = MAX_FAILURES) -> str:
    """The failing cases with their values and the checks' reasons, for the optimiser."""
    lines = []
    for case in run.cases:
        for column in run.columns:
            cell = run.cell(case.key, column.key)
            if cell is None or cell.passed is not False:
                continue
            if cell.status == FAILED:
                why = cell.error or "the request failed"
            else:
                why = "; ".join(f"{g.grader}: {g.reason}" for g in cell.graded if not g.passed)
            values = ", ".join(f"{k}={str(v)[:200]!r}" for k, v in case.vars.items())
            answer = cell.text[:300].replace("\n", " ")
            lines.append(f"- case {case.position + 1} ({values}): answer {answer!r}; {why}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"- ... and {len(lines) - limit} more"]
    return "\n".join(lines) if lines else "(none: every case passes; make it shorter or clearer)"


def verdicts(run: EvalRun) -> dict[tuple[str, str], bool]:
    return {key: cell.passed for key, cell in run.cells.items() if cell.passed is not None}


class Optimiser:
    """Run once with :meth:`run`; :meth:`cancel` from the same loop stops it."""

    def __init__(
        self,
        prompt: str,
        original: VersionRow,
        *,
        propose: Propose,
        evaluate: Evaluate,
        save_candidate: SaveCandidate,
        rounds: int,
        candidates: int,
        budget: Budget | None = None,
        goal: str = "",
        on_progress: Callable[[str], None] | None = None,
    ) -> None:
        if rounds < 1 or candidates < 1:
            raise FeatureError("An optimisation needs at least 1 round and 1 candidate.")
        self.original = original
        self.propose = propose
        self.evaluate = evaluate
        self.save_candidate = save_candidate
        self.rounds, self.candidates = rounds, candidates
        self.budget = budget
        self.goal = goal
        self.on_progress = on_progress or (lambda _text: None)
        self.report = OptimisationReport(
            prompt,
            Candidate(0, original.template, original.id, original.number),
            max_cost=None if budget is None else budget.limit,
            settings={"rounds": rounds, "candidates": candidates, "goal": goal},
        )
        self._cancelled = False
        self._task: asyncio.Task[Any] | None = None

    def cancel(self) -> None:
        self._cancelled = True
        if self._task is not None:
            self._task.cancel()

    def _over_budget(self) -> bool:
        return self.budget is not None and (
            self.budget.stopped or self.budget.spent >= self.budget.limit - 1e-12
        )

    def _spend(self, cost: float | None) -> None:
        if self.budget is not None:
            self.budget.settle(0.0, cost)

    async def run(self) -> OptimisationReport:
        report = self.report
        try:
            await self._run(report)
        except asyncio.CancelledError:
            report.stopped = STOP_CANCELLED
        report.spent = self.budget.spent if self.budget is not None else report.spent
        return report

    async def _run(self, report: OptimisationReport) -> None:
        original = report.original
        self.on_progress(f"evaluating v{original.version} (the original)")
        best_run = await self.evaluate(self.original)
        measure(original, best_run)
        report.spent += original.cost
        best, best_version = original, self.original
        report.chosen = best
        for number in range(1, self.rounds + 1):
            if self._cancelled:
                report.stopped = STOP_CANCELLED
                return
            if self._over_budget():
                report.stopped = STOP_BUDGET
                return
            round_ = Round(number)
            report.rounds.append(round_)
            runs: dict[int, tuple[EvalRun, VersionRow]] = {}
            for attempt in range(1, self.candidates + 1):
                if self._over_budget():
                    break
                self.on_progress(f"round {number}: proposing candidate {attempt} of "
                                 f"{self.candidates}")  # fmt: skip
                candidate, version = await self._candidate(
                    number, attempt, best, best_version, best_run
                )
                round_.candidates.append(candidate)
                if version is None:
                    continue
                self.on_progress(f"round {number}: evaluating v{candidate.version}")
                run = await self.evaluate(version)
                measure(candidate, run)
                report.spent += candidate.cost
                if candidate.complete:
                    runs[id(candidate)] = (run, version)
            contenders = [c for c in round_.candidates if id(c) in runs]
            winner = max(contenders, key=lambda c: c.rank, default=None)
            gained = winner is not None and winner.rank > best.rank
            if winner is not None and gained:
                run, version = runs[id(winner)]
                paired = _paired(run, best_run, f"v{winner.version}", f"v{best.version}")
                round_.comparison = paired.sentence()
                best, best_version, best_run = winner, version, run
                report.chosen = best
                significant = paired.verdict == "better"
            else:
                round_.comparison = "no candidate did better than the best so far."
                significant = False
            round_.best_version, round_.best_pass_rate = best.version, best.pass_rate
            if self._over_budget() or (self.budget is not None and self.budget.stopped):
                report.stopped = STOP_BUDGET
                return
            if not significant:
                report.stopped = STOP_NO_GAIN
                return
        report.stopped = STOP_ROUNDS

    async def _candidate(
        self, number: int, attempt: int, best: Candidate, version: VersionRow, run: EvalRun
    ) -> tuple[Candidate, VersionRow | None]:
        candidate = Candidate(number, "", parent_version=best.version)
        try:
            reply = await self.propose({
                "template": best.template, "variables": variable_list(best.template),
                "failures": failures(run), "goal": self.goal,
                "attempt": attempt, "attempts": self.candidates,
            })  # fmt: skip
        except FeatureError as exc:
            candidate.rejected = exc.message
            return candidate, None
        candidate.cost = reply.cost or 0.0
        self._spend(reply.cost)
        try:
            proposal = parse_proposal(reply.text)
            check_rewrite(best.template, proposal.template, version.variables)
        except FeatureError as exc:
            candidate.rejected = exc.message
            return candidate, None
        candidate.template = proposal.template
        candidate.note = proposal.critique.splitlines()[0][:160] if proposal.critique else ""
        saved = await self.save_candidate(
            version.id, proposal.template,
            f"Optimisation round {number}, candidate {attempt}" + (
                f": {candidate.note}" if candidate.note else ""),
        )  # fmt: skip
        candidate.version_id, candidate.version = saved.id, saved.number
        return candidate, saved


def _paired(new: EvalRun, old: EvalRun, new_name: str, old_name: str) -> Any:
    before, after = verdicts(old), verdicts(new)
    keys = [key for key in after if key in before]
    return compare_paired(
        [after[k] for k in keys], [before[k] for k in keys], new_name=new_name, old_name=old_name
    )
