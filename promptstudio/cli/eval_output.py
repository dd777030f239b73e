"""What ``promptstudio eval`` prints: the table of models, the failed and ungraded
checks, the flips since the baseline and the comparisons (or JSON, CSV, an HTML page), and
the exit code a CI job reads (130 when stopped, 1 under a ``--min-pass-rate`` bar or on a
failed request). ``promptstudio batches`` prints a collected evaluation the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from promptstudio.cli.run import _prices

if TYPE_CHECKING:
    from promptstudio.evals.compare import Comparison
    from promptstudio.evals.results import CellResult, EvalCase, EvalRun, Flip, ModelSummary

MAX_FAILURES_SHOWN = 20
MAX_LINE = 160


def print_results(
    args: argparse.Namespace, run: EvalRun, name: str, baseline: EvalRun | None
) -> None:
    """The table (or JSON, or CSV) on stdout; the flips after it (CSV: on stderr)."""
    from promptstudio.evals.results import CANCELLED, compare_runs

    flips = compare_runs(baseline, run) if baseline is not None else []
    comparisons = _comparisons(args, run, baseline) if args.compare else []
    if args.json:
        _print_json(run, name, baseline, flips, args.compare, comparisons)
    elif args.html:
        from promptstudio.evals.report import results_to_html

        sys.stdout.write(results_to_html(run, comparisons))
    elif args.csv:
        from promptstudio.evals.report import results_to_csv

        sys.stdout.write(results_to_csv(run))
        for line in _flip_lines(run, baseline, flips) + _comparison_lines(comparisons):
            print(line, file=sys.stderr)
    else:
        lines = [f"{name} v{run.version_number}: {len(run.cases)} cases", ""]
        if run.repeat > 1:
            lines[0] += f" × {run.repeat} samples"
        if run.status == CANCELLED:
            stop = budget_line(run) if "stopped_for_budget" in run.settings else None
            lines[-1:-1] = [stop or _stopped_line(run)]
        lines += _table_lines(run) + _failure_lines(run) + _ungraded_lines(run)
        lines += _flip_lines(run, baseline, flips)
        print("\n".join(lines + _comparison_lines(comparisons)))


def budget_line(run: EvalRun) -> str:
    stop = run.settings.get("stopped_for_budget") or {}
    return (
        f"stopped for budget: {money(stop.get('spent'))} spent of "
        f"{money(stop.get('max_cost'))}; {_stopped_line(run).removeprefix('stopped: ')}"
    )


def _comparisons(
    args: argparse.Namespace, run: EvalRun, baseline: EvalRun | None
) -> list[Comparison]:
    """The same figures the window's grid shows: this version against the baseline, model
    by model, then the other models against the first."""
    from promptstudio.evals.compare import comparisons

    return comparisons(run, baseline, _prices(args))


def _comparison_lines(comparisons: Sequence[Comparison]) -> list[str]:
    lines: list[str] = []
    for comparison in comparisons:
        lines += ["", comparison.roi_line(), f"  {comparison.sentence()}"]
    return lines


def _table_lines(run: EvalRun) -> list[str]:
    from promptstudio.evals.results import summarize

    rows = [["model", "pass (95% CI)", "score", "mean ms", "p95 ms", "cost", "cached", "errors"]]
    rows += [
        [s.label, _pass_text(s, run), _number(s.mean_score, 2), _number(s.mean_latency_ms, 0),
         _number(s.p95_latency_ms, 0), money(s.total_cost), str(s.cached),
         str(s.failed_requests)]
        for s in summarize(run)
    ]  # fmt: skip
    if any(s.batch_cost is not None for s in summarize(run)):  # batch price, apart
        rows[0] += ["batch cost", "live cost"]
        for row, s in zip(rows[1:], summarize(run), strict=True):
            row += [money(s.batch_cost), money(s.live_cost)]
    if run.repeat > 1:
        k = run.repeat
        rows[0] += [f"pass@{k}", f"pass^{k}", "flaky"]
        for row, s in zip(rows[1:], summarize(run), strict=True):
            row += [_share(s.pass_at_k), _share(s.pass_hat_k), str(s.flaky)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _pass_text(summary: ModelSummary, run: EvalRun) -> str:
    from promptstudio.evals.stats import percent_text

    if summary.pass_rate is None or summary.pass_interval is None:
        cells = (run.cell(case.key, summary.column_key) for case in run.cases)
        return "not graded" if any(cell and cell.grades for cell in cells) else "no checks"
    interval = summary.pass_interval.percent()
    return f"{summary.passed}/{summary.graded} {percent_text(summary.pass_rate)} ({interval})"


def _share(value: float | None) -> str:
    from promptstudio.evals.stats import percent_text

    return "—" if value is None else percent_text(value)


def _number(value: float | None, places: int) -> str:
    return "—" if value is None else f"{value:,.{places}f}"


def money(cost: float | None) -> str:
    if cost is None:
        return "—"
    return "$0" if cost == 0 else f"${cost:.6f}" if cost < 0.01 else f"${cost:,.4f}"


def _failure_lines(run: EvalRun) -> list[str]:
    """``✗ case 3 (question=…) on model: why`` for every failed cell, the first few."""
    lines = []
    for case in run.cases:
        for column in run.columns:
            cell = run.cell(case.key, column.key)
            if cell is not None and cell.passed is False:
                lines.append(_clip(f"✗ {_case_name(case)} on {column.label}: {_why(cell)}"))
    if len(lines) > MAX_FAILURES_SHOWN:
        more = len(lines) - MAX_FAILURES_SHOWN
        lines = [*lines[:MAX_FAILURES_SHOWN], f"… and {more} more (--json or --csv has all)"]
    return ["", *lines] if lines else []


def _why(cell: CellResult) -> str:
    from promptstudio.evals.results import FAILED

    if cell.status == FAILED:
        return cell.error or "the request failed"
    return "; ".join(f"{g.grader}: {g.reason}" for g in cell.graded if not g.passed)


def _ungraded_lines(run: EvalRun) -> list[str]:
    """``– case 2 (…): javascript — Not graded: why`` once per case and check."""
    lines = []
    for case in run.cases:
        seen: dict[str, str] = {}
        for column in run.columns:
            cell = run.cell(case.key, column.key)
            for grade in cell.grades if cell is not None else ():
                if not grade.graded:
                    seen.setdefault(grade.grader, grade.reason)
        lines += [
            _clip(f"– {_case_name(case)}: {grader} — {reason}") for grader, reason in seen.items()
        ]
    if len(lines) > MAX_FAILURES_SHOWN:
        more = len(lines) - MAX_FAILURES_SHOWN
        lines = [*lines[:MAX_FAILURES_SHOWN], f"… and {more} more (--json or --csv has all)"]
    return ["", *lines] if lines else []


def _case_name(case: EvalCase) -> str:
    name = f"case {case.position + 1}"
    return f"{name} ({case.title})" if case.description or case.vars else name


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


def _flip_lines(run: EvalRun, baseline: EvalRun | None, flips: Sequence[Flip]) -> list[str]:
    if baseline is None:
        return []
    since = f"v{baseline.version_number} (evaluation {baseline.id})"
    if not flips:
        return ["", f"no case changed since {since}"]
    cases = {case.key: case for case in run.cases}
    lines = ["", f"changed since {since}:"]
    for flip in flips:
        arrow = f"{_mark(flip.before)}→{_mark(flip.after)}"
        label = run.column(flip.column_key).label
        lines.append(_clip(f"{arrow} {_case_name(cases[flip.case_key])} on {label}"))
    return lines


def _mark(passed: bool) -> str:
    return "✓" if passed else "✗"


def _print_json(
    run: EvalRun,
    name: str,
    baseline: EvalRun | None,
    flips: Sequence[Flip],
    compare: bool,
    comparisons: Sequence[Comparison] = (),
) -> None:
    from promptstudio.evals.report import results_to_json
    from promptstudio.evals.results import CANCELLED

    data = json.loads(results_to_json(run, comparisons))
    data |= {"prompt": name, "prompt_id": run.prompt_id, "eval_id": run.id,
             "version": run.version_number, "version_id": run.version_id}  # fmt: skip
    if run.status == CANCELLED:
        data["answers"] = _cancelled(run)
    if "stopped_for_budget" in run.settings:
        data["stopped_for_budget"] = run.settings["stopped_for_budget"]
    if compare:
        cases = {case.key: case for case in run.cases}
        data["compared_with"] = None if baseline is None else {
            "eval_id": baseline.id, "version": baseline.version_number}  # fmt: skip
        data["flips"] = [
            {"case": flip.case_key, "number": cases[flip.case_key].position + 1,
             "title": cases[flip.case_key].title, "column": flip.column_key,
             "model": run.column(flip.column_key).label, "before": flip.before,
             "after": flip.after}
            for flip in flips
        ]  # fmt: skip
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def exit_code(run: EvalRun, min_pass_rate: float | None, lower: float | None = None) -> int:
    """130 when stopped; 1 on a failed request or a pass rate (or the lower end of its
    interval, ``lower``) under the bar; else 0."""
    from promptstudio.evals.results import CANCELLED, summarize

    if run.status == CANCELLED and "stopped_for_budget" in run.settings:
        return 1
    if run.status == CANCELLED:
        say(f"{_stopped_line(run)}; the answers that finished are stored")
        return 130
    code = 0
    for summary in summarize(run):
        if summary.failed_requests:
            say(f"{summary.label}: {summary.failed_requests} of {summary.cells} answers failed")
            code = 1
        if min_pass_rate is None:
            continue
        if summary.pass_rate is None:
            say(f"{summary.label}: no case has a check, so --min-pass-rate cannot be met")
            code = 1
        elif summary.passed < min_pass_rate * summary.graded - 1e-9:
            say(f"{summary.label} passes {_share(summary.pass_rate)}, "
                f"below --min-pass-rate {min_pass_rate:.0%}")  # fmt: skip
            code = 1
    return max(code, _lower_bound_code(run, lower))


def _lower_bound_code(run: EvalRun, lower: float | None) -> int:
    """1 when a model's pass rate could, at 95%, be below ``lower`` (its interval's low end)."""
    from promptstudio.evals.results import summarize

    if lower is None:
        return 0
    code = 0
    for summary in summarize(run):
        interval = summary.pass_interval
        if interval is None:
            say(f"{summary.label}: no case has a check, so --min-pass-rate-lower cannot be met")
            code = 1
        elif interval.low < lower - 1e-9:
            say(f"{summary.label} passes {summary.passed}/{summary.graded}, 95% CI "
                 f"{interval.percent()}: its lower end is below --min-pass-rate-lower "
                 f"{lower:.0%}")  # fmt: skip
            code = 1
    return code


def _cancelled(run: EvalRun) -> dict[str, int]:
    """How many answers of a stopped run finished, were cut off, or never started."""
    from promptstudio.evals.results import stop_counts

    counts = stop_counts(run)
    return {"total": counts.total, "finished": counts.finished,
            "cancelled_running": counts.cancelled_running,
            "not_started": counts.not_started}  # fmt: skip


def _stopped_line(run: EvalRun) -> str:
    from promptstudio.evals.results import stop_counts

    return f"stopped: {stop_counts(run).describe()}"


def say(text: str) -> None:
    print(f"promptstudio: {text}", file=sys.stderr)
