"""``promptstudio eval``: a prompt's test cases on several models, graded, for CI.

SOURCE is a library prompt (name or id) or a file as ``run`` reads it (.prompty, .json,
a promptfoo config, a plain template). Cases come from ``--cases FILE`` (CSV, JSONL,
JSON), else the file's own (promptfoo ``tests``), else the library prompt's; models from
``--model`` (each at the ``--base-url``/``--profile`` named last before it, as in
``run``), else the file's columns, else those of the prompt's latest version. Every case
is also graded by the prompt's checks for every case; ``--judge MODEL`` picks the model
that grades ``llm-rubric`` checks. ``--var`` fills variables a case leaves out;
``--temperature``, ``--max-tokens`` and the other generation settings are ``run``'s.

The evaluation is recorded as the app records one: the version is saved under the
prompt (a file gets a prompt of its name, in folder "CLI"), the evaluation is stored
with it, and answers are cached in the library, so a rerun asks no model again unless
``--fresh``. Exit status: 0; 1 when a request failed or a model's pass rate is below
``--min-pass-rate`` (or the lower end of its 95% interval is below
``--min-pass-rate-lower``); 2 for a usage or setup error; 130 when stopped with Ctrl+C
(what finished is stored).

``--repeat N`` asks every model N times per case (each sample cached on its own, so a
rerun asks nothing again) and adds pass@N, pass^N and the flaky cases to the table.
Every pass rate comes with its 95% Wilson interval. ``--compare`` pairs this evaluation
with the prompt's previous one, model by model, and the models with the first one: the
cases that flipped, McNemar's exact test in a sentence, and one line with the pass-rate
change, its interval and the cost per 1,000 answers.

``--dry-run`` prints the plan (requests, cache hits, estimated tokens and cost per model,
and how each was estimated) and sends nothing; ``--max-cost USD`` (else the setting
``evaluate.max_cost``) stops before the spending would exceed it (exit status 1, what
finished is stored).

``--batch`` sends the cells as provider batches (OpenAI, Anthropic: half the price, within
24 hours) and exits once they are sent; ``--wait`` polls until they end and prints the
results. ``promptstudio batches`` lists, polls, collects and cancels them.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptstudio.cli import CliError
from promptstudio.cli.library import find_prompt, open_db
from promptstudio.cli.options import add_generation_options
from promptstudio.cli.options import fraction as _fraction
from promptstudio.cli.run import (
    _columns,
    _prices,
    _targets,
    add_model_options,
    load_document,
)
from promptstudio.errors import PromptStudioError

if TYPE_CHECKING:
    from promptstudio.chat import Image
    from promptstudio.evals.cache import LibraryCache
    from promptstudio.evals.checks_model import CheckTools
    from promptstudio.evals.compare import Comparison
    from promptstudio.evals.results import CellResult, EvalCase, EvalRun, Flip, ModelSummary
    from promptstudio.evals.runner import EvalTarget, Evaluation, JudgeSettings
    from promptstudio.exchange import PromptDocument
    from promptstudio.images import ImageReader
    from promptstudio.runs.columns import ColumnConfig
    from promptstudio.settings.store import SettingsStore
    from promptstudio.storage import Database
    from promptstudio.storage.rows import PromptRow

PROGRESS_STEPS = 10  # a progress line about every tenth of the way
MAX_FAILURES_SHOWN = 20
MAX_LINE = 160


def add_eval_command(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    evaluate = commands.add_parser(
        "eval",
        parents=parents,
        help="evaluate a prompt's test cases on one or more models (for CI)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    evaluate.set_defaults(models=[], place=None, first_place=None, samples=None)
    evaluate.add_argument("file", metavar="SOURCE",
                          help="a library prompt (name or id) or a prompt file")  # fmt: skip
    evaluate.add_argument("--cases", metavar="FILE", help="test cases from .csv, .jsonl or .json")
    add_model_options(evaluate, "a model to evaluate (repeat for several)")
    evaluate.add_argument("--judge", metavar="MODEL",
                          help="which of the models grades llm-rubric checks")  # fmt: skip
    evaluate.add_argument("--fresh", action="store_true", help="ask again; skip cached answers")
    evaluate.add_argument("--allow-code-checks", action="store_true",
                          help="run 'python' checks (your code, in another process)")  # fmt: skip
    output = evaluate.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the results as JSON")
    output.add_argument("--csv", action="store_true", help="print one CSV row per answer")
    output.add_argument("--html", action="store_true",
                        help="print a report page: figures, comparisons, answers")  # fmt: skip
    evaluate.add_argument("--min-pass-rate", type=_fraction, metavar="FRACTION",
                          help="exit 1 when a model passes fewer cases (0.8 or 80%%)")  # fmt: skip
    evaluate.add_argument("--min-pass-rate-lower", type=_fraction, metavar="FRACTION",
                          help="exit 1 when the lower end of a model's 95%% interval of its "
                               "pass rate is below this")  # fmt: skip
    evaluate.add_argument("--repeat", type=_repeat, default=1, metavar="N",
                          help="ask each model N times a case (pass@N, pass^N, flaky)")  # fmt: skip
    evaluate.add_argument("--compare", action="store_true",
                          help="compare with the last evaluation (paired test, ROI line) and "
                               "the models with the first")  # fmt: skip
    evaluate.add_argument(
        "--max-cost", type=_dollars, metavar="USD",
        help="stop before spending more than this (default: the setting)",
    )  # fmt: skip
    evaluate.add_argument(
        "--dry-run", action="store_true",
        help="print the plan (requests, cache hits, tokens, cost) and send nothing",
    )  # fmt: skip
    evaluate.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                          help="a value for variables the cases leave out")  # fmt: skip
    add_generation_options(evaluate)
    from promptstudio.cli.batches import add_batch_options

    add_batch_options(evaluate)


def _repeat(text: str) -> int:
    from promptstudio.runs.columns import MAX_SAMPLES

    if not text.isdigit() or not 1 <= int(text) <= MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_SAMPLES}")
    return int(text)


def _dollars(text: str) -> float:
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of US dollars") from None
    if not value >= 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of 0 or more dollars")
    return value


def evaluate(args: argparse.Namespace) -> int:
    import asyncio

    from promptstudio.evals.store import load_run, save_run
    from promptstudio.exchange.document import version_settings
    from promptstudio.storage import library

    if args.wait and not args.batch:
        raise CliError("--wait polls batches: give --batch too", 2)
    with open_db(args) as db:
        doc, prompt = _source(args, db)
        columns, evaluation = _evaluation(args, db, doc, prompt)
        if args.batch:  # provider batches: cli/batches.py
            from promptstudio.cli.batches import batch_evaluate

            return batch_evaluate(args, db, doc, prompt, columns, evaluation)
        if _plan(args, db, evaluation, prompt):
            return 0
        if prompt is None:
            prompt = db.call(library.create_prompt, doc.name, doc.folder or "CLI")
        version = db.call(
            library.save_version, prompt.id, doc.template, evaluation.values,
            version_settings(columns, evaluation.tool_defs), kind="run",
            images=_sent_images(doc.template, evaluation.values, evaluation.images),
        )  # fmt: skip
        runs = db.call(library.list_eval_runs, prompt.id)
        earlier = [r for r in runs if r.status != "pending"]  # still waiting on batches
        models = ", ".join(target.column.label for target in evaluation.targets)
        print(f"→ {prompt.name} v{version.number}: {len(evaluation.result.cases)} cases × "
              f"{models}", file=sys.stderr)  # fmt: skip
        run = db.call(save_run, version.id, asyncio.run(_run_evaluation(evaluation)))
        if evaluation.images.from_store:
            _say(evaluation.images.gone_note())
        print(f"stored as evaluation {run.id} of {prompt.name} v{run.version_number}",
              file=sys.stderr)  # fmt: skip
        baseline = db.call(load_run, earlier[0].id) if args.compare and earlier else None
    if args.compare and baseline is None:
        print(f"promptstudio: {prompt.name} has no earlier evaluation to compare with",
              file=sys.stderr)  # fmt: skip
    if "stopped_for_budget" in run.settings:
        _say(_budget_line(run))
    _print_results(args, run, prompt.name, baseline)
    return _exit_code(run, args.min_pass_rate, args.min_pass_rate_lower)


def _plan(
    args: argparse.Namespace, db: Database, evaluation: Evaluation, prompt: PromptRow | None
) -> bool:
    """Show the plan (on stdout for ``--dry-run``: True, nothing is sent), and set the
    budget from ``--max-cost`` or the setting."""
    from promptstudio.evals.plan import (
        Budget,
        cached_among,
        evaluation_cells,
        plan_evaluation,
        planned_models,
        read_history,
    )
    from promptstudio.paths import data_dir
    from promptstudio.settings.store import SettingsStore

    limit = args.max_cost
    if limit is None:
        setting = SettingsStore(data_dir(args.data_dir)).get("evaluate.max_cost")
        limit = float(setting) if isinstance(setting, int | float) else None
    if limit is None and not args.dry_run:
        return False  # the plan renders every case before the first request: not unasked
    models = planned_models(evaluation)
    history = db.call(read_history, models, prompt.id if prompt is not None else None)
    cells = evaluation_cells(evaluation)
    keys = [key for _, key in cells if key]
    cached = set() if evaluation.fresh else db.call(cached_among, keys)
    plan = plan_evaluation(evaluation, history, cached, cells)
    if args.dry_run:
        if args.json:
            json.dump({"plan": plan.to_dict()}, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            print("\n".join(["plan (dry run: nothing sent)", *plan.lines()]))
        return True
    print(f"plan: {plan.total_line()}", file=sys.stderr)
    if limit is not None:
        evaluation.budget = Budget.from_plan(limit, plan)
        print(f"budget: {_money(limit)}", file=sys.stderr)
    return False


def _budget_line(run: EvalRun) -> str:
    stop = run.settings.get("stopped_for_budget") or {}
    return (
        f"stopped for budget: {_money(stop.get('spent'))} spent of "
        f"{_money(stop.get('max_cost'))}; {_stopped_line(run).removeprefix('stopped: ')}"
    )


# ---- what to evaluate ------------------------------------------------------------------


def _sent_images(template: str, values: Mapping[str, object], images: ImageReader) -> list[Image]:
    """The images the version sends, stored with it as the window's evaluation stores them:
    rendered with its values, a variable only the cases give left blank (as the variables
    form holds every name)."""
    from promptstudio.images import ImageReader
    from promptstudio.templating import TemplateError, input_names, sent_images

    try:
        blank: dict[str, object] = dict.fromkeys(input_names(template), "")
    except TemplateError:
        return []
    reader = ImageReader(images.base_dir, images.stored)  # its own list of files gone
    return sent_images(template, {**blank, **values}, images=reader)


def _source(args: argparse.Namespace, db: Database) -> tuple[PromptDocument, PromptRow | None]:
    """The prompt as a document, and its library prompt (None for a file not seen yet)."""
    from promptstudio.exchange import PromptDocument
    from promptstudio.storage import library

    if Path(args.file).is_file():
        try:
            doc = load_document(args)
        except PromptStudioError as exc:
            raise CliError(exc.message, 2) from exc
        found = [p for p in db.call(library.list_prompts) if p.name == doc.name]
        return doc, found[0] if found else None
    try:
        prompt = db.call(find_prompt, args.file)
    except CliError as exc:
        raise CliError(f"{args.file}: no such file, and {exc.message}", 2) from exc
    version = db.call(library.latest_version, prompt.id)
    if version is None:
        raise CliError(f"{prompt.name} has no saved version to evaluate", 2)
    return PromptDocument.from_library(prompt, version), prompt


def _evaluation(
    args: argparse.Namespace, db: Database, doc: PromptDocument, prompt: PromptRow | None
) -> tuple[list[ColumnConfig], Evaluation]:
    """The run columns (as the run sends them) and the evaluation, checked."""
    from promptstudio.evals.cache import LibraryCache
    from promptstudio.evals.runner import EvalError, Evaluation
    from promptstudio.exchange.document import columns_from_dicts, stored_tools
    from promptstudio.paths import data_dir
    from promptstudio.settings.store import SettingsStore
    from promptstudio.storage import library

    if not doc.columns and prompt is not None:
        latest = db.call(library.latest_version, prompt.id)
        stored = latest.settings.get("columns") or [] if latest else []
        doc.columns = columns_from_dicts(stored)
        doc.tools = doc.tools or (stored_tools(latest.settings) if latest else [])
    cases = _cases(args, doc, prompt, db)
    checks = db.call(library.get_eval_settings, prompt.id) if prompt is not None else None
    stored_images = {}  # a library prompt's image files gone since: the library's copies
    named = None if Path(args.file).is_file() or prompt is None else prompt.id
    if named is not None and (version := db.call(library.latest_version, named)) is not None:
        stored_images = db.call(library.stored_images, version.id)
    # An evaluation repeats cases with --repeat, not a column's samples (as in the window).
    columns = [replace(column, samples=1) for column in _columns(args, doc)]
    targets = _eval_targets(args, columns)
    store = SettingsStore(data_dir(args.data_dir))
    cache = LibraryCache(db)
    tools = _check_tools(args, store, cache)
    try:
        evaluation = Evaluation(
            doc.template,
            cases,
            targets,
            values={**doc.variables, **args.values},
            for_every_case=checks.asserts if checks else (),
            judge=_judge(args.judge, targets, checks.judge_prompt if checks else None),
            cache=cache,
            fresh=args.fresh,
            local_limit=int(str(store.get("evaluate.local_limit"))),
            remote_limit=int(str(store.get("evaluate.remote_limit"))),
            price_table=_prices(args),
            on_cell=_Progress(len(cases) * len(targets) * args.repeat),
            repeat=args.repeat,
            tools=tools,
            tool_defs=doc.tools,
            stored_images=stored_images,
            locate=doc.origin.locate if doc.origin is not None else None,
        )
    except EvalError as exc:
        raise CliError(exc.message, 2) from exc
    return columns, evaluation


def _check_tools(args: argparse.Namespace, store: SettingsStore, cache: LibraryCache) -> CheckTools:
    """Embeddings as the settings say; code checks only with ``--allow-code-checks``."""
    from promptstudio.credentials import KeyStore
    from promptstudio.evals.check_tools import check_tools
    from promptstudio.paths import data_dir
    from promptstudio.settings.profiles import ProfileStore

    profiles = ProfileStore(data_dir(args.data_dir))
    profiles.load()
    try:
        return check_tools(
            store.get,
            profiles=profiles.profiles(include_hidden=True),
            keys=KeyStore(),
            cache=cache,
            run_code=args.allow_code_checks,
        )
    except PromptStudioError as exc:  # the embeddings provider no longer exists
        raise CliError(f"embeddings (settings checks.embeddings_*): {exc.message}", 2) from exc


def _cases(
    args: argparse.Namespace, doc: PromptDocument, prompt: PromptRow | None, db: Database
) -> tuple[EvalCase, ...]:
    """``--cases FILE``, else the file's own cases, else the library prompt's."""
    from promptstudio.evals.store import cases_from_rows
    from promptstudio.exchange import ExchangeError
    from promptstudio.exchange.case_files import cases_from_file
    from promptstudio.storage import library

    if args.cases:
        try:
            found = cases_from_file(Path(args.cases))
        except ExchangeError as exc:
            raise CliError(exc.message, 2) from exc
        if not found:
            raise CliError(f"{args.cases} holds no test cases", 2)
        return _file_cases(found)
    if doc.cases:
        return _file_cases(doc.cases)
    rows = db.call(library.list_cases, prompt.id) if prompt is not None else []
    if not rows:
        raise CliError(
            f"{doc.name} has no test cases: give --cases FILE (CSV, JSONL or JSON), "
            "add tests to the file, or add cases to the prompt in the app",
            2,
        )
    return cases_from_rows(rows)


def _file_cases(cases: Sequence[Mapping[str, Any]]) -> tuple[EvalCase, ...]:
    """Cases read from a file, each known by its variables (a hash of them), so that
    reordering or inserting cases keeps comparisons with earlier evaluations straight."""
    from promptstudio.evals.results import EvalCase, case_threshold

    seen: dict[str, int] = {}
    out = []
    for position, case in enumerate(cases):
        variables = dict(case.get("vars") or {})
        canonical = json.dumps(variables, sort_keys=True, ensure_ascii=False, default=str)
        key = "file:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
        seen[key] = seen.get(key, 0) + 1
        expected = case.get("expected")
        out.append(
            EvalCase(
                key=key if seen[key] == 1 else f"{key}-{seen[key]}",
                position=position,
                vars=variables,
                description=str(case.get("description") or ""),
                expected=None if expected is None else str(expected),
                asserts=tuple(dict(check) for check in case.get("assert") or ()),
                threshold=case_threshold(case),
            )
        )
    return tuple(out)


def _eval_targets(args: argparse.Namespace, columns: list[ColumnConfig]) -> list[EvalTarget]:
    """One target per column, labelled by its model (and place, when a model repeats)."""
    from promptstudio.evals.results import EvalColumn
    from promptstudio.evals.runner import EvalTarget

    try:
        targets = _targets(args, columns)
    except CliError:
        raise
    except PromptStudioError as exc:  # an unknown profile, an unreadable keychain
        raise CliError(exc.message, 2) from exc
    models = [target.model for _, target in targets]
    out = []
    for label, target in targets:
        shown = target.model if models.count(target.model) == 1 else label
        column = EvalColumn(
            target.key, shown, target.model, target.endpoint.base_url, target.params.to_dict()
        )
        out.append(EvalTarget(column, target.endpoint, target.params))
    return out


def _judge(
    model: str | None, targets: Sequence[EvalTarget], prompt: str | None
) -> JudgeSettings | None:
    from promptstudio.evals.judge import DEFAULT_JUDGE_PROMPT
    from promptstudio.evals.runner import JudgeSettings

    if not model:
        return None
    for target in targets:
        if target.column.model == model:
            return JudgeSettings(
                target.endpoint, model, prompt or DEFAULT_JUDGE_PROMPT, target.params
            )
    models = ", ".join(target.column.model for target in targets)
    raise CliError(f"--judge {model}: not one of the models evaluated ({models})", 2)


class _Progress:
    """``  42/60 answers`` on stderr about every tenth of the way, and at the end."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.step = max(1, math.ceil(total / PROGRESS_STEPS))

    def __call__(self, cell: CellResult) -> None:
        self.done += 1
        if self.done % self.step == 0 or self.done == self.total:
            print(f"  {self.done}/{self.total} answers", file=sys.stderr)


async def _run_evaluation(evaluation: Evaluation) -> EvalRun:
    """Run with Ctrl+C cancelling it (finished cells are kept, the rest cancelled)."""
    import asyncio
    import signal

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows has no signals here
        loop.add_signal_handler(signal.SIGINT, evaluation.cancel)
    return await evaluation.run()


# ---- output ----------------------------------------------------------------------------


def _print_results(
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
            stop = _budget_line(run) if "stopped_for_budget" in run.settings else None
            lines[-1:-1] = [stop or _stopped_line(run)]
        lines += _table_lines(run) + _failure_lines(run) + _ungraded_lines(run)
        lines += _flip_lines(run, baseline, flips)
        print("\n".join(lines + _comparison_lines(comparisons)))


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
         _number(s.p95_latency_ms, 0), _money(s.total_cost), str(s.cached),
         str(s.failed_requests)]
        for s in summarize(run)
    ]  # fmt: skip
    if any(s.batch_cost is not None for s in summarize(run)):  # batch price, apart
        rows[0] += ["batch cost", "live cost"]
        for row, s in zip(rows[1:], summarize(run), strict=True):
            row += [_money(s.batch_cost), _money(s.live_cost)]
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


def _money(cost: float | None) -> str:
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


def _exit_code(run: EvalRun, min_pass_rate: float | None, lower: float | None = None) -> int:
    """130 when stopped; 1 on a failed request or a pass rate (or the lower end of its
    interval, ``lower``) under the bar; else 0."""
    from promptstudio.evals.results import CANCELLED, summarize

    if run.status == CANCELLED and "stopped_for_budget" in run.settings:
        return 1
    if run.status == CANCELLED:
        _say(f"{_stopped_line(run)}; the answers that finished are stored")
        return 130
    code = 0
    for summary in summarize(run):
        if summary.failed_requests:
            _say(f"{summary.label}: {summary.failed_requests} of {summary.cells} answers failed")
            code = 1
        if min_pass_rate is None:
            continue
        if summary.pass_rate is None:
            _say(f"{summary.label}: no case has a check, so --min-pass-rate cannot be met")
            code = 1
        elif summary.passed < min_pass_rate * summary.graded - 1e-9:
            _say(f"{summary.label} passes {_share(summary.pass_rate)}, "
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
            _say(f"{summary.label}: no case has a check, so --min-pass-rate-lower cannot be met")
            code = 1
        elif interval.low < lower - 1e-9:
            _say(f"{summary.label} passes {summary.passed}/{summary.graded}, 95% CI "
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


def _say(text: str) -> None:
    print(f"promptstudio: {text}", file=sys.stderr)
